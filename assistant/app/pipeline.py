"""The answer chain: prepare (normalize, resolve a follow-up, analyse once) → retrieve → answer.

It is a LangChain runnable with typed steps (`Request` → `Prepared` → `Evidence` → `AnswerUpdate`s):
`Assistant.chain.invoke(Request(...))` gives the final update and `chain.stream(...)` yields the text
as a generative backend writes it. `Assistant.ask` / `Assistant.stream` are the entries the CLI,
the service and the UI use.

Usage (needs the model, an index, a server or the shared data, so not run as a doctest)::

    bot = Assistant(Settings.from_env())
    bot.ask("Tiền Giang xếp hạng bao nhiêu về chỉ số kinh tế số?").citations[0].quote
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Any, Iterator, Sequence

from langchain_core.runnables import Runnable, RunnableLambda

from assistant.answer.compose import abstention
from assistant.answer.extractive import ExtractiveAnswerer
from assistant.answer.factcheck import FactChecker
from assistant.answer.grounding import GroundingCheck
from assistant.answer.verify import verify_answer
from assistant.config import Settings
from assistant.errors import AssistantError
from assistant.indexing.embed.embeddings import fingerprint_for
from assistant.indexing.reader import IndexReader
from assistant.indexing.sentence_vectors import CachedSentenceEncoder, SentenceVectors
from assistant.retrieve.retriever import HybridRetriever
from assistant.types import Answer, Hit, Retrieved
from assistant.vi.followup import is_followup, resolve
from assistant.vi.question import QuestionInfo, analyze, looks_english
from assistant.vi.textnorm import normalize_question, strip_markup


class QuestionError(AssistantError, ValueError):
    """The question cannot be answered as given (empty, too long); the message is for the user."""


@dataclass(frozen=True)
class Request:
    """What the caller asks: the question, an optional province filter, the conversation so far."""

    question: Any
    province: str | None = None
    history: Sequence[str] = ()
    k: int | None = None
    factcheck: bool | None = None


@dataclass(frozen=True)
class Prepared:
    """The question normalized, resolved against the conversation and analysed (once)."""

    request: Request
    question: str
    resolved: str
    info: QuestionInfo
    t0: float = field(default_factory=time.perf_counter)


@dataclass(frozen=True)
class Evidence:
    """A prepared question with its retrieved hits."""

    prepared: Prepared
    hits: list[Hit]
    retrieve_ms: float


@dataclass(frozen=True)
class AnswerUpdate:
    """A step of an answer: the text so far, and the finished Answer on the last update.

    Not a tuple: LangChain adds up the chunks of a streamed step when they support `+`, and these must not
    be concatenated; it unpacks like one (`for text, answer in assistant.stream(q)`).
    """

    text: str
    answer: Answer | None

    def __iter__(self) -> Iterator[Any]:
        return iter((self.text, self.answer))

    def __getitem__(self, i: int) -> Any:
        return (self.text, self.answer)[i]


class Assistant:
    """Answers questions over the index with the configured backend.

    Usage (needs the model, an index, a server or the shared data, so not run as a doctest)::

        Assistant(settings).ask("Đồng Tháp có bao nhiêu dịch vụ công trực tuyến một phần?").to_dict()
    """

    def __init__(self, settings: Settings, reader: IndexReader | None = None):
        self.settings = settings
        self.retriever = HybridRetriever.from_settings(settings, reader)
        reader = self.retriever.reader
        self.sentence_vectors = SentenceVectors(settings.index_dir, fingerprint_for(settings))
        self.encoder = CachedSentenceEncoder(reader.embeddings, self.sentence_vectors)
        self.retriever.query_encoder = self.encoder
        self.extractive = ExtractiveAnswerer(self.encoder)
        self.factchecker = FactChecker(self.extractive)
        self._generative = None
        if settings.backend == "openai":
            from assistant.answer.llm import OpenAIAnswerer

            self._generative = OpenAIAnswerer(settings, ranker=self.extractive)
        elif settings.backend == "local":
            from assistant.answer.local.answerer import LocalAnswerer

            self._generative = LocalAnswerer(settings)
        self.chain: Runnable = (RunnableLambda(self._prepare, name="prepare")
                                | RunnableLambda(self._retrieve, name="retrieve")
                                | RunnableLambda(self._answer, name="answer"))

    @property
    def reader(self) -> IndexReader:
        """The index reader (catalog + vectors) shared by retrieval and the UI."""
        return self.retriever.reader

    def warm_up(self) -> None:
        """Run one query so the model, the vector store and the catalog are loaded before the first user."""
        self.retriever.search("chuyển đổi số", k=1)

    def heal(self) -> None:
        """Reopen the vector store and probe it (a read that raced another process's write heals so)."""
        self.reader.store.reopen()
        self.retriever.search("kiểm tra chỉ mục", k=1)

    def ask(self, question: str, *, province: str | None = None, history: Sequence[str] = (),
            k: int | None = None, factcheck: bool | None = None) -> Answer:
        """Answer one question; `history` holds earlier questions of the conversation."""
        final = self.chain.invoke(Request(question, province, tuple(history), k, factcheck))
        assert final.answer is not None
        return final.answer

    def stream(self, question: str, *, province: str | None = None, history: Sequence[str] = (),
               k: int | None = None, factcheck: bool | None = None) -> Iterator[AnswerUpdate]:
        """Yield (text so far, None) while a generative backend writes, then (final text, Answer)."""
        yield from self.chain.stream(Request(question, province, tuple(history), k, factcheck))

    # -- chain steps ---------------------------------------------------------------------------
    def _prepare(self, req: Request) -> Prepared:
        t0 = time.perf_counter()
        if not isinstance(req.question, str):
            raise QuestionError("Câu hỏi phải là văn bản.")
        question = normalize_question(req.question)
        if not question:
            raise QuestionError("Câu hỏi trống: hãy nhập một câu hỏi.")
        if len(question) > self.settings.max_question_chars:
            raise QuestionError(f"Câu hỏi quá dài ({len(question):,} ký tự; tối đa "
                                f"{self.settings.max_question_chars:,}). Hãy rút gọn câu hỏi.".replace(",", "."))
        text = strip_markup(question)  # what is analysed and searched; the answer keeps the question as typed
        if not text:
            raise QuestionError("Câu hỏi trống: hãy nhập một câu hỏi.")
        info = analyze(text, normalized=True)
        resolved = text
        if req.history and is_followup(text):
            resolved = resolve(text, req.history, info=info)
            if resolved != text:
                info = analyze(resolved, normalized=True)
        if req.factcheck and not info.is_claim:
            info = replace(info, is_claim=True, claim=info.text)
        return Prepared(req, question, resolved, info, t0)

    def _retrieve(self, p: Prepared) -> Evidence:
        t = time.perf_counter()
        docs = self.retriever.invoke(p.resolved, k=p.request.k or self.settings.k, province=p.request.province,
                                     provinces=p.info.provinces)
        return Evidence(p, [Hit.from_document(d) for d in docs], (time.perf_counter() - t) * 1000)

    def _answer(self, ev: Evidence) -> Iterator[AnswerUpdate]:
        t = time.perf_counter()
        info, hits = ev.prepared.info, ev.hits
        if info.is_claim:
            answer = self.factchecker.run(info, hits)
        elif self._generative is not None and hits:
            answer = yield from self._generate(info, hits)
        else:
            answer = self.extractive.run(info, hits)
        if answer.backend == "extractive" and answer.kind != "factcheck":
            answer = verify_answer(answer)
        if answer.abstained and looks_english(info.text):
            answer.notice = "Trợ lý đọc các bài viết tiếng Việt; hãy đặt câu hỏi bằng tiếng Việt (có dấu hoặc không dấu)."
        p = ev.prepared
        answer.question = p.question
        answer.resolved_question = p.resolved if p.resolved != p.question else ""
        answer.retrieved = [Retrieved(h.chunk.chunk_id, h.chunk.article_id, h.score, h.chunk.text, h.chunk.title,
                                      h.chunk.province) for h in hits]
        now = time.perf_counter()
        answer.timings_ms = {"retrieve": ev.retrieve_ms, "answer": (now - t) * 1000, "total": (now - p.t0) * 1000}
        yield AnswerUpdate(answer.answer, answer)

    def _generate(self, info: QuestionInfo, hits: list[Hit]) -> Iterator[AnswerUpdate]:
        """Stream the generative backend's text, then return its verified answer (or the fallback)."""
        from assistant.answer.llm import LLMError

        fallback = verify_answer(self.extractive.run(info, hits))
        try:
            if hasattr(self._generative, "stream"):
                text = ""
                for part in self._generative.stream(info, hits):
                    text += part
                    yield AnswerUpdate(text, None)
                finish = getattr(self._generative, "finish", None)  # the local backend reuses its streamed reply
                answer = finish(info, hits, text) if finish else self._generative.run(info, hits)
            else:
                answer = self._generative.run(info, hits)
            answer = GroundingCheck().run(verify_answer(answer), info.text)
        except LLMError as exc:
            fallback.notice = f"{str(exc)[:1].upper()}{str(exc)[1:]}; đây là câu trả lời trích nguyên văn từ nguồn."
            return fallback
        if answer.abstained and not fallback.abstained:
            answer.fallback = fallback
        if answer.flagged:
            answer.notice = (answer.notice + " " if answer.notice else "") + \
                "Câu trả lời của mô hình có số liệu hoặc trích dẫn không kiểm chứng được; xem câu trả lời trích " \
                "nguyên văn bên dưới."
            answer.fallback = fallback
        return answer


def abstain_without_index(question: str) -> Answer:
    """The answer shown when no index exists yet."""
    a = abstention(analyze(question), [], "")
    a.notice = "Chưa có chỉ mục: hãy thêm bài viết và xây dựng chỉ mục."
    return a
