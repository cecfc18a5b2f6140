"""A small cross-encoder trained here: does this sentence answer this question, read together?

Cosine similarity of separately embedded texts says "about the same thing"; a cross-encoder reads the
question and the sentence in one pass and learns whether the sentence *answers*. No such weights ship
on PyPI, so it is the first `layers` transformer layers of the e5 model we already ship, with low-rank
(LoRA) deltas, fresh LayerNorms and a linear head fitted by `python -m assistant.learn.train_cross_encoder`
on the train splits. Only those deltas are committed (about a megabyte); the word embeddings are shared
with the loaded embedding model, so it costs ~30 MB of memory, not a second model.

It rescores only the few sentences the first-stage selector ranks highest (`RERANK`).

Usage (needs the shipped model, so not run as a doctest)::

    ce = CrossEncoder.load(load_embeddings(Settings.from_env()).model)
    ce.score("Kinh tế số chiếm bao nhiêu % GRDP?", ["Năm 2021, kinh tế số chiếm 8,59% GRDP.", "Tỉnh có 11 huyện."])
"""
from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from assistant.errors import AssistantError
from assistant.vi.textnorm import model_normalize

MODEL_DIR = Path(__file__).resolve().parent / "models"
DEFAULT_ARTIFACT = MODEL_DIR / "cross_encoder.json"
# The linear layers of a BERT layer that carry LoRA deltas (all of them), by their path inside the layer.
LORA_TARGETS = ("attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense",
                "intermediate.dense", "output.dense")
LAYER_NORMS = ("attention.output.LayerNorm", "output.LayerNorm")
# How many first-stage candidates it rescores per question: the gold sentence is among the first stage's top 5
# for most validation questions it can be found for (train_cross_encoder's record), and a pair costs ~8 ms on a
# 2-core CPU without bf16 (probe of 24 pairs x 64 tokens, 4 layers: 190 ms), so 5 keeps an answer near 80 ms.
RERANK = 5
# What each pair starts with: e5's query/passage prefixes, as in training (the base model reads them so).
E5_PREFIXES = ("query: ", "passage: ")


class CrossEncoderError(AssistantError, RuntimeError):
    """The cross-encoder artifact is missing, damaged, or made for another base model."""


def submodule(root: Any, path: str) -> Any:
    """The module at a dotted path ("attention.self.query") inside `root`."""
    for part in path.split("."):
        root = getattr(root, part)
    return root


def encode_pairs(tokenizer: Any, questions: Sequence[str], sentences: Sequence[str], max_length: int,
                 prefixes: Sequence[str] = E5_PREFIXES) -> dict:
    """The model's input for (question, sentence) pairs, prefixed as e5 reads them: one sequence each, truncated."""
    return tokenizer([model_normalize(prefixes[0] + q) for q in questions],
                     [model_normalize(prefixes[1] + s) for s in sentences],
                     truncation="longest_first", max_length=max_length, padding=True, return_tensors="pt")


def pooled(hidden: Any, mask: Any, pooling: str) -> Any:
    """One vector per pair: the first token ("cls") or the mean over its tokens ("mean", as e5 was trained)."""
    if pooling == "cls":
        return hidden[:, 0]
    m = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * m).sum(1) / m.sum(1).clamp(min=1.0)


def truncated_body(base: Any, layers: int) -> Any:
    """A BERT model of the first `layers` layers of `base`, sharing its embeddings module (no copy)."""
    from transformers import BertModel

    cfg = copy.deepcopy(base.config)
    # A 2-row vocabulary: the shared embeddings replace these at once, so the full table is never allocated twice.
    cfg.num_hidden_layers, cfg.vocab_size, cfg.pad_token_id = layers, 2, 0
    body = BertModel(cfg, add_pooling_layer=False)
    body.embeddings = base.embeddings
    for i in range(layers):
        body.encoder.layer[i].load_state_dict(base.encoder.layer[i].state_dict())
    return body.to(next(base.parameters()).dtype).eval()


def rerank_rows(order: Sequence[int], allowed: np.ndarray, n: int = RERANK) -> list[int]:
    """The rows the cross-encoder rescores: the first stage's best `n` (in `order`) that the gates allow."""
    return [int(i) for i in order[:n] if allowed[i]]


@dataclass
class CrossEncoder:
    """P(answers) per (question, sentence) pair from the merged body and the linear head on the first token."""

    body: Any
    tokenizer: Any
    head_w: np.ndarray
    head_b: float
    max_length: int
    trained: dict
    pooling: str = "cls"

    @classmethod
    def load(cls, sentence_transformer: Any, path: Path = DEFAULT_ARTIFACT) -> "CrossEncoder":
        """Build it over a loaded sentence-transformers e5 model and the artifact's deltas."""
        from safetensors.torch import load_file

        path = Path(path)
        try:
            meta = json.loads(path.read_text(encoding="utf-8"))
            tensors = load_file(str(path.with_name(meta["weights"])))
        except (OSError, ValueError, KeyError) as exc:
            raise CrossEncoderError(f"không đọc được mô hình đọc hiểu {path}: {exc}") from None
        base = sentence_transformer[0].auto_model
        if base.config.hidden_size != meta["hidden_size"] or base.config.num_hidden_layers < meta["layers"]:
            raise CrossEncoderError(f"mô hình đọc hiểu {path} được huấn luyện trên mô hình nhúng khác; "
                                    "chạy lại `python -m assistant.learn.train_cross_encoder`")
        ce = cls.from_tensors(base, sentence_transformer.tokenizer, tensors, meta["layers"],
                              meta["alpha"] / meta["rank"], int(meta["max_length"]), meta.get("pooling", "cls"))
        ce.trained = meta.get("trained", {})
        return ce

    @classmethod
    def from_tensors(cls, base: Any, tokenizer: Any, tensors: dict, layers: int, scale: float,
                     max_length: int, pooling: str = "cls") -> "CrossEncoder":
        """Merge exported tensors (LoRA A/B, LayerNorms, head) into a truncated copy of `base`."""
        import torch

        body = truncated_body(base, layers)
        with torch.no_grad():
            for i, layer in enumerate(body.encoder.layer):
                for name in LORA_TARGETS:
                    lin = submodule(layer, name)
                    a, b = tensors[f"{i}.{name}.A"].float(), tensors[f"{i}.{name}.B"].float()
                    lin.weight += (scale * b @ a).to(lin.weight.dtype)
                for name in LAYER_NORMS:
                    ln = submodule(layer, name)
                    ln.weight.copy_(tensors[f"{i}.{name}.weight"])
                    ln.bias.copy_(tensors[f"{i}.{name}.bias"])
        return cls(body, tokenizer, tensors["head.weight"].float().numpy().reshape(-1),
                   float(tensors["head.bias"].float().reshape(-1)[0]), max_length, {}, pooling)

    def logits(self, question: str, sentences: Sequence[str]) -> np.ndarray:
        """Raw scores per sentence (higher = more likely to answer)."""
        import torch

        if not sentences:
            return np.zeros(0, np.float32)
        batch = encode_pairs(self.tokenizer, [question] * len(sentences), sentences, self.max_length)
        with torch.inference_mode():
            out = self.body(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"])
            vec = pooled(out.last_hidden_state, batch["attention_mask"], self.pooling).float().numpy()
        return (vec @ self.head_w + self.head_b).astype(np.float32)

    def score(self, question: str, sentences: Sequence[str]) -> np.ndarray:
        """P(the sentence answers the question), per sentence."""
        return (1.0 / (1.0 + np.exp(-self.logits(question, sentences)))).astype(np.float32)


def load_cross_encoder(settings: Any, embeddings: Any, path: Path = DEFAULT_ARTIFACT) -> CrossEncoder | None:
    """The cross-encoder over the index's embedding model, or None when it is switched off
    (`ASSISTANT_CROSS_ENCODER=off`) or the embedder is not the sentence-transformers e5 it was trained on."""
    model = getattr(embeddings, "model", None)
    if settings.cross_encoder == "off" or model is None or not hasattr(model, "tokenizer"):
        return None
    return CrossEncoder.load(model, path)
