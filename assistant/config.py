"""All configuration in one place: `ASSISTANT_*` environment variables, overridden by flags.

Each field of `Settings` is read from `ASSISTANT_<FIELD>` (upper-case, exactly that name) by
`Settings.from_env`; flags given as keyword arguments win when they are not None (argparse's
"not given"). pydantic-settings converts and checks the values; a bad one is a `ConfigError`
naming the variable and the values it accepts (in Vietnamese, for the CLI and the UI).

>>> s = Settings.from_env({"ASSISTANT_PORT": "8000"}, port=9000)
>>> s.port
9000
>>> Settings.from_env({"ASSISTANT_PORT": "8000", "ASSISTANT_K": "7"}, k=None).k
7
>>> bad = [({"ASSISTANT_BACKEND": "gpt"}, {}), ({}, {"k": 500}), ({}, {"colour": "blue"})]
>>> for env, flags in bad:  # doctest: +ELLIPSIS
...     try:
...         Settings.from_env(env, **flags)
...     except ConfigError as exc:
...         print(exc)
ASSISTANT_BACKEND phải là một trong extractive, openai, local, không phải 'gpt'
ASSISTANT_K phải là số nguyên trong khoảng 1..100, không phải 500
không có thiết lập 'colour'; các thiết lập là: corpus_dir, index_dir, shared_dir, embedding_model, ...
"""
from __future__ import annotations

import os
import typing
from pathlib import Path
from typing import Any, Literal, Mapping

import annotated_types
from pydantic import Field, ValidationError, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from assistant.errors import AssistantError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MODEL_DIR = PROJECT_ROOT / "models" / "multilingual-e5-small"
ENV_PREFIX = "ASSISTANT_"

Backend = Literal["extractive", "openai", "local"]
BACKENDS: tuple[str, ...] = typing.get_args(Backend)
EmbeddingDtype = Literal["auto", "bf16", "fp32"]
EmbeddingRuntime = Literal["auto", "openvino", "torch"]
LLMPrompt = Literal["sentences", "chunks"]
SentenceVectorsMode = Literal["build", "lazy"]
AUTH_FORMAT = "user:password[,user2:password2]"


class ConfigError(AssistantError, ValueError):
    """A setting has a value the assistant cannot use."""


def env_name(field_name: str) -> str:
    """The environment variable of a field: `port` -> `ASSISTANT_PORT`."""
    return ENV_PREFIX + field_name.upper()


class _Environment(PydanticBaseSettingsSource):
    """The `ASSISTANT_*` variables of one mapping (os.environ or the one given), exact names only."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]):
        super().__init__(settings_cls)
        self.environ = environ

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return self.environ.get(env_name(field_name)), field_name, False

    def __call__(self) -> dict[str, Any]:
        values = {}
        for name, info in self.settings_cls.model_fields.items():
            value, key, _ = self.get_field_value(info, name)
            if value is not None:
                values[key] = value
        return values


class Settings(BaseSettings):
    """Every knob of the assistant; each field maps to `ASSISTANT_<FIELD>` (upper-case).

    `Settings(...)` is the defaults plus its arguments; only `from_env` reads the environment.
    Frozen: use `.replace(...)` for a changed copy.
    """

    model_config = SettingsConfigDict(frozen=True, extra="forbid", env_prefix=ENV_PREFIX)

    corpus_dir: Path = PROJECT_ROOT / "corpus"
    index_dir: Path = PROJECT_ROOT / "index"
    # Where the evaluation and benchmark data beside the project lives (../shared; never copied in).
    shared_dir: Path = PROJECT_ROOT.parent / "shared"
    embedding_model: str = str(DEFAULT_MODEL_DIR)
    embedding_dtype: EmbeddingDtype = "auto"
    # "auto": the OpenVINO copy made at set-up when it is current, else sentence-transformers on torch
    # (benchmarks/encoders.py: 1.2x the encode rate at 0.47 of the memory, same XQuAD-vi recall).
    embedding_runtime: EmbeddingRuntime = "auto"
    embedding_batch_size: int = Field(32, gt=0)
    query_prefix: str = "auto"  # "auto": e5 prefixes for e5 models, none otherwise
    passage_prefix: str = "auto"
    chroma_url: str = ""
    collection: str = "articles"
    backend: Backend = "extractive"
    llm_base_url: str = ""
    llm_model: str = ""
    llm_api_key: str = Field("", repr=False)
    llm_timeout: float = Field(60.0, gt=0)  # seconds for the whole generative answer (a wall-clock deadline)
    # A short cited answer is 1-4 sentences, ~150 characters each, ~3 characters of Vietnamese per token: ~200.
    llm_max_tokens: int = Field(320, gt=0)
    # What the model reads: the best sentences with neighbours and a worked example, or whole passages
    # (chosen on 20 paraphrase tune questions by benchmarks/llm_backends.py, 1.5B model: 2 best sentences 14/20
    # right unflagged and 3 flagged, whole passages 4/20 and 15 flagged).
    llm_prompt: LLMPrompt = "sentences"
    # How many best sentences (each with its neighbours) the sentence prompt shows; chosen on 20 questions of the
    # paraphrase tune split by benchmarks/llm_backends.py (1.5B model: 2 -> 14/20 right unflagged at p50 9.4 s,
    # 4 -> 12/20 at 12.6 s, 8 -> 13/20 at 17.4 s; docs/llm_backends.json).
    llm_prompt_sentences: int = Field(2, ge=1, le=30)
    # Vectors of the quotable sentences for the answer stage: made by each build ("build"), or when an answer
    # first needs them ("lazy": a build ~1.8x faster, measured by benchmarks/sentence_vectors_cost.py; the first
    # question about an article pays ~20 ms per 10 sentences instead).
    sentence_vectors: SentenceVectorsMode = "build"
    local_model_path: str = ""
    k: int = Field(5, ge=1, le=100)
    max_chunks_per_article: int = Field(3, gt=0)
    max_article_bytes: int = Field(2_000_000, gt=0)
    host: str = "127.0.0.1"
    port: int = Field(7860, ge=1, le=65535)
    auth: str = Field("", repr=False)  # AUTH_FORMAT; empty = no login
    max_question_chars: int = 2_000

    def __init__(self, **values: Any) -> None:
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise ConfigError(_explain(exc)) from None

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
                                   **other_sources: PydanticBaseSettingsSource) -> tuple[PydanticBaseSettingsSource]:
        """No implicit sources (os.environ, .env files, secrets): from_env says which mapping is read."""
        return (init_settings,)

    @field_validator("corpus_dir", "index_dir", "shared_dir")
    @classmethod
    def _expand_home(cls, value: Path) -> Path:
        return value.expanduser()

    @field_validator("embedding_model", "local_model_path", mode="before")
    @classmethod
    def _path_as_text(cls, value: Any) -> Any:
        return os.fspath(value) if isinstance(value, os.PathLike) else value

    @field_validator("auth")
    @classmethod
    def _auth_pairs_format(cls, value: str) -> str:
        if value and any(":" not in pair for pair in value.split(",")):
            raise ValueError(f"phải có dạng {AUTH_FORMAT}")  # never echoes the value: it holds passwords
        return value

    @classmethod
    def from_env(cls, env_mapping: Mapping[str, str] | None = None, **overrides: Any) -> "Settings":
        """Read `ASSISTANT_*` variables from `env_mapping` (default: os.environ); non-None overrides win.

        An explicit mapping is the whole environment: `from_env({})` is the defaults, whatever
        os.environ holds. Unknown override names are a ConfigError.
        """
        environ = os.environ if env_mapping is None else env_mapping
        values = _Environment(cls, environ)()
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def replace(self, **changes: Any) -> "Settings":
        """A validated copy with some fields changed (None values are ignored)."""
        return type(self)(**{**self.model_dump(), **{k: v for k, v in changes.items() if v is not None}})

    @property
    def auth_pairs(self) -> list[tuple[str, str]]:
        """Login pairs parsed from `auth`, empty when login is off."""
        if not self.auth:
            return []
        return [tuple(p.split(":", 1)) for p in self.auth.split(",")]  # type: ignore[misc]


def _expected(info: FieldInfo) -> str:
    """What a field accepts, in Vietnamese, from its type and constraints."""
    kind = info.annotation
    if typing.get_origin(kind) is Literal:
        return "một trong " + ", ".join(map(str, typing.get_args(kind)))
    if kind is int or kind is float:
        text = "số nguyên" if kind is int else "số"
        ge = next((m.ge for m in info.metadata if isinstance(m, annotated_types.Ge)), None)
        le = next((m.le for m in info.metadata if isinstance(m, annotated_types.Le)), None)
        gt = next((m.gt for m in info.metadata if isinstance(m, annotated_types.Gt)), None)
        if ge is not None and le is not None:
            return f"{text} trong khoảng {ge}..{le}"
        return f"{text} dương" if gt == 0 else text
    if kind is Path:
        return "một đường dẫn"
    return "một chuỗi"


def _explain(exc: ValidationError) -> str:
    """One Vietnamese sentence per bad value: the variable, what it accepts, and what it got."""
    fields = Settings.model_fields
    messages = []
    for err in exc.errors():
        name = str(err["loc"][0]) if err["loc"] else ""
        if err["type"] == "extra_forbidden":
            messages.append(f"không có thiết lập {name!r}; các thiết lập là: {', '.join(fields)}")
            continue
        info = fields.get(name)
        if err["type"] == "value_error":  # a validator's own sentence
            messages.append(f"{env_name(name)} {err['ctx']['error']}")
        elif info is not None and info.repr is False:  # a secret: never shown
            messages.append(f"{env_name(name)} phải là {_expected(info)}")
        else:
            got = f", không phải {err['input']!r}" if "input" in err else ""
            messages.append(f"{env_name(name)} phải là {_expected(info) if info else err['msg']}{got}")
    return "; ".join(messages)
