"""What a build did: a record light enough for the command line to print without importing the indexer.

>>> BuildSummary(added=1, chunks=4, seconds=0.8).line()
'added=1 updated=0 removed=0 unchanged=0 errors=0 chunks=4 reused=0 seconds=0.80'
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class BuildSummary:
    """What a build did."""

    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)
    chunks: int = 0
    reused: int = 0  # chunks whose vectors were already in the store, so not embedded
    seconds: float = 0.0
    full: bool = False

    @property
    def ok(self) -> bool:
        """True when no article failed."""
        return not self.errors

    def line(self) -> str:
        """One-line summary in key=value form."""
        return (f"added={self.added} updated={self.updated} removed={self.removed} unchanged={self.unchanged} "
                f"errors={len(self.errors)} chunks={self.chunks} reused={self.reused} seconds={self.seconds:.2f}")

    def to_dict(self) -> dict:
        """JSON-ready form."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "BuildSummary":
        """The record of `to_dict()` (fields this version does not know are ignored)."""
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})
