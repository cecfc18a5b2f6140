"""The real browser for the e2e tests: Debian chromium driven by Playwright (never `playwright install`).

>>> CHROMIUM
'/usr/bin/chromium'
"""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from playwright.sync_api import Browser, Page, expect, sync_playwright

CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run"]
WARM_MS = 240_000  # the model loads and the warm-up question runs on a busy 2-core machine
ANSWER_MS = 90_000  # hand-set: an answer takes ~0.1-3 s here; 90 s means the app hung
ACTION_MS = 30_000  # Playwright's wait for a click or a selector


@contextmanager
def chromium() -> Iterator[Browser]:
    """A launched headless chromium; a missing browser is an error, not a skip (./test.sh installs it)."""
    if not Path(CHROMIUM).exists():
        raise FileNotFoundError(f"{CHROMIUM} is missing: ./test.sh installs Debian's chromium")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def app_page(url: str, *, width: int = 1366, height: int = 900, wait_warm: bool = True,
             **context: Any) -> Iterator[Page]:
    """A page on the served app, in Vietnamese, its JS errors in `page.page_errors`, after the warm-up notice."""
    with chromium() as browser:
        ctx = browser.new_context(viewport={"width": width, "height": height}, locale="vi-VN", accept_downloads=True,
                                  **context)
        page = ctx.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.page_errors = errors
        page.set_default_timeout(ACTION_MS)
        page.goto(url)
        page.wait_for_selector("#question textarea")
        if wait_warm:
            expect(page.locator("#warm-notice")).to_have_text("", timeout=WARM_MS)
        try:
            yield page
        finally:
            ctx.close()


def open_tab(page: Page, label: str) -> None:
    """Click the app's tab of that label."""
    page.get_by_role("tab", name=label, exact=True).click()


def ask_in_new_chat(page: Page, question: str, *, timeout: int = ANSWER_MS):
    """Ask `question` in a new conversation of the chat tab; returns the answer's locator once it is complete.

    "Cuộc hội thoại mới" is clicked only when there is a conversation to clear, and its result (the chat
    emptied) is waited for.
    """
    open_tab(page, "Hỏi đáp")
    answers = page.locator("#chatbot .answer")
    if answers.count():
        page.get_by_role("button", name="Cuộc hội thoại mới").click()
        expect(answers).to_have_count(0)
    box = page.locator("#question textarea")
    box.fill(question)
    expect(box).to_have_value(question)
    page.click("#ask-btn")
    done = page.locator("#chatbot .answer:not(:has(.empty-state))")  # the answer, or a notice instead of one
    expect(done).to_have_count(1, timeout=timeout)
    return done
