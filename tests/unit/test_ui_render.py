"""The HTML of the chat UI: everything from articles and questions is text, quotes are marked exactly."""
from __future__ import annotations

from html.parser import HTMLParser

import pytest

from assistant.types import Answer, Citation, ClaimCheck, FigureCheck, Retrieved
from assistant.app.ui.render import (claims_table, esc, figure_badges, highlighted_passage, safe_url, source_card,
                                 sources_html, status_html)

SCRIPT = "<script>window.__pwned=1</script>"
IMG = '<img src=x onerror="alert(1)">'
MD_LINK = "[bấm vào đây](http://evil.example)"


class Tags(HTMLParser):
    """Every start tag with its attributes, and the visible text."""

    def __init__(self, markup: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(markup)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)

    def names(self) -> set[str]:
        return {t for t, _ in self.tags}

    def visible(self) -> str:
        return "".join(self.text)


def marks(markup: str) -> list[str]:
    out: list[str] = []
    buf: list[str] = []
    state = {"in": False}

    class P(HTMLParser):
        def handle_starttag(self, tag, attrs):
            if tag == "mark":
                state["in"] = True
                buf.clear()

        def handle_endtag(self, tag):
            if tag == "mark":
                state["in"] = False
                out.append("".join(buf))

        def handle_data(self, data):
            if state["in"]:
                buf.append(data)

    p = P(convert_charrefs=True)
    p.feed(markup)
    p.close()
    return out


def cite(**kw) -> Citation:
    base = dict(n=1, article_id="a1", chunk_id="a1:0", title="Tiêu đề", province="Bến Tre", date="2023-10-26",
                url="https://nld.com.vn/bai-viet.htm", quote="Câu trích.", text="Mở đầu. Câu trích. Kết thúc.",
                source="Báo Người Lao Động")
    base.update(kw)
    return Citation(**base)


# ---- escaping -----------------------------------------------------------------------------------

def test_esc_escapes_markup_and_quotes():
    assert esc('<a href="x">&\'') == "&lt;a href=&quot;x&quot;&gt;&amp;&#x27;"
    assert esc(ValueError("<b>")) == "&lt;b&gt;"


@pytest.mark.parametrize("field", ["title", "province", "date", "source"])
def test_card_metadata_is_text(field):
    value = f"x{SCRIPT}{IMG}"
    html = source_card(cite(**{field: value}, url=""))
    tags = Tags(html)
    assert not {"script", "img"} & tags.names()
    assert value in tags.visible()


def test_article_id_stands_in_for_a_missing_title_and_chunk_id_stays_an_attribute():
    html = source_card(cite(article_id=f"id{SCRIPT}", title="", chunk_id=f'c"{IMG}'))
    tags = Tags(html)
    assert not {"script", "img"} & tags.names()
    assert f"id{SCRIPT}" in tags.visible()
    assert tags.tags[0][1]["data-chunk"] == f'c"{IMG}'


def test_quote_and_passage_are_text_and_markdown_links_stay_literal():
    text = f"Mở đầu {SCRIPT}. Xem {MD_LINK} nhé. Tỉnh có 57 trạm sạc {IMG}."
    quote = f"Tỉnh có 57 trạm sạc {IMG}."
    c = cite(text=text, quote=quote, quote_start=text.index(quote), quote_end=len(text), url="")
    html = source_card(c)
    tags = Tags(html)
    assert tags.names() <= {"div", "span", "mark"}
    assert SCRIPT in tags.visible() and MD_LINK in tags.visible() and IMG in tags.visible()
    assert marks(html) == [quote]


def test_publisher_link_is_escaped_and_safe():
    c = cite(url='https://example.vn/a?b=1&c="x"><script>', source="<i>Báo</i>")
    html = source_card(c)
    links = [a for t, a in Tags(html).tags if t == "a"]
    assert len(links) == 1
    assert links[0]["href"] == 'https://example.vn/a?b=1&c="x"><script>'  # one attribute, nothing breaks out
    assert links[0]["rel"] == "noopener noreferrer nofollow" and links[0]["target"] == "_blank"
    assert "script" not in Tags(html).names() and "<i>Báo</i>" in Tags(html).visible()


@pytest.mark.parametrize("url", ["javascript:alert(1)", "JavaScript:alert(1)", " javascript:alert(1)",
                                 "data:text/html,<script>alert(1)</script>", "vbscript:x", "//evil.example/x",
                                 "evil.example", "http://", "file:///etc/passwd", "http://[::1"])
def test_unsafe_urls_are_not_linked(url):
    assert safe_url(url) is None
    html = source_card(cite(url=url, source=""))
    assert "a" not in Tags(html).names()
    assert all(url.strip() not in (v or "") for _, attrs in Tags(html).tags for v in attrs.values())


def test_http_and_https_urls_are_linked():
    assert safe_url("http://baodongthap.vn/x") == "http://baodongthap.vn/x"
    assert safe_url("  https://nld.com.vn/y  ") == "https://nld.com.vn/y"
    html = source_card(cite(url="https://kinhtevadubao.vn", source=""))
    assert [a["href"] for t, a in Tags(html).tags if t == "a"] == ["https://kinhtevadubao.vn"]
    assert "kinhtevadubao.vn" in Tags(html).visible()  # the host stands in for a missing publisher name


def test_figure_badges_claims_status_are_escaped():
    a = Answer("q", "a", False, figures=[FigureCheck(f"5{SCRIPT}", 5.0, "%", True, 1),
                                         FigureCheck(IMG, 1.0, "", False, None)],
               claims=[ClaimCheck(f"763 {SCRIPT}", "khác", f"214 {IMG}", 1), ClaimCheck("1", "<b>lạ</b>")])
    for html in (figure_badges(a), claims_table(a), status_html(1, 2, f"hôm nay {SCRIPT}", f"cảnh báo {IMG}")):
        assert not {"script", "img", "b"} & Tags(html).names(), html
    assert "✓" in figure_badges(a) and "chưa kiểm chứng" in figure_badges(a)
    assert "khác với nguồn" in claims_table(a) and "&lt;b&gt;lạ&lt;/b&gt;" in claims_table(a)


def test_sources_html_escapes_notice_and_fallback_and_nearest():
    fallback = Answer("q", f"trích {SCRIPT}", False, citations=[cite(title=SCRIPT)])
    a = Answer("q", "x", True, notice=f"lỗi {IMG}", fallback=fallback,
               retrieved=[Retrieved("c1", "a1", 0.5, f"gần {SCRIPT}", title=f"T {IMG}", province="Huế")])
    html = sources_html(a)
    tags = Tags(html)
    assert not {"script", "img"} & tags.names()
    assert "Không tìm thấy" in tags.visible()
    assert f"gần {SCRIPT}" in tags.visible() and f"T {IMG}" in tags.visible()  # the nearest passage
    assert f"trích {SCRIPT}" in tags.visible()


def test_fact_check_shows_verdicts_not_figure_badges():
    a = Answer("q", "Không khớp với nguồn. 763 dịch vụ: KHÁC — nguồn ghi 214 dịch vụ [1].", False, kind="factcheck",
               citations=[cite()], figures=[FigureCheck("763 dịch vụ", 763.0, "dịch vụ", True, 1)],
               claims=[ClaimCheck("763 dịch vụ", "khác", "214 dịch vụ", 1)])
    html = sources_html(a)
    assert "khác với nguồn" in html and "verdict-table" in html
    assert "đã kiểm chứng" not in html  # no green badge for the very figure the verdict rejects
    a.claims = []
    assert "đã kiểm chứng" in sources_html(a)


def test_sources_html_placeholder_and_cards_in_order():
    assert "empty-state" in sources_html(None)
    a = Answer("q", "x [1] [2]", False, citations=[cite(n=1, title="Một"), cite(n=2, title="Hai")])
    html = sources_html(a)
    assert html.count('class="src-card"') == 2 and html.index("Một") < html.index("Hai")


# ---- the highlighted quote ----------------------------------------------------------------------

def test_highlight_uses_the_offsets_for_the_exact_occurrence():
    text = "Tỉnh có 80%. Mục tiêu khác. Tỉnh có 80%."
    quote = "Tỉnh có 80%."
    second = text.rindex(quote)
    html = highlighted_passage(cite(text=text, quote=quote, quote_start=second, quote_end=second + len(quote)))
    assert marks(html) == [quote]
    assert html.index("<mark>") > html.index("Mục tiêu khác")  # the second occurrence, as located


def test_highlight_finds_the_quote_when_offsets_are_missing_or_stale():
    text = "Một. Hai có 214 dịch vụ. Ba."
    quote = "Hai có 214 dịch vụ."
    for s, e in ((-1, -1), (0, 3), (5, 999)):
        html = highlighted_passage(cite(text=text, quote=quote, quote_start=s, quote_end=e))
        assert marks(html) == [quote]
        assert Tags(html).visible() == text  # nothing lost or added around the mark


def test_no_mark_when_the_quote_is_not_in_the_passage_or_empty():
    text = "Một <b>hai</b> ba."
    for quote in ("không có ở đây", ""):
        html = highlighted_passage(cite(text=text, quote=quote, quote_start=-1, quote_end=-1))
        assert "<mark>" not in html
        assert Tags(html).visible() == text and "b" not in Tags(html).names()


def test_marked_quote_with_markup_is_escaped_inside_the_mark():
    text = f"Trước. Có {SCRIPT} ở đây. Sau."
    quote = f"Có {SCRIPT} ở đây."
    html = highlighted_passage(cite(text=text, quote=quote, quote_start=text.index(quote),
                                    quote_end=text.index(quote) + len(quote)))
    assert marks(html) == [quote]
    assert "script" not in Tags(html).names()


# ---- the whole article behind a source ("Xem toàn bài") ------------------------------------------------------------
from assistant.app.ui.article_view import ArticleText, citation_key, locate_quote  # noqa: E402
from assistant.app.ui.render import answer_message, compare_html, full_article  # noqa: E402

ARTICLE = f"Tiêu đề\n\nMở đầu {SCRIPT}. Câu trích. Kết thúc {IMG}. Câu trích."


def test_quote_is_found_at_the_chunk_offset_then_by_nearest_occurrence():
    c = cite(text="Câu trích. Kết thúc.", quote="Câu trích.", quote_start=0, quote_end=10)
    first = ARTICLE.index("Câu trích.")
    assert locate_quote(ARTICLE, first, c) == (first, first + 10)
    last = ARTICLE.rindex("Câu trích.")
    assert locate_quote(ARTICLE, last, c) == (last, last + 10)  # the second occurrence, where the chunk is
    stale = cite(quote="Câu trích.", quote_start=3, quote_end=13)  # offsets from an older index
    assert locate_quote(ARTICLE, last - 2, stale) == (last, last + 10)
    assert locate_quote(ARTICLE, 0, cite(quote="không có trong bài")) == (-1, -1)
    assert locate_quote(ARTICLE, 0, cite(quote="")) == (-1, -1)


def test_whole_article_is_escaped_and_marks_the_quote_in_place():
    s = ARTICLE.rindex("Câu trích.")
    html_ = full_article(ArticleText("a1", ARTICLE, s, s + 10))
    tags = Tags(html_)
    assert tags.names() == {"details", "summary", "div", "mark"}  # no script or img from the article
    assert tags.visible().count(SCRIPT) == 1 and IMG in tags.visible()
    assert marks(html_) == ["Câu trích."]
    assert html_.index("<mark") > html_.index(esc(IMG))  # the second occurrence, not the first
    assert "<details class=\"src-article\">" in html_ and " open" not in html_


def test_whole_article_without_a_located_quote_has_no_mark():
    html_ = full_article(ArticleText("a1", ARTICLE, -1, -1))
    assert marks(html_) == [] and "không định vị được" in html_


def test_answer_message_puts_each_article_on_its_own_source():
    c1 = cite(n=1, quote="Câu trích.", text="Câu trích. Kết thúc.", quote_start=0, quote_end=10)
    c2 = cite(n=2, chunk_id="b:0", article_id="b", title="Khác", quote="Khác.", text="Khác.")
    a = Answer("q", "Câu trích. [1] Khác. [2]", False, citations=[c1, c2])
    s = ARTICLE.index("Câu trích.")
    html_ = answer_message(a, "m1", [], {citation_key(c1): ArticleText("a1", ARTICLE, s, s + 10)})
    assert html_.count('class="src-article"') == 1  # b's article is gone from the catalog: its card stays plain
    first_card = html_[html_.index('id="m1-s1"'):html_.index('id="m1-s2"')]
    assert "src-article" in first_card and SCRIPT not in html_


# ---- the figures tab's comparison ---------------------------------------------------------------------------------
def test_comparison_cells_are_escaped_text_with_the_figure_marked():
    from assistant.app.ui.figure_table import CompareGroup, FigureRow

    rows = tuple(FigureRow(fig, 9.0, "thứ hạng", f"Năm {y}, tỉnh xếp hạng {fig} tỉnh {SCRIPT}.", "Hậu Giang",
                           f"Bài {IMG}", f"{y}-05-01", f"a{y}") for fig, y in (("hạng 17/63", 2021), ("hạng 9/63", 2022)))
    html_ = compare_html([CompareGroup("Hậu Giang", "thứ hạng DTI · tỉnh", rows)])
    tags = Tags(html_)
    assert tags.names() <= {"div", "span", "mark"}
    assert marks(html_) == ["hạng 17/63", "hạng 9/63"]
    assert SCRIPT in tags.visible() and IMG in tags.visible()
    assert html_.index("2021") < html_.index("2022")
    assert "Không có chỉ số nào" in compare_html([])
