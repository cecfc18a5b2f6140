"""A fast-starting copy of the embedding model for short command-line builds.

Importing sentence-transformers (which drags in transformers, scikit-learn and scipy) and building
the model takes ~9 s of a fresh process; adding one article needs well under a second of encoding.
Set-up therefore traces the loaded sentence-transformers model once with `torch.jit.trace`
(transformer + mean pooling, the same weights and dtype) into `<model>/traced/`. A fresh
`python -m assistant index` with only a few chunks to embed loads that file with nothing but torch
and `tokenizers` (~2 s). The trace is only used when its recorded model fingerprint, dtype and torch
version match; otherwise the indexer falls back to sentence-transformers.

    .venv/bin/python -m assistant.indexing.embed.traced_encoder          # export if missing or stale (set-up runs it)

Usage (needs the model, an index, a server or the shared data, so not run as a doctest)::

    enc = load_traced(Settings.from_env())
    enc.encode_passages(["Tiền Giang có 8.619 doanh nghiệp số"]).shape
    # -> (1, 384)
"""
from __future__ import annotations

import functools
import json
import os
import sys
import warnings
from importlib.metadata import version
from pathlib import Path
from typing import Sequence

import numpy as np

from assistant.config import Settings
from assistant.indexing.embed.embeddings import cpu_has_bf16, fingerprint_for, prefixes_for

TRACED_DIR = "traced"
MAX_TOKENS = 512  # what sentence-transformers truncates e5 to


def resolved_dtype(settings: Settings) -> str:
    """bf16 or fp32: what `load_embeddings` would run the model in on this CPU."""
    if settings.embedding_dtype == "auto":
        return "bf16" if cpu_has_bf16() else "fp32"
    return settings.embedding_dtype


def traced_paths(settings: Settings) -> tuple[Path, Path]:
    """(TorchScript file, its JSON record) for the configured model and dtype."""
    folder = Path(settings.embedding_model) / TRACED_DIR
    name = f"encoder-{resolved_dtype(settings)}"
    return folder / f"{name}.pt", folder / f"{name}.json"


def _expected_record(settings: Settings) -> dict:
    return {"fingerprint": fingerprint_for(settings), "dtype": resolved_dtype(settings),
            "torch": version("torch"), "max_tokens": MAX_TOKENS}


def _current_record(settings: Settings) -> dict | None:
    """The trace's record when it matches this model, dtype and torch version, else None."""
    pt, meta = traced_paths(settings)
    if not Path(settings.embedding_model).is_dir() or not pt.is_file():
        return None
    try:
        record = json.loads(meta.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    expected = _expected_record(settings)
    return record if isinstance(record, dict) and {k: record.get(k) for k in expected} == expected else None


def is_current(settings: Settings) -> bool:
    """True when a trace exists for exactly this model, dtype and torch version (no torch import)."""
    return _current_record(settings) is not None


class TracedEmbeddings:
    """Passage/query vectors from the traced model; same interface the indexer uses.

    Usage (needs the model, an index, a server or the shared data, so not run as a doctest)::

        TracedEmbeddings.load(Settings.from_env()).encode_queries(["chuyển đổi số"])
    """

    def __init__(self, module, tokenizer, *, query_prefix: str, passage_prefix: str, batch_size: int,
                 fingerprint: str, dimension: int):
        self.module = module
        self.tokenizer = tokenizer
        self.query_prefix = query_prefix
        self.passage_prefix = passage_prefix
        self.batch_size = batch_size
        self.fingerprint = fingerprint
        self.dimension = dimension

    @classmethod
    def load(cls, settings: Settings) -> "TracedEmbeddings":
        """Load the trace for `settings`; raises FileNotFoundError when there is no current one."""
        record = _current_record(settings)
        if record is None:
            raise FileNotFoundError(f"no current trace of {settings.embedding_model} in {TRACED_DIR}/")
        module, tokenizer = _load(str(traced_paths(settings)[0]), str(Path(settings.embedding_model)))
        q, p = prefixes_for(settings)
        return cls(module, tokenizer, query_prefix=q, passage_prefix=p, batch_size=settings.embedding_batch_size,
                   fingerprint=record["fingerprint"], dimension=int(record["dimension"]))

    def count_tokens(self, text: str) -> int:
        """Tokens of `text` alone (no prefix, no special tokens), as the chunker counts them."""
        return self.tokenizer.count_tokens(text)

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-normalized passage vectors, shape (n, dim), float32."""
        return self._encode([self.passage_prefix + t for t in texts])

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-normalized query vectors, shape (n, dim), float32."""
        return self._encode([self.query_prefix + t for t in texts])

    def _encode(self, texts: list[str]) -> np.ndarray:
        import torch

        if not texts:
            return np.zeros((0, self.dimension), np.float32)
        encoded = self.tokenizer.encode_batch(texts)
        # Longest first by characters, as sentence-transformers batches: same batches, same bf16 rounding.
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        out: list[np.ndarray] = [np.empty(0)] * len(texts)
        # The profiling executor spends its first calls re-optimizing the graph: a loss for short jobs.
        with torch.inference_mode(), torch.jit.optimized_execution(False):
            for s in range(0, len(order), self.batch_size):
                batch = [encoded[i] for i in order[s:s + self.batch_size]]
                width = max(len(e) for e in batch)
                ids = torch.full((len(batch), width), self.tokenizer.pad_id, dtype=torch.long)
                mask = torch.zeros((len(batch), width), dtype=torch.long)
                for row, e in enumerate(batch):
                    ids[row, :len(e)] = torch.tensor(e)
                    mask[row, :len(e)] = 1
                vecs = self.module(ids, mask).float().numpy()
                for row, i in enumerate(order[s:s + self.batch_size]):
                    out[i] = vecs[row]
        vecs = np.stack(out).astype(np.float32)
        return vecs / np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12)


class ModelTokenizer:
    """The model's own `tokenizer.json` through `tokenizers` (what its fast HF tokenizer wraps)."""

    def __init__(self, model_dir: str):
        from tokenizers import Tokenizer

        self._tk = Tokenizer.from_file(str(Path(model_dir) / "tokenizer.json"))
        self._tk.no_padding()
        self._tk.no_truncation()  # counts must see whole texts, as the chunker's do
        cfg = json.loads((Path(model_dir) / "tokenizer_config.json").read_text(encoding="utf-8"))
        self.pad_id = self._tk.token_to_id(cfg.get("pad_token") or "<pad>")

    def count_tokens(self, text: str) -> int:
        """Tokens of `text` alone (no special tokens, no truncation), as the chunker counts them."""
        return len(self._tk.encode(text, add_special_tokens=False).ids)

    def encode_batch(self, texts: list[str]) -> list[list[int]]:
        """Token ids of many texts with special tokens, cut like sentence-transformers: <s> + 510 + </s>."""
        out = []
        for e in self._tk.encode_batch(texts):
            ids = e.ids
            out.append(ids if len(ids) <= MAX_TOKENS else ids[:MAX_TOKENS - 1] + ids[-1:])
        return out


@functools.lru_cache(maxsize=2)
def model_tokenizer(model_dir: str) -> ModelTokenizer:
    """The model folder's tokenizer, loaded once per process (no torch needed)."""
    return ModelTokenizer(model_dir)


@functools.lru_cache(maxsize=2)
def _load(pt_path: str, model_dir: str):
    import torch

    with warnings.catch_warnings():
        # TorchScript is deprecated in favour of torch.export, but `torch.export.load` imports the compiler
        # stack (~3 s here), which is the very start-up cost this module exists to avoid.
        warnings.simplefilter("ignore", DeprecationWarning)
        module = torch.jit.load(pt_path, map_location="cpu")
    module.eval()
    return module, model_tokenizer(model_dir)


def load_traced(settings: Settings) -> TracedEmbeddings | None:
    """The traced encoder for `settings`, or None when there is no current trace (never raises)."""
    try:
        return TracedEmbeddings.load(settings)
    except (OSError, RuntimeError, ValueError, KeyError, TypeError):  # a broken trace means: use the library
        return None


def export(settings: Settings) -> Path:
    """Trace the sentence-transformers model for `settings` and write it atomically; returns the .pt path."""
    import torch

    from assistant.indexing.embed.embeddings import load_embeddings

    emb = load_embeddings(settings)
    st = emb.model
    if not Path(settings.embedding_model).is_dir():
        raise ValueError("only a model folder can be traced (not a hub name)")
    pooling = st[1] if len(st) > 1 else None
    if pooling is not None and not getattr(pooling, "pooling_mode_mean_tokens", True):
        raise ValueError("the traced encoder implements mean pooling only")
    bert = st[0].auto_model.eval()

    class MeanPooled(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, ids, mask):
            hidden = self.inner(input_ids=ids, attention_mask=mask).last_hidden_state
            m = mask.unsqueeze(-1).to(hidden.dtype)
            return (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)

    tok = ModelTokenizer(settings.embedding_model)
    sample = tok.encode_batch(["passage: Tiền Giang", "passage: chuyển đổi số cấp tỉnh năm 2025"])
    width = max(len(e) for e in sample)
    ids = torch.tensor([e + [tok.pad_id] * (width - len(e)) for e in sample])
    mask = torch.tensor([[1] * len(e) + [0] * (width - len(e)) for e in sample])
    with warnings.catch_warnings(), torch.inference_mode():
        warnings.simplefilter("ignore")  # tracer warnings about shape-dependent Python branches of HF code
        traced = torch.jit.trace(MeanPooled(bert), (ids, mask), check_trace=False)
    pt, meta = traced_paths(settings)
    pt.parent.mkdir(parents=True, exist_ok=True)
    tmp = pt.with_suffix(f".tmp{os.getpid()}")
    traced.save(str(tmp))
    os.replace(tmp, pt)
    meta_tmp = meta.with_suffix(f".tmp{os.getpid()}")
    meta_tmp.write_text(json.dumps({**_expected_record(settings), "dimension": emb.dimension}), encoding="utf-8")
    os.replace(meta_tmp, meta)  # the record last: a half-written trace is never "current"
    return pt


def main(argv: list[str] | None = None) -> int:
    """Export the trace unless a current one exists (set-up calls this; quick when nothing changed)."""
    settings = Settings.from_env()
    if not Path(settings.embedding_model).is_dir():
        print(f"traced encoder: {settings.embedding_model} is not a folder; skipped", file=sys.stderr)
        return 0
    if is_current(settings) and "--force" not in (argv if argv is not None else sys.argv[1:]):
        return 0
    pt = export(settings)
    print(f"set-up: traced the embedding model for fast command-line builds ({pt})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
