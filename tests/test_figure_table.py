"""The journalists' figures table: every quantity of the corpus with its sentence; filters; CSV export."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import pytest

from assistant import figure_table
from assistant.ingest.articles import load_corpus
from assistant.app.ui.figure_table import HEADERS, FigureRow, figure_rows, filter_rows, to_csv, to_table

CORPUS = Path(__file__).resolve().parent.parent / "corpus"


@dataclass
class _Article:
    id: str
    title: str
    province: str
    date: str
    text: str


class CorpusCatalog:
    """The seed articles, cleaned exactly as the indexer stores them, behind the one Catalog method used here."""

    def __init__(self, extra: list[_Article] = ()):
        loaded = load_corpus(CORPUS)
        assert not loaded.errors
        self._articles = [_Article(a.id, a.title, a.province, a.date, a.text) for a in loaded.articles] + list(extra)

    def articles(self):
        return list(self._articles)


@pytest.fixture(scope="module")
def rows() -> list[FigureRow]:
    return figure_rows(CorpusCatalog())


def test_the_gdrp_share_of_tien_giang_is_a_row(rows):
    hit = [r for r in rows if r.figure == "8,59%"]
    assert len(hit) == 1
    r = hit[0]
    assert (r.value, r.unit, r.province, r.title) == (8.59, "%", "Tiền Giang", "Bắt nhịp kinh tế số")
    assert "chiếm 8,59% GRDP của tỉnh" in r.sentence
    assert r.sentence.startswith("Với những kết quả cụ thể") and r.sentence.endswith(".")


def test_every_row_is_stated_in_its_sentence_and_years_are_left_out(rows):
    assert len(rows) > 50
    assert {r.province for r in rows} >= {"Tiền Giang", "Đồng Tháp", "Bến Tre", "Thanh Hóa", "Hậu Giang"}
    for r in rows:
        assert r.figure in r.sentence, r
        assert r.unit not in {"year", "date", "time"}, r
    assert not any(r.figure in ("2025", "năm 2025", "2030") for r in rows)


def test_rows_keep_article_order_and_sentence_order(rows):
    order = [a.id for a in CorpusCatalog().articles()]
    ids = [r.article_id for r in rows]
    assert ids == sorted(ids, key=order.index)
    dt = [r.figure for r in rows if r.province == "Đồng Tháp"]
    assert dt.index("763 dịch vụ") < dt.index("214 dịch vụ")


def test_filter_by_province(rows):
    dt = filter_rows(rows, province="Đồng Tháp")
    assert dt and all(r.province == "Đồng Tháp" for r in dt)
    assert any(r.figure == "214 dịch vụ" for r in dt)
    assert filter_rows(rows, province="Cà Mau") == []
    assert filter_rows(rows, province="") == rows


@pytest.mark.parametrize("query", ["thue bao", "THUÊ BAO", "  thuê bao  ", "Thue Bao"])
def test_filter_by_text_ignores_diacritics_and_case(rows, query):
    got = filter_rows(rows, query=query)
    assert any(r.figure == "2.212.325 thuê bao" and r.province == "Tiền Giang" for r in got)
    assert all("thue bao" in figure_table.fold(f"{r.figure} {r.sentence} {r.title}") for r in got)
    assert not any(r.figure == "8,59%" for r in got)


def test_filter_by_title_figure_and_both_filters(rows):
    by_title = filter_rows(rows, query="tao gia tri moi")
    assert by_title and {r.province for r in by_title} == {"Đồng Tháp"}
    same_sentence = filter_rows(rows, query="8,59")  # the query matches the sentence, so its neighbours too
    assert "8,59%" in [r.figure for r in same_sentence] and len({r.sentence for r in same_sentence}) == 1
    both = filter_rows(rows, province="Tiền Giang", query="thue bao")
    assert both and all(r.province == "Tiền Giang" for r in both)
    assert filter_rows(rows, province="Bến Tre", query="thue bao") == []


def test_empty_or_missing_filters_keep_everything(rows):
    # an untouched Gradio textbox/dropdown sends None
    assert filter_rows(rows, None, None) == rows
    assert filter_rows(rows, "", "   ") == rows


def test_table_rows_follow_the_headers(rows):
    table = to_table(rows[:3])
    assert all(len(t) == len(HEADERS) for t in table)
    assert table[0][HEADERS.index("Số liệu")] == rows[0].figure
    assert table[0][HEADERS.index("Mã bài")] == rows[0].article_id


def test_csv_has_the_vietnamese_header_and_round_trips(rows):
    text = to_csv(rows)
    assert text.splitlines()[0] == ",".join(HEADERS)
    assert HEADERS[0] == "Số liệu"
    records = list(csv.reader(io.StringIO(text)))
    assert len(records) == len(rows) + 1
    row = next(r for r in records[1:] if r[0] == "8,59%")
    assert row[HEADERS.index("Câu trong bài")].count("8,59%") == 1
    assert row[HEADERS.index("Tỉnh/thành")] == "Tiền Giang"
    assert float(row[HEADERS.index("Giá trị")]) == 8.59


def test_csv_quotes_commas_quotes_and_newlines():
    r = FigureRow('5,5% "lạ"', 5.5, "%", 'Câu có dấu phẩy, "ngoặc kép"\nvà xuống dòng.', "Huế", "A, B", "", "x")
    records = list(csv.reader(io.StringIO(to_csv([r]))))
    assert records[1] == ['5,5% "lạ"', "5.5", "%", 'Câu có dấu phẩy, "ngoặc kép"\nvà xuống dòng.', "Huế", "A, B", "", "x"]


def test_csv_of_no_rows_is_just_the_header():
    assert list(csv.reader(io.StringIO(to_csv([])))) == [list(HEADERS)]


def test_a_new_article_shows_up_with_its_figure():
    extra = _Article("ca-mau", "Cà Mau phủ sóng wifi", "Cà Mau", "2024-05-02",
                     "Cà Mau phủ sóng wifi\nTỉnh Cà Mau có 4.321 điểm phát wifi miễn phí phục vụ chuyển đổi số.")
    rows = filter_rows(figure_rows(CorpusCatalog([extra])), province="Cà Mau")
    assert [(r.value, r.date, r.article_id) for r in rows] == [(4321, "2024-05-02", "ca-mau")]
    assert rows[0].figure.startswith("4.321")
