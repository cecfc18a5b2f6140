"""The answer chain: normalize → resolve follow-up → hybrid retrieve → backend → verify.

It is a LangChain runnable (`Assistant.chain`), so it composes with other LangChain code;
`Assistant.ask` is the convenient entry the CLI, the UI and the API use.

>>> bot = Assistant(Settings.from_env())                                          # doctest: +SKIP
>>> bot.ask("Tiền Giang xếp hạng bao nhiêu về chỉ số kinh tế số?").citations[0].quote  # doctest: +SKIP
"""
from __future__ import annotations

import time
from typing import Any, Iterator, Sequence

from langchain_core.runnables import Runnable, RunnableLambda

from assistant.types import Answer, Retrieved
from assistant.config import Settings
from assistant.answer.extractive import ExtractiveAnswerer, abstention
from assistant.answer.factcheck import FactChecker
from assistant.vi.followup import resolve
from assistant.vi.question import QuestionInfo, analyze, looks_english
from assistant.retrieve.retriever import HybridRetriever, IndexReader
from assistant.vi.textnorm import normalize_question
from assistant.answer.verify import verify_answer


class QuestionError(ValueError):
    """The question cannot be answered as given (empty, too long); the message is for the user."""


class Assistant:
    """Answers questions over the index with the configured backend.

    >>> Assistant(settings).ask("Đồng Tháp có bao nhiêu dịch vụ công trực tuyến một phần?").to_dict()  # doctest: +SKIP
    """

    def __init__(self, settings: Settings, reader: IndexReader | None = None):
        self.settings = settings
        self.retriever = HybridRetriever.from_settings(settings, reader)
        self.extractive = ExtractiveAnswerer()
        self.factchecker = FactChecker()
        self._generative = None
        if settings.backend == "openai":
            from assistant.answer.llm import OpenAIAnswerer

            self._generative = OpenAIAnswerer(settings)
        elif settings.backend == "local":
            from assistant.answer.local.answerer import LocalAnswerer

            self._generative = LocalAnswerer(settings)
        self.chain: Runnable = (RunnableLambda(self._prepare) | RunnableLambda(self._retrieve)
                                | RunnableLambda(self._answer))

    @property
    def reader(self) -> IndexReader:
        """The index reader (catalog + vectors) shared by retrieval and the UI."""
        return self.retriever.reader

    def ask(self, question: str, *, province: str | None = None, history: Sequence[str] = (),
            k: int | None = None, factcheck: bool | None = None) -> Answer:
        """Answer one question; `history` holds earlier questions of the conversation."""
        return self.chain.invoke({"question": question, "province": province, "history": list(history),
                                  "k": k, "factcheck": factcheck})

    def stream(self, question: str, **kwargs: Any) -> Iterator[tuple[str, Answer | None]]:
        """Yield (text so far, None) while the answer is produced, then (final text, Answer)."""
        state = self._retrieve(self._prepare({"question": question, "history": [], **kwargs}))
        if self._generative is not None and hasattr(self._generative, "stream") and not state["info"].is_claim \
                and state["hits"]:
            text = ""
            try:
                for part in self._generative.stream(state["info"], state["hits"]):
                    text += part
                    yield text, None
            except Exception:  # the final answer below explains the failure and falls back
                pass
        answer = self._answer(state)
        yield answer.answer, answer

    # -- chain steps ---------------------------------------------------------------------------
    def _prepare(self, inp: dict) -> dict:
        t0 = time.perf_counter()
        raw = inp.get("question")
        if not isinstance(raw, str):
            raise QuestionError("Câu hỏi phải là văn bản.")
        question = normalize_question(raw)
        if not question:
            raise QuestionError("Câu hỏi trống: hãy nhập một câu hỏi.")
        if len(question) > self.settings.max_question_chars:
            raise QuestionError(f"Câu hỏi quá dài ({len(question):,} ký tự; tối đa "
                                f"{self.settings.max_question_chars:,}). Hãy rút gọn câu hỏi.".replace(",", "."))
        resolved = resolve(question, inp.get("history") or [])
        info = analyze(resolved)
        if inp.get("factcheck") and not info.is_claim:
            info = QuestionInfo(**{**info.__dict__, "is_claim": True, "claim": info.text})
        return {**inp, "question": question, "resolved": resolved, "info": info, "t0": t0}

    def _retrieve(self, state: dict) -> dict:
        t = time.perf_counter()
        hits = self.retriever.search(state["resolved"], k=state.get("k") or self.settings.k,
                                     province=state.get("province"))
        return {**state, "hits": hits, "t_retrieve": (time.perf_counter() - t) * 1000}

    def _answer(self, state: dict) -> Answer:
        t = time.perf_counter()
        info: QuestionInfo = state["info"]
        hits = state["hits"]
        if info.is_claim:
            answer = self.factchecker.run(info, hits)
        elif self._generative is not None and hits:
            answer = self._generate(info, hits)
        else:
            answer = self.extractive.run(info, hits)
        if answer.backend == "extractive" and answer.kind != "factcheck":
            answer = verify_answer(answer)
        if answer.abstained and looks_english(info.text):
            answer.notice = "Trợ lý đọc các bài viết tiếng Việt; hãy đặt câu hỏi bằng tiếng Việt (có dấu hoặc không dấu)."
        answer.question = state["question"]
        answer.resolved_question = state["resolved"] if state["resolved"] != state["question"] else ""
        answer.retrieved = [Retrieved(h.chunk.chunk_id, h.chunk.article_id, h.score, h.chunk.text, h.chunk.title,
                                      h.chunk.province) for h in hits]
        now = time.perf_counter()
        answer.timings_ms = {"retrieve": state["t_retrieve"], "answer": (now - t) * 1000,
                             "total": (now - state["t0"]) * 1000}
        return answer

    def _generate(self, info: QuestionInfo, hits) -> Answer:
        from assistant.answer.llm import LLMError

        fallback = self.extractive.run(info, hits)
        verify_answer(fallback)
        try:
            answer = verify_answer(self._generative.run(info, hits))
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
