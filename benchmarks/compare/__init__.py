"""Ours vs the plain LangChain pipeline (issue 6): quality, speed and scale, one report from one run.

    .venv/bin/python -m benchmarks.compare [--sizes 1000,5000,20000] [--xquad-limit N] [--skip-setup |
        --setup-times FILE] [--index-bench FILE] [--time-budget MIN] [--workdir DIR] [--out docs] [--quick]
        [--render-from docs/benchmarks.json]

Writes docs/benchmarks.md, docs/benchmarks.json and docs/scale_*.png. Every figure is reported as
ours / baseline, both measured in the same process on the same files:

* ours — `Indexer` (sentence chunks, e5 passages with titles, Chroma + FTS5 catalog) and
  `Assistant.ask` (hybrid retrieval, extractive cited answer, abstention);
* baseline — benchmarks/baseline.py, what a LangChain newcomer writes first.

The parts: `__main__` (the command line), `runners` (what measures; scored by assistant.app.evaluate),
`report` (renders the Markdown and the plots from the JSON), `findings` (computed from the numbers).

Data (read from ../shared/, never copied into the repository): eval/dev_qa.jsonl on the five
seed articles of corpus/; data/xquad_vi/retrieval (via benchmarks.xquad_eval); data/baomoi for the
scale runs (seeds mixed into N baomoi articles).
"""
