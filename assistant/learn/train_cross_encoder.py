"""Fine-tune the answer cross-encoder (`assistant.answer.cross_encoder`) on the train splits; choose on validation.

Data: the candidate sentences the selector sees (`train_selector.build_examples`, same splits by article,
same cached work folder). For each question, the `RERANK` sentences a first-stage selector (the linear
model over every signal but the cross-encoder's) ranks highest, plus its gold sentences: label 1 when
the sentence holds a gold answer. The left-out cases (the question's own article not indexed) give
only negatives, so the score also learns when nothing answers.

Model: the first `--layers` layers of the shipped e5 model, LoRA deltas of rank `--rank` on every
linear layer, the LayerNorms and a linear head on the first token; the embeddings stay frozen and
shared. Binary cross-entropy, AdamW, linear warm-up and decay. The epoch with the best validation
top-1 (the gold sentence ranked first among the candidates) is kept.

    .venv/bin/python -m assistant.learn.train_cross_encoder [--workdir /tmp/selector-work] [--limit N]

writes `assistant/answer/models/cross_encoder.json` (+ `.safetensors`) with the command, the data hashes
and the validation scores. Run `python -m assistant.learn.train_selector` after it: the selector's
second stage is fitted on this model's scores.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from assistant.answer.cross_encoder import (DEFAULT_ARTIFACT, LAYER_NORMS, LORA_TARGETS, RERANK, encode_pairs,
                                            pooled, rerank_rows, submodule, truncated_body)
from assistant.answer.features import eligible

MAX_LENGTH = 96  # tokens of question + sentence: the sentences the quoter keeps are ≤ ~60 tokens (quote_windows)
BATCH = 32
POOLING = "mean"
HEAD_LR_FACTOR = 10.0
SEED = 0


@dataclass
class Pairs:
    """(question, sentence, label) rows; `group[i]` numbers the question of row i."""

    questions: list[str]
    sentences: list[str]
    labels: np.ndarray
    group: np.ndarray


def make_pairs(ex, orders: list[np.ndarray], rerank: int, with_gold: bool) -> Pairs:
    """The candidates each question's cross-encoder would rescore (plus its gold ones when `with_gold`) as pairs."""
    qs, ss, ys, gs = [], [], [], []
    for g, (order, x, y, texts, q) in enumerate(zip(orders, ex.X, ex.y, ex.T, ex.question)):
        idx = rerank_rows(order, eligible(x), rerank)
        if with_gold:
            idx += [int(i) for i in np.flatnonzero(y > 0) if i not in idx]
        for i in idx:
            qs.append(q), ss.append(str(texts[i])), ys.append(float(y[i])), gs.append(g)
    return Pairs(qs, ss, np.array(ys, np.float32), np.array(gs, np.int64))


class LoRALinear:
    """A frozen linear layer plus a trainable low-rank delta (built lazily so torch loads only when training)."""

    @staticmethod
    def wrap(linear, rank: int, alpha: float, gen):
        import torch
        from torch import nn

        class _LoRA(nn.Module):
            def __init__(self):
                super().__init__()
                self.base = linear
                for p in self.base.parameters():
                    p.requires_grad_(False)
                self.A = nn.Parameter(torch.randn(rank, linear.in_features, generator=gen) / np.sqrt(linear.in_features))
                self.B = nn.Parameter(torch.zeros(linear.out_features, rank))
                self.scale = alpha / rank

            def forward(self, x):
                return self.base(x) + (x @ self.A.T @ self.B.T) * self.scale

        return _LoRA()


def trainable(base, layers: int, rank: int, alpha: float):
    """(body with LoRA modules, head) over a copy of the first layers of `base` (fp32)."""
    import torch
    from torch import nn

    gen = torch.Generator().manual_seed(SEED)
    body = truncated_body(base, layers).float()
    for p in body.parameters():
        p.requires_grad_(False)
    for layer in body.encoder.layer:
        for name in LORA_TARGETS:
            parent, attr = name.rsplit(".", 1)
            setattr(submodule(layer, parent), attr, LoRALinear.wrap(submodule(layer, name), rank, alpha, gen))
        for name in LAYER_NORMS:
            for p in submodule(layer, name).parameters():
                p.requires_grad_(True)
    head = nn.Linear(base.config.hidden_size, 1)
    nn.init.zeros_(head.weight), nn.init.zeros_(head.bias)
    return body, head


def logits_of(body, head, tokenizer, questions: Sequence[str], sentences: Sequence[str]):
    """Scores of a batch of pairs (questions may differ per row)."""
    batch = encode_pairs(tokenizer, questions, sentences, MAX_LENGTH)
    out = body(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"])
    return head(pooled(out.last_hidden_state, batch["attention_mask"], POOLING)).squeeze(-1)


def predict(body, head, tokenizer, pairs: Pairs) -> np.ndarray:
    """Logits of every pair (eval mode, no grad)."""
    import torch

    body.eval()
    out = []
    with torch.inference_mode():
        for a in range(0, len(pairs.labels), 64):
            out.append(logits_of(body, head, tokenizer, pairs.questions[a:a + 64], pairs.sentences[a:a + 64]).float().numpy())
    return np.concatenate(out) if out else np.zeros(0, np.float32)


def scores_report(logits: np.ndarray, pairs: Pairs, answerable: Sequence[bool]) -> dict[str, float]:
    """Validation top-1 over answerable questions with a gold candidate, and how well the best score separates
    answerable from left-out questions (ROC AUC of the per-question maximum)."""
    top1, best, ans = [], [], []
    for g in range(int(pairs.group.max()) + 1 if len(pairs.group) else 0):
        rows = np.flatnonzero(pairs.group == g)
        if not len(rows):
            continue
        best.append(float(logits[rows].max())), ans.append(bool(answerable[g]))
        if answerable[g] and pairs.labels[rows].sum() > 0:
            top1.append(float(pairs.labels[rows[int(np.argmax(logits[rows]))]] > 0))
    from sklearn.metrics import roc_auc_score

    auc = roc_auc_score(ans, best) if len(set(ans)) == 2 else float("nan")
    return {"top1": round(float(np.mean(top1)), 4) if top1 else 0.0, "answerable_auc": round(float(auc), 4)}


def export(body, head) -> dict:
    """The tensors the runtime merges: LoRA A/B per linear layer, LayerNorms, head (fp16 deltas)."""
    import torch

    out = {}
    for i, layer in enumerate(body.encoder.layer):
        for name in LORA_TARGETS:
            mod = submodule(layer, name)
            out[f"{i}.{name}.A"] = mod.A.detach().to(torch.float16).contiguous()
            out[f"{i}.{name}.B"] = mod.B.detach().to(torch.float16).contiguous()
        for name in LAYER_NORMS:
            ln = submodule(layer, name)
            out[f"{i}.{name}.weight"] = ln.weight.detach().float().clone()
            out[f"{i}.{name}.bias"] = ln.bias.detach().float().clone()
    out["head.weight"] = head.weight.detach().float().clone()
    out["head.bias"] = head.bias.detach().float().clone()
    return out


FOLDS = 2  # out-of-fold scores for the selector's train rows: each question scored by a model blind to its article


@dataclass
class Recipe:
    """How the cross-encoder is fitted (the command line's choices)."""

    epochs: int = 2
    layers: int = 4
    rank: int = 16
    alpha: float = 32.0
    lr: float = 3e-4


def fit(base, tokenizer, pairs: Pairs, recipe: Recipe, val: Pairs | None = None, val_answerable=(),
        label: str = "") -> tuple[dict, list[dict]]:
    """Fine-tune on `pairs`; with `val`, keep the epoch with the best validation top-1.
    Returns (exported tensors, per-epoch report)."""
    import torch

    torch.manual_seed(SEED)
    body, head = trainable(base, recipe.layers, recipe.rank, recipe.alpha)
    body_params = [p for p in body.parameters() if p.requires_grad]
    params = body_params + list(head.parameters())
    # The head starts from zero and must grow first, so it learns faster than the deltas.
    opt = torch.optim.AdamW([{"params": body_params, "lr": recipe.lr},
                             {"params": list(head.parameters()), "lr": recipe.lr * HEAD_LR_FACTOR}], weight_decay=0.01)
    steps = recipe.epochs * ((len(pairs.labels) + BATCH - 1) // BATCH)
    warm = max(1, steps // 20)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warm, max(0.0, (steps - s) / max(1, steps - warm))))
    loss_fn = torch.nn.BCEWithLogitsLoss()
    rng = np.random.default_rng(SEED)
    history, best, best_state = [], -1.0, None
    for epoch in range(recipe.epochs):
        body.train()
        order = rng.permutation(len(pairs.labels))
        te, seen, total = time.perf_counter(), 0, 0.0
        for a in range(0, len(order), BATCH):
            idx = order[a:a + BATCH]
            logit = logits_of(body, head, tokenizer, [pairs.questions[i] for i in idx],
                              [pairs.sentences[i] for i in idx])
            loss = loss_fn(logit, torch.from_numpy(pairs.labels[idx]))
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step(), sched.step(), opt.zero_grad()
            seen, total = seen + len(idx), total + float(loss.detach()) * len(idx)
            if (a // BATCH) % 100 == 0:
                print(f"  {label} epoch {epoch + 1}: {seen}/{len(order)} pairs, loss {total / seen:.4f}, "
                      f"{seen / (time.perf_counter() - te):.1f} pairs/s", file=sys.stderr, flush=True)
        rep = {"epoch": epoch + 1, "train_loss": round(total / max(seen, 1), 4),
               "train_pairs_per_s": round(seen / (time.perf_counter() - te), 1)}
        if val is not None:
            tv = time.perf_counter()
            rep.update(scores_report(predict(body, head, tokenizer, val), val, val_answerable),
                       val_ms_per_pair=round(1000 * (time.perf_counter() - tv) / max(len(val.labels), 1), 2))
        history.append(rep)
        print(f"  {label} epoch {epoch + 1}: {rep}", file=sys.stderr, flush=True)
        if val is None or rep["top1"] > best:
            best, best_state = rep.get("top1", 0.0), export(body, head)
    return best_state, history


def scored(state: dict, base, tokenizer, pairs: Pairs, recipe: Recipe) -> np.ndarray:
    """Probabilities of `pairs` under exported tensors, through the runtime's own merge (train and serve agree)."""
    from assistant.answer.cross_encoder import CrossEncoder

    ce = CrossEncoder.from_tensors(base, tokenizer, state, recipe.layers, recipe.alpha / recipe.rank, MAX_LENGTH,
                                   POOLING)
    out = np.zeros(len(pairs.labels), np.float32)
    for g in np.unique(pairs.group):
        rows = np.flatnonzero(pairs.group == g)
        out[rows] = ce.score(pairs.questions[rows[0]], [pairs.sentences[i] for i in rows])
    return out


def train(workdir: Path, out: Path, *, limit: int | None = None, recipe: Recipe = Recipe(), command: str = "") -> dict:
    """Fit on all train questions (shipped; epoch chosen on validation) and out of fold (scores for the
    selector's train rows); write the artifact and the work folder's cross scores; returns the record."""
    import hashlib

    from safetensors.torch import save_file

    from assistant.config import Settings
    from assistant.indexing.embed.embeddings import load_embeddings
    from assistant.learn.train_selector import (CROSS_SCORES, build_examples, data_hashes, examples_id,
                                                first_stage_order, fit_first_stage)

    t0 = time.perf_counter()
    emb = load_embeddings(Settings.from_env({}))
    sets = build_examples(workdir, limit, emb)
    train_ex, val_ex = sets["train"], sets["val"]
    first_name, first_model, _, cols = fit_first_stage(train_ex, val_ex)
    orders = {k: first_stage_order(first_model, ex, cols) for k, ex in sets.items()}
    st = load_embeddings(Settings.from_env({"ASSISTANT_EMBEDDING_DTYPE": "fp32"})).model
    base, tokenizer = st[0].auto_model, st.tokenizer
    va = make_pairs(val_ex, orders["val"], RERANK, with_gold=False)
    state, history = fit(base, tokenizer, make_pairs(train_ex, orders["train"], RERANK, with_gold=True), recipe,
                         va, val_ex.answerable, "all")
    chosen = max(history, key=lambda r: r["top1"])
    # Out of fold: the second stage must learn from the scores the cross-encoder gives questions it never saw.
    fold = np.array([int(hashlib.sha256(a.encode()).hexdigest(), 16) % FOLDS for a in train_ex.article])
    oof = make_pairs(train_ex, orders["train"], RERANK, with_gold=False)
    oof_p = np.zeros(len(oof.labels), np.float32)
    fold_recipe = Recipe(**{**recipe.__dict__, "epochs": chosen["epoch"]})
    for f in range(FOLDS):
        keep = [i for i in range(len(train_ex.X)) if fold[i] != f]
        sub = make_pairs(_subset(train_ex, keep), [orders["train"][i] for i in keep], RERANK, with_gold=True)
        fstate, _ = fit(base, tokenizer, sub, fold_recipe, label=f"fold {f + 1}/{FOLDS}")
        rows = np.flatnonzero(fold[oof.group] == f)
        oof_p[rows] = scored(fstate, base, tokenizer, _rows(oof, rows), recipe)
    val_p = scored(state, base, tokenizer, va, recipe)
    record = {"command": command, "seconds": round(time.perf_counter() - t0, 1), "data_sha256": data_hashes(),
              "limit": limit, **recipe.__dict__, "rerank": RERANK, "max_length": MAX_LENGTH,
              "first_stage": first_name, "folds": FOLDS,
              "train": {"questions": len(train_ex.X), "out_of_fold": scores_report(oof_p, oof, train_ex.answerable)},
              "validation": {"questions": len(val_ex.X), "pairs": int(len(va.labels)), "by_epoch": history,
                             "chosen_epoch": chosen["epoch"],
                             "first_stage_on_same_candidates": scores_report(_first_scores(first_model, val_ex, cols),
                                                                             va, val_ex.answerable)}}
    out = Path(out)
    weights = out.with_suffix(".safetensors")
    tmp = weights.with_suffix(".safetensors.tmp")
    save_file(state, str(tmp))
    tmp.replace(weights)
    meta = {"weights": weights.name, "layers": recipe.layers, "rank": recipe.rank, "alpha": recipe.alpha,
            "max_length": MAX_LENGTH, "pooling": POOLING, "hidden_size": int(base.config.hidden_size),
            "trained": record}
    tmp = out.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(meta, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    tmp.replace(out)
    np.savez(workdir / CROSS_SCORES, weights_sha256=hashlib.sha256(weights.read_bytes()).hexdigest(),
             train_kind=f"out of fold ({FOLDS} folds by article)",
             train_ids=examples_id(train_ex), val_ids=examples_id(val_ex),
             **_flat("train", oof, orders["train"], train_ex.X, oof_p), **_flat("val", va, orders["val"], val_ex.X, val_p))
    return record


def _subset(ex, keep: Sequence[int]):
    from assistant.learn.train_selector import Examples

    out = Examples()
    for i in keep:
        out.add(ex.X[i], ex.y[i], ex.length[i], ex.answerable[i], ex.source[i], ex.T[i], ex.question[i], ex.article[i])
    return out


def _rows(pairs: Pairs, rows: np.ndarray) -> Pairs:
    return Pairs([pairs.questions[i] for i in rows], [pairs.sentences[i] for i in rows], pairs.labels[rows],
                 pairs.group[rows])


def _flat(split: str, pairs: Pairs, orders: list[np.ndarray], xs: list[np.ndarray], probs: np.ndarray
          ) -> dict[str, np.ndarray]:
    """(question, candidate row, probability) arrays, sorted by question, for `train_selector.fill_cross`."""
    rows = [i for g in np.unique(pairs.group) for i in rerank_rows(orders[g], eligible(xs[g]))]
    return {f"{split}_q": pairs.group, f"{split}_row": np.array(rows, np.int64), f"{split}_p": probs}


def _first_scores(model, ex, cols: Sequence[int]) -> np.ndarray:
    """The first stage's probabilities, in the row order of `make_pairs(..., with_gold=False)`."""
    from assistant.learn.train_selector import _probs

    return np.concatenate([p[rerank_rows(np.argsort(-p, kind="stable"), eligible(x))]
                           for p, x in zip(_probs(model, ex, cols), ex.X) if len(p)] or [np.zeros(0, np.float32)])


def main(argv: list[str] | None = None) -> int:
    """Command line: train and write the artifact."""
    ap = argparse.ArgumentParser(prog="python -m assistant.learn.train_cross_encoder",
                                 description=__doc__.split("\n")[0])
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/selector-work"))
    ap.add_argument("--out", type=Path, default=DEFAULT_ARTIFACT)
    ap.add_argument("--limit", type=int, default=None, help="questions per data set and split (a quick run)")
    ap.add_argument("--epochs", type=int, default=Recipe.epochs)
    ap.add_argument("--layers", type=int, default=Recipe.layers)
    args = ap.parse_args(argv)
    cmd = "python -m assistant.learn.train_cross_encoder" + (f" --limit {args.limit}" if args.limit else "") \
        + (f" --epochs {args.epochs}" if args.epochs != Recipe.epochs else "") \
        + (f" --layers {args.layers}" if args.layers != Recipe.layers else "")
    record = train(args.workdir, args.out, limit=args.limit, recipe=Recipe(epochs=args.epochs, layers=args.layers),
                   command=cmd)
    print(json.dumps(record, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
