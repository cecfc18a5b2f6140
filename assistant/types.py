"""The cited answer: records shared by every backend, the CLI JSON contract and the UI.

>>> Answer(question="q", answer="Không tìm thấy ...", abstained=True).to_dict()["abstained"]
True
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

ABSTAIN_PREFIX = "Không tìm thấy thông tin"


@dataclass
class Citation:
    """A source the answer rests on: the quoted sentence(s) inside one chunk."""

    n: int
    article_id: str
    chunk_id: str
    title: str
    province: str
    date: str
    url: str
    quote: str
    text: str
    source: str = ""
    quote_start: int = -1  # offset of the quote inside `text` (the chunk), -1 if not located
    quote_end: int = -1


@dataclass
class FigureCheck:
    """One figure stated in the answer and whether the cited source states it."""

    text: str
    value: float
    unit: str
    verified: bool
    citation: int | None
    source_text: str = ""  # the source's own wording when it differs or matches


@dataclass
class ClaimCheck:
    """Fact-check verdict for one figure of a claim: 'khớp', 'khác' or 'không tìm thấy'."""

    claim_text: str
    verdict: str
    source_text: str = ""
    citation: int | None = None


@dataclass
class Retrieved:
    """A retrieved chunk as listed in the output."""

    chunk_id: str
    article_id: str
    score: float
    text: str
    title: str = ""
    province: str = ""


@dataclass
class Answer:
    """What `ask` returns; `to_dict()` is the JSON contract of DESIGN.md."""

    question: str
    answer: str
    abstained: bool
    citations: list[Citation] = field(default_factory=list)
    figures: list[FigureCheck] = field(default_factory=list)
    retrieved: list[Retrieved] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)
    backend: str = "extractive"
    kind: str = "answer"  # answer | factcheck | abstain
    resolved_question: str = ""
    claims: list[ClaimCheck] = field(default_factory=list)
    flagged: bool = False  # a generative answer whose figures or citations did not verify
    notice: str = ""  # a message for the user (e.g. the LLM was unreachable)
    fallback: "Answer | None" = None  # the extractive answer given alongside a flagged one

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict with the fields of the CLI contract first."""
        d = asdict(self)
        d["timings_ms"] = {k: round(v, 1) for k, v in self.timings_ms.items()}
        if self.fallback is None:
            d.pop("fallback")
        for r in d["retrieved"]:
            r["score"] = round(r["score"], 6)
        return d

    def to_text(self) -> str:
        """Human-readable answer with its numbered sources (for the terminal)."""
        lines = [self.answer]
        if self.notice:
            lines.insert(0, f"[!] {self.notice}")
        if self.flagged:
            lines.append("[!] Câu trả lời có số liệu không kiểm chứng được trong nguồn.")
        if self.citations:
            lines.append("")
            lines.append("Nguồn:")
            for c in self.citations:
                where = ", ".join(x for x in (c.province, c.date) if x)
                lines.append(f"[{c.n}] {c.title}" + (f" ({where})" if where else "") + (f" {c.url}" if c.url else ""))
                lines.append(f"    “{c.quote}”")
        if self.fallback is not None:
            lines += ["", "Câu trả lời trích nguyên văn:", self.fallback.to_text()]
        return "\n".join(lines)
