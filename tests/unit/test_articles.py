"""Article loading: front matter, inferred metadata on the real seeds, and clear errors for bad files."""
from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.ingest.articles import ArticleError, article_id, corpus_files, load_article, load_corpus
from tests.support.paths import CORPUS, SEED_IDS, SEEDS, raw_body

GOOD_BODY = "Tiền Giang đẩy mạnh chuyển đổi số\nNăm 2021, kinh tế số của tỉnh đạt 8.619 tỷ đồng, chiếm 8,59% GRDP.\n"


def write_raw_seeds(tmp_path: Path) -> Path:
    """The seeds as received (no front matter), so every field must be inferred."""
    folder = tmp_path / "raw"
    folder.mkdir()
    for aid in SEED_IDS:
        (folder / f"{aid}.txt").write_text(raw_body(CORPUS / f"{aid}.txt"), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def inferred(tmp_path_factory):
    result = load_corpus(write_raw_seeds(tmp_path_factory.mktemp("seeds")))
    assert not result.errors, result.errors
    return {a.id: a for a in result.articles}


def test_corpus_bodies_are_the_seeds_as_received():
    # The corpus adds front matter only; the article text itself is never hand-edited.
    if not SEEDS.is_dir():
        pytest.skip(f"shared seeds not present at {SEEDS}")
    for aid in SEED_IDS:
        assert raw_body(CORPUS / f"{aid}.txt") == (SEEDS / f"{aid}.txt").read_text(encoding="utf-8"), aid


def test_corpus_loads_all_five_with_front_matter():
    result = load_corpus(CORPUS)
    assert not result.errors
    by_id = {a.id: a for a in result.articles}
    assert sorted(by_id) == SEED_IDS
    assert {a.province for a in result.articles} == {"Tiền Giang", "Thanh Hóa", "Hậu Giang", "Đồng Tháp", "Bến Tre"}
    a001 = by_id["001_da462b655fd8cf87"]
    assert a001.date == "2023-10-26" and a001.url.startswith("https://nld.com.vn/") and a001.inferred == ()
    assert a001.meta()["article_id"] == "001_da462b655fd8cf87"


def test_title_inferred_from_series_header(inferred):
    assert inferred["000_c8abe304363df3f5"].title == "Bắt nhịp kinh tế số"
    assert "title" in inferred["000_c8abe304363df3f5"].inferred


@pytest.mark.parametrize(("aid", "title"), [
    ("001_da462b655fd8cf87", "Cơ hội bứt phá từ kinh tế số"),
    ("002_130dbf42b88e02b2", "Chuyển đổi số định hình tương lai"),
    ("003_11d4590fe4f6bcca", "Đồng Tháp: Tạo giá trị mới từ chuyển đổi số"),
    ("004_7b060a5d05bf869f", "Bến Tre thúc đẩy kinh tế số"),
])
def test_title_inferred_from_first_line(inferred, aid, title):
    assert inferred[aid].title == title


@pytest.mark.parametrize(("aid", "province"), [
    ("000_c8abe304363df3f5", "Tiền Giang"), ("001_da462b655fd8cf87", "Thanh Hóa"),
    ("002_130dbf42b88e02b2", "Hậu Giang"), ("003_11d4590fe4f6bcca", "Đồng Tháp"),
    ("004_7b060a5d05bf869f", "Bến Tre"),
])
def test_province_inferred_from_text(inferred, aid, province):
    assert inferred[aid].province == province
    assert "province" in inferred[aid].inferred


def test_url_inferred_from_nguon_line(inferred):
    a1, a4 = inferred["001_da462b655fd8cf87"], inferred["004_7b060a5d05bf869f"]
    assert a1.url == "https://nld.com.vn/thoi-su/co-hoi-but-pha-tu-kinh-te-so-20231026210705189.htm"
    assert a4.url == "https://kinhtevadubao.vn"
    assert "url" in a1.inferred and "url" in a4.inferred
    for aid in ("000_c8abe304363df3f5", "002_130dbf42b88e02b2", "003_11d4590fe4f6bcca"):
        assert inferred[aid].url == ""  # unknown, not invented


def test_date_inferred_from_dateline(inferred):
    assert inferred["002_130dbf42b88e02b2"].date == "2023-01-25"
    assert "date" in inferred["002_130dbf42b88e02b2"].inferred
    assert inferred["000_c8abe304363df3f5"].date == ""


def test_inferred_text_equals_front_matter_text(inferred):
    # Front matter changes metadata only, never the cleaned text the citations point into.
    for aid in SEED_IDS:
        assert inferred[aid].text == load_article(CORPUS / f"{aid}.txt").text


def test_front_matter_overrides_inference(tmp_path):
    p = tmp_path / "a.md"
    p.write_text("---\ntitle: Tiêu đề riêng\nprovince: tien giang\ndate: 2022-05-30\nsource: Báo Ấp Bắc\n"
                 "url: https://baoapbac.vn/x\n---\n" + GOOD_BODY.replace("Tiền Giang", "Bến Tre"), encoding="utf-8")
    a = load_article(p)
    assert (a.title, a.province, a.date, a.source, a.url) == (
        "Tiêu đề riêng", "Tiền Giang", "2022-05-30", "Báo Ấp Bắc", "https://baoapbac.vn/x")
    assert a.inferred == ()
    assert a.text.startswith("Bến Tre đẩy mạnh")


def test_publisher_key_is_accepted_as_source(tmp_path):
    p = tmp_path / "a.md"
    p.write_text("---\npublisher: NLĐ\n---\n" + GOOD_BODY, encoding="utf-8")
    assert load_article(p).source == "NLĐ"


def test_article_id_is_file_stem_and_hidden_or_other_files_skipped(tmp_path):
    for name in ("b.md", "a.txt", ".hidden.txt", "notes.xlsx", "c.TXT"):
        (tmp_path / name).write_text(GOOD_BODY, encoding="utf-8")
    (tmp_path / "sub.txt").mkdir()
    assert [p.name for p in corpus_files(tmp_path)] == ["a.txt", "b.md", "c.TXT"]
    assert article_id(tmp_path / "b.md") == "b"


def test_missing_corpus_folder_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope"):
        load_corpus(tmp_path / "nope")


# --- bad files -------------------------------------------------------------------------------

BAD_FILES = {
    "empty.txt": (b"", "rỗng"),
    "blank.txt": (b"  \n\t\n   \n", "rỗng"),
    "binary.txt": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "nhị phân"),
    # Vietnamese saved as Latin-1: "ô", "á", "à"... become single bytes >= 0x80, invalid in UTF-8.
    "latin1.txt": (GOOD_BODY.replace("Tiền Giang", "Thông tin từ tỉnh").encode("latin-1", "replace"), "UTF-8"),
    "broken_yaml.md": (("---\ntitle: [chưa đóng\nprovince: Tiền Giang\n---\n" + GOOD_BODY).encode(), "YAML"),
    "unterminated.md": (("---\ntitle: Tiêu đề\nprovince: Tiền Giang\n" + GOOD_BODY).encode(), "front matter"),
    "list_title.md": (("---\ntitle: [a, b]\n---\n" + GOOD_BODY).encode(), "title"),
    "bad_date.md": (('---\ndate: "not a date"\n---\n' + GOOD_BODY).encode(), "date"),
    "scalar_front.md": (("---\njust a string\n---\n" + GOOD_BODY).encode(), "front matter"),
    "bad_url.md": (("---\nurl: not a url\n---\n" + GOOD_BODY).encode(), "url"),
    "only_debris.txt": ("Viết bình luận mới\nXem thêm >>\n|\n20210816-ta8.jpg\n".encode(), "nội dung"),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_file_gives_clear_error(tmp_path, name):
    data, reason = BAD_FILES[name]
    p = tmp_path / name
    p.write_bytes(data)
    with pytest.raises(ArticleError) as info:
        load_article(p)
    msg = str(info.value)
    assert msg.startswith(f"{name}: "), msg
    assert reason.lower() in msg.lower(), msg
    assert info.value.path == p and info.value.reason


def test_latin1_file_really_is_not_utf8():
    with pytest.raises(UnicodeDecodeError):
        BAD_FILES["latin1.txt"][0].decode("utf-8")


def test_over_size_limit(tmp_path):
    p = tmp_path / "big.txt"
    p.write_text(GOOD_BODY * 20, encoding="utf-8")
    with pytest.raises(ArticleError, match=r"big\.txt: .*(lớn|giới hạn)"):
        load_article(p, max_bytes=200)
    assert load_article(p, max_bytes=10_000).text  # the same file is fine under a larger limit


def test_unreadable_file(tmp_path):
    p = tmp_path / "dir.txt"
    p.mkdir()
    with pytest.raises(ArticleError, match=r"dir\.txt: "):
        load_article(p)


def test_load_corpus_keeps_every_good_article_despite_bad_ones(tmp_path):
    corpus = write_raw_seeds(tmp_path)
    for name, (data, _) in BAD_FILES.items():
        (corpus / name).write_bytes(data)
    (corpus / "zz_big.txt").write_text(GOOD_BODY * 400, encoding="utf-8")  # ~45 kB
    result = load_corpus(corpus, max_bytes=20_000)  # the seeds are 5-12 kB
    assert sorted(a.id for a in result.articles) == SEED_IDS
    assert sorted(e.path.name for e in result.errors) == sorted([*BAD_FILES, "zz_big.txt"])
    assert all(str(e).startswith(e.path.name + ": ") for e in result.errors)


def test_nfd_file_loads_to_the_same_text_as_nfc(tmp_path):
    raw = raw_body(CORPUS / "000_c8abe304363df3f5.txt")
    (tmp_path / "nfc.txt").write_text(unicodedata.normalize("NFC", raw), encoding="utf-8")
    (tmp_path / "nfd.txt").write_text(unicodedata.normalize("NFD", raw), encoding="utf-8")
    assert unicodedata.normalize("NFD", raw) != raw
    nfc, nfd = load_article(tmp_path / "nfc.txt"), load_article(tmp_path / "nfd.txt")
    assert nfd.text == nfc.text
    assert (nfd.title, nfd.province) == (nfc.title, nfc.province) == ("Bắt nhịp kinh tế số", "Tiền Giang")
    assert unicodedata.is_normalized("NFC", nfd.text)


def test_bom_and_crlf_are_tolerated(tmp_path):
    p = tmp_path / "win.txt"
    p.write_bytes("\ufeff".encode() + GOOD_BODY.replace("\n", "\r\n").encode())
    a = load_article(p)
    assert a.title == "Tiền Giang đẩy mạnh chuyển đổi số"
    assert "\r" not in a.text and "\ufeff" not in a.text


def test_content_hash_tracks_bytes(tmp_path):
    p = tmp_path / "a.txt"
    p.write_text(GOOD_BODY, encoding="utf-8")
    h1 = load_article(p).content_hash
    assert load_article(p).content_hash == h1
    p.write_text(GOOD_BODY.replace("8.619", "8.691"), encoding="utf-8")
    assert load_article(p).content_hash != h1


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.sampled_from(["title", "province", "date", "source", "url", "other"]),
                       st.one_of(st.text(max_size=20), st.integers(), st.lists(st.integers(), max_size=2),
                                 st.none(), st.booleans()), max_size=4))
def test_any_front_matter_either_loads_or_fails_clearly(tmp_path_factory, fm):
    import yaml

    p = tmp_path_factory.mktemp("fm") / "x.md"
    p.write_text("---\n" + yaml.safe_dump(fm, allow_unicode=True) + "---\n" + GOOD_BODY, encoding="utf-8")
    try:
        a = load_article(p)
    except ArticleError as exc:
        assert str(exc).startswith("x.md: ")
        return
    assert a.text.startswith("Tiền Giang đẩy mạnh chuyển đổi số")
    for key in ("title", "province", "source", "url", "date"):
        assert isinstance(getattr(a, key), str)


def test_pdf_html_docx_in_the_corpus_are_read_through_the_converters(tmp_path):
    from tests.support.documents import docx_file, html_page, navigation_only_page, pdf_with_text

    body = ["Tỉnh Sóc Trăng đã đưa vào vận hành 345 điểm wifi công cộng miễn phí trong năm 2023.",
            "Các điểm wifi được lắp tại trụ sở ủy ban nhân dân xã và nhà văn hóa ấp trên địa bàn tỉnh."]
    (tmp_path / "trang.html").write_bytes(html_page("Sóc Trăng phủ sóng wifi", body))
    (tmp_path / "bao-cao.pdf").write_bytes(pdf_with_text("Sóc Trăng phủ sóng wifi", body))
    (tmp_path / "van-ban.docx").write_bytes(docx_file("Sóc Trăng phủ sóng wifi", body))
    (tmp_path / "menu.htm").write_bytes(navigation_only_page())
    result = load_corpus(tmp_path)
    assert sorted(a.id for a in result.articles) == ["bao-cao", "trang", "van-ban"]
    for a in result.articles:
        assert a.title == "Sóc Trăng phủ sóng wifi" and a.province == "Sóc Trăng", a
        assert "345 điểm wifi công cộng miễn phí trong năm 2023." in a.text, a.text
    web = next(a for a in result.articles if a.id == "trang")
    assert (web.date, web.url) == ("2024-04-10", "https://baomoi.example/tin.html")
    assert [e.path.name for e in result.errors] == ["menu.htm"]
    assert "không có nội dung bài viết" in str(result.errors[0])
