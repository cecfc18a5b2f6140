"""The chat as officials and journalists use it, in Chromium against the real served app (issue 15).

Citations stay with their answer ([n] of an earlier answer reaches that answer's source), the reset clears
everything, a follow-up says how it was understood, "copy with sources" gives plain text, only the answering
figure is badged and highlighted, the page is Vietnamese in a Vietnamese and an English browser, the first answer
after start is about as fast as the next, the phone layout reaches every tab, and a flagged LLM answer shows
which figure failed beside the extractive answer. Screenshots land in test-artifacts/ui-chat-*.png.
"""
from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.support.browser import ANSWER_MS, WARM_MS, chromium
from tests.support.paths import ARTIFACTS
from tests.support.processes import AppServer, private_copy

pytestmark = [pytest.mark.timeout(900)]

DT_QUESTION = "Đồng Tháp có bao nhiêu dịch vụ công trực tuyến một phần?"
DT_TITLE = "Đồng Tháp: Tạo giá trị mới từ chuyển đổi số"
HG_QUESTION = "Hậu Giang xếp hạng DTI thứ mấy năm 2021?"
TG_QUESTION = "Tiền Giang đặt mục tiêu năng suất lao động tăng bao nhiêu mỗi năm?"
# English strings Gradio shows by itself (issue 15's list); none may be visible or in a tooltip/label.
ENGLISH = ["Drop File Here", "Click to Upload", "Use via API", "Copy message", "Copy table data", "Fullscreen",
           "Dataframe", "More tabs", "chatbot conversation", "Clear", "Built with Gradio", "Loading", "File upload",
           "bot's message", "Copy conversation", "common.", "Remove this file"]


@pytest.fixture(scope="module")
def app(tmp_path_factory, subprocess_env):
    corpus, index = private_copy(tmp_path_factory, subprocess_env, "ui-chat")
    with AppServer(corpus, index, subprocess_env, tmp_path_factory.mktemp("ui-chat-logs")) as server:
        yield server


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


@pytest.fixture(scope="module")
def page(app, browser):
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="vi-VN")
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=app.url.rstrip("/"))
    p = context.new_page()
    errors: list[str] = []
    p.on("pageerror", lambda e: errors.append(str(e)))
    p.set_default_timeout(30_000)
    p.goto(app.url)
    p.wait_for_selector("#question textarea")
    p.page_errors = errors
    yield p
    context.close()


def shot(page, name: str, full: bool = True) -> None:
    page.screenshot(path=str(ARTIFACTS / f"ui-chat-{name}.png"), full_page=full)


def answers(page):
    return page.locator("#chatbot .answer:has(.answer-text)")


def ask(page, question: str, timeout: float = ANSWER_MS) -> float:
    """Type, send, wait until this answer (with its own sources or notice) is in the chat; seconds taken."""
    before = answers(page).count()
    page.fill("#question textarea", question)
    t = time.perf_counter()
    page.click("#ask-btn")
    expect(answers(page)).to_have_count(before + 1, timeout=timeout)
    return time.perf_counter() - t


def test_warm_up_notice_then_first_answer_about_as_fast_as_the_next(page, app):
    notice = page.locator("#warm-notice")
    if notice.inner_text().strip():  # the model may have loaded before the page opened
        expect(notice).to_contain_text("Đang nạp mô hình")
        shot(page, "00-dang-nap", full=False)
    expect(notice).to_have_text("", timeout=WARM_MS)
    first = ask(page, DT_QUESTION)
    second = ask(page, HG_QUESTION)
    third = ask(page, TG_QUESTION)
    shot(page, "01-ba-cau-tra-loi")
    # The first question pays no model, index or sentence loading on top of the answer itself (+9 s before).
    assert first <= 1.5 * max(second, third) + 2.0, (first, second, third)


def test_each_answer_keeps_its_own_sources_and_its_cite_reaches_them(page):
    msgs = answers(page)
    expect(msgs).to_have_count(3)
    first, second = msgs.nth(0), msgs.nth(1)
    expect(first.locator(".msg-sources .src-card .src-head")).to_contain_text([DT_TITLE])
    expect(msgs.nth(2).locator(".msg-sources .src-card").first).to_contain_text("Tiền Giang")
    # The earlier answer's [1] still points at the earlier answer's source, inside that message.
    cite = first.locator("a.cite").first
    target = cite.get_attribute("href").lstrip("#")
    card = page.locator(f"[id='{target}']")
    expect(card).to_have_count(1)
    assert first.locator(f"[id='{target}']").count() == 1
    expect(card.locator(".src-head")).to_contain_text(DT_TITLE)
    assert cite.get_attribute("title")  # a preview of the quote on hover
    cite.click()
    expect(card).to_have_class(re.compile(r"\bflash\b"))
    expect(card).to_be_in_viewport(timeout=5_000)  # in view, also after the chat scrolls itself back down
    shot(page, "02-bam-trich-dan-cau-truoc", full=False)


def test_only_the_answering_figures_are_badged_and_highlighted(page, app):
    """The badges are the figures the answer stage says answer (as `/ask` reports them), each once, never the
    other numbers of the quote; each is highlighted inside the quote."""
    from gradio_client import Client

    result = Client(app.url, verbose=False).predict(DT_QUESTION, api_name="/ask")
    figures = result["figures"]
    answering = {f["text"] for f in figures if f.get("answers")} or {"214 dịch vụ"}  # no flags: the UI's own rule
    others = {f["text"] for f in figures} - answering
    first = answers(page).nth(0)
    badges = first.locator(".figures .badge")
    expect(badges).to_have_count(len(answering))
    texts = badges.all_inner_texts()
    assert all("có trong câu trích dẫn" in t for t in texts), texts
    assert {t.split(" [")[0].lstrip("✓ ").strip() for t in texts} == answering, (texts, answering)
    assert not any(o in t for t in texts for o in others if not any(o in a for a in answering)), (texts, others)
    marks = first.locator(".src-card mark.fig").all_inner_texts()
    assert marks and set(marks) <= answering, (marks, answering)
    assert first.locator(".src-card .quote").count() == 1  # the quote in place, the figure inside it


def test_copy_with_sources_is_plain_text_with_title_and_link(page):
    first = answers(page).nth(0)
    first.locator("button.copy-src").click()
    expect(first.locator("button.copy-src")).to_have_class(re.compile(r"\bdone\b"))
    copied = page.evaluate("window.__lastCopied")
    assert "Nguồn:" in copied and f"[1] {DT_TITLE}" in copied, copied
    assert "<" not in copied and "214 dịch vụ công trực tuyến một phần" in copied
    try:
        clip = page.evaluate("navigator.clipboard.readText()")
    except Exception:  # noqa: BLE001 - headless clipboard access varies; the copied text is checked above
        clip = copied
    assert clip == copied


def test_follow_up_says_how_it_was_understood(page):
    ask(page, "Còn Bến Tre thì sao?")
    last = answers(page).last
    understood = last.locator(".understood")
    expect(understood).to_contain_text("Đã hiểu là:")
    expect(understood).to_contain_text("Bến Tre")
    expect(understood).to_contain_text("năng suất lao động")
    expect(last.locator(".src-card").first).to_contain_text("Bến Tre")
    shot(page, "03-hoi-tiep-da-hieu-la")


def test_new_chat_clears_messages_sources_and_follow_up_state(page):
    page.get_by_role("button", name="Cuộc hội thoại mới").click()
    expect(page.locator("#chatbot .src-card")).to_have_count(0)
    expect(page.locator('#chatbot [data-testid="bot"]')).to_have_count(0)
    ask(page, "Còn Bến Tre thì sao?")  # with no history, nothing to resolve against
    expect(answers(page).last.locator(".understood")).to_have_count(0)
    # The chatbot's own trash icon resets the same way.
    ask(page, TG_QUESTION)
    page.locator("#chatbot button[aria-label='Xóa']").first.click()
    expect(page.locator("#chatbot .src-card")).to_have_count(0)
    ask(page, "Còn Bến Tre thì sao?")
    expect(answers(page).last.locator(".understood")).to_have_count(0)
    shot(page, "04-sau-khi-xoa-hoi-thoai")


def test_example_questions_are_short_whole_and_sent_on_click(page):
    page.get_by_role("button", name="Cuộc hội thoại mới").click()
    examples = page.locator("#examples button")
    assert examples.count() >= 3
    for text in examples.all_inner_texts():
        assert "…" not in text and len(text) <= 60, text
    examples.nth(2).click()
    expect(answers(page)).to_have_count(1, timeout=ANSWER_MS)
    expect(page.locator('#chatbot [data-testid="user"]')).to_contain_text(examples.nth(2).inner_text())


@pytest.mark.parametrize("locale", ["vi-VN", "en-US"])
def test_page_is_vietnamese_in_a_vietnamese_and_an_english_browser(app, browser, locale):
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale=locale)
    p = context.new_page()
    p.goto(app.url)
    p.wait_for_selector("#question textarea")
    p.wait_for_timeout(1500)
    try:
        assert p.evaluate("document.documentElement.lang") == "vi"
        for tab in ("Hỏi đáp", "Kiểm chứng", "Số liệu", "Bài viết"):
            p.get_by_role("tab", name=tab, exact=True).click()
            p.wait_for_timeout(600)
            text = p.evaluate("document.body.innerText")
            attrs = p.evaluate("[...document.querySelectorAll('[title],[aria-label],[placeholder]')]"
                               ".filter(e => !e.closest('.answer'))"
                               ".map(e => ['title','aria-label','placeholder'].map(a => e.getAttribute(a) || '').join(' '))")
            found = [w for w in ENGLISH if w in text or any(w in a for a in attrs)]
            assert found == [], (tab, found)
        assert p.locator("text=Use via API").count() == 0
        expect(p.locator("#api-note")).to_contain_text("api_name=\"/ask\"")
        p.get_by_role("tab", name="Bài viết", exact=True).click()
        p.screenshot(path=str(ARTIFACTS / f"ui-chat-05-tieng-viet-{locale}.png"), full_page=False)
    finally:
        context.close()


def test_phone_layout_reaches_every_tab_with_sources_after_the_answer(app, browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="vi-VN", is_mobile=True,
                                  has_touch=True, device_scale_factor=2)
    p = context.new_page()
    try:
        p.goto(app.url)
        p.wait_for_selector("#question textarea")
        box = p.locator("#question textarea").bounding_box()
        assert box and box["y"] + box["height"] <= 844, box  # the input is on the first screen, near the bottom
        assert box["y"] > 844 / 2, box
        shot(p, "06-dien-thoai-hoi-dap", full=False)
        p.fill("#question textarea", DT_QUESTION)
        p.click("#ask-btn")
        msg = p.locator("#chatbot .answer:has(.answer-text)")
        expect(msg).to_have_count(1, timeout=ANSWER_MS)
        text_box = msg.locator(".answer-text").bounding_box()
        src_box = msg.locator(".src-card").first.bounding_box()
        assert text_box and src_box and src_box["y"] > text_box["y"]  # right after that answer, in the chat
        shot(p, "07-dien-thoai-tra-loi", full=False)
        for tab in ("Kiểm chứng", "Số liệu", "Bài viết", "Hỏi đáp"):
            t = p.get_by_role("tab", name=tab, exact=True)
            expect(t).to_be_visible()  # not hidden behind "⋯"
            t.click()
            expect(t).to_have_attribute("aria-selected", "true")
        p.get_by_role("tab", name="Số liệu", exact=True).click()
        p.wait_for_timeout(800)
        shot(p, "08-dien-thoai-so-lieu", full=False)
    finally:
        context.close()


def test_no_page_errors(page):
    assert page.page_errors == []


# --- a flagged LLM answer -----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def llm_app(tmp_path_factory, subprocess_env):
    from tests.support.llm_server import FakeLLMServer

    corpus, index = private_copy(tmp_path_factory, subprocess_env, "ui-chat-llm")
    with FakeLLMServer() as llm:
        env = {**subprocess_env, "ASSISTANT_BACKEND": "openai", "ASSISTANT_LLM_BASE_URL": llm.url,
               "ASSISTANT_LLM_MODEL": "invent", "ASSISTANT_LLM_API_KEY": "test"}
        with AppServer(corpus, index, env, tmp_path_factory.mktemp("ui-chat-llm-logs")) as server:
            yield server


def test_flagged_llm_answer_names_the_failed_figure_beside_the_extractive_answer(llm_app, browser):
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="vi-VN")
    p = context.new_page()
    try:
        p.goto(llm_app.url)
        p.wait_for_selector("#question textarea")
        p.fill("#question textarea", DT_QUESTION)
        p.click("#ask-btn")
        msg = p.locator("#chatbot .answer:has(.answer-text)")
        expect(msg.locator(".failed")).to_have_count(1, timeout=WARM_MS)
        failed = msg.locator(".failed")
        expect(failed).to_contain_text("9.876")
        expect(failed).to_contain_text("không có trong nguồn")
        fallback = msg.locator(".fallback")
        expect(fallback).to_contain_text("Câu trả lời trích nguyên văn")
        expect(fallback).to_contain_text("214")
        expect(msg.locator(".figures .badge.ok")).to_have_count(0)  # no green badge on a failed answer
        shot(p, "09-llm-bi-gan-co")
    finally:
        context.close()
