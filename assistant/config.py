"""All configuration in one place: `ASSISTANT_*` environment variables, overridden by flags.

>>> s = Settings.from_env({"ASSISTANT_PORT": "8000"}, port=9000)
>>> s.port
9000
"""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MODEL_DIR = PROJECT_ROOT / "models" / "multilingual-e5-small"
BACKENDS = ("extractive", "openai", "local")


class ConfigError(ValueError):
    """A setting has a value the assistant cannot use."""


def _path(value: str) -> Path:
    return Path(value).expanduser()


def _bool(value: str) -> bool:
    v = value.strip().lower()
    if v in ("1", "true", "yes", "on"):
        return True
    if v in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"expected true/false, got {value!r}")


@dataclass(frozen=True)
class Settings:
    """Every knob of the assistant; each field maps to `ASSISTANT_<FIELD>` (upper-case)."""

    corpus_dir: Path = PROJECT_ROOT / "corpus"
    index_dir: Path = PROJECT_ROOT / "index"
    embedding_model: str = str(DEFAULT_MODEL_DIR)
    embedding_dtype: str = "auto"  # auto | bf16 | fp32
    embedding_batch_size: int = 32
    query_prefix: str = "auto"  # "auto": e5 prefixes for e5 models, none otherwise
    passage_prefix: str = "auto"
    chroma_url: str = ""
    collection: str = "articles"
    backend: str = "extractive"
    llm_base_url: str = ""
    llm_model: str = ""
    llm_api_key: str = field(default="", repr=False)
    llm_timeout: float = 60.0
    local_model_path: str = ""
    k: int = 5
    max_chunks_per_article: int = 3
    max_article_bytes: int = 2_000_000
    host: str = "127.0.0.1"
    port: int = 7860
    auth: str = field(default="", repr=False)  # "user:password[,user2:password2]"
    max_question_chars: int = 2_000

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise ConfigError(f"ASSISTANT_BACKEND phải là một trong {', '.join(BACKENDS)}, không phải {self.backend!r}")
        if self.embedding_dtype not in ("auto", "bf16", "fp32"):
            raise ConfigError(f"ASSISTANT_EMBEDDING_DTYPE phải là auto, bf16 hoặc fp32, không phải {self.embedding_dtype!r}")
        if not 1 <= self.k <= 100:
            raise ConfigError(f"ASSISTANT_K phải trong khoảng 1..100, không phải {self.k}")
        if not 0 < self.port < 65536:
            raise ConfigError(f"ASSISTANT_PORT không hợp lệ: {self.port}")
        if self.max_article_bytes <= 0 or self.embedding_batch_size <= 0 or self.max_chunks_per_article <= 0:
            raise ConfigError("giới hạn kích thước, batch và số đoạn mỗi bài phải là số dương")
        if self.auth and any(":" not in pair for pair in self.auth.split(",")):
            raise ConfigError("ASSISTANT_AUTH phải có dạng user:password[,user2:password2]")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> "Settings":
        """Read `ASSISTANT_*` variables from `env` (default: os.environ); non-None overrides win."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            raw = env.get(f"ASSISTANT_{f.name.upper()}")
            if raw is None:
                continue
            values[f.name] = _convert(f, raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        for key in ("corpus_dir", "index_dir"):
            if key in values:
                values[key] = _path(str(values[key]))
        unknown = set(values) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise ConfigError(f"unknown settings: {sorted(unknown)}")
        return cls(**values)

    def replace(self, **changes: Any) -> "Settings":
        """A copy with some fields changed (None values are ignored)."""
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})

    @property
    def auth_pairs(self) -> list[tuple[str, str]]:
        """Login pairs parsed from `auth`, empty when login is off."""
        if not self.auth:
            return []
        return [tuple(p.split(":", 1)) for p in self.auth.split(",")]  # type: ignore[misc]


def _convert(f: dataclasses.Field, raw: str) -> Any:
    kind = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))
    try:
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
        if kind == "bool":
            return _bool(raw)
        if kind == "Path":
            return _path(raw)
        return raw
    except ValueError as exc:
        raise ConfigError(f"ASSISTANT_{f.name.upper()}={raw!r}: {exc}") from None
