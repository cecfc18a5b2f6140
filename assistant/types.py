"""The records passed between stages: Passage (a stored chunk), Hit (a retrieved one), Answer, Citation.

Every stage speaks these types, so an answerer can be tested on hand-made passages without an index.

>>> Answer(question="q", answer="Không tìm thấy ...", abstained=True).to_dict()["abstained"]
True
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from langchain_core.documents import Document

ABSTAIN_PREFIX = "Không tìm thấy thông tin"


@dataclass(frozen=True)
class Passage:
    """A contiguous passage (chunk) of an article with the metadata needed to cite it.

    The chunker makes it with offsets only; the catalog returns it with its article's fields.

    >>> Passage("a:1:0", "a", 0, 0, 9, "Văn bản.", province="Tiền Giang").provinces
    ['Tiền Giang']
    """

    chunk_id: str
    article_id: str
    index: int
    start: int
    end: int
    text: str
    title: str = ""
    province: str = ""
    date: str = ""
    source: str = ""
    url: str = ""
    mentions: str = ""  # provinces named in the text, comma-separated (computed at index time)
    rowid: int = -1  # the catalog's row, -1 before it is stored

    @property
    def provinces(self) -> list[str]:
        """Provinces this passage is about: its article's and those named in its text."""
        named = [p for p in self.mentions.split(",") if p]
        return ([self.province] if self.province else []) + [p for p in named if p != self.province]

    def meta(self) -> dict[str, object]:
        """Flat metadata (for LangChain Documents and JSON output)."""
        return {"chunk_id": self.chunk_id, "article_id": self.article_id, "chunk_index": self.index,
                "start": self.start, "end": self.end, "title": self.title, "province": self.province,
                "date": self.date, "source": self.source, "url": self.url}


@dataclass(eq=False)
class Hit:
    """A retrieved passage with its fused score and the evidence for it."""

    chunk: Passage
    score: float
    dense: float | None = None
    dense_rank: int | None = None
    lexical: float | None = None
    lexical_rank: int | None = None

    def to_document(self) -> "Document":
        """As a LangChain Document (metadata carries ids, scores and article fields)."""
        from langchain_core.documents import Document

        meta: dict[str, Any] = {**self.chunk.meta(), "mentions": self.chunk.mentions, "rowid": self.chunk.rowid,
                                "score": self.score, "dense_score": self.dense, "dense_rank": self.dense_rank,
                                "lexical_score": self.lexical, "lexical_rank": self.lexical_rank}
        return Document(page_content=self.chunk.text, metadata=meta, id=self.chunk.chunk_id)

    @classmethod
    def from_document(cls, doc: "Document") -> "Hit":
        """The hit a retriever's Document stands for (the inverse of `to_document`)."""
        m = doc.metadata
        chunk = Passage(m["chunk_id"], m["article_id"], m["chunk_index"], m["start"], m["end"], doc.page_content,
                        m.get("title", ""), m.get("province", ""), m.get("date", ""), m.get("source", ""),
                        m.get("url", ""), m.get("mentions", ""), m.get("rowid", -1))
        return cls(chunk, m["score"], m.get("dense_score"), m.get("dense_rank"), m.get("lexical_score"),
                   m.get("lexical_rank"))


@dataclass
class Citation:
    """A source the answer rests on: the quoted sentence(s) inside one chunk."""

    n: int
    article_id: str
    chunk_id: str
    title: str
    province: str
    date: str
    url: str
    quote: str
    text: str
    source: str = ""
    quote_start: int = -1  # offset of the quote inside `text` (the chunk), -1 if not located
    quote_end: int = -1


@dataclass
class FigureCheck:
    """One figure stated in the answer and whether the cited source states it."""

    text: str
    value: float
    unit: str
    verified: bool
    citation: int | None
    source_text: str = ""  # the source's own wording when it differs or matches
    answers: bool = False  # one of the figures that answer the question (not just a number in the quote)
    in_quote: bool = False  # stated in the cited sentence itself, not only elsewhere in the chunk


@dataclass
class ClaimCheck:
    """Fact-check verdict for one figure of a claim: 'khớp', 'khác' or 'không tìm thấy'."""

    claim_text: str
    verdict: str
    source_text: str = ""
    citation: int | None = None


@dataclass
class Retrieved:
    """A retrieved chunk as listed in the output."""

    chunk_id: str
    article_id: str
    score: float
    text: str
    title: str = ""
    province: str = ""


@dataclass
class Answer:
    """What `ask` returns; `to_dict()` is the JSON contract of DESIGN.md."""

    question: str
    answer: str
    abstained: bool
    citations: list[Citation] = field(default_factory=list)
    figures: list[FigureCheck] = field(default_factory=list)
    retrieved: list[Retrieved] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)
    backend: str = "extractive"
    kind: str = "answer"  # answer | factcheck | abstain
    resolved_question: str = ""
    claims: list[ClaimCheck] = field(default_factory=list)
    flagged: bool = False  # a generative answer whose figures or citations did not verify
    notice: str = ""  # a message for the user (e.g. the LLM was unreachable)
    fallback: "Answer | None" = None  # the extractive answer given alongside a flagged one
    key_figures: list[str] = field(default_factory=list)  # the figures that answer, as written in the quotes

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict with the fields of the CLI contract first."""
        d = asdict(self)
        d["timings_ms"] = {k: round(v, 1) for k, v in self.timings_ms.items()}
        if self.fallback is None:
            d.pop("fallback")
        for r in d["retrieved"]:
            r["score"] = round(r["score"], 6)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Answer":
        """The answer of a `to_dict()` object (what `/api/ask` returns); unknown fields are ignored."""
        def rows(kind, items):
            names = kind.__dataclass_fields__
            return [kind(**{k: v for k, v in x.items() if k in names}) for x in items or []]

        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        known.update(citations=rows(Citation, d.get("citations")), figures=rows(FigureCheck, d.get("figures")),
                     retrieved=rows(Retrieved, d.get("retrieved")), claims=rows(ClaimCheck, d.get("claims")),
                     fallback=cls.from_dict(d["fallback"]) if d.get("fallback") else None)
        return cls(**known)

    def to_text(self) -> str:
        """Human-readable answer with its numbered sources (for the terminal)."""
        lines = [self.answer]
        if self.fallback is not None:  # a flagged or empty model answer: the verified quotes come first
            lines = ["Câu trả lời trích nguyên văn:", self.fallback.to_text(), "",
                     "Câu trả lời của mô hình (chưa kiểm chứng được):", self.answer]
        if self.notice:
            lines.insert(0, f"[!] {self.notice}")
        if self.flagged:
            lines.append("[!] Câu trả lời có số liệu hoặc câu không kiểm chứng được trong nguồn.")
        if self.citations:
            lines.append("")
            lines.append("Nguồn:")
            for c in self.citations:
                where = ", ".join(x for x in (c.province, c.date) if x)
                lines.append(f"[{c.n}] {c.title}" + (f" ({where})" if where else "") + (f" {c.url}" if c.url else ""))
                lines.append(f"    “{c.quote}”")
        return "\n".join(lines)
