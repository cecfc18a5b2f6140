"""Why SQLite FTS5 for keyword search: FTS5 vs bm25s vs tantivy on XQuAD-vi, same tokens.

    .venv/bin/python -m benchmarks.lexical_engines [--json OUT]

All three engines index the same pre-tokenized text (assistant.vi.tokens.lexical_tokens: folded
syllables + syllable pairs, numbers whole) and answer the same token queries, so the comparison is
about the engines: recall@1/5 of the gold paragraph, index time, query latency, and whether the
index can be updated in place (delete + add one document) — the incremental build needs that.
"""
from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import tempfile
import time

from assistant.indexing import lexical
from assistant.vi.tokens import lexical_tokens, query_tokens
from benchmarks.common import pct
from benchmarks.xquad_eval import load

DEPTH = 10  # hits fetched per query: more than recall@5, the deepest figure reported


def _recall(ranked: list[list[int]], gold: list[int], k: int) -> float:
    return sum(g in r[:k] for r, g in zip(ranked, gold)) / len(gold)


def run_fts5(docs: list[str], queries: list[str]) -> dict:
    """Our engine: FTS5 in SQLite (the catalog's own file in the product)."""
    conn = sqlite3.connect(":memory:")
    lexical.create_schema(conn)
    t = time.perf_counter()
    with conn:
        lexical.add(conn, enumerate(docs))
    build = time.perf_counter() - t
    ranked, lat = [], []
    for q in queries:
        t = time.perf_counter()
        ranked.append([rowid for rowid, _ in lexical.search(conn, q, DEPTH)])
        lat.append(time.perf_counter() - t)
    t = time.perf_counter()
    with conn:  # in-place update of one document
        lexical.delete(conn, [(0, docs[0])])
        lexical.add(conn, [(0, docs[0])])
    update = time.perf_counter() - t
    return {"ranked": ranked, "build_s": build, "lat": lat, "update_s": update, "in_place": True}


def run_bm25s(docs: list[str], queries: list[str]) -> dict:
    """bm25s: fast sparse-matrix BM25; the index is rebuilt as a whole (no in-place update)."""
    import bm25s

    corpus_tokens = [lexical_tokens(d) for d in docs]
    t = time.perf_counter()
    retriever = bm25s.BM25()
    retriever.index(corpus_tokens, show_progress=False)
    build = time.perf_counter() - t
    ranked, lat = [], []
    for q in queries:
        qt = [t for t in query_tokens(q)]
        t = time.perf_counter()
        res, _ = retriever.retrieve([qt], k=min(DEPTH, len(docs)), show_progress=False)
        lat.append(time.perf_counter() - t)
        ranked.append([int(i) for i in res[0]])
    t = time.perf_counter()
    bm25s.BM25().index(corpus_tokens, show_progress=False)  # an update means re-indexing everything
    update = time.perf_counter() - t
    return {"ranked": ranked, "build_s": build, "lat": lat, "update_s": update, "in_place": False}


def run_tantivy(docs: list[str], queries: list[str]) -> dict:
    """tantivy: a Lucene-like engine; updates by delete_documents + add, then commit and reload."""
    import tantivy

    sb = tantivy.SchemaBuilder()
    sb.add_integer_field("id", stored=True, indexed=True, fast=True)
    sb.add_text_field("tokens", stored=False, tokenizer_name="whitespace")
    schema = sb.build()
    index = tantivy.Index(schema, path=tempfile.mkdtemp(prefix="tantivy-"))
    t = time.perf_counter()
    writer = index.writer()
    for i, d in enumerate(docs):
        writer.add_document(tantivy.Document(id=i, tokens=" ".join(lexical_tokens(d))))
    writer.commit()
    index.reload()
    build = time.perf_counter() - t
    searcher = index.searcher()
    ranked, lat = [], []
    for q in queries:
        toks = query_tokens(q)
        t = time.perf_counter()
        query = index.parse_query(" OR ".join('"' + x.replace('"', "") + '"' for x in toks), ["tokens"]) if toks else None
        hits = searcher.search(query, DEPTH).hits if query else []
        lat.append(time.perf_counter() - t)
        ranked.append([searcher.doc(addr)["id"][0] for _, addr in hits])
    t = time.perf_counter()
    writer.delete_documents_by_term("id", 0)
    writer.add_document(tantivy.Document(id=0, tokens=" ".join(lexical_tokens(docs[0]))))
    writer.commit()
    index.reload()
    update = time.perf_counter() - t
    return {"ranked": ranked, "build_s": build, "lat": lat, "update_s": update, "in_place": True}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--json", help="write results here")
    args = p.parse_args()
    paragraphs, queries = load()
    ids = {d["doc_id"]: i for i, d in enumerate(paragraphs)}
    docs = [d["text"] for d in paragraphs]
    qs = [q["question"] for q in queries]
    gold = [ids[q["gold_doc_ids"][0]] for q in queries]
    out = {}
    for name, fn in (("sqlite-fts5", run_fts5), ("bm25s", run_bm25s), ("tantivy", run_tantivy)):
        try:
            r = fn(docs, qs)
        except Exception as exc:  # an engine failing is a result worth reporting
            out[name] = {"error": f"{type(exc).__name__}: {exc}"}
            continue
        lat = sorted(r["lat"])
        out[name] = {"recall@1": round(_recall(r["ranked"], gold, 1), 4), "recall@5": round(_recall(r["ranked"], gold, 5), 4),
                     "build_ms": round(r["build_s"] * 1000, 1), "query_p50_ms": round(statistics.median(lat) * 1000, 2),
                     "query_p95_ms": round(pct(lat, 95) * 1000, 2),
                     "update_one_ms": round(r["update_s"] * 1000, 1), "updatable_in_place": r["in_place"]}
    print(json.dumps(out, indent=1))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
