"""The embedding model as an OpenVINO graph with int8 weights: the encoder of the app, the build and the CLI.

Set-up converts the sentence-transformers model once (transformer + mean pooling, `openvino.convert_model`)
and compresses its weights to int8 with NNCF (activations stay fp32, or bf16 where the CPU computes it).
At run time only `openvino` and `tokenizers` are imported: no torch, no sentence-transformers. Measured by
`benchmarks/encoders.py` on this CPU: 1.2x the passages/s of sentence-transformers fp32, loads in ~1.5 s
instead of ~11 s, 467 MB RSS instead of ~900 MB, cosine vs fp32 ≥ 0.999, same XQuAD-vi recall.

    .venv/bin/python -m assistant.indexing.embed.openvino_encoder          # convert if missing or stale (set-up)

Usage (needs the model, an index, a server or the shared data, so not run as a doctest)::

    enc = load_openvino(Settings.from_env())
    enc.encode_passages(["Tiền Giang có 8.619 doanh nghiệp số"]).shape
    # -> (1, 384)
"""
from __future__ import annotations

import functools
import json
import os
import shutil
import sys
import threading
import warnings
from importlib.metadata import version
from pathlib import Path

import numpy as np

from assistant.config import Settings
from assistant.indexing.embed.embeddings import (PrefixedEmbeddings, fingerprint_for, model_fingerprint,
                                                 prefixes_for, resolved_dtype)
from assistant.indexing.embed.tokenizer import MAX_TOKENS, ModelTokenizer, has_tokenizer, model_tokenizer

IR_DIR = "openvino"
IR_NAME = "encoder-int8w"  # int8 weights (NNCF INT8_ASYM), fp32/bf16 activations
RECORD = "encoder.json"
CACHE = "cache"  # OpenVINO's compiled-model cache: a cold process compiles in ~0.3 s instead of ~1 s


def ir_dir(settings: Settings) -> Path:
    """The folder holding the converted model, beside the sentence-transformers files."""
    return Path(settings.embedding_model) / IR_DIR


def precision_for(settings: Settings) -> str:
    """OpenVINO's inference precision: bf16 where the CPU computes it (or when asked), else f32."""
    return "bf16" if resolved_dtype(settings) == "bf16" else "f32"


def encoder_tag(settings: Settings) -> str:
    """Runtime, weights and precision, as recorded in the index: e.g. 'openvino-int8w-f32'."""
    return f"openvino-int8w-{precision_for(settings)}"


def _expected_record(settings: Settings) -> dict:
    return {"fingerprint": model_fingerprint(settings.embedding_model), "openvino": version("openvino"),
            "weights": "int8", "max_tokens": MAX_TOKENS}


def _current_record(settings: Settings) -> dict | None:
    folder = ir_dir(settings)
    if not (folder / f"{IR_NAME}.xml").is_file() or not has_tokenizer(settings.embedding_model):
        return None
    try:
        record = json.loads((folder / RECORD).read_text(encoding="utf-8"))
        version("openvino")
    except (OSError, ValueError, ImportError):  # no record, a broken one, or openvino not installed
        return None
    expected = _expected_record(settings)
    return record if isinstance(record, dict) and {k: record.get(k) for k in expected} == expected else None


def is_current(settings: Settings) -> bool:
    """True when a converted model exists for exactly this model and OpenVINO version (nothing imported)."""
    return _current_record(settings) is not None


class OpenVINOEmbeddings(PrefixedEmbeddings):
    """LangChain embeddings over the converted model, adding e5 prefixes for the caller.

    Same interface as `SentenceEmbeddings` (the indexer, retriever and answer stage use either).
    """

    def __init__(self, compiled, tokenizer: ModelTokenizer, *, query_prefix: str, passage_prefix: str,
                 batch_size: int, fingerprint: str, dimension: int, encoder: str):
        super().__init__(query_prefix=query_prefix, passage_prefix=passage_prefix, batch_size=batch_size,
                         fingerprint=fingerprint, dimension=dimension, encoder=encoder)
        self.compiled = compiled
        self.tokenizer = tokenizer
        self._local = threading.local()  # one infer request per thread: a request is not re-entrant

    def token_count(self, text: str) -> int:
        """Tokens the model sees for a passage, prefix and special tokens included."""
        return len(self.tokenizer.encode_batch([self.passage_prefix + text])[0])

    def count_tokens(self, text: str) -> int:
        """Tokens of `text` alone (no prefix, no special tokens), as the chunker counts them."""
        return self.tokenizer.count_tokens(text)

    def _request(self):
        req = getattr(self._local, "request", None)
        if req is None:
            req = self._local.request = self.compiled.create_infer_request()
        return req

    def _encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), np.float32)
        encoded = self.tokenizer.encode_batch(texts)
        # Longest first, as sentence-transformers batches: a batch pads to its longest text.
        order = sorted(range(len(texts)), key=lambda i: -len(encoded[i]))
        out = np.empty((len(texts), self.dimension), np.float32)
        req = self._request()
        for s in range(0, len(order), self.batch_size):
            rows = order[s:s + self.batch_size]
            width = max(len(encoded[i]) for i in rows)
            ids = np.full((len(rows), width), self.tokenizer.pad_id, np.int64)
            mask = np.zeros((len(rows), width), np.int64)
            for r, i in enumerate(rows):
                ids[r, :len(encoded[i])] = encoded[i]
                mask[r, :len(encoded[i])] = 1
            out[rows] = req.infer({"input_ids": ids, "attention_mask": mask})[0]
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)


@functools.lru_cache(maxsize=2)
def _compile(xml: str, precision: str, cache_dir: str | None):
    """The compiled model, once per process and precision (read from, or written to, `cache_dir` when given)."""
    import openvino as ov

    core = ov.Core()
    if cache_dir:
        core.set_property({"CACHE_DIR": cache_dir})
    # LATENCY: one stream using every core, which is what a single question or a build batch wants.
    return core.compile_model(xml, "CPU", {"INFERENCE_PRECISION_HINT": precision, "PERFORMANCE_HINT": "LATENCY"})


def _cache_dir(settings: Settings) -> str | None:
    """The compiled-model cache set-up made, when this process may write to it (a read-only install compiles)."""
    cache = ir_dir(settings) / CACHE
    return str(cache) if cache.is_dir() and os.access(cache, os.W_OK) else None


def load_openvino(settings: Settings) -> OpenVINOEmbeddings | None:
    """The OpenVINO encoder for `settings`, or None when there is no current converted model."""
    record = _current_record(settings)
    if record is None:
        return None
    compiled = _compile(str(ir_dir(settings) / f"{IR_NAME}.xml"), precision_for(settings), _cache_dir(settings))
    q, p = prefixes_for(settings)
    return OpenVINOEmbeddings(compiled, model_tokenizer(settings.embedding_model), query_prefix=q,
                              passage_prefix=p, batch_size=settings.embedding_batch_size,
                              fingerprint=fingerprint_for(settings),
                              dimension=int(record["dimension"]), encoder=encoder_tag(settings))


def export(settings: Settings) -> Path:
    """Convert the sentence-transformers model for `settings` and write it atomically; returns the folder.

    Run it through `main` (its own process), which turns the converters' telemetry off first.
    """
    import nncf
    import openvino as ov
    import torch

    from assistant.indexing.embed.embeddings import _load_model

    if not Path(settings.embedding_model).is_dir() or not has_tokenizer(settings.embedding_model):
        raise ValueError("only a model folder with tokenizer.json can be converted (not a hub name)")
    st = _load_model(settings.embedding_model, "fp32")
    pooling = st[1] if len(st) > 1 else None
    if pooling is not None and not getattr(pooling, "pooling_mode_mean_tokens", True):
        raise ValueError("the OpenVINO encoder implements mean pooling only")

    class MeanPooled(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask):
            hidden = self.inner(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            m = attention_mask.unsqueeze(-1).to(hidden.dtype)
            return (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)

    tok = ModelTokenizer(settings.embedding_model)
    sample = tok.encode_batch(["passage: Tiền Giang", "passage: chuyển đổi số cấp tỉnh năm 2025"])
    width = max(len(e) for e in sample)
    ids = torch.tensor([e + [tok.pad_id] * (width - len(e)) for e in sample])
    mask = torch.tensor([[1] * len(e) + [0] * (width - len(e)) for e in sample])
    with warnings.catch_warnings(), torch.inference_mode():
        warnings.simplefilter("ignore")  # tracer warnings about shape-dependent Python branches of HF code
        graph = ov.convert_model(MeanPooled(st[0].auto_model.eval()),
                                 example_input={"input_ids": ids, "attention_mask": mask})
    nncf.set_log_level(40)  # its progress tables would fill the set-up log
    graph = nncf.compress_weights(graph, mode=nncf.CompressWeightsMode.INT8_ASYM)
    final = ir_dir(settings)
    tmp = final.with_name(f"{IR_DIR}.tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    ov.save_model(graph, str(tmp / f"{IR_NAME}.xml"), compress_to_fp16=False)
    dimension = int(st.get_embedding_dimension())
    (tmp / RECORD).write_text(json.dumps({**_expected_record(settings), "dimension": dimension}), encoding="utf-8")
    # Swap whole folders: a reader sees the old model or the new one, never half of each.
    old = final.with_name(f"{IR_DIR}.old{os.getpid()}")
    if final.exists():
        os.replace(final, old)
    os.replace(tmp, final)
    shutil.rmtree(old, ignore_errors=True)
    return final


def main(argv: list[str] | None = None) -> int:
    """Convert the model unless a current conversion exists (set-up calls this; quick when nothing changed)."""
    # openvino's converter and NNCF send usage telemetry unless they believe they run in CI: set-up stays offline.
    os.environ["CI"] = "true"
    settings = Settings.from_env()
    if not Path(settings.embedding_model).is_dir():
        print(f"openvino encoder: {settings.embedding_model} is not a folder; skipped", file=sys.stderr)
        return 0
    if not is_current(settings) or "--force" in (argv if argv is not None else sys.argv[1:]):
        folder = export(settings)
        print(f"set-up: converted the embedding model for OpenVINO with int8 weights ({folder})")
    # Compile once into the cache, at the model's final path and this CPU's precision, so the first
    # question of every later process is quick too (a second run finds the cache and returns at once).
    (ir_dir(settings) / CACHE).mkdir(exist_ok=True)
    load_openvino(settings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
