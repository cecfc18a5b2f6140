"""Every figure of the indexed corpus with its sentence, for journalists (UI tab and CSV export): filters by
province, year, text and achieved/target (as the answer stage reads it), and the same indicator side by side.

Usage (needs the model, an index, a server or the shared data, so not run as a doctest)::

    rows = figure_rows(catalog)
    rows[0].figure, rows[0].sentence[:30]
    # -> ('8,59%', 'Với những kết quả cụ thể đã đạt')
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import astuple, dataclass, fields
from functools import lru_cache

from assistant.answer.compose import figure_status
from assistant.answer.features import figure_context
from assistant.vi import figures as figs
from assistant.indexing.catalog import Catalog
from assistant.ingest.chunking import split_paragraphs, split_sentences
from assistant.vi.question import NAMED_INDICES
from assistant.vi.textnorm import fold
from assistant.vi.tokens import lexical_tokens

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




# --- the tab's view: readable rows, year and text filters, the CSV named for its filter -----------------------------
VIEW_HEADERS = ("Số liệu", "Giá trị", "Đơn vị", "Năm", "Đạt / mục tiêu", "Trích câu trong bài", "Tỉnh/thành",
                "Bài viết", "Ngày")
VIEW_WIDTHS = ["9%", "6%", "6%", "5%", "8%", "36%", "9%", "12%", "9%"]
EXPORT_HEADERS = ("Số liệu (như trong bài)", "Giá trị (số)", "Đơn vị", "Năm", "Đạt / mục tiêu", "Câu trong bài",
                  "Tỉnh/thành", "Bài viết", "Ngày", "Mã bài")
ACHIEVED, TARGET = "đã đạt", "mục tiêu"  # the answer stage's own words (compose.figure_status)
UNKNOWN_STATUS = "chưa rõ"
STATUS_CHOICES = ("Đã đạt", "Mục tiêu", "Chưa rõ")  # the filter's options, besides "every kind"
EXCERPT_CHARS = 70  # context kept each side of the figure in the table (the CSV keeps the whole sentence)
_YEAR = re.compile(r"\b(?:năm|nam)\s+((?:19|20)\d{2})\b|\b((?:19|20)\d{2})\b", re.I)


def year_of(row: FigureRow) -> str:
    """The year a figure is stated for: the year named nearest before it in its sentence, else after it,
    else the article's year ('' when none is known)."""
    at = row.sentence.find(row.figure)
    # A parenthesis closed before the figure is about another figure: "2025 … 15% (đến năm 2030 đạt 25%); … 10%".
    head = re.sub(r"\([^()]*\)", " ", row.sentence[:max(at, 0)])
    before = [m for m in _YEAR.finditer(head)]
    if before:
        m = before[-1]
        return m.group(1) or m.group(2)
    after = _YEAR.search(row.sentence, max(at, 0) + len(row.figure))
    if after:
        return after.group(1) or after.group(2)
    return row.date[:4] if row.date else ""


def vi_number(value: float) -> str:
    """A value as a Vietnamese-locale spreadsheet reads a number: decimal comma, no grouping ('8,59', '2212325')."""
    text = f"{value:.6f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))
    return text.replace(".", ",")


def excerpt(row: FigureRow) -> str:
    """The part of the sentence around the figure (whole words), so a row stays a few lines tall."""
    s = row.sentence
    at = s.find(row.figure)
    if at < 0 or len(s) <= 2 * EXCERPT_CHARS + len(row.figure):
        return s
    a, b = max(0, at - EXCERPT_CHARS), min(len(s), at + len(row.figure) + EXCERPT_CHARS)
    if a > 0:
        a = s.find(" ", a) + 1 or a
    if b < len(s):
        b = s.rfind(" ", 0, b) if s.rfind(" ", 0, b) > at + len(row.figure) else b
    return ("…" if a > 0 else "") + s[a:b].strip() + ("…" if b < len(s) else "")


@lru_cache(maxsize=8192)
def _figure_in(sentence: str, figure: str) -> figs.Figure | None:
    """The figure of the sentence written as `figure` (its first occurrence), as the extractor reads it."""
    return next((f for f in figs.extract_figures(sentence) if f.text == figure), None)


@lru_cache(maxsize=8192)
def _status(sentence: str, figure: str, date: str) -> str:
    f = _figure_in(sentence, figure)
    return figure_status(sentence, f, date)[1] if f else ""


def status_of(row: FigureRow) -> str:
    """'đã đạt' or 'mục tiêu' where the answer stage can tell (cue words before the figure, or its year against
    the article's date), else ''."""
    return _status(row.sentence, row.figure, row.date)


# --- figures of the same indicator side by side ----------------------------------------------------------------
# Enough words to tell "dịch vụ công trực tuyến một phần" from "… toàn trình", few enough to survive rewording.
KEY_WORDS = 4
_WORD = re.compile(r"[^\W_]+")


@lru_cache(maxsize=8192)
def _indicator(sentence: str, figure: str) -> tuple[tuple[str, ...], str, str]:
    """(key, label, index) of what a figure measures: its first content words after it in its clause
    (`figure_context`), folded for the key, as written for the label; and the index (DTI, PCI…) named last before
    it. ((), '', '') when nothing follows it."""
    f = _figure_in(sentence, figure)
    if f is None:
        return (), "", ""
    after = figure_context(sentence, f)[1]
    clause = re.split(r"[,;:.()]", sentence[f.end:f.end + 80])[0]
    key: list[str] = []
    last = None
    for m in _WORD.finditer(clause):
        w = fold(m.group(0))
        if w in after and w not in key:
            key.append(w)
            last = m
            if len(key) == KEY_WORDS:
                break
    if last is None:
        return (), "", ""
    named = [t for t in lexical_tokens(sentence[:f.start], pairs=False) if t in NAMED_INDICES]
    return tuple(key), clause[:last.end()].strip(), named[-1] if named else ""


def indicator_of(row: FigureRow) -> tuple[str, str, tuple[str, ...]]:
    """(unit, index, key words): figures with the same one in the same province measure the same thing.
    The index only counts for ranks and scores, where "thứ 7/63" of the ICT Index is not the DTI's."""
    key, _, index = _indicator(row.sentence, row.figure)
    return row.unit, index if row.unit in (UNIT_LABELS["rank"], "") else "", key


@dataclass(frozen=True)
class CompareGroup:
    """Figures of one indicator in one province, from different articles or years, oldest first."""

    province: str
    label: str
    rows: tuple[FigureRow, ...]


def indicator_label(row: FigureRow) -> str:
    """'dịch vụ công trực tuyến một phần', 'GRDP của tỉnh (%)', 'thứ hạng DTI · tỉnh': what the group measures."""
    unit, index, _ = indicator_of(row)
    words = _indicator(row.sentence, row.figure)[1]
    if unit == UNIT_LABELS["rank"]:
        return " ".join(x for x in ("thứ hạng", index.upper())) + f" · {words}" if index else f"thứ hạng · {words}"
    if unit == "%":
        return f"{words} (%)"
    return " ".join(x for x in (unit, index.upper(), words) if x)


def compare_groups(rows: list[FigureRow]) -> list[CompareGroup]:
    """Groups of rows with the same province and indicator stated in more than one article or year; a figure
    repeated in the same article for the same year counts once."""
    groups: dict[tuple, list[FigureRow]] = {}
    seen: set[tuple] = set()
    for r in rows:
        what = indicator_of(r)
        if not what[2] or not r.province:
            continue
        once = (r.province, what, r.article_id, year_of(r), r.figure)
        if once in seen:
            continue
        seen.add(once)
        groups.setdefault((r.province, what), []).append(r)
    out = []
    for (province, _), members in groups.items():
        if len({(r.article_id, year_of(r)) for r in members}) < 2:
            continue
        members.sort(key=lambda r: (year_of(r) or "9999", r.date, r.title))
        out.append(CompareGroup(province, indicator_label(members[0]), tuple(members)))
    return sorted(out, key=lambda g: (g.province, fold(g.label)))


def filter_view(rows: list[FigureRow], province: str | None = "", year: str | None = "",
                query: str | None = "", status: str | None = "") -> list[FigureRow]:
    """`filter_rows`, then only the figures stated for `year` and of `status` ('đã đạt', 'mục tiêu', 'chưa rõ'),
    each when given."""
    out = filter_rows(rows, province, query)
    if year:
        out = [r for r in out if year_of(r) == year]
    want = (status or "").strip().lower()
    return [r for r in out if (status_of(r) or UNKNOWN_STATUS) == want] if want else out


def years(rows: list[FigureRow]) -> list[str]:
    """The years of the rows, newest first."""
    return sorted({y for y in map(year_of, rows) if y}, reverse=True)


def view_table(rows: list[FigureRow]) -> list[list[object]]:
    """Rows for the tab, in VIEW_HEADERS order."""
    return [[r.figure, vi_number(r.value), r.unit, year_of(r), status_of(r) or "—", excerpt(r), r.province, r.title,
             r.date] for r in rows]


def export_csv(rows: list[FigureRow]) -> str:
    """The CSV of exactly these rows: the figure as written, its value in Vietnamese notation, the whole sentence."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(EXPORT_HEADERS)
    for r in rows:
        w.writerow([r.figure, vi_number(r.value), r.unit, year_of(r), status_of(r), r.sentence, r.province, r.title,
                    r.date, r.article_id])
    return buf.getvalue()


def csv_filename(province: str | None, year: str | None, query: str | None, today: str,
                 status: str | None = "") -> str:
    """'so-lieu_tien-giang_2021_da-dat_thue-bao_2024-05-02.csv': what was filtered and when."""
    def slug(text: str) -> str:
        return re.sub(r"[^a-z0-9]+", "-", fold(text or "")).strip("-")[:40]

    parts = ["so-lieu", slug(province or "") or "tat-ca-tinh", year or "moi-nam"]
    if slug(status or ""):
        parts.append(slug(status or ""))
    if slug(query or ""):
        parts.append(slug(query or ""))
    return "_".join(parts + [today]) + ".csv"


assert len(HEADERS) == len(fields(FigureRow))
assert len(VIEW_HEADERS) == len(VIEW_WIDTHS)
