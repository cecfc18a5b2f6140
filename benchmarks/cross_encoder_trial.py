"""Can a small cross-encoder trained on this CPU rerank the selector's best sentences? (Tried; not shipped.)

No reranker or reader weights ship on PyPI, so the only cross-encoder available is one trained here:
the first `--layers` layers of the shipped e5 model with LoRA deltas of rank 16 on every linear layer,
trainable LayerNorms and a linear head (mean or first-token pooling), binary cross-entropy on
(question, sentence) pairs. Pairs: for a fixed sample of train questions, the 5 sentences the
linear selector ranks highest plus the gold ones; validation: the same for a sample of validation
questions, scored against the selector itself on the same candidates (top-1 = the gold sentence
ranked first; AUC = answerable vs left-out questions by the best score). Reads the selector's
cached examples (`train_selector --workdir`, same splits by article).

    .venv/bin/python -m benchmarks.cross_encoder_trial --workdir /tmp/selector-work [--variants mean:1e-3 cls:1e-3]

writes docs/cross_encoder_trial.json.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from assistant.config import PROJECT_ROOT, Settings

RERANK, MAX_LENGTH, BATCH, RANK, ALPHA, SEED = 5, 96, 32, 16, 32.0, 0
LORA_TARGETS = ("attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense",
                "intermediate.dense", "output.dense")
LAYER_NORMS = ("attention.output.LayerNorm", "output.LayerNorm")
OUT = PROJECT_ROOT / "docs" / "cross_encoder_trial.json"


def _module(root, path: str):
    for part in path.split("."):
        root = getattr(root, part)
    return root


def model(base, layers: int):
    """(body, head): a copy of base's first layers with LoRA deltas and trainable LayerNorms, and a zero head."""
    import copy

    import torch
    from torch import nn

    body = copy.deepcopy(base)
    body.encoder.layer = body.encoder.layer[:layers]
    for p in body.parameters():
        p.requires_grad_(False)
    gen = torch.Generator().manual_seed(SEED)

    class LoRA(nn.Module):
        def __init__(self, lin):
            super().__init__()
            self.base = lin
            self.A = nn.Parameter(torch.randn(RANK, lin.in_features, generator=gen) / np.sqrt(lin.in_features))
            self.B = nn.Parameter(torch.zeros(lin.out_features, RANK))

        def forward(self, x):
            return self.base(x) + (x @ self.A.T @ self.B.T) * (ALPHA / RANK)

    for layer in body.encoder.layer:
        for name in LORA_TARGETS:
            parent, attr = name.rsplit(".", 1)
            setattr(_module(layer, parent), attr, LoRA(_module(layer, name)))
        for name in LAYER_NORMS:
            for p in _module(layer, name).parameters():
                p.requires_grad_(True)
    head = nn.Linear(base.config.hidden_size, 1)
    nn.init.zeros_(head.weight), nn.init.zeros_(head.bias)
    return body, head


def logits(body, head, tokenizer, questions, sentences, pooling: str):
    from assistant.indexing.embed.embeddings import model_normalize

    batch = tokenizer([model_normalize("query: " + q) for q in questions],
                      [model_normalize("passage: " + s) for s in sentences],
                      truncation="longest_first", max_length=MAX_LENGTH, padding=True, return_tensors="pt")
    hidden = body(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).last_hidden_state
    if pooling == "cls":
        vec = hidden[:, 0]
    else:
        m = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        vec = (hidden * m).sum(1) / m.sum(1).clamp(min=1.0)
    return head(vec).squeeze(-1)


def pairs_of(ex, idx, orders, with_gold: bool):
    """(questions, sentences, labels, group) of the candidates the reranker would read."""
    from assistant.answer.features import eligible

    qs, ss, ys, gs = [], [], [], []
    for g, i in enumerate(idx):
        allowed = eligible(ex.X[i])
        rows = [int(r) for r in orders[i][:RERANK] if allowed[r]]
        if with_gold:
            rows += [int(r) for r in np.flatnonzero(ex.y[i] > 0) if r not in rows]
        for r in rows:
            qs.append(ex.question[i]), ss.append(str(ex.T[i][r])), ys.append(float(ex.y[i][r])), gs.append(g)
    return qs, ss, np.array(ys, np.float32), np.array(gs)


def report(scores, labels, group, answerable) -> dict:
    from sklearn.metrics import roc_auc_score

    top1, best, ans = [], [], []
    for g in np.unique(group):
        rows = np.flatnonzero(group == g)
        best.append(float(scores[rows].max())), ans.append(bool(answerable[g]))
        if answerable[g] and labels[rows].sum() > 0:
            top1.append(float(labels[rows[int(np.argmax(scores[rows]))]] > 0))
    auc = roc_auc_score(ans, best) if len(set(ans)) == 2 else float("nan")
    return {"top1": round(float(np.mean(top1)), 4), "answerable_auc": round(float(auc), 4), "questions": len(top1)}


def main(argv: list[str] | None = None) -> int:
    """Train each variant one epoch on the sample; compare with the selector on the same candidates."""
    import torch
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from assistant.indexing.embed.embeddings import load_embeddings
    from assistant.learn.train_selector import build_examples

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/selector-work"))
    ap.add_argument("--train-questions", type=int, default=500)
    ap.add_argument("--val-questions", type=int, default=250)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--variants", nargs="+", default=["mean:1e-3", "cls:1e-3"], help="pooling:learning rate")
    args = ap.parse_args(argv)
    torch.manual_seed(SEED)
    sets = build_examples(args.workdir, None, load_embeddings(Settings.from_env({})))
    tr, va = sets["train"], sets["val"]
    X, y = tr.stacked()
    selector = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=2000)).fit(X, y)
    probs = {k: [selector.predict_proba(x)[:, 1] if len(x) else np.zeros(0) for x in ex.X] for k, ex in sets.items()}
    orders = {k: [np.argsort(-p, kind="stable") for p in v] for k, v in probs.items()}
    rng = np.random.default_rng(SEED)
    tri = sorted(rng.choice(len(tr.X), args.train_questions, replace=False))
    vai = sorted(rng.choice(len(va.X), args.val_questions, replace=False))
    tq, ts, tl, _ = pairs_of(tr, tri, orders["train"], True)
    vq, vs, vl, vg = pairs_of(va, vai, orders["val"], False)
    answerable = [va.answerable[i] for i in vai]
    sel_scores = np.array([probs["val"][vai[g]][orders["val"][vai[g]]][k]
                           for g in np.unique(vg) for k in range(int((vg == g).sum()))], np.float32)
    out = {"command": "python -m benchmarks.cross_encoder_trial " + " ".join(argv or sys.argv[1:]),
           "layers": args.layers, "rank": RANK, "train_pairs": int(len(tl)), "val_pairs": int(len(vl)),
           "selector_on_same_candidates": report(sel_scores, vl, vg, answerable), "variants": {}}
    st = load_embeddings(Settings.from_env({"ASSISTANT_EMBEDDING_DTYPE": "fp32",
                                            "ASSISTANT_EMBEDDING_RUNTIME": "torch"})).model
    for variant in args.variants:
        pooling, lr = variant.split(":")
        body, head = model(st[0].auto_model, args.layers)
        params = [p for p in body.parameters() if p.requires_grad]
        opt = torch.optim.AdamW([{"params": params, "lr": float(lr)},
                                 {"params": list(head.parameters()), "lr": 10 * float(lr)}], weight_decay=0.01)
        loss_fn, t0 = torch.nn.BCEWithLogitsLoss(), time.perf_counter()
        body.train()
        order = rng.permutation(len(tl))
        for a in range(0, len(tl), BATCH):
            idx = order[a:a + BATCH]
            loss = loss_fn(logits(body, head, st.tokenizer, [tq[i] for i in idx], [ts[i] for i in idx], pooling),
                           torch.from_numpy(tl[idx]))
            loss.backward(), opt.step(), opt.zero_grad()
        train_s = time.perf_counter() - t0
        body.eval()
        t0, scores = time.perf_counter(), []
        with torch.inference_mode():
            for a in range(0, len(vl), 64):
                scores.append(logits(body, head, st.tokenizer, vq[a:a + 64], vs[a:a + 64], pooling).numpy())
        out["variants"][variant] = {**report(np.concatenate(scores), vl, vg, answerable),
                                    "train_pairs_per_s": round(len(tl) / train_s, 1),
                                    "ms_per_pair": round(1000 * (time.perf_counter() - t0) / len(vl), 2)}
        print(variant, out["variants"][variant], file=sys.stderr, flush=True)
    OUT.write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(out, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
