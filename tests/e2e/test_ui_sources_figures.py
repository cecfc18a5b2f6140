"""Opening a source at its quote, and the figures tab's achieved/target filter and comparison (issue 15), in
Chromium against the real served app.

The corpus is the seeds plus two articles that restate a seed's indicator for another year or with another count
(Hậu Giang's DTI rank in 2022 beside 2021, Đồng Tháp's partly-online services), so the comparison has something
to compare. Screenshots land in test-artifacts/ui-sources-*.png.
"""
from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.support.browser import ANSWER_MS, app_page, open_tab
from tests.support.browser import ask_in_new_chat as ask
from tests.support.paths import ARTIFACTS
from tests.support.processes import AppServer, build_index, private_copy

pytestmark = [pytest.mark.timeout(900)]

DATA_ROWS = "#figures-table [role=row]:not([aria-rowindex='1'])"
HG_TITLE = "Hậu Giang tăng hạng chuyển đổi số năm 2022"
DT_TITLE = "Đồng Tháp mở rộng dịch vụ công trực tuyến"
# Markup in an article is text: it must show as written, never become an element.
MARKUP = "<b>thẻ HTML</b> <script>window.__pwned = 1</script>"
EXTRA = {
    "hau-giang-dti-2022.md": (
        f'---\ntitle: "{HG_TITLE}"\nprovince: "Hậu Giang"\ndate: 2023-04-10\nsource: "Báo Thử Nghiệm"\n---\n'
        f"{HG_TITLE}\n\n"
        "Tỉnh Hậu Giang tiếp tục đẩy mạnh chuyển đổi số trên cả ba trụ cột chính quyền số, kinh tế số và xã hội số.\n\n"
        "Các sở, ngành đã rà soát hạ tầng, dữ liệu và nhân lực để chuẩn bị cho giai đoạn mới của tỉnh.\n\n"
        "Năm 2022, chỉ số chuyển đổi số (DTI) của tỉnh Hậu Giang xếp hạng 9/63 tỉnh, thành phố, tăng 8 bậc so với "
        "năm 2021.\n\n"
        f"Ghi chú của tòa soạn: bài có đoạn mã {MARKUP} để thử, phải hiện nguyên văn.\n\n"
        "Tỉnh sẽ tiếp tục đào tạo cán bộ và hỗ trợ người dân dùng dịch vụ số trong những năm tới.\n"),
    "dong-thap-dvc-2023.md": (
        f'---\ntitle: "{DT_TITLE}"\nprovince: "Đồng Tháp"\ndate: 2023-07-01\n---\n'
        f"{DT_TITLE}\n\n"
        "Đến tháng 6 năm 2023, tỉnh Đồng Tháp đã cung cấp 250 dịch vụ công trực tuyến một phần trên Cổng dịch vụ "
        "công của tỉnh.\n\n"
        "Người dân có thể nộp hồ sơ tại nhà và theo dõi kết quả giải quyết trên điện thoại.\n"),
}


@pytest.fixture(scope="module")
def app(tmp_path_factory, subprocess_env):
    corpus, index = private_copy(tmp_path_factory, subprocess_env, "ui-sources")
    for name, text in EXTRA.items():
        (corpus / name).write_text(text, encoding="utf-8")
    build_index(corpus, index, subprocess_env)  # incremental: only the two new articles are embedded
    with AppServer(corpus, index, subprocess_env, tmp_path_factory.mktemp("ui-sources-logs")) as server:
        yield server


@pytest.fixture(scope="module")
def page(app):
    ARTIFACTS.mkdir(exist_ok=True)
    with app_page(app.url) as p:
        yield p


def shot(page, name: str, full: bool = False) -> None:
    page.screenshot(path=str(ARTIFACTS / f"ui-sources-{name}.png"), full_page=full)


def pick(page, box: str, option: str) -> None:
    page.locator(f"{box} input").click()
    page.get_by_role("option", name=option, exact=True).click()


def shown_count(page) -> int:
    return int(re.search(r"(\d+) /", page.locator("#fig-count").inner_text()).group(1))


def visible_in(page, inner: str, outer: str) -> bool:
    """Whether element `inner` lies inside the visible part of `outer` and of the window."""
    return page.evaluate("""([i, o]) => {
        const a = i.getBoundingClientRect(), b = o.getBoundingClientRect();
        return a.height > 0 && a.top >= b.top - 1 && a.bottom <= b.bottom + 1 && a.top >= 0 && a.bottom <= innerHeight;
    }""", [page.locator(inner).element_handle(), page.locator(outer).element_handle()])


# ---- a source opens the whole article at its quote --------------------------------------------------------------
def test_source_opens_the_whole_article_with_the_quote_marked_in_place(page):
    msg = ask(page, "Năm 2022 Hậu Giang xếp hạng DTI thứ mấy?")
    card = msg.locator(".src-card", has=page.locator(".src-head", has_text=HG_TITLE)).first
    expect(card).to_be_visible()
    details = card.locator("details.src-article")
    expect(details).to_have_count(1)
    summary = details.locator("summary")
    expect(summary).to_have_text("Xem toàn bài, tới câu được trích")
    box = details.locator(".article-full")
    expect(box).to_be_hidden()  # closed until asked for: the chat stays short
    summary.click()
    expect(box).to_be_visible()
    mark = box.locator("mark.in-article")
    expect(mark).to_have_count(1)
    quote = card.locator(".src-text .quote").inner_text()
    assert mark.inner_text() == quote and "9/63" in quote
    whole = box.inner_text()
    # The whole article, in order: its first paragraph before the quote, its last after it.
    assert whole.index("Tỉnh Hậu Giang tiếp tục") < whole.index(quote) < whole.index("Tỉnh sẽ tiếp tục đào tạo")
    # Articles are untrusted: their markup is shown as text, never made into elements or run.
    assert MARKUP in whole
    assert box.locator("b, script").count() == 0
    assert page.evaluate("window.__pwned") is None
    page.wait_for_timeout(300)
    sel = f"#{card.get_attribute('id')} mark.in-article"
    assert visible_in(page, sel, f"#{card.get_attribute('id')} .article-full"), "the quote is not scrolled into view"
    shot(page, "00-toan-bai-tai-cau-trich")
    assert not page.page_errors, page.page_errors


def test_long_article_opens_scrolled_to_a_quote_far_down(page):
    msg = ask(page, "Hậu Giang xếp hạng DTI thứ mấy năm 2021?")  # a long seed article, the rank in its middle
    card = msg.locator(".src-card:has(details.src-article mark.in-article)").first
    card_id = card.get_attribute("id")
    expect(card.locator(".src-head")).to_contain_text("Chuyển đổi số định hình tương lai")
    card.locator("summary").click()
    box = page.locator(f"#{card_id} .article-full")
    expect(box).to_be_visible()
    page.wait_for_timeout(300)
    height, client, top = box.evaluate("b => [b.scrollHeight, b.clientHeight, b.scrollTop]")
    offset = box.evaluate("b => b.querySelector('mark.in-article').offsetTop")
    assert height > 2 * client and offset > client, (height, client, offset)  # the quote starts below the fold
    assert top > 0, top  # so the box was scrolled to it, not left at the top
    assert visible_in(page, f"#{card_id} mark.in-article", f"#{card_id} .article-full")
    assert "17/63" in box.locator("mark.in-article").inner_text()
    assert box.inner_text().startswith("Chuyển đổi số định hình tương lai")  # from its first line
    shot(page, "01-bai-dai-cuon-toi-cau")


# ---- the figures tab: achieved / target ----------------------------------------------------------------------
def test_figures_filter_by_achieved_or_target_and_the_csv_follows(page):
    open_tab(page, "Số liệu")
    table = page.locator("#figures-table")
    expect(table).to_contain_text("12/63", timeout=ANSWER_MS)
    expect(page.locator("#figures-table [role=columnheader]").filter(has_text="Đạt / mục tiêu")).to_have_count(1)
    total = int(re.search(r"/ (\d+)", page.locator("#fig-count").inner_text()).group(1))
    pick(page, "#fig-status", "Mục tiêu")
    expect(page.locator("#fig-count")).to_contain_text("đang lọc", timeout=ANSWER_MS)
    page.wait_for_timeout(800)
    targets = shown_count(page)
    assert 0 < targets < total
    heads = page.locator("#figures-table [role=columnheader]").all_inner_texts()
    col = next(i for i, h in enumerate(heads) if "Đạt / mục tiêu" in h)
    rows = page.locator(DATA_ROWS)
    cells = [rows.nth(i).locator("[role=gridcell], td").nth(col).inner_text().strip() for i in range(rows.count())]
    assert cells and set(cells) == {"mục tiêu"}, cells
    shot(page, "02-loc-muc-tieu")

    pick(page, "#fig-province", "Tiền Giang")
    page.wait_for_timeout(800)
    shown = shown_count(page)
    assert 0 < shown <= targets
    with page.expect_download() as info:
        page.locator("#fig-download").click()
    name = info.value.suggested_filename
    assert re.fullmatch(r"so-lieu_tien-giang_moi-nam_muc-tieu_\d{4}-\d{2}-\d{2}\.csv", name), name
    records = list(csv.reader(io.StringIO(Path(info.value.path()).read_bytes().decode("utf-8-sig"))))
    head, body = records[0], records[1:]
    assert len(body) == shown
    assert {r[head.index("Đạt / mục tiêu")] for r in body} == {"mục tiêu"}
    assert {r[head.index("Tỉnh/thành")] for r in body} == {"Tiền Giang"}
    assert any(r[0] == "15%" for r in body)  # "mục tiêu … năm 2025 là 15% GRDP"

    pick(page, "#fig-status", "Đã đạt")
    page.wait_for_timeout(800)
    with page.expect_download() as info:
        page.locator("#fig-download").click()
    records = list(csv.reader(io.StringIO(Path(info.value.path()).read_bytes().decode("utf-8-sig"))))
    achieved = records[1:]
    assert len(achieved) == shown_count(page) > 0
    assert {r[records[0].index("Đạt / mục tiêu")] for r in achieved} == {"đã đạt"}
    assert any(r[0] == "8,59%" for r in achieved) and not any(r[0] == "15%" for r in achieved)
    assert "_da-dat_" in info.value.suggested_filename
    shot(page, "03-loc-da-dat-tien-giang")
    pick(page, "#fig-status", "Đã đạt và mục tiêu")
    pick(page, "#fig-province", "Tất cả tỉnh/thành")
    page.wait_for_timeout(800)
    assert shown_count(page) == total


# ---- the figures tab: the same indicator side by side --------------------------------------------------------
def group(page, province: str, label: str):
    return page.locator("#fig-compare .cmp-group").filter(
        has=page.locator(".cmp-head", has_text=f"{province} — {label}"))


def test_same_indicator_of_a_province_from_other_articles_or_years_side_by_side(page):
    open_tab(page, "Số liệu")
    compare = page.locator("#fig-compare")
    expect(compare.locator(".cmp-group").first).to_be_visible(timeout=ANSWER_MS)
    dti = group(page, "Hậu Giang", "thứ hạng DTI")
    expect(dti).to_have_count(1)
    cells = dti.locator(".cmp-cell")
    texts = cells.all_inner_texts()
    assert any("2021" in t and "17/63" in t for t in texts), texts
    assert any("2022" in t and "9/63" in t and HG_TITLE in t for t in texts), texts
    assert texts.index(next(t for t in texts if "2021" in t)) < texts.index(next(t for t in texts if "2022" in t))
    boxes = [cells.nth(i).bounding_box() for i in range(cells.count())]
    assert abs(boxes[0]["y"] - boxes[1]["y"]) < 2 and boxes[1]["x"] > boxes[0]["x"] + boxes[0]["width"] - 1, boxes
    assert dti.locator(".cmp-cell mark").first.inner_text() in texts[0]

    services = group(page, "Đồng Tháp", "dịch vụ công trực tuyến một phần")
    expect(services).to_have_count(1)
    stext = services.inner_text()
    assert "214 dịch vụ" in stext and "250 dịch vụ" in stext and DT_TITLE in stext, stext
    figures = services.locator(".cmp-fig").all_inner_texts()
    assert not any("763" in f for f in figures), figures  # "toàn trình" is another indicator
    # Only indicators stated more than once (another article or year) are shown.
    for g in compare.locator(".cmp-group").all():
        assert g.locator(".cmp-cell").count() >= 2
    dti.scroll_into_view_if_needed()
    shot(page, "04-so-sanh")

    pick(page, "#fig-province", "Hậu Giang")  # the comparison follows the filter like the table and the CSV
    expect(group(page, "Đồng Tháp", "dịch vụ công")).to_have_count(0, timeout=ANSWER_MS)
    expect(dti).to_have_count(1)
    heads = compare.locator(".cmp-head").all_inner_texts()
    assert heads and all(h.startswith("Hậu Giang — ") for h in heads), heads
    page.locator("#fig-compare-box").scroll_into_view_if_needed()
    shot(page, "05-so-sanh-hau-giang")
    pick(page, "#fig-province", "Tất cả tỉnh/thành")


def test_comparison_on_a_phone(page):
    page.set_viewport_size({"width": 390, "height": 844})
    try:
        open_tab(page, "Số liệu")
        dti = group(page, "Hậu Giang", "thứ hạng DTI")
        dti.scroll_into_view_if_needed()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 400, width  # the cells wrap instead of widening the page
        shot(page, "06-so-sanh-dien-thoai")
    finally:
        page.set_viewport_size({"width": 1366, "height": 900})
