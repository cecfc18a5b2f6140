"""The plain LangChain pipeline the benchmarks compare against: what a LangChain newcomer writes first.

The raw article files as Documents, `RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)`,
the same embedding model as ours (`assistant.indexing.embed.embeddings.load_embeddings`, e5 prefixes
included), `langchain_chroma.Chroma` dense `similarity_search(k=5)`. Its "answer" is the top-3 chunks
joined (the context an LLM would get); it never abstains. `as_answer` wraps that output in our
`Answer` record, so `assistant.app.evaluate.score` scores both pipelines with the same code.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

from assistant.types import Answer, Citation, Retrieved

from .common import timed_calls

CHUNK_SIZE, CHUNK_OVERLAP = 1000, 200  # RecursiveCharacterTextSplitter values of the LangChain RAG tutorial
K = 5  # chunks retrieved: our default k (Settings.k), so recall@5 / MRR have the same depth for both
CONTEXT = 3  # chunks joined into the answer: hand-set, ~3,000 characters, the size of a small LLM prompt context
ADD_BATCH = 5000  # Chroma refuses more than 5,461 records per call (its max_batch_size here); a newcomer batches after that error
SPLITTER_PIN = "langchain-text-splitters==1.1.3"  # the version in requirements.txt


def splitter_class():
    """RecursiveCharacterTextSplitter, or exit saying which package to add."""
    try:
        from langchain_text_splitters import RecursiveCharacterTextSplitter
    except ImportError:
        sys.exit(f"langchain_text_splitters is not installed in this venv: add `{SPLITTER_PIN}` to requirements.in "
                 "(tests and benchmarks section), recompile requirements.txt and re-run scripts/setup.sh")
    return RecursiveCharacterTextSplitter


def describe() -> dict:
    """The baseline's settings, as recorded in benchmarks.json."""
    return {"splitter": f"RecursiveCharacterTextSplitter({CHUNK_SIZE}, {CHUNK_OVERLAP})", "k": K,
            "answer": f"top-{CONTEXT} chunks joined", "add_batch": ADD_BATCH}


class Baseline:
    """The recipe from the LangChain tutorials: load files, split 1000/200, embed, Chroma, top-k."""

    def __init__(self, embeddings, persist_dir: Path, collection: str = "baseline"):
        from langchain_chroma import Chroma

        self.splitter = splitter_class()(chunk_size=CHUNK_SIZE, chunk_overlap=CHUNK_OVERLAP)
        self.embeddings = embeddings
        self.db = Chroma(collection_name=collection, embedding_function=embeddings,
                         persist_directory=str(persist_dir))

    @staticmethod
    def load_documents(corpus_dir: Path):
        """Every .md/.txt file, raw (front matter and web debris included), as a Document."""
        from langchain_core.documents import Document

        return [Document(page_content=p.read_text(encoding="utf-8"), metadata={"source": str(p)})
                for p in sorted(corpus_dir.iterdir()) if p.suffix in (".md", ".txt")]

    def build(self, corpus_dir: Path) -> dict:
        """Load, split, embed and store; returns timings and the chunk texts."""
        t0, c0 = time.perf_counter(), time.process_time()
        docs = self.load_documents(corpus_dir)
        chunks = self.splitter.split_documents(docs)
        split_s = time.perf_counter() - t0
        with timed_calls([(self.embeddings, "encode_passages")]) as parts:
            for i in range(0, len(chunks), ADD_BATCH):
                self.db.add_documents(chunks[i:i + ADD_BATCH])
        return {"seconds": round(time.perf_counter() - t0, 3), "cpu_s": round(time.process_time() - c0, 3),
                "load_split_s": round(split_s, 3), "documents": len(docs),
                "chunks": len(chunks), "encode_s_inside": round(sum(parts.values()), 3),
                "texts": [c.page_content for c in chunks]}

    def retrieve(self, question: str, k: int = K):
        """Dense top-k chunks."""
        return self.db.similarity_search(question, k=k)

    def answer(self, question: str, k: int = K) -> dict:
        """Retrieval plus context assembly: what the baseline hands over as its answer."""
        docs = self.retrieve(question, k)
        return {"docs": docs, "context": context(docs), "first": docs[0].page_content if docs else ""}


def context(docs, n: int = CONTEXT) -> str:
    """The first `n` chunks joined: the baseline's answer text."""
    return "\n\n".join(d.page_content for d in docs[:n])


def as_answer(question: str, docs, n_context: int = CONTEXT, latency_ms: float = 0.0) -> Answer:
    """The baseline's output as our `Answer`: every chunk retrieved, the first `n_context` joined and cited whole."""
    def source(i: int, d) -> tuple[str, str]:
        src = d.metadata.get("source", "")
        return Path(src).stem, f"{Path(src).stem}#{i}"

    retrieved = [Retrieved(chunk_id=source(i, d)[1], article_id=source(i, d)[0], score=0.0, text=d.page_content)
                 for i, d in enumerate(docs)]
    cited = [Citation(n=i + 1, article_id=source(i, d)[0], chunk_id=source(i, d)[1], title="", province="", date="",
                      url="", quote=d.page_content, text=d.page_content) for i, d in enumerate(docs[:n_context])]
    return Answer(question=question, answer=context(docs, n_context), abstained=False, citations=cited,
                  retrieved=retrieved, timings_ms={"total": latency_ms}, backend="baseline")
