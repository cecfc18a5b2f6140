"""The journalists' figures table, pure formatting: CSV quoting and the header of an empty export.

The rows themselves are checked over the real catalog of a real index in tests/integration/test_figure_table.py.
"""
from __future__ import annotations

import csv
import io

from assistant.app.ui.figure_table import HEADERS, FigureRow, to_csv


def test_csv_quotes_commas_quotes_and_newlines():
    r = FigureRow('5,5% "lạ"', 5.5, "%", 'Câu có dấu phẩy, "ngoặc kép"\nvà xuống dòng.', "Huế", "A, B", "", "x")
    records = list(csv.reader(io.StringIO(to_csv([r]))))
    assert records[1] == ['5,5% "lạ"', "5.5", "%", 'Câu có dấu phẩy, "ngoặc kép"\nvà xuống dòng.', "Huế", "A, B", "", "x"]


def test_csv_of_no_rows_is_just_the_header():
    assert list(csv.reader(io.StringIO(to_csv([])))) == [list(HEADERS)]


# ---- achieved / target, and the same indicator side by side ----------------------------------------------------
from assistant.app.ui.figure_table import (compare_groups, csv_filename, export_csv, filter_view,  # noqa: E402
                                           indicator_label, status_of, view_table, VIEW_HEADERS, EXPORT_HEADERS)

TG = "Tiền Giang"
GRDP_2021 = "Năm 2021, kinh tế số đã đạt 8,59% GRDP của tỉnh."
GRDP_TARGET = "Mục tiêu đến năm 2025, kinh tế số chiếm 15% GRDP của tỉnh."
DVC = "Đồng Tháp có 214 dịch vụ công trực tuyến một phần và 763 dịch vụ công trực tuyến toàn trình."
DVC_2023 = "Năm 2023, tỉnh đã cung cấp 250 dịch vụ công trực tuyến một phần."
DTI = "Năm {y}, chỉ số DTI của tỉnh Hậu Giang xếp hạng {r} tỉnh, thành phố."
PCI = "Năm 2022, chỉ số PCI của tỉnh Hậu Giang xếp hạng 30/63 tỉnh, thành phố."


def row(figure: str, value: float, unit: str, sentence: str, province: str, article: str, date: str = "") -> FigureRow:
    return FigureRow(figure, value, unit, sentence, province, f"Bài {article}", date, article)


ROWS = [row("8,59%", 8.59, "%", GRDP_2021, TG, "tg"), row("15%", 15, "%", GRDP_TARGET, TG, "tg"),
        row("15%", 15, "%", GRDP_TARGET, TG, "tg"),  # the same sentence again in the same article
        row("214 dịch vụ", 214, "dịch vụ", DVC, "Đồng Tháp", "dt1"),
        row("763 dịch vụ", 763, "dịch vụ", DVC, "Đồng Tháp", "dt1"),
        row("250 dịch vụ", 250, "dịch vụ", DVC_2023, "Đồng Tháp", "dt2"),
        row("hạng 17/63", 17, "thứ hạng", DTI.format(y=2021, r="17/63"), "Hậu Giang", "hg1"),
        row("hạng 9/63", 9, "thứ hạng", DTI.format(y=2022, r="9/63"), "Hậu Giang", "hg2"),
        row("hạng 30/63", 30, "thứ hạng", PCI, "Hậu Giang", "hg2")]


def test_status_is_the_answer_stage_reading_of_the_sentence():
    assert status_of(ROWS[0]) == "đã đạt" and status_of(ROWS[1]) == "mục tiêu"


def test_filter_by_status_and_the_csv_and_table_carry_it():
    targets = filter_view(ROWS, status="Mục tiêu")
    assert [r.figure for r in targets] == ["15%", "15%"]
    achieved = filter_view(ROWS, TG, status="đã đạt")
    assert [r.figure for r in achieved] == ["8,59%"]
    unknown = filter_view(ROWS, status="chưa rõ")
    assert unknown and all(status_of(r) == "" for r in unknown)
    assert len(filter_view(ROWS)) == len(ROWS)
    table = view_table(targets)
    assert table[0][VIEW_HEADERS.index("Đạt / mục tiêu")] == "mục tiêu"
    records = list(csv.reader(io.StringIO(export_csv(achieved))))
    assert records[0] == list(EXPORT_HEADERS) and records[1][EXPORT_HEADERS.index("Đạt / mục tiêu")] == "đã đạt"
    assert csv_filename(TG, "", "", "2024-05-02", "Mục tiêu") == "so-lieu_tien-giang_moi-nam_muc-tieu_2024-05-02.csv"
    assert csv_filename(TG, "2021", "", "2024-05-02") == "so-lieu_tien-giang_2021_2024-05-02.csv"


def test_same_indicator_and_province_grouped_across_articles_and_years():
    groups = {(g.province, g.label): [r.figure for r in g.rows] for g in compare_groups(ROWS)}
    assert groups[(TG, "GRDP của tỉnh (%)")] == ["8,59%", "15%"]  # oldest first; the repeat counts once
    # A figure of no known year comes after the dated ones.
    assert groups[("Đồng Tháp", "dịch vụ công trực tuyến một phần")] == ["250 dịch vụ", "214 dịch vụ"]
    assert groups[("Hậu Giang", "thứ hạng DTI · tỉnh")] == ["hạng 17/63", "hạng 9/63"]  # not PCI's 30/63
    assert not any("763 dịch vụ" in figs for figs in groups.values())  # "toàn trình" is another indicator
    assert indicator_label(ROWS[3]) == "dịch vụ công trực tuyến một phần"


def test_a_figure_stated_once_or_only_repeated_is_not_compared():
    assert compare_groups([ROWS[1], ROWS[2]]) == []
    assert compare_groups([ROWS[4]]) == []
    other_province = row("250 dịch vụ", 250, "dịch vụ", DVC_2023, "Vĩnh Long", "vl")
    assert compare_groups([ROWS[3], other_province]) == []
