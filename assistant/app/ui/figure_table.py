"""Every figure of the indexed corpus with its sentence, for journalists (UI tab and CSV export).

>>> rows = figure_rows(catalog)                     # doctest: +SKIP
>>> rows[0].figure, rows[0].sentence[:30]           # doctest: +SKIP
('8,59%', 'Với những kết quả cụ thể đã đạt')
"""
from __future__ import annotations

import csv
import io
from dataclasses import astuple, dataclass, fields

from assistant.vi import figures as figs
from assistant.indexing.catalog import Catalog
from assistant.ingest.chunking import split_paragraphs, split_sentences
from assistant.vi.textnorm import fold

HEADERS = ("Số liệu", "Giá trị", "Đơn vị", "Câu trong bài", "Tỉnh/thành", "Bài viết", "Ngày", "Mã bài")
UNIT_LABELS = {"rank": "thứ hạng", "%": "%"}


@dataclass(frozen=True)
class FigureRow:
    """One figure and where it is stated."""

    figure: str
    value: float
    unit: str
    sentence: str
    province: str
    title: str
    date: str
    article_id: str


def figure_rows(catalog: Catalog) -> list[FigureRow]:
    """All quantity figures (not years or dates) of all indexed articles, in article order."""
    rows: list[FigureRow] = []
    for a in catalog.articles():
        for ps, pe in split_paragraphs(a.text):
            for s, e in split_sentences(a.text, ps, pe):
                sentence = a.text[s:e]
                for f in figs.extract_figures(sentence):
                    if not f.is_quantity:
                        continue
                    rows.append(FigureRow(f.text, f.value, UNIT_LABELS.get(f.unit, f.unit), sentence, a.province,
                                          a.title, a.date, a.id))
    return rows


def filter_rows(rows: list[FigureRow], province: str | None = "", query: str | None = "") -> list[FigureRow]:
    """Rows of one province (or all) whose sentence, title or figure contains `query` (accent-insensitive)."""
    q = fold((query or "").strip())  # an untouched Gradio textbox sends None
    out = []
    for r in rows:
        if province and r.province != province:
            continue
        if q and q not in fold(f"{r.figure} {r.sentence} {r.title}"):
            continue
        out.append(r)
    return out


def to_table(rows: list[FigureRow]) -> list[list[object]]:
    """Rows as lists in HEADERS order."""
    return [list(astuple(r)) for r in rows]


def to_csv(rows: list[FigureRow]) -> str:
    """CSV text (UTF-8 with BOM-friendly content; the caller writes the BOM for Excel)."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(HEADERS)
    w.writerows(to_table(rows))
    return buf.getvalue()


assert len(HEADERS) == len(fields(FigureRow))
