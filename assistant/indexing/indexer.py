"""Build or update the index from `corpus/`: only new or changed articles are embedded.

Crash-safety: vectors of an article's new version are written under new ids first, then the
catalog row (chunks + keyword index) is committed in one SQLite transaction, then the old
vectors are deleted. Retrieval only trusts chunk ids present in the catalog, so a build killed
at any point serves each article in its old or its new state; stray vectors are collected by
the next run. A file lock keeps a second builder out.

Usage (needs the model, an index, a server or the shared data, so not run as a doctest)::

    summary = Indexer(Settings.from_env()).run()
    summary.line()
    # -> 'added=5 updated=0 removed=0 unchanged=0 errors=0 chunks=63 seconds=4.1'
"""
from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from filelock import FileLock, Timeout
from tqdm import tqdm

from assistant.ingest.articles import Article, ArticleError, article_id, corpus_files, parse_article, read_article_bytes
from assistant.indexing.catalog import Catalog, IndexCorruptError
from assistant.ingest.chunking import CHUNKER_VERSION, Chunker
from assistant.types import Passage
from assistant.config import Settings
from assistant.indexing.embed.embeddings import PrefixedEmbeddings, encoder_tag, fingerprint_for, load_embeddings
from assistant.indexing.embed.tokenizer import has_tokenizer, model_tokenizer
from assistant.indexing.lexical import LEXICAL_VERSION
from assistant.indexing.sentence_vectors import SentenceVectors, warm
from assistant.indexing.quarantine import quarantine
from assistant.indexing.vectorstore import VectorStore, embedded_store_missing
from assistant.errors import AssistantError
from assistant.indexing.summary import BuildSummary

log = logging.getLogger("assistant")
LOCK_FILE = "build.lock"
EMBED_STEP = 128  # chunks per encode call: progress moves and vectors reach Chroma in small steps
EMBED_WINDOW = 1024  # chunks (whole articles) sorted by length together, so batches carry little padding
ProgressFn = Callable[[str, int, int], None]


class IndexBusyError(AssistantError, RuntimeError):
    """Another build holds the lock."""


@dataclass
class _Pending:
    article: Article
    chunks: list[Passage]
    size: int
    mtime_ns: int
    is_new: bool
    done: int = 0


def chunk_metadata(article: Article, chunk: Passage) -> dict:
    """Metadata stored with a vector (filterable by province/article in Chroma)."""
    return {"article_id": article.id, "title": article.title, "province": article.province, "date": article.date,
            "url": article.url, "chunk_index": chunk.index, "start": chunk.start, "end": chunk.end}


MAX_TITLE_CHARS = 150  # keeps title + chunk within e5's 512 tokens (chunks stop at 350)


def embedding_text(title: str, text: str) -> str:
    """What is embedded for a chunk: the title gives passages their topic and province."""
    return f"{title[:MAX_TITLE_CHARS]}\n{text}" if title else text


def _windows(todo: list[_Pending], size: int):
    """Consecutive groups of whole articles holding about `size` chunks each."""
    group: list[_Pending] = []
    count = 0
    for p in todo:
        group.append(p)
        count += len(p.chunks)
        if count >= size:
            yield group
            group, count = [], 0
    if group:
        yield group


def _reusable(store: VectorStore, todo: list[_Pending]) -> set[str]:
    """Ids of the chunks whose stored vector was made from the same title and text (same id, same metadata)."""
    want = {c.chunk_id: chunk_metadata(p.article, c) for p in todo for c in p.chunks}
    return {cid for cid, md in store.metadata_of(list(want)).items() if md == want[cid]}


class _OnFirstUse:
    """The encoder, loaded when something is first embedded (a build that reuses every vector loads none)."""

    def __init__(self, load: Callable[[], PrefixedEmbeddings]):
        self._load = load

    def encode_passages(self, texts: list[str]):
        """Passage vectors, from the model loaded now if not yet."""
        return self._load().encode_passages(texts)


class Indexer:
    """Incremental, crash-safe index builder.

    Usage (needs the model, an index, a server or the shared data, so not run as a doctest)::

        Indexer(Settings.from_env(index_dir=Path("/tmp/idx"))).run(full=True).ok
        # -> True
    """

    def __init__(self, settings: Settings, *, embeddings: PrefixedEmbeddings | None = None,
                 store: VectorStore | None = None, show_progress: bool = True):
        self.settings = settings
        self._embeddings = embeddings
        self._store = store
        self.show_progress = show_progress

    def run(self, full: bool = False, progress: ProgressFn | None = None) -> BuildSummary:
        """Bring the index in line with the corpus; raises IndexBusyError if another build runs."""
        t0 = time.perf_counter()
        index_dir = Path(self.settings.index_dir)
        index_dir.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(index_dir / LOCK_FILE))
        try:
            lock.acquire(timeout=0)
        except Timeout:
            raise IndexBusyError(f"một tiến trình khác đang xây dựng chỉ mục {index_dir} (khóa {LOCK_FILE}); "
                                 "hãy đợi nó chạy xong rồi thử lại") from None
        try:
            try:
                catalog = Catalog(index_dir)
            except IndexCorruptError:
                # The index is derived data: set the broken one aside and build afresh from the corpus.
                lock.release()
                moved = quarantine(index_dir)
                log.warning("corrupt index moved to %s; rebuilding", moved)
                index_dir.mkdir(parents=True, exist_ok=True)
                lock.acquire(timeout=0)
                catalog = Catalog(index_dir)
                full = True
            try:
                summary = self._run(catalog, full, progress or (lambda *_: None))
            finally:
                catalog.close()
        finally:
            lock.release()
        summary.seconds = time.perf_counter() - t0
        return summary

    # ------------------------------------------------------------------------------------------
    def _run(self, catalog: Catalog, full: bool, progress: ProgressFn) -> BuildSummary:
        summary = BuildSummary(full=full)
        fingerprint = fingerprint_for(self.settings)
        versions = f"chunker={CHUNKER_VERSION};lexical={LEXICAL_VERSION}"
        model_changed = catalog.get_meta("model_fingerprint") not in ("", fingerprint)
        # Vectors gone (index/chroma deleted) while the catalog still lists chunks: every article is re-embedded.
        store_lost = embedded_store_missing(self.settings) and catalog.count_chunks() > 0
        rebuild = full or model_changed or store_lost or catalog.get_meta("versions") not in ("", versions)
        # A run that died while writing may have left vectors without catalog rows: sweep them.
        crashed = catalog.get_meta("writing") == "1"
        if rebuild or crashed or not catalog.get_meta("model_fingerprint"):
            with catalog.transaction() as conn:
                if rebuild:
                    catalog.mark_all_stale(conn)
                    summary.full = True
                catalog.set_meta(conn, model_fingerprint=fingerprint, versions=versions, sweep="1",
                                 drop_old_collections="1" if model_changed else
                                 catalog.get_meta("drop_old_collections", "0"))

        # The runtime and precision are recorded but not part of the fingerprint: torch bf16/fp32 and OpenVINO
        # int8-weight vectors of one model agree to cosine > 0.995 (tests/integration/test_encoders.py), well
        # within what retrieval tells apart, so a runtime change re-embeds nothing; a model or prefix change does.
        encoder = encoder_tag(self.settings)
        if catalog.get_meta("encoder") not in ("", encoder):
            log.info("encoder %s -> %s: vectors of the same model are kept", catalog.get_meta("encoder"), encoder)

        state = catalog.article_state()
        todo: list[_Pending] = []
        seen: dict[str, Path] = {}
        hash_owner = {h: aid for aid, (h, _, _) in state.items() if h}
        files = corpus_files(Path(self.settings.corpus_dir))
        corpus_ids = {article_id(p) for p in files}
        for path in files:
            aid = article_id(path)
            if aid in seen:
                summary.errors.append(str(ArticleError(path, f"trùng mã bài '{aid}' với tệp {seen[aid].name}; "
                                                             "hãy đổi tên một trong hai tệp")))
                continue
            seen[aid] = path
            try:
                st = path.stat()
                old = state.get(aid)
                if old and old[0] and old[1:] == (st.st_size, st.st_mtime_ns):
                    summary.unchanged += 1
                    continue
                data = read_article_bytes(path, self.settings.max_article_bytes)
                article = parse_article(path, data)
            except ArticleError as exc:
                summary.errors.append(str(exc))
                if aid in state:
                    summary.unchanged += 1  # keep serving the last good version
                continue
            if old and old[0] == article.content_hash:
                with catalog.transaction() as conn:
                    catalog.touch_article(conn, aid, st.st_size, st.st_mtime_ns)
                summary.unchanged += 1
                continue
            twin = hash_owner.get(article.content_hash)
            if twin in (None, aid) or twin not in corpus_ids:
                twin = next((p.article.id for p in todo if p.article.content_hash == article.content_hash), None)
            if twin:
                summary.errors.append(str(ArticleError(path, f"nội dung trùng hệt bài '{twin}'; bỏ qua bản sao")))
                continue
            todo.append(_Pending(article, [], st.st_size, st.st_mtime_ns, is_new=aid not in state))

        removed = [aid for aid in state if aid not in seen]
        store = None
        sweep = catalog.get_meta("sweep") == "1"
        if removed or todo or sweep:
            store = self._open_store(fingerprint)
        if removed:
            with catalog.transaction() as conn:
                catalog.set_meta(conn, writing="1")
                gone = [cid for aid in removed for cid in catalog.remove_article(conn, aid)]
                catalog.bump_generation(conn)
            store.delete(gone)
            summary.removed = len(removed)
        if todo:
            self._index(catalog, store, todo, summary, progress, reuse_vectors=not full)
        if sweep:  # a full pass over the vector ids: only after a crash, a rebuild or on a new index
            stray = store.ids() - catalog.chunk_ids()
            if self.settings.chroma_url:
                # A shared server also holds the vectors of other replicas' articles: only this corpus's are ours.
                ours = corpus_ids | set(removed)
                stray = {cid for cid in stray if cid.rsplit(":", 2)[0] in ours}
            stray = sorted(stray)
            store.delete(stray)
            if catalog.get_meta("drop_old_collections") == "1":
                store.drop_other_collections()
        with catalog.transaction() as conn:
            catalog.set_meta(conn, writing="0", sweep="0", drop_old_collections="0", encoder=encoder,
                             last_build=json.dumps({**summary.to_dict(), "finished_at": time.time()},
                                                   ensure_ascii=False))
        return summary

    def _open_store(self, fingerprint: str) -> VectorStore:
        if self._store is None:
            self._store = VectorStore.open(self.settings, fingerprint)
        return self._store

    def _index(self, catalog: Catalog, store: VectorStore, todo: list[_Pending], summary: BuildSummary,
               progress: ProgressFn, reuse_vectors: bool) -> None:
        emb = self._embeddings
        if emb is None and has_tokenizer(self.settings.embedding_model):
            # Chunk with the bare tokenizer: a build whose vectors are all reused never loads the model.
            count = model_tokenizer(self.settings.embedding_model).count_tokens
        else:
            emb = self._embeddings = emb or load_embeddings(self.settings)
            count = emb.count_tokens
        chunker = Chunker(lambda t: count(t) + 2)
        for p in todo:
            p.chunks = chunker.run(p.article.id, p.article.text)
        # Vectors the store already holds for the same id and metadata (so the same title and text) are kept:
        # a replica on a shared server, a build resumed after a crash, or a catalog migration embeds nothing
        # twice. Only a build asked to be full (`--full`) embeds everything again.
        reuse = _reusable(store, todo) if reuse_vectors else set()
        for p in todo:
            p.done = sum(c.chunk_id in reuse for c in p.chunks)
        summary.reused = len(reuse)
        total = sum(len(p.chunks) for p in todo) - len(reuse)
        emb = _OnFirstUse(self._encoder)  # nothing to embed (all reused): no model is loaded
        with catalog.transaction() as conn:
            catalog.set_meta(conn, writing="1")  # vectors are about to exist before their catalog rows
        bar = tqdm(total=total, unit="đoạn", desc="Nhúng", disable=not self.show_progress, leave=False)
        done = 0
        try:
            self._commit(catalog, store, [p for p in todo if p.done == len(p.chunks)], summary)
            for window in _windows(todo, EMBED_WINDOW):
                # Length order inside a window: a batch pads to its longest text, so mixed lengths waste compute.
                flat = sorted(((p, c) for p in window for c in p.chunks if c.chunk_id not in reuse),
                              key=lambda pc: len(pc[1].text))
                for i in range(0, len(flat), EMBED_STEP):
                    step = flat[i:i + EMBED_STEP]
                    vectors = emb.encode_passages([embedding_text(p.article.title, c.text) for p, c in step])
                    store.upsert([c.chunk_id for _, c in step], vectors,
                                 [chunk_metadata(p.article, c) for p, c in step])
                    ready = []
                    for p, _ in step:
                        p.done += 1
                        if p.done == len(p.chunks):
                            ready.append(p)
                    self._commit(catalog, store, ready, summary)
                    done += len(step)
                    bar.update(len(step))
                    progress("embed", done, total)
        finally:
            bar.close()
        if self.settings.sentence_vectors == "build":
            self._warm_sentences(emb, [c.text for p in todo for c in p.chunks], progress)

    def _encoder(self) -> PrefixedEmbeddings:
        """The model, loaded on first use."""
        if self._embeddings is None:
            self._embeddings = load_embeddings(self.settings)
        return self._embeddings

    def _warm_sentences(self, emb, texts: list[str], progress: ProgressFn) -> None:
        """Vectors of the new chunks' sentences for the answer stage; a cache, so the index is whole without it."""
        store = SentenceVectors(self.settings.index_dir, fingerprint_for(self.settings))
        try:
            warm(store, emb, texts, lambda done, total: progress("sentences", done, total))
        finally:
            store.close()

    def _commit(self, catalog: Catalog, store: VectorStore, ready: list[_Pending], summary: BuildSummary) -> None:
        if not ready:
            return
        old_ids: list[str] = []
        with catalog.transaction() as conn:
            for p in ready:
                old_ids += catalog.replace_article(conn, p.article, p.chunks, p.size, p.mtime_ns)
            catalog.bump_generation(conn)
        store.delete(old_ids)
        for p in ready:
            summary.chunks += len(p.chunks)
            if p.is_new:
                summary.added += 1
            else:
                summary.updated += 1
