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
