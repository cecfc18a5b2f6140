"""Cleaning on the real seed articles: debris goes, every article line (and every number) stays."""
from __future__ import annotations

import re
import unicodedata
from collections import Counter

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from assistant.ingest.articles import load_article
from assistant.ingest.cleaning import clean_body, is_debris_line
from tests.support.paths import CORPUS, SEED_IDS, raw_body

NUMBER = re.compile(r"\d+(?:[.,/]\d+)*")

# Web-page debris named in DESIGN.md, written out here independently of the cleaner's tables.
DEBRIS_PHRASES = ["Viết bình luận mới", "Tin cùng chuyên mục", "Các tin khác", "Xem thêm >>",
                  "Có thể bạn quan tâm", "Nghe Podcast:"]
MEDIA_FILE = re.compile(r"\S*\.(?:mp3|m4a|mp4|jpe?g|png|gif|webp)\b", re.IGNORECASE)
DATELINE = re.compile(r"\d{2}/\d{2}/\d{4} \| \d{2}:\d{2} GMT\+7")
SERIES_HEADER = re.compile(r"(?:BÀI|Bài) \d+: ")
CREDIT_LINE = re.compile(r"Nguồn[^:]*: .*https?://")
END_NOTE = "(Còn tiếp)"


def non_article_line(index: int, line: str) -> bool:
    """The test's own judgement of which raw seed lines are not article text."""
    s = line.strip()
    return (s in DEBRIS_PHRASES or s == "|" or s == END_NOTE
            or bool(MEDIA_FILE.search(s)) or bool(DATELINE.fullmatch(s))
            or (index < 3 and bool(SERIES_HEADER.match(s))) or bool(CREDIT_LINE.match(s)))


def article_lines(raw: str) -> list[str]:
    lines = [ln for ln in raw.split("\n") if ln.strip()]
    return [ln.strip().rstrip("|").strip() for i, ln in enumerate(lines) if not non_article_line(i, ln)]


@pytest.fixture(scope="module")
def seeds():
    """(raw body, loaded article) for each of the five corpus articles."""
    return {aid: (raw_body(CORPUS / f"{aid}.txt"), load_article(CORPUS / f"{aid}.txt")) for aid in SEED_IDS}


def test_the_seeds_really_contain_the_debris(seeds):
    # Guards the tests below against passing vacuously on already-clean input.
    raw_all = "\n".join(raw for raw, _ in seeds.values())
    for phrase in DEBRIS_PHRASES + ["20210816-ta8.jpg", ".mp3", "BÀI 3: Bắt nhịp kinh tế số",
                                    "Bài 1: Nỗ lực cải thiện Chỉ số PCI", "25/01/2023 | 06:06 GMT+7"]:
        assert phrase in raw_all, phrase
    assert any(ln.rstrip().endswith("|") for ln in raw_all.split("\n"))


@pytest.mark.parametrize("aid", SEED_IDS)
def test_no_debris_survives(seeds, aid):
    _, article = seeds[aid]
    text = article.text
    lines = text.split("\n")
    for phrase in DEBRIS_PHRASES:
        assert phrase.lower() not in text.lower(), phrase
    assert not MEDIA_FILE.search(text), MEDIA_FILE.search(text)
    assert not DATELINE.search(text)
    assert "|" not in text  # stray separators, at line ends or alone
    assert all(ln == ln.strip() and ln for ln in lines), "blank or untrimmed lines remain"
    assert not any(SERIES_HEADER.match(ln) for ln in lines[:3])
    assert not any(CREDIT_LINE.match(ln) for ln in lines)


def test_series_headers_removed_from_000(seeds):
    text = seeds["000_c8abe304363df3f5"][1].text
    for header in ("BÀI 3", "Bài 1: Nỗ lực", "BÀI 2: Tăng tốc"):
        assert header not in text
    assert text.startswith("Tiền Giang phát triển Chính quyền điện tử")


@pytest.mark.parametrize("aid", SEED_IDS)
def test_every_number_survives_unchanged(seeds, aid):
    raw, article = seeds[aid]
    kept = article_lines(raw)
    raw_numbers = Counter(n for ln in kept for n in NUMBER.findall(ln))
    text_numbers = Counter(NUMBER.findall(article.text))
    assert raw_numbers, "seed has no numbers?"
    missing = raw_numbers - text_numbers
    assert not missing, f"numbers lost or altered by cleaning: {dict(missing)}"
    invented = text_numbers - raw_numbers
    assert not invented, f"numbers that are not in the article lines: {dict(invented)}"


@pytest.mark.parametrize("aid", SEED_IDS)
def test_every_article_line_kept_verbatim(seeds, aid):
    raw, article = seeds[aid]
    expected = [unicodedata.normalize("NFC", " ".join(ln.split())) for ln in article_lines(raw)]
    assert article.text.split("\n") == expected


def test_key_figures_present_exactly():
    figures = {"000_c8abe304363df3f5": ["8.619 tỷ đồng/100.314 tỷ đồng", "8,59% GRDP", "12/63 tỉnh", "0,4856",
                                        "2.212.325 thuê bao"],
               "002_130dbf42b88e02b2": ["17/63 tỉnh", "22,73%", "67.500 lượt"],
               "003_11d4590fe4f6bcca": ["6,42%", "99,64%", "39/63", "143/143"],
               "004_7b060a5d05bf869f": ["01-NQ/TU ngày 20/10/2020", "4G/5G"]}
    for aid, figs in figures.items():
        text = load_article(CORPUS / f"{aid}.txt").text
        for f in figs:
            assert f in text, (aid, f)


@pytest.mark.parametrize("aid", SEED_IDS)
def test_text_is_nfc_and_free_of_invisible_characters(seeds, aid):
    text = seeds[aid][1].text
    assert unicodedata.is_normalized("NFC", text)
    assert not re.search("[\u200b-\u200f\ufeff\u00a0\u00ad\r\t]", text)


# --- unit behaviour ------------------------------------------------------------------------

@pytest.mark.parametrize("line", ["Viết bình luận mới", "  Tin cùng chuyên mục ", "CÁC TIN KHÁC", "Xem thêm >>",
                                  "Có thể bạn quan tâm", "|", "20210816-ta8.jpg",
                                  "/uploads/Audio/News/2023/01/25/061353chuyển đổi số.mp3"])
def test_debris_lines_recognised(line):
    assert is_debris_line(line)


@pytest.mark.parametrize("line", ["Tiền Giang xếp hạng 12/63 tỉnh.", "Xem thêm các bài về chuyển đổi số của tỉnh",
                                  "Ảnh minh họa cho thấy 100% xã có mạng 4G", "Tin cùng chuyên mục này rất hay.",
                                  "LÊ PHƯƠNG - A.P", ""])
def test_article_lines_not_debris(line):
    assert not is_debris_line(line)


def test_stray_pipes_removed_but_text_kept():
    assert clean_body("Tiêu đề bài\nCó 1.255 sản phẩm. |\n| Câu sau.") == "Tiêu đề bài\nCó 1.255 sản phẩm.\nCâu sau."


def test_dateline_only_dropped_near_the_top():
    body = "Tiêu đề bài\n25/01/2023 | 06:06 GMT+7\nĐoạn một có nội dung.\nĐoạn hai.\n25/01/2023"
    assert clean_body(body) == "Tiêu đề bài\nĐoạn một có nội dung.\nĐoạn hai.\n25/01/2023"


def test_series_header_deep_in_text_is_kept():
    body = "Tiêu đề\nĐoạn một.\nĐoạn hai.\nBài 2: phần tiếp theo sẽ nói về 5 huyện."
    assert clean_body(body).endswith("Bài 2: phần tiếp theo sẽ nói về 5 huyện.")


@pytest.mark.parametrize("line", ["Nguồn vốn đầu tư: 8.619 tỷ đồng", "Nguồn nhân lực: 1.200 kỹ sư CNTT",
                                  "Nguồn thu từ kinh tế số: tăng 12%"])
def test_sentences_starting_with_nguon_are_article_text(line):
    # "Nguồn vốn" (capital) is not a credit line; its figure must survive.
    body = f"Mở đầu bài viết về chuyển đổi số.\n{line}\nCâu cuối cùng."
    assert line in clean_body(body).split("\n")


@pytest.mark.parametrize("line", ["Nguồn: Theo: https://kinhtevadubao.vn", "Nguồn NLĐ: https://nld.com.vn/a-1.htm",
                                  "Nguồn: Báo Ấp Bắc", "NGUỒN: TTXVN"])
def test_credit_lines_removed(line):
    assert clean_body(f"Mở đầu bài viết.\nNội dung chính.\n{line}") == "Mở đầu bài viết.\nNội dung chính."


# --- property: interleaving debris never changes the article lines ----------------------------

WORDS = ["Tiền", "Giang", "chuyển", "đổi", "số", "kinh", "tế", "tỉnh", "đạt", "GRDP", "Sở", "TT-TT", "năm",
         "doanh", "nghiệp", "xã", "huyện", "Bộ", "(DTI)", "“Quả", "ngọt”", "-", "|", "Nguồn", "Xem", "thêm"]
NUMBERS = ["8.619", "8,59%", "12/63", "2021", "100%", "0,4856", "25/01/2023", "1.255", "4G/5G", "30-5-2022"]
token = st.one_of(st.sampled_from(WORDS), st.sampled_from(NUMBERS))
# Article lines start with an ordinary word, so they can never be a header, a credit or a dateline.
article_line = st.builds(lambda first, rest, end: " ".join([first, *rest]) + end,
                         st.sampled_from(["Tỉnh", "Năm", "Theo", "Đến", "Hiện", "Kinh", "Trong"]),
                         st.lists(token, max_size=15), st.sampled_from([".", "", ";", "…", "%"]))
debris_line = st.sampled_from(DEBRIS_PHRASES + ["|", " | ", "20210816-ta8.jpg", "  ", "",
                                                "/uploads/Audio/News/2023/01/25/061353 bài.mp3"])


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(article_line, st.lists(debris_line, max_size=2)), min_size=1, max_size=8))
@example([("Tỉnh có 1.255 sản phẩm |", []), ("Năm 2021 đạt 8,59% GRDP", ["Xem thêm >>"])])
@example([("Tỉnh | |", [])])  # a trailing run of pipes and spaces goes as a whole
def test_debris_interleaved_with_article_lines_is_removed_exactly(pairs):
    body = "\n".join(ln + "\n" + "\n".join(debris) for ln, debris in pairs)
    expected = [" ".join(ln.split()).rstrip(" |") for ln, _ in pairs]
    expected = [ln for ln in expected if ln]
    out = clean_body(body)
    assert out.split("\n") == expected
    assert Counter(NUMBER.findall(out)) == Counter(n for ln, _ in pairs for n in NUMBER.findall(ln))


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("aăâđêôơư ÀẢẠ.,:|/0123456789\n\t\u00a0\u200bBàiKỳNguồn>")), max_size=200))
@example("0||")  # a run of stray pipes goes in one pass
def test_clean_body_is_idempotent_and_trimmed(text):
    once = clean_body(text)
    assert clean_body(once) == once
    assert once == once.strip()
    assert "\u200b" not in once and "\u00a0" not in once and "\t" not in once


def test_decomposed_input_gives_nfc_output():
    nfd = unicodedata.normalize("NFD", "Tiền Giang đạt 8,59% GRDP.\nViết bình luận mới")
    out = clean_body(nfd)
    assert out == "Tiền Giang đạt 8,59% GRDP."
    assert unicodedata.is_normalized("NFC", out)
