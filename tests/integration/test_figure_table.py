"""The journalists' figures table over the real catalog of a real index (the seeds, built by the indexer):
every quantity with its sentence; filters; CSV export. Pure CSV formatting is in tests/unit/test_figure_table.py.
"""
from __future__ import annotations

import csv
import io

import pytest

from assistant.app.ui.figure_table import HEADERS, FigureRow, figure_rows, filter_rows, to_csv, to_table
from assistant.indexing.catalog import Catalog
from assistant.vi.textnorm import fold
from tests.support.paths import SEED_IDS


def catalog_rows(index_dir) -> tuple[list[FigureRow], list[str]]:
    """figure_rows of the catalog in `index_dir`, and the catalog's article ids in its order."""
    cat = Catalog(index_dir, create=False)
    try:
        return figure_rows(cat), [a.id for a in cat.articles()]
    finally:
        cat.close()


@pytest.fixture(scope="module")
def indexed(built_index):
    return catalog_rows(built_index / "index")


@pytest.fixture(scope="module")
def rows(indexed) -> list[FigureRow]:
    return indexed[0]


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


def test_rows_keep_article_order_and_sentence_order(indexed):
    rows, order = indexed
    assert sorted(order) == SEED_IDS  # the catalog's own order (not the file order the stand-in used)
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
    assert all("thue bao" in fold(f"{r.figure} {r.sentence} {r.title}") for r in got)
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


def test_a_new_article_shows_up_with_its_figure(index_copy, embeddings):
    """An article added to the corpus and indexed by the real indexer is a row of the table, with its date."""
    from assistant.indexing.indexer import Indexer

    settings, corpus, index = index_copy
    (corpus / "ca-mau.md").write_text(
        '---\ntitle: "Cà Mau phủ sóng wifi"\nprovince: "Cà Mau"\ndate: 2024-05-02\n---\nCà Mau phủ sóng wifi\n'
        "Tỉnh Cà Mau có 4.321 điểm phát wifi miễn phí phục vụ chuyển đổi số.\n", encoding="utf-8")
    summary = Indexer(settings, embeddings=embeddings, show_progress=False).run()
    assert summary.added == 1 and summary.ok, summary
    rows, order = catalog_rows(index)
    assert "ca-mau" in order
    got = filter_rows(rows, province="Cà Mau")
    assert [(r.value, r.date, r.article_id, r.title) for r in got] == [(4321, "2024-05-02", "ca-mau",
                                                                         "Cà Mau phủ sóng wifi")]
    assert got[0].figure.startswith("4.321")
