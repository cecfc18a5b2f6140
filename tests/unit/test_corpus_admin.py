"""Adding articles from the UI: sanitized names, validation before anything is written, round trips."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from assistant.ingest.articles import ArticleError, load_article, load_corpus
from assistant.ingest.corpus_admin import (delete_article, pasted_article, safe_filename, save_article_bytes,
                                    save_pasted)

SAFE = re.compile(r"^[a-z0-9_-]+\.(md|txt|html|htm|pdf|docx)$")
ARTICLE = "Tiêu đề bài\nTỉnh Cà Mau có 4.321 điểm phát wifi miễn phí phục vụ chuyển đổi số.\n".encode()


def listing(folder: Path) -> list[str]:
    """Every entry under a folder, hidden ones included (a failed save must leave no temp file)."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.mark.parametrize("name, expected", [
    ("../../etc/passwd", "passwd.md"),
    ("..\\..\\x.md", "x.md"),
    ("/abs/path/bài viết.txt", "bai-viet.txt"),
    ("Đồng Tháp chuyển đổi số.md", "dong-thap-chuyen-doi-so.md"),
    ("  Bến Tre: kinh tế số (2023).TXT", "ben-tre-kinh-te-so-2023.txt"),
    ("báo cáo.pdf", "bao-cao.pdf"),  # read through ingest/converters.py
    ("bảng tính.xlsx", "bang-tinh.md"),
    ("", "bai-viet.md"),
    ("..", "bai-viet.md"),
    ("../", "bai-viet.md"),
    ("年报.md", "bai-viet.md"),
    (".hidden.md", "hidden.md"),
])
def test_safe_filename(name, expected):
    got = safe_filename(name)
    assert got == expected
    assert SAFE.match(got) and "/" not in got and ".." not in got


@pytest.mark.parametrize("name", [".md", "....txt", ".", "...", "-", "~", "\x00.md", "a\x00b.md", "CON.md",
                                  "a/b/../../c.md", "c:\\windows\\x.txt", "\u202eevil\u202dtxt.md"])
def test_odd_names_still_give_a_plain_file_name(name):
    assert SAFE.match(safe_filename(name)), safe_filename(name)


def test_safe_filename_is_bounded_and_never_hidden():
    got = safe_filename("ấ" * 500 + ".md")
    assert SAFE.match(got) and len(got) <= 80 + len(".md")
    assert not safe_filename("-_.md").startswith((".", "-"))


def test_save_article_bytes_stays_inside_the_corpus(tmp_path):
    corpus = tmp_path / "corpus"
    target, art = save_article_bytes(corpus, "../../etc/passwd.txt", ARTICLE, 10_000)
    assert target.parent == corpus and target.name == "passwd.txt"
    assert target.read_bytes() == ARTICLE
    assert art.title == "Tiêu đề bài" and art.province == "Cà Mau" and art.id == "passwd"
    assert listing(tmp_path) == ["corpus", "corpus/passwd.txt"]


def test_same_name_twice_gets_a_new_file(tmp_path):
    a, _ = save_article_bytes(tmp_path, "bài.md", ARTICLE, 10_000)
    b, _ = save_article_bytes(tmp_path, "bai.txt", ARTICLE, 10_000)  # same stem: ids must stay unique
    assert a.name == "bai.md" and b.name == "bai-2.txt"
    assert a.read_bytes() == b.read_bytes() == ARTICLE


@pytest.mark.parametrize("data, reason", [
    (b"", "rỗng"),
    (b"  \n\t\n", "rỗng"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200), "nhị phân"),
    ("Tiêu đề\nNội dung bài viết đủ dài để không bị coi là trống.".encode("utf-16"), "nhị phân"),
    (b"Ti\xeau ch\xed ph\xe1t tri\xean kinh t\xea s\xf4 n\xe0m 2023, l\xfcu b\xe0ng Latin-1", "UTF-8"),
    (b"x" * 2001, "quá lớn"),
    ("---\ntitle: [unclosed\n---\nNội dung bài viết khá dài ở đây.".encode(), "YAML"),
    ("ngắn".encode(), "không có nội dung"),
])
def test_bad_uploads_are_refused_and_nothing_is_written(tmp_path, data, reason):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "keep.md").write_bytes(ARTICLE)
    before = listing(tmp_path)
    with pytest.raises(ArticleError) as info:
        save_article_bytes(corpus, "tệp tải lên.md", data, 2000)
    assert reason in info.value.reason
    assert "tep-tai-len.md" in str(info.value)  # the message names the file
    assert listing(tmp_path) == before


def test_pasted_article_round_trips_through_load_article(tmp_path):
    title = 'Kế hoạch 12/2023: "chuyển đổi số" # không phải chú thích: có dấu hai chấm'
    text = "Tỉnh Cà Mau có 4.321 điểm phát wifi miễn phí phục vụ chuyển đổi số.\n\nĐoạn thứ hai của bài."
    target, art = save_pasted(tmp_path, title=title, text=f"  {text}\n\n", province="Cà Mau", date="2024-05-02",
                              source="Báo Cà Mau", url="https://baocamau.vn/bai-viet")
    assert target.parent == tmp_path and SAFE.match(target.name)
    assert target.name == "ke-hoach-12-2023-chuyen-doi-so-khong-phai-chu-thich-co-dau-hai-cham.md"
    loaded = load_article(target)
    for a in (art, loaded):
        assert a.title == title
        assert a.province == "Cà Mau"
        assert a.date == "2024-05-02"
        assert a.source == "Báo Cà Mau" and a.url == "https://baocamau.vn/bai-viet"
        assert "4.321 điểm phát wifi" in a.text and "Đoạn thứ hai" in a.text
        assert a.inferred == ()
    assert load_corpus(tmp_path).errors == []


def test_pasted_article_without_optional_fields_infers_the_province(tmp_path):
    target, art = save_pasted(tmp_path, title="Wifi miễn phí", text="Tỉnh Cà Mau có 4.321 điểm phát wifi miễn phí.")
    loaded = load_article(target)
    assert loaded.title == "Wifi miễn phí" and loaded.province == "Cà Mau" and loaded.date == ""
    assert b"date" not in target.read_bytes() and b"url" not in target.read_bytes()


def test_front_matter_cannot_be_injected_through_the_title(tmp_path):
    title = "Tin\n---\nprovince: Hà Nội\nurl: javascript:alert(1)"
    data = pasted_article(title, "Nội dung bài viết về chuyển đổi số ở Cà Mau.", province="Cà Mau")
    target, art = save_article_bytes(tmp_path, "tin.md", data, 10_000)
    assert art.province == "Cà Mau" and art.url == ""
    assert load_article(target).province == "Cà Mau"


@pytest.mark.parametrize("title, text, reason", [("", "nội dung", "tiêu đề"), ("   ", "nội dung", "tiêu đề"),
                                                 ("Tiêu đề", "", "trống"), ("Tiêu đề", " \n ", "trống")])
def test_pasted_needs_title_and_text(tmp_path, title, text, reason):
    with pytest.raises(ArticleError) as info:
        save_pasted(tmp_path, title=title, text=text)
    assert reason in info.value.reason
    assert listing(tmp_path) == []


def test_pasted_oversize_or_bad_date_is_refused_without_writing(tmp_path):
    with pytest.raises(ArticleError, match="quá lớn"):
        save_pasted(tmp_path, title="Dài", text="chuyển đổi số " * 1000, max_bytes=1000)
    with pytest.raises(ArticleError, match="date"):
        save_pasted(tmp_path, title="Ngày sai", text="Nội dung bài viết về chuyển đổi số.", date="26/10/2023")
    assert listing(tmp_path) == []


def test_delete_article_only_inside_the_corpus(tmp_path):
    corpus = tmp_path / "corpus"
    target, art = save_pasted(corpus, title="Xóa tôi", text="Nội dung bài viết về chuyển đổi số.")
    outside = tmp_path / "secret.md"
    outside.write_text("bí mật", encoding="utf-8")
    with pytest.raises(FileNotFoundError):
        delete_article(corpus, "../secret")
    assert outside.exists()
    with pytest.raises(FileNotFoundError):
        delete_article(corpus, "khong-co")
    assert delete_article(corpus, art.id) == target and not target.exists()
