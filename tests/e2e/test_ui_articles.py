"""The figures tab and article management, in Chromium against the real served app (issue 15).

Figures: more than 5 readable rows on a 900 px screen, filtered while typing with a row count, by province and
year, the CSV named for the filter and holding exactly the rows shown. Articles: delete with a confirmation
naming the title → gone from answers → restore → answered again, both in the audit log (file and tab); uploads
of a saved web page, a PDF and a Word file (made here with libraries) become answerable; bad files get a clear
Vietnamese message and change nothing in the corpus. Screenshots land in test-artifacts/ui-articles-*.png.
"""
from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.support.documents import docx_file, fake_docx, html_page, navigation_only_page, pdf_scanned, pdf_with_text
from tests.support.browser import ANSWER_MS, app_page, ask_in_new_chat, open_tab
from tests.support.paths import ARTIFACTS
from tests.support.processes import AppServer, private_copy

pytestmark = [pytest.mark.timeout(1200)]

REBUILD_MS = 240_000
DATA_ROWS = "#figures-table [role=row]:not([aria-rowindex='1'])"  # the grid renders a window of rows
DT_QUESTION = "Đồng Tháp có bao nhiêu dịch vụ công trực tuyến một phần?"
DT_TITLE = "Đồng Tháp: Tạo giá trị mới từ chuyển đổi số"

NEW = {  # one article per format, each with a figure no seed has
    "html": ("Sóc Trăng phủ sóng wifi công cộng",
             ["Tỉnh Sóc Trăng đã đưa vào vận hành 345 điểm wifi công cộng miễn phí trong năm 2023.",
              "Các điểm wifi được lắp tại trụ sở ủy ban nhân dân xã và nhà văn hóa ấp trên địa bàn tỉnh."],
             "Sóc Trăng có bao nhiêu điểm wifi công cộng miễn phí?", "345"),
    "pdf": ("Bạc Liêu cấp chữ ký số cho người dân",
            ["Trong năm 2023, tỉnh Bạc Liêu đã cấp 6.789 chữ ký số cá nhân cho người dân để làm thủ tục trực tuyến.",
             "Sở Thông tin và Truyền thông tiếp tục hướng dẫn người dân dùng chữ ký số trên điện thoại."],
            "Bạc Liêu đã cấp bao nhiêu chữ ký số cá nhân?", "6.789"),
    "docx": ("Kiên Giang lắp trạm sạc xe điện",
             ["Tỉnh Kiên Giang đã lắp đặt 57 trạm sạc xe điện công cộng trên các tuyến quốc lộ trong năm 2024.",
              "Trạm sạc xe điện công cộng giúp giảm phát thải, gắn chuyển đổi xanh với chuyển đổi số."],
             "Kiên Giang đã lắp đặt bao nhiêu trạm sạc xe điện công cộng?", "57"),
}


@pytest.fixture(scope="module")
def app(tmp_path_factory, subprocess_env):
    corpus, index = private_copy(tmp_path_factory, subprocess_env, "ui-articles")
    with AppServer(corpus, index, subprocess_env, tmp_path_factory.mktemp("ui-articles-logs")) as server:
        yield server


@pytest.fixture(scope="module")
def page(app):
    ARTIFACTS.mkdir(exist_ok=True)
    with app_page(app.url) as p:
        yield p


def shot(page, name: str, full: bool = True) -> None:
    page.screenshot(path=str(ARTIFACTS / f"ui-articles-{name}.png"), full_page=full)


def corpus_state(corpus: Path) -> dict[str, bytes]:
    """Every article file of the corpus (the trash and the audit log are not articles)."""
    return {p.name: p.read_bytes() for p in corpus.iterdir() if p.is_file() and not p.name.startswith(".")}


def ask(page, question: str):
    done = ask_in_new_chat(page, question)
    assert done.locator(".answer-text").count() == 1, done.inner_text()
    return done


def admin_log(page):
    return page.locator("#admin-log textarea")


def upload(page, files: list[tuple[str, bytes]], name: str = ""):
    """Upload `files` (name, bytes) — or, with none, what the file input already holds (`name`) — and add them."""
    open_tab(page, "Bài viết")
    if files:
        payload = [{"name": n, "mimeType": "application/octet-stream", "buffer": b} for n, b in files]
        page.locator("#upload input[type=file]").set_input_files(payload)
    names = [n for n, _ in files] or [name]
    for n in names:  # the component shows "ten-tep .pdf"
        expect(page.locator("#upload")).to_contain_text(Path(Path(n).name).stem[:10], timeout=120_000)
    page.click("#add-files-btn")
    last = re.escape(names[-1])
    expect(admin_log(page)).to_have_value(
        re.compile(rf"[✓✗] {last}(.|\n)*(Chỉ mục đã cập nhật|Không có bài nào được thêm)"), timeout=REBUILD_MS)
    return admin_log(page).input_value()


# ---- figures ------------------------------------------------------------------------------------------------
def test_figures_tab_is_readable_and_filters_while_typing(page):
    open_tab(page, "Số liệu")
    table = page.locator("#figures-table")
    expect(table).to_contain_text("12/63", timeout=ANSWER_MS)
    count = page.locator("#fig-count")
    expect(count).to_contain_text("số liệu")
    total = int(re.search(r"/ (\d+)", count.inner_text()).group(1))
    page.locator("#fig-count").scroll_into_view_if_needed()
    page.evaluate("document.querySelector('#fig-count').scrollIntoView({block: 'start'})")
    visible = page.evaluate(f"""() => [...document.querySelectorAll({DATA_ROWS!r})].filter(r => {{
        const b = r.getBoundingClientRect(); return b.height > 0 && b.top >= 0 && b.bottom <= innerHeight; }}).length""")
    assert visible > 5, visible
    heights = page.evaluate(f"[...document.querySelectorAll({DATA_ROWS!r})].slice(0, 8)"
                            ".map(r => r.getBoundingClientRect().height)")
    assert max(heights) < 120, heights  # no row one character wide
    shot(page, "00-so-lieu", full=False)

    search = page.get_by_label("Tìm trong câu (không cần dấu)")
    search.press_sequentially("thue bao", delay=40)  # no Enter
    expect(table).not_to_contain_text("12/63", timeout=ANSWER_MS)
    expect(table).to_contain_text("2.212.325 thuê bao")
    expect(count).to_contain_text("đang lọc")
    # The filter runs while typing: "thue" (thuế) shows more rows until the event for "thue bao", the last one
    # (trigger_mode="always_last"), has rendered; wait for that state rather than read a passing one.
    page.wait_for_function(f"""() => {{
        const rows = [...document.querySelectorAll({DATA_ROWS!r})];
        const m = (document.querySelector('#fig-count')?.innerText || '').match(/(\\d+) \\//);
        return rows.length > 0 && m && rows.length == +m[1] && rows.every(r => r.innerText.includes('thuê bao'));
    }}""", timeout=ANSWER_MS)
    shown = int(re.search(r"(\d+) /", count.inner_text()).group(1))
    assert 0 < shown < total
    rows = page.locator(DATA_ROWS).all_inner_texts()
    assert len(rows) == shown and all("thuê bao" in r for r in rows), rows
    shot(page, "01-loc-khi-go", full=False)


def test_csv_is_named_for_the_filter_and_holds_exactly_the_rows_shown(page):
    page.get_by_label("Tìm trong câu (không cần dấu)").fill("")
    province = page.locator("#fig-province input")
    province.click()
    page.get_by_role("option", name="Tiền Giang", exact=True).click()
    year = page.locator("#fig-year input")
    year.click()
    page.get_by_role("option", name="2021", exact=True).click()
    count = page.locator("#fig-count")
    expect(count).to_contain_text("đang lọc", timeout=ANSWER_MS)
    page.wait_for_timeout(800)
    shown = int(re.search(r"(\d+) /", count.inner_text()).group(1))
    table_rows = page.locator(DATA_ROWS).all_inner_texts()
    assert shown == len(table_rows) > 0
    with page.expect_download() as info:
        page.locator("#fig-download").click()
    download = info.value
    assert re.fullmatch(r"so-lieu_tien-giang_2021_\d{4}-\d{2}-\d{2}\.csv", download.suggested_filename), \
        download.suggested_filename
    data = Path(download.path()).read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    records = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    head, body = records[0], records[1:]
    assert head[:2] == ["Số liệu (như trong bài)", "Giá trị (số)"]
    assert len(body) == shown
    assert all(r[head.index("Tỉnh/thành")] == "Tiền Giang" and r[head.index("Năm")] == "2021" for r in body), body
    share = next(r for r in body if r[0] == "8,59%")
    assert share[1] == "8,59"  # a Vietnamese-locale spreadsheet reads it as a number
    assert "8,59% GRDP" in share[head.index("Câu trong bài")]
    shot(page, "02-loc-tinh-nam", full=False)


# ---- delete, restore, audit -----------------------------------------------------------------------------------
def test_delete_asks_with_the_title_then_trash_restore_and_audit(page, app):
    assert "214" in ask(page, DT_QUESTION).inner_text()
    open_tab(page, "Bài viết")
    remove = page.locator("#remove-id input")
    remove.click()
    page.get_by_role("option", name=re.compile(re.escape(DT_TITLE))).click()
    page.click("#remove-btn")
    confirm = page.locator("#confirm-text")
    expect(confirm).to_contain_text(f"Xóa bài “{DT_TITLE}”?")
    shot(page, "03-xac-nhan-xoa", full=False)
    before = corpus_state(app.corpus)
    page.click("#cancel-delete")  # cancelling deletes nothing
    expect(admin_log(page)).to_have_value(re.compile("Đã hủy"))
    assert corpus_state(app.corpus) == before

    page.click("#remove-btn")
    page.click("#confirm-delete")
    expect(admin_log(page)).to_have_value(re.compile("vào thùng rác(.|\n)*Chỉ mục đã cập nhật"), timeout=REBUILD_MS)
    expect(page.locator("#articles-table")).not_to_contain_text(DT_TITLE)
    trashed = list((app.corpus / ".trash").iterdir())
    assert len(trashed) == 1
    shot(page, "04-da-xoa")

    gone = ask(page, DT_QUESTION)
    assert "214 dịch vụ" not in gone.inner_text()
    assert DT_TITLE not in gone.inner_text()

    open_tab(page, "Bài viết")
    page.locator("#trash-list input").click()
    page.get_by_role("option", name=re.compile(re.escape(trashed[0].name.split("--", 1)[1]))).click()
    page.click("#restore-btn")
    expect(admin_log(page)).to_have_value(re.compile("Đã khôi phục(.|\n)*Chỉ mục đã cập nhật"), timeout=REBUILD_MS)
    expect(page.locator("#articles-table")).to_contain_text(DT_TITLE)
    back = ask(page, DT_QUESTION)
    assert "214" in back.inner_text()

    open_tab(page, "Bài viết")
    audit = page.locator("#audit-log")
    expect(audit).to_contain_text("xóa bài (vào thùng rác)")
    expect(audit).to_contain_text("khôi phục bài")
    log = [json.loads(x) for x in (app.corpus / ".audit.jsonl").read_text(encoding="utf-8").splitlines()]
    actions = [e["action"] for e in log]
    assert "xoa" in actions and "khoi-phuc" in actions and actions.index("xoa") < actions.index("khoi-phuc")
    assert next(e for e in log if e["action"] == "xoa")["title"] == DT_TITLE
    assert all(re.match(r"\d{4}-\d{2}-\d{2}T", e["time"]) for e in log)
    shot(page, "05-khoi-phuc-va-nhat-ky")


def test_restoring_onto_a_taken_name_is_refused_and_changes_nothing(page, app):
    open_tab(page, "Bài viết")
    page.locator("#remove-id input").click()
    page.get_by_role("option", name=re.compile("Bến Tre thúc đẩy kinh tế số")).click()
    page.click("#remove-btn")
    page.click("#confirm-delete")
    expect(admin_log(page)).to_have_value(re.compile("Đã chuyển “Bến Tre(.|\n)*Chỉ mục đã cập nhật"),
                                          timeout=REBUILD_MS)
    [entry] = list((app.corpus / ".trash").iterdir())  # the previous test restored its article
    original = entry.name.split("--", 1)[1]
    (app.corpus / original).write_text("Bài khác cùng tên\nMột bài khác đã lấy tên tệp này trong lúc bài cũ "
                                       "nằm trong thùng rác, với nội dung đủ dài.\n", encoding="utf-8")
    before = corpus_state(app.corpus)
    page.locator("#trash-list input").click()
    page.get_by_role("option", name=re.compile(re.escape(original))).click()
    page.click("#restore-btn")
    expect(admin_log(page)).to_have_value(re.compile("không khôi phục được"))
    assert "cùng tên" in admin_log(page).input_value()
    assert corpus_state(app.corpus) == before and entry.exists()
    shot(page, "06-khoi-phuc-trung-ten", full=False)
    (app.corpus / original).unlink()  # leave the corpus as the other tests expect it
    page.locator("#trash-list input").click()
    page.get_by_role("option", name=re.compile(re.escape(original))).click()
    page.click("#restore-btn")
    expect(admin_log(page)).to_have_value(re.compile("Đã khôi phục(.|\n)*Chỉ mục đã cập nhật"), timeout=REBUILD_MS)


# ---- uploads --------------------------------------------------------------------------------------------------
def test_uploaded_html_pdf_and_docx_become_answerable(page, app):
    files = [("Sóc Trăng wifi.html", html_page(NEW["html"][0], NEW["html"][1])),
             ("bac-lieu-chu-ky-so.pdf", pdf_with_text(NEW["pdf"][0], NEW["pdf"][1])),
             ("Kiên Giang trạm sạc.docx", docx_file(NEW["docx"][0], NEW["docx"][1]))]
    log = upload(page, files)
    assert log.count("✓") == 3, log
    assert "thêm 3" in log, log
    for _, (title, _, _, _) in NEW.items():
        expect(page.locator("#articles-table")).to_contain_text(title)
    shot(page, "07-tai-len-html-pdf-docx")
    for kind, (title, _, question, figure) in NEW.items():
        msg = ask(page, question)
        expect(msg.locator(".answer-text")).to_contain_text(figure)
        expect(msg.locator(".src-card").first.locator(".src-head")).to_contain_text(title)
        if kind == "html":  # the page's metadata came with it
            expect(msg.locator(".src-card").first.locator(".src-meta")).to_contain_text("Báo Thử Nghiệm")
    shot(page, "08-tra-loi-tu-tep-moi")


@pytest.mark.parametrize("name, data, reason", [
    ("chi-co-menu.html", navigation_only_page(), "không có nội dung bài viết"),
    ("ban-quet.pdf", pdf_scanned(), "không có lớp chữ"),
    ("gia-mao.docx", fake_docx(), "không phải tài liệu Word hợp lệ"),
    ("qua-lon.txt", b"a" * (50 * 1024 * 1024), "tệp quá lớn"),
    ("bang-tinh.xlsx", b"PK\x03\x04 not an article", "không được hỗ trợ"),
    ("../../thoat-ra.md", "Bài thoát ra ngoài\nNội dung có vẻ bình thường của một bài viết thử.\n".encode(),
     "chứa thư mục hoặc '..'"),
], ids=["html-menu", "pdf-scan", "docx-fake", "50MB", "xlsx", "dotdot"])
def test_bad_uploads_get_a_vietnamese_reason_and_change_nothing(page, app, tmp_path, name, data, reason):
    before = corpus_state(app.corpus)
    if len(data) > 40_000_000:  # Playwright passes big files by path only
        big = tmp_path / name
        big.write_bytes(data)
        open_tab(page, "Bài viết")
        page.locator("#upload input[type=file]").set_input_files(str(big))
        log = upload(page, [], name)
    else:
        log = upload(page, [(name, data)])
    assert f"✗ {name}" in log and reason in log, log
    assert "Không có bài nào được thêm; thư mục bài viết không thay đổi." in log
    assert corpus_state(app.corpus) == before
    assert not (app.corpus.parent / "thoat-ra.md").exists()
    if name.endswith(".pdf"):
        shot(page, "09-tep-loi", full=False)
