"""An answer as one chat message (render.answer_message) and the figures that answer (Service.answering_figures)."""
from __future__ import annotations

import re

from assistant.app.service import Service
from assistant.app.ui.render import answer_message, copy_text
from assistant.types import Answer, Citation, FigureCheck

QUOTE = ("Hệ thống đã tích hợp 763 dịch vụ công trực tuyến toàn trình (chiếm 47,54%); "
         "214 dịch vụ công trực tuyến một phần (chiếm 13,33%).")
CHUNK = "Mở đầu đoạn văn. " + QUOTE + " Câu sau <script>x</script>."


def dt_answer(question="Đồng Tháp có bao nhiêu dịch vụ công trực tuyến một phần?") -> Answer:
    c = Citation(1, "dong-thap", "dong-thap:0", "Đồng Tháp: Tạo giá trị mới", "Đồng Tháp", "2023-10-02",
                 "https://baodongthap.vn/a.html", QUOTE, CHUNK, source="Báo Đồng Tháp",
                 quote_start=CHUNK.index(QUOTE), quote_end=CHUNK.index(QUOTE) + len(QUOTE))
    figs = [FigureCheck("763 dịch vụ", 763, "dịch vụ", True, 1, "763 dịch vụ"),
            FigureCheck("47,54%", 47.54, "%", True, 1, "47,54%"),
            FigureCheck("214 dịch vụ", 214, "dịch vụ", True, 1, "214 dịch vụ"),
            FigureCheck("13,33%", 13.33, "%", True, 1, "13,33%")]
    return Answer(question, QUOTE + " [1]", False, citations=[c], figures=figs)


def test_answering_figures_picks_the_asked_one_of_several_of_the_same_kind():
    assert Service.answering_figures(dt_answer()) == [2]
    share = dt_answer("Dịch vụ công trực tuyến một phần của Đồng Tháp chiếm bao nhiêu phần trăm?")
    assert Service.answering_figures(share) == [3]
    assert Service.answering_figures(dt_answer("Ai ký kế hoạch chuyển đổi số của Đồng Tháp?")) == []


def test_answering_figures_trusts_the_answer_stage_when_it_marks_them():
    a = dt_answer()
    if not hasattr(a.figures[0], "answers"):
        return  # an answer stage without the flag: the UI's own rule (above) decides
    a.figures[0].answers = True
    assert Service.answering_figures(a) == [0]


def test_message_links_cites_to_its_own_sources_and_badges_only_the_answer():
    html = answer_message(dt_answer(), "m1", [2])
    assert re.search(r'<a class="cite" href="#m1-s1" title="[^"]+">\[1\]</a>', html)
    assert 'id="m1-s1"' in html and "Nguồn của câu trả lời này" in html
    assert html.count('class="badge ok"') == 1 and "214 dịch vụ [1] — có trong câu trích dẫn" in html
    assert '<mark class="fig">214 dịch vụ</mark>' in html and html.count("<mark") == 1
    assert '<span class="quote">' in html
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_follow_up_shows_how_it_was_understood():
    a = dt_answer("Còn Đồng Tháp thì sao?")
    a.resolved_question = "Đồng Tháp có bao nhiêu dịch vụ công trực tuyến một phần?"
    assert "Đã hiểu là: “Đồng Tháp có bao nhiêu dịch vụ công trực tuyến một phần?”" in answer_message(a, "m2", [])


def test_copy_text_is_plain_with_title_publisher_date_and_link():
    text = copy_text(dt_answer())
    assert text.startswith(QUOTE)
    assert ("[1] Đồng Tháp: Tạo giá trị mới — Báo Đồng Tháp — Đồng Tháp — 2023-10-02 — "
            "https://baodongthap.vn/a.html") in text
    assert "<" not in text


def test_flagged_answer_names_the_failed_figure_and_shows_the_extractive_answer():
    a = Answer("q", "Tỉnh có 9.876 dịch vụ công trực tuyến một phần [1].", False, citations=dt_answer().citations,
               figures=[FigureCheck("9.876 dịch vụ", 9876, "dịch vụ", False, 1)], backend="openai", flagged=True)
    a.fallback = dt_answer()
    html = answer_message(a, "m3", [0])
    assert 'class="failed"' in html and "9.876 dịch vụ" in html and "không có trong nguồn [1]" in html
    assert "Câu trả lời trích nguyên văn từ nguồn" in html and 'id="m3-tn-s1"' in html
    assert 'class="badge ok"' not in html
