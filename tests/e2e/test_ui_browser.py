"""The browser chat, end to end: Playwright drives Debian chromium against the real app (one server, one page).

The tests run in file order and share one page, like an official working through the app:
ask → follow-up → no answer → fact-check → figures → add articles (indexed on add) and rebuild → escaping,
and at the end: no request ever left 127.0.0.1. A screenshot of each step lands in test-artifacts/.
Each answer message carries its own sources (`#chatbot .answer .msg-sources`) and the badges of the figures
that answer ("có trong câu trích dẫn"); tests/e2e/test_ui_chat.py and test_ui_articles.py go deeper into both.
"""
from __future__ import annotations

import csv
import io
import re
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.support.browser import ANSWER_MS, chromium
from tests.support.paths import ARTIFACTS
from tests.support.processes import AppServer, private_copy

pytestmark = [pytest.mark.timeout(900)]  # the first test also pays for the index build and the app start


FIRST_ANSWER_MS = 150_000  # the first question may wait for the model to load on a busy machine
REBUILD_MS = 240_000

DT_QUESTION = "Đồng Tháp có bao nhiêu dịch vụ công trực tuyến một phần?"
DT_TITLE = "Đồng Tháp: Tạo giá trị mới từ chuyển đổi số"
CAMAU_TITLE = "Cà Mau phủ sóng wifi miễn phí"
CAMAU_TEXT = ("Tỉnh Cà Mau có 4.321 điểm phát wifi miễn phí phục vụ chuyển đổi số.\n"
              "Các điểm phát wifi được lắp đặt tại trụ sở xã, trường học, chợ và bến xe trên địa bàn tỉnh.")
UPLOAD_NAME = "Bạc Liêu chữ ký số.txt"
UPLOAD_TEXT = ("Bạc Liêu đẩy mạnh chữ ký số cho người dân\n"
               "Trong năm 2023, tỉnh Bạc Liêu đã cấp 6.789 chữ ký số cá nhân cho người dân để làm thủ tục trực tuyến.\n"
               "Sở Thông tin và Truyền thông tiếp tục hướng dẫn người dân sử dụng chữ ký số trên điện thoại.\n")
EVIL_TITLE = "Kiên Giang <script>window.__pwned=1</script> lắp trạm sạc"
EVIL_TEXT = ("Tỉnh Kiên Giang đã lắp đặt 57 trạm sạc xe điện công cộng trên các tuyến quốc lộ. "
             "<script>window.__pwned=1</script>\n"
             "Người dân xem bản đồ trạm sạc [bấm vào đây](http://evil.example) để biết thêm chi tiết.\n"
             "Trạm sạc xe điện công cộng giúp giảm phát thải, gắn chuyển đổi xanh với chuyển đổi số.")


class UI:
    """The shared page, the app behind it and every URL the page requested."""

    def __init__(self, page, app: AppServer, requests: list[str], page_errors: list[str]):
        self.page, self.app, self.requests, self.page_errors = page, app, requests, page_errors


@pytest.fixture(scope="module")
def app(tmp_path_factory, subprocess_env):
    """The real app on a free port, over a private copy of the seed index plus an article with HTML in it."""
    from assistant.ingest.corpus_admin import save_pasted

    corpus, index = private_copy(tmp_path_factory, subprocess_env, "browser")
    # Lands in the corpus now; the index update after the first article added through the UI indexes it.
    save_pasted(corpus, title=EVIL_TITLE, province="Kiên Giang", date="2024-03-01", text=EVIL_TEXT)
    with AppServer(corpus, index, subprocess_env, tmp_path_factory.mktemp("browser-logs")) as server:
        yield server
        ARTIFACTS.mkdir(exist_ok=True)
        shutil.copyfile(server.log_path, ARTIFACTS / "app-browser.log")


@pytest.fixture(scope="module")
def ui(app):
    ARTIFACTS.mkdir(exist_ok=True)
    for old in ARTIFACTS.glob("*.png"):
        old.unlink()
    requests: list[str] = []
    page_errors: list[str] = []
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1400, "height": 950}, locale="vi-VN", accept_downloads=True)
        page = context.new_page()
        page.on("request", lambda r: requests.append(r.url))
        page.on("pageerror", lambda e: page_errors.append(str(e)))
        page.set_default_timeout(30_000)
        page.goto(app.url)
        page.wait_for_selector("#question textarea")
        yield UI(page, app, requests, page_errors)
        context.close()


# ---- helpers ------------------------------------------------------------------------------------

def shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def open_tab(page, label: str) -> None:
    page.get_by_role("tab", name=label, exact=True).click()


FINAL = "#chatbot .answer:has(.msg-actions)"  # a finished answer message (a failure is a .notice, no actions)


def ask(ui: UI, question: str, timeout: float = ANSWER_MS):
    """Type a question, press "Hỏi", wait for its finished answer message; returns that message (`.answer`),
    which holds the answer's text, its badges and its own sources."""
    page = ui.page
    open_tab(page, "Hỏi đáp")
    before = page.locator(FINAL).count()
    page.fill("#question textarea", question)
    page.click("#ask-btn")
    try:
        expect(page.locator(FINAL)).to_have_count(before + 1, timeout=timeout)
    except AssertionError:
        raise AssertionError(f"no answer to {question!r} within {timeout / 1000:.0f} s\n{ui.app.log_tail()}") from None
    return page.locator(FINAL).last


def card_titled(page, title: str, panel: str = f"{FINAL} >> nth=-1"):
    """The source cards titled `title`: of the last answer message by default, or of another panel."""
    return page.locator(panel).locator(".src-card").filter(has=page.locator(".src-head", has_text=title))


# ---- the steps ----------------------------------------------------------------------------------

def test_ask_seeded_question_shows_cited_answer_source_and_badge(ui):
    page = ui.page
    expect(page.locator("#status")).to_contain_text("5 bài viết", timeout=FIRST_ANSWER_MS)
    shot(page, "00-trang-dau")
    bot = ask(ui, DT_QUESTION, timeout=FIRST_ANSWER_MS)
    expect(bot).to_contain_text("214")
    expect(bot).to_contain_text("[1]")
    card = card_titled(page, DT_TITLE)
    expect(card).to_have_count(1)
    expect(card.locator(".src-meta")).to_contain_text("Đồng Tháp")
    expect(card.locator(".quote")).to_contain_text("214 dịch vụ công trực tuyến một phần")  # the quoted sentence
    expect(card.locator("mark.fig")).to_contain_text("214")  # the answering figure inside it
    badge = bot.locator(".figures .badge.ok", has_text="214")
    expect(badge).to_have_attribute("title", "có trong câu trích dẫn")
    expect(page.locator("#question textarea")).to_have_value("")  # ready for the next question
    shot(page, "01-hoi-dap-tra-loi")


def test_follow_up_question_uses_the_conversation(ui):
    page = ui.page
    page.get_by_role("button", name="Cuộc hội thoại mới").click()
    expect(page.locator('#chatbot [data-testid="bot"]')).to_have_count(0)
    expect(page.locator("#chatbot .src-card")).to_have_count(0)
    bot = ask(ui, "Tiền Giang đặt mục tiêu năng suất lao động tăng bao nhiêu mỗi năm?")
    expect(bot).to_contain_text("7%")
    expect(card_titled(page, "Bắt nhịp kinh tế số")).not_to_have_count(0)

    bot = ask(ui, "Còn Bến Tre thì sao?")
    expect(page.locator('#chatbot [data-testid="user"]')).to_have_count(2)  # the history stays on screen
    expect(bot).to_contain_text("7%")
    expect(bot).to_contain_text("[1]")
    first = bot.locator(".msg-sources .src-card").first
    expect(first.locator(".src-head")).to_contain_text("Bến Tre thúc đẩy kinh tế số")
    expect(first.locator(".quote")).to_contain_text("năng suất lao động")
    # the publisher link of the article's front matter, opened safely
    link = first.locator(".src-meta a")
    expect(link).to_have_attribute("href", "https://kinhtevadubao.vn")
    expect(link).to_have_attribute("rel", re.compile("noopener"))
    shot(page, "02-hoi-tiep-ben-tre")


def test_unanswerable_question_says_not_found_with_nearest_sources(ui):
    page = ui.page
    bot = ask(ui, "Đà Nẵng xếp hạng bao nhiêu về chỉ số DTI?")
    expect(bot).to_contain_text("Không tìm thấy")
    nearest = bot.locator(".msg-sources")
    expect(nearest.locator(".src-title")).to_contain_text("Các đoạn gần nhất")  # said not to answer
    expect(nearest.locator(".src-card")).not_to_have_count(0)  # the nearest passages
    expect(bot.locator(".badge")).to_have_count(0)  # no figure is asserted
    expect(bot.locator("mark.fig")).to_have_count(0)
    shot(page, "03-khong-tim-thay")


def test_fact_check_shows_the_mismatch_and_the_source_figure(ui):
    page = ui.page
    open_tab(page, "Kiểm chứng")
    page.fill("#claim textarea", "Đồng Tháp có 763 dịch vụ công trực tuyến một phần")
    page.click("#check-btn")
    verdict = page.locator("#verdict textarea")
    expect(verdict).to_have_value(re.compile(r"\S"), timeout=ANSWER_MS)
    value = verdict.input_value()
    assert "Không khớp" in value and "KHÁC" in value, value
    assert "214" in value, value
    table = page.locator("#verdict-sources .verdict-table")
    expect(table.locator(".badge.bad")).to_contain_text("khác với nguồn")
    expect(table).to_contain_text("214 dịch vụ")
    expect(page.locator("#verdict-sources .badge.ok")).to_have_count(0)  # no green "✓ 763" beside "✗ 763"
    card = card_titled(page, DT_TITLE, "#verdict-sources")
    expect(card).not_to_have_count(0)
    expect(card.first.locator(".src-text")).to_contain_text("214 dịch vụ công trực tuyến một phần")
    shot(page, "04-kiem-chung")


def test_figures_tab_filters_without_diacritics_and_downloads_csv(ui):
    page = ui.page
    open_tab(page, "Số liệu")
    table = page.locator("#figures-table")
    expect(table).to_contain_text("12/63", timeout=ANSWER_MS)
    assert table.get_by_role("row").count() > 10  # the header plus many figures (the grid renders a window)
    shot(page, "05-so-lieu")

    search = page.get_by_label("Tìm trong câu (không cần dấu)")
    search.fill("thue bao")
    search.press("Enter")
    expect(table).not_to_contain_text("12/63", timeout=ANSWER_MS)
    expect(table).to_contain_text("2.212.325 thuê bao")
    rows = table.get_by_role("row").all_inner_texts()[1:]
    assert rows and all("thuê bao" in r for r in rows), rows
    shot(page, "06-so-lieu-loc-thue-bao")

    with page.expect_download() as info:
        page.get_by_role("button", name="Tải CSV").click()
    download = info.value
    assert download.suggested_filename.endswith(".csv")
    data = Path(download.path()).read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")  # BOM: Excel opens Vietnamese correctly
    records = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    header = records[0]
    assert header[0].startswith("Số liệu") and "Câu trong bài" in header, header
    prov = header.index("Tỉnh/thành")
    assert any(r[0] == "2.212.325 thuê bao" and r[prov] == "Tiền Giang" for r in records[1:]), records[:3]
    assert not any("8,59%" == r[0] for r in records[1:])  # the download is the filtered view


def test_add_articles_by_paste_and_upload_are_indexed_at_once_then_rebuild_and_ask(ui, tmp_path):
    page = ui.page
    open_tab(page, "Bài viết")
    expect(page.locator("#articles-table")).to_contain_text(DT_TITLE)
    log = page.locator("#admin-log textarea")

    # paste
    page.fill("#paste-title textarea", CAMAU_TITLE)
    province = page.locator("#paste-province input")
    expect(province).to_have_value("")  # no province preselected behind the user's back
    province.fill("Cà Mau")
    province.press("Enter")
    page.fill("#paste-date textarea", "2024-05-02")
    page.fill("#paste-text textarea", CAMAU_TEXT)
    page.click("#add-paste-btn")
    expect(log).to_have_value(re.compile("Chỉ mục đã cập nhật"), timeout=REBUILD_MS)  # indexed on add
    pasted = log.input_value()
    assert "Đã thêm" in pasted and CAMAU_TITLE in pasted, pasted
    assert re.search(r"thêm [1-9]", pasted) and "lỗi 0" in pasted, pasted  # Cà Mau (and the Kiên Giang file)
    shot(page, "07-them-bai-dan")

    # upload: a Vietnamese file name with spaces is stored under a sanitized name
    upload = tmp_path / UPLOAD_NAME
    upload.write_text(UPLOAD_TEXT, encoding="utf-8")
    page.locator("#upload input[type=file]").set_input_files(str(upload))
    expect(page.locator("#upload")).to_contain_text(".txt")  # the upload reached the server
    page.click("#add-files-btn")
    expect(log).to_have_value(re.compile(r"✓ Bạc Liêu chữ ký số\.txt → bac-lieu-chu-ky-so\.txt"),
                              timeout=REBUILD_MS)
    expect(log).to_have_value(re.compile("Chỉ mục đã cập nhật"), timeout=REBUILD_MS)
    uploaded = log.input_value()
    assert re.search(r"thêm 1\b", uploaded) and "lỗi 0" in uploaded, uploaded
    shot(page, "08-tai-tep-len")

    # Everything is indexed already: the rebuild button finds nothing to add.
    page.click("#rebuild-btn")
    expect(log).to_have_value(re.compile("Xong"), timeout=REBUILD_MS)
    summary = log.input_value()
    assert re.search(r"thêm 0\b", summary) and "lỗi 0" in summary, summary
    articles = page.locator("#articles-table")
    expect(articles).to_contain_text(CAMAU_TITLE)
    expect(articles).to_contain_text("Bạc Liêu đẩy mạnh chữ ký số cho người dân")
    expect(page.locator("#status")).to_contain_text("8 bài viết")
    shot(page, "09-xay-dung-lai-xong")

    bot = ask(ui, "Cà Mau có bao nhiêu điểm phát wifi miễn phí?")
    expect(bot).to_contain_text("4.321")
    expect(bot).to_contain_text("[1]")
    card = card_titled(page, CAMAU_TITLE)
    expect(card.locator("mark.fig")).to_contain_text("4.321")
    expect(card.locator(".src-meta")).to_contain_text("Cà Mau")
    expect(bot.locator(".figures .badge.ok", has_text="4.321")).to_have_count(1)
    shot(page, "10-tra-loi-tu-bai-moi")

    bot = ask(ui, "Bạc Liêu đã cấp bao nhiêu chữ ký số cá nhân?")
    expect(bot).to_contain_text("6.789")
    expect(card_titled(page, "Bạc Liêu đẩy mạnh chữ ký số")).not_to_have_count(0)


def test_article_html_and_links_are_shown_as_text(ui):
    page = ui.page
    open_tab(page, "Bài viết")
    if "Kiên Giang" not in page.locator("#articles-table").inner_text():  # the previous test did not rebuild
        page.click("#rebuild-btn")
        expect(page.locator("#admin-log textarea")).to_have_value(re.compile("Xong"), timeout=REBUILD_MS)
    bot = ask(ui, "Kiên Giang đã lắp đặt bao nhiêu trạm sạc xe điện công cộng?")
    expect(bot).to_contain_text("57")
    assert "&lt;" not in bot.inner_text() and "&amp;" not in bot.inner_text()
    card = bot.locator(".msg-sources .src-card").filter(has_text="trạm sạc").first
    expect(card.locator(".src-head")).to_contain_text("<script>window.__pwned=1</script>")
    expect(card.locator(".src-text")).to_contain_text("<script>window.__pwned=1</script>")
    expect(card.locator(".src-text")).to_contain_text("[bấm vào đây](http://evil.example)")
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.locator("a[href*='evil.example']").count() == 0
    assert page.locator("#chatbot script, #verdict-sources script").count() == 0
    shot(page, "11-bai-co-ma-html")

    question = 'Kiên Giang <img src=x onerror="window.__pwned2=1"> có bao nhiêu trạm sạc?'
    ask(ui, question)
    user = page.locator('#chatbot [data-testid="user"]').last
    expect(user).to_contain_text('<img src=x onerror="window.__pwned2=1">')
    assert "&lt;" not in user.inner_text() and "&quot;" not in user.inner_text()  # escaped once, not twice
    assert page.locator("#chatbot img[src='x']").count() == 0
    page.wait_for_timeout(300)  # an onerror handler would have fired by now
    assert page.evaluate("typeof window.__pwned2") == "undefined"
    shot(page, "12-cau-hoi-co-ma-html")


def test_small_screen_layout(ui):
    """Not an assertion about looks: a phone-sized screenshot for the human review."""
    page = ui.page
    open_tab(page, "Hỏi đáp")
    page.set_viewport_size({"width": 390, "height": 844})
    expect(page.locator("#ask-btn")).to_be_visible()
    shot(page, "13-man-hinh-nho")
    page.set_viewport_size({"width": 1400, "height": 950})


def test_no_request_left_the_machine(ui):
    local = f"http://127.0.0.1:{ui.app.port}/"
    assert ui.requests, "the recorder saw nothing"
    outside = sorted({u for u in ui.requests if not u.startswith((local, "data:", "blob:"))})
    assert outside == [], outside
    assert ui.page_errors == [], ui.page_errors
