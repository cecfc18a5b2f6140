"""Tests for assistant.vi.figures: example sentences from the corpus plus property tests."""
from __future__ import annotations

import math
import unicodedata
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.vi.figures import Figure, extract_figures, find_in, parse_number, same_figure
from assistant.vi.textnorm import fold


def summary(text: str) -> list[tuple[str, float, str, str]]:
    return [(f.text, f.value, f.unit, f.qualifier) for f in extract_figures(text)]


def one(text: str) -> Figure:
    figs = extract_figures(text)
    assert len(figs) == 1, figs
    return figs[0]


# --- parse_number ---

@pytest.mark.parametrize(
    ("literal", "expected"),
    [
        ("8.619", 8619.0),
        ("2.212.325", 2212325.0),
        ("8,59", 8.59),
        ("0,4856", 0.4856),
        ("1.234,5", 1234.5),
        ("105", 105.0),
        ("08", 8.0),
        ("105.800", 105800.0),
        ("4.0", 4.0),  # not a 3-digit group: English decimal point
        ("1.5", 1.5),
        ("1.2345", 1.2345),
        ("2,212,325", 2212325.0),  # two comma groups: English thousands
        ("-5", -5.0),
    ],
)
def test_parse_number_examples(literal: str, expected: float) -> None:
    assert parse_number(literal) == expected


@pytest.mark.parametrize("garbage", ["", "abc", "1.2.3", "1..2", ",5", "5,", "12.34.567", "1,2,3", "٣", "1e5"])
def test_parse_number_rejects_garbage(garbage: str) -> None:
    with pytest.raises(ValueError):
        parse_number(garbage)


# --- extract_figures on real sentences ---

def test_money_pair_and_percent() -> None:
    text = ("giá trị tăng thêm của kinh tế số năm 2021 là 8.619 tỷ đồng/100.314 tỷ đồng, "
            "chiếm 8,59% GRDP của tỉnh")
    figs = extract_figures(text)
    assert [(f.text, f.value, f.unit) for f in figs] == [
        ("năm 2021", 2021.0, "year"),
        ("8.619 tỷ đồng", 8.619e12, "đồng"),
        ("100.314 tỷ đồng", 100.314e12, "đồng"),
        ("8,59%", 8.59, "%"),
    ]
    assert figs[1].scale_word == "tỷ"
    assert all(text[f.start:f.end] == f.text for f in figs)


def test_rank_and_index_value() -> None:
    text = "Tiền Giang xếp hạng 12/63 tỉnh, thành cả nước về chỉ số kinh tế số, đạt 0,4856"
    rank, index = extract_figures(text)
    assert (rank.text, rank.value, rank.unit, rank.denominator) == ("hạng 12/63", 12.0, "rank", 63.0)
    assert (index.text, index.value, index.unit) == ("0,4856", 0.4856, "")


def test_subscribers() -> None:
    assert summary("Tiền Giang có 2.212.325 thuê bao di động, đạt 124%") == [
        ("2.212.325 thuê bao", 2212325.0, "thuê bao", ""),
        ("124%", 124.0, "%", ""),
    ]


def test_qualifier_hon() -> None:
    assert summary("Tỷ lệ doanh nghiệp nộp thuế điện tử đạt hơn 84%") == [("hơn 84%", 84.0, "%", "hơn")]


def test_gan_3_trieu() -> None:
    f = one("tổng số lượt trao đổi, xử lý văn bản trên hệ thống LGSP là gần 3 triệu")
    assert (f.text, f.value, f.unit, f.qualifier, f.scale_word) == ("gần 3 triệu", 3e6, "", "gần", "triệu")


def test_compound_scale() -> None:
    f = one("1,2 nghìn tỷ đồng")
    assert (f.value, f.unit, f.scale_word) == (1.2e12, "đồng", "nghìn tỷ")


def test_toi_thieu() -> None:
    f = one("năng suất lao động bình quân hàng năm tăng tối thiểu 7%")
    assert (f.text, f.value, f.unit, f.qualifier) == ("tối thiểu 7%", 7.0, "%", "tối thiểu")


@pytest.mark.parametrize(
    "text",
    [
        "http://chuyendoiso.tiengiang.gov.vn",
        "(https://tiengiang.gov.vn/chuyen-doi-so)",
        "Xem 20210816-ta8.jpg",
        "/uploads/Audio/News/2023/01/25/061353chuyển đổi số.mp3",
        "liên hệ so4tt@tiengiang.gov.vn",
        "sàn Postmart.vn, Voso.vn",
        "mạng di động 4G/5G",
        "đại dịch COVID-19",
        "Sở TT-TT",
        "múi giờ GMT+7",
        "Nghị quyết số 01-NQ/TU",
        "Quyết định 370/QĐ-UBND",
        "thay cho 192.168.1.1",
    ],
)
def test_not_figures(text: str) -> None:
    assert extract_figures(text) == []


def test_dates_and_times_are_recognized() -> None:
    got = [(f.text, f.value, f.unit) for f in extract_figures(
        "25/01/2023 | 06:06 GMT+7; ngày 30-5-2022; Kế hoạch số 152 ngày 5/5/2022; "
        "đến hết quý II-2022; 9 tháng năm 2023; tháng 5/2022; ngày 20 tháng 10 năm 2020; đến 30/6"
    )]
    assert got == [
        ("25/01/2023", 20230125.0, "date"),
        ("06:06", 606.0, "time"),
        ("30-5-2022", 20220530.0, "date"),
        ("152", 152.0, "doc"),
        ("5/5/2022", 20220505.0, "date"),
        ("quý II-2022", 20222.0, "quarter"),
        ("9 tháng", 9.0, "tháng"),
        ("năm 2023", 2023.0, "year"),
        ("tháng 5/2022", 20220500.0, "date"),
        ("ngày 20 tháng 10 năm 2020", 20201020.0, "date"),
        ("đến 30/6", 630.0, "date"),
    ]


def test_weekday_is_not_a_rank() -> None:
    assert summary("Thứ 2, 06/06/2022") == [("06/06/2022", 20220606.0, "date", "")]


@pytest.mark.parametrize("rank", [20, 39, 45, 79])
def test_a_two_digit_rank_is_not_a_weekday_before_a_date(rank: int) -> None:
    # "thứ 39/63" once read as the weekday "thứ 3" before the date "9/63", leaving only "63 tỉnh"
    assert summary(f"xếp thứ {rank}/63 tỉnh") == [(f"thứ {rank}/63", float(rank), "rank", "")]


def test_ranks_and_counts_of_total() -> None:
    figs = extract_figures("xếp thứ 7/63 tỉnh; đứng thứ 12 cả nước; ở cả 12/12 huyện; 143/143 xã")
    assert [(f.text, f.value, f.unit, f.denominator) for f in figs] == [
        ("thứ 7/63", 7.0, "rank", 63.0),
        ("thứ 12", 12.0, "rank", None),
        ("12/12", 12.0, "rank", 12.0),
        ("143/143", 143.0, "rank", 143.0),
    ]


def test_years() -> None:
    assert summary("Vietnam ICT Index 2022, giai đoạn 2021-2025, Tổng đài 1022") == [
        ("2022", 2022.0, "year", ""),
        ("2021", 2021.0, "year", ""),
        ("2025", 2025.0, "year", ""),
        ("1022", 1022.0, "", ""),
    ]


def test_version_numbers_are_decimals() -> None:
    assert summary("mô hình Chợ 4.0 và phiên bản 2.0") == [("4.0", 4.0, "", ""), ("2.0", 2.0, "doc", "")]


def test_percent_words_and_money_variants() -> None:
    assert summary("tăng 5 phần trăm, giá 500.000đ, 1,5 tỷ USD, 100km") == [
        ("5 phần trăm", 5.0, "%", ""),
        ("500.000đ", 500000.0, "đồng", ""),
        ("1,5 tỷ USD", 1.5e9, "USD", ""),
        ("100km", 100.0, "km", ""),
    ]


def test_ty_le_is_not_a_billion() -> None:
    f = one("trong 3 tỷ lệ được đánh giá")
    assert (f.value, f.scale_word) == (3.0, "")


def test_without_diacritics_and_upper_case() -> None:
    assert summary("dat hon 84% va gan 3 trieu dong") == [
        ("hon 84%", 84.0, "%", "hơn"),
        ("gan 3 trieu dong", 3e6, "đồng", "gần"),
    ]
    assert summary("ĐẠT HƠN 84 PHẦN TRĂM") == [("HƠN 84 PHẦN TRĂM", 84.0, "%", "hơn")]


def test_unaccented_lookalikes_are_not_scale_words() -> None:
    # "trạm" (station) and "ngắn" must not be read as "trăm"/"ngàn".
    assert summary("có 25 trạm BTS") == [("25", 25.0, "", "")]


def test_nfd_input_offsets_refer_to_the_given_string() -> None:
    nfc = "Đến nay có hơn 259.961 lượt cài đặt, chiếm 8,59% GRDP"
    nfd = unicodedata.normalize("NFD", nfc)
    figs = extract_figures(nfd)
    assert [(f.value, f.unit, f.qualifier) for f in figs] == [(259961.0, "lượt", "hơn"), (8.59, "%", "")]
    for f in figs:
        assert nfd[f.start:f.end] == f.text
    assert unicodedata.normalize("NFC", figs[0].text) == "hơn 259.961 lượt"


# --- same_figure / find_in ---

def test_same_figure_rules() -> None:
    def fig(text: str) -> Figure:
        return one(text)

    assert same_figure(fig("8.619 tỷ đồng"), fig("8.619.000.000.000 đồng"))
    assert same_figure(fig("1,2 nghìn tỷ đồng"), fig("1.200 tỷ đồng"))
    assert same_figure(fig("gần 3 triệu"), fig("3.000.000 lượt"))  # unitless matches any unit
    assert same_figure(fig("hơn 84%"), fig("84 %"))  # qualifier ignored
    assert not same_figure(fig("84"), fig("84%"))  # '%' only matches '%'
    assert not same_figure(fig("12 người"), fig("12 doanh nghiệp"))
    assert not same_figure(fig("12 đồng"), fig("12 USD"))
    assert same_figure(fig("12/63"), fig("thứ 12"))
    assert same_figure(fig("12/63"), fig("12"))
    assert not same_figure(fig("12/63"), fig("12/64"))
    assert same_figure(fig("143/143"), fig("143 xã"))  # count of total
    assert not same_figure(fig("thứ 12"), fig("12 xã"))
    assert same_figure(fig("ngày 5/5"), fig("5/5/2022"))
    assert not same_figure(fig("5/5/2021"), fig("5/5/2022"))
    assert not same_figure(fig("8,59%"), fig("8,6%"))


def test_find_in() -> None:
    source = ("giá trị tăng thêm của kinh tế số năm 2021 là 8.619 tỷ đồng/100.314 tỷ đồng, "
              "chiếm 8,59% GRDP của tỉnh")
    answer = one("Kinh tế số đóng góp khoảng 8.619 tỷ đồng")
    found = find_in(answer, source)
    assert found is not None and found.text == "8.619 tỷ đồng"
    assert find_in(one("đạt 8,6%"), source) is None
    # "8.59" cannot be a thousands group, so an English-style answer still matches "8,59%".
    assert find_in(one("đạt 8.59%"), source) is not None
    assert find_in(one("xếp thứ 12"), "xếp hạng 12/63 tỉnh").value == 12.0  # type: ignore[union-attr]
    # Prefer a same-unit figure over an earlier unitless one.
    assert find_in(one("84%"), "có 84 xã, 84% hộ").text == "84%"  # type: ignore[union-attr]


# --- property tests ---

def vn_int(n: int) -> str:
    return f"{n:,}".replace(",", ".")


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=10**15))
def test_parse_vietnamese_integers(n: int) -> None:
    assert parse_number(vn_int(n)) == n


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=10**9), st.from_regex(r"[0-9]{1,6}", fullmatch=True))
def test_parse_vietnamese_decimals(whole: int, frac: str) -> None:
    literal = f"{vn_int(whole)},{frac}"
    assert parse_number(literal) == float(Decimal(f"{whole}.{frac}"))


QUALS = ["", "hơn", "gần", "trên", "dưới", "tối thiểu", "ít nhất", "khoảng", "tối đa", "đến"]
SCALES = {"": 0, "nghìn": 3, "ngàn": 3, "triệu": 6, "tỷ": 9, "nghìn tỷ": 12}
UNITS = {"%": "%", " phần trăm": "%", " đồng": "đồng", " USD": "USD", " người": "người",
         " lượt": "lượt", " doanh nghiệp": "doanh nghiệp", " sản phẩm": "sản phẩm",
         " thuê bao": "thuê bao", "": ""}
WORDS = ["Sở", "đã", "có", "đạt", "tổng", "số", "chiếm", "Tiền Giang", "cả", "nước", "và", "kinh tế"]


@st.composite
def sentences(draw: st.DrawFn) -> tuple[str, float, str, str, str]:
    whole = draw(st.integers(min_value=0, max_value=10**7))
    frac = draw(st.one_of(st.just(""), st.from_regex(r"[0-9]{1,3}", fullmatch=True)))
    literal = vn_int(whole) + (f",{frac}" if frac else "")
    qual = draw(st.sampled_from(QUALS))
    unit_text = draw(st.sampled_from(sorted(UNITS)))
    scale = "" if UNITS[unit_text] == "%" else draw(st.sampled_from(sorted(SCALES)))
    prefix = " ".join(draw(st.lists(st.sampled_from(WORDS), max_size=4)))
    suffix = " ".join(draw(st.lists(st.sampled_from(WORDS), max_size=4)))
    figure = " ".join(p for p in (qual, literal, scale) if p) + unit_text
    text = " ".join(p for p in (prefix, figure, suffix) if p)
    value = float(Decimal(f"{whole}.{frac or 0}") * Decimal(10) ** SCALES[scale])
    unit = UNITS[unit_text]
    if not unit and not scale and "." not in literal and "," not in literal and 1900 <= whole <= 2100:
        unit = "year"
    variant = draw(st.sampled_from(["as is", "folded", "upper"]))
    if variant == "folded":
        text, figure = fold(text), fold(figure)
    elif variant == "upper":
        text, figure = text.upper(), figure.upper()
    return text, value, unit, qual, figure


@settings(max_examples=400, deadline=None)
@given(sentences())
def test_extract_embedded_figure(case: tuple[str, float, str, str, str]) -> None:
    text, value, unit, qual, figure = case
    f = one(text)
    assert f.text == figure
    assert math.isclose(f.value, value, rel_tol=1e-12)
    assert f.unit == unit
    assert f.qualifier == qual


def check_invariants(text: str) -> None:
    figs = extract_figures(text)
    last_end = 0
    for f in figs:
        assert text[f.start:f.end] == f.text
        assert last_end <= f.start < f.end
        last_end = f.end
        assert math.isfinite(f.value)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_invariants_on_arbitrary_text(text: str) -> None:
    check_invariants(text)


TOKENS = list("0123456789.,/-:%  aGđêơưÀ\u0301\u0323") + [
    "hơn ", "gần ", "tỷ", " triệu", " đồng", "năm ", "tháng ", "ngày ", "thứ ", "hạng ", "quý ",
    "II", "http://", "www.", ".vn", ".jpg", "-NQ/TU", "COVID", "phần trăm", "@",
]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), max_size=40).map("".join))
def test_invariants_on_number_heavy_text(text: str) -> None:
    check_invariants(text)
    check_invariants(unicodedata.normalize("NFD", text))


@settings(max_examples=200, deadline=None)
@given(sentences())
def test_nfd_input_gives_same_figures(case: tuple[str, float, str, str, str]) -> None:
    text = case[0]
    nfd = unicodedata.normalize("NFD", text)
    got = extract_figures(nfd)
    want = extract_figures(text)
    assert [(f.value, f.unit, f.qualifier) for f in got] == [(f.value, f.unit, f.qualifier) for f in want]
    assert [unicodedata.normalize("NFC", f.text) for f in got] == [f.text for f in want]


figures = st.builds(
    Figure,
    text=st.text(max_size=5),
    start=st.integers(0, 100),
    end=st.integers(0, 100),
    value=st.one_of(
        st.floats(allow_nan=False, allow_infinity=False),
        st.sampled_from([0.0, 12.0, 505.0, 20220505.0, 20220500.0, 84.0]),
    ),
    unit=st.sampled_from(["", "%", "đồng", "USD", "người", "xã", "rank", "year", "date", "time", "quarter"]),
    qualifier=st.sampled_from(QUALS),
    denominator=st.one_of(st.none(), st.sampled_from([12.0, 63.0, 143.0])),
    scale_word=st.sampled_from(["", "triệu", "tỷ"]),
)


@settings(max_examples=300, deadline=None)
@given(figures, figures)
def test_same_figure_symmetric(a: Figure, b: Figure) -> None:
    assert same_figure(a, b) == same_figure(b, a)


@settings(max_examples=300, deadline=None)
@given(figures)
def test_same_figure_reflexive(a: Figure) -> None:
    assert same_figure(a, a)


@settings(max_examples=150, deadline=None)
@given(sentences())
def test_find_in_recovers_extracted_figures(case: tuple[str, float, str, str, str]) -> None:
    f = one(case[0])
    found = find_in(f, "Theo báo cáo, " + case[0])
    assert found is not None and found.text == f.text


def test_module_docstring_example() -> None:
    import doctest

    import assistant.vi.figures

    assert doctest.testmod(assistant.vi.figures).failed == 0
