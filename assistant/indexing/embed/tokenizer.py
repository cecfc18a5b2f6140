"""The model's own tokenizer (`tokenizer.json` through `tokenizers`), the one every encoder path uses.

Its NFKC normalizer is the model's: the slow XLM-R tokenizer sentence-transformers loads under
transformers 5 drops it, so "…" and full-width digits became <unk> there (see `model_normalize`).

Usage (needs the model, an index, a server or the shared data, so not run as a doctest)::

    model_tokenizer("models/multilingual-e5-small").count_tokens("Tiền Giang")
    # -> 4
"""
from __future__ import annotations

import functools
import json
from pathlib import Path

MAX_TOKENS = 512  # what sentence-transformers truncates e5 to


class ModelTokenizer:
    """Token ids and counts from the model folder's `tokenizer.json` (what its fast HF tokenizer wraps)."""

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


def has_tokenizer(model_dir: str) -> bool:
    """Whether the model folder carries the files `ModelTokenizer` reads."""
    return all((Path(model_dir) / f).is_file() for f in ("tokenizer.json", "tokenizer_config.json"))


@functools.lru_cache(maxsize=2)
def model_tokenizer(model_dir: str) -> ModelTokenizer:
    """The model folder's tokenizer, loaded once per process (no torch needed)."""
    return ModelTokenizer(model_dir)
