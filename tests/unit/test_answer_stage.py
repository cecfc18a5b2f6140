"""The answer stage on hand-made passages, with no index and no model: figure rules, composition, the selector
artifact, and the promise that no number is stated that is not in a source."""
from __future__ import annotations

import json
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.answer.compose import compose, coverage_note, figure_status, key_figure, year_note
from assistant.answer.extractive import ExtractiveAnswerer
from assistant.answer.features import FEATURES, QUESTION_FEATURES, candidate_spans, featurize, has_expected, question_row
from assistant.answer.selector import DEFAULT_ARTIFACT, SentenceSelector
from assistant.answer.verify import verify_answer
from assistant.types import Hit, Passage
from assistant.vi import figures as figs
from assistant.vi.question import analyze


def hits_for(*texts: str, province: str = "Tiền Giang", provinces: tuple[str, ...] = ()) -> list[Hit]:
    """One retrieved chunk per text, in rank order; `provinces` gives each chunk its own province."""
    out = []
    for i, text in enumerate(texts):
        prov = provinces[i] if provinces else province
        out.append(Hit(Passage(f"c{i}", f"a{i}", 0, 0, len(text), text, title=f"Bài {i}", province=prov),
                       1.0 - 0.1 * i, dense_rank=i))
    return out


# --- one rule for "not a quantity" (regression: Kế hoạch / Quý answered "bao nhiêu điểm") -----------------

@pytest.mark.parametrize("text", ["Theo Kế hoạch 370, Tiền Giang đẩy mạnh chỉ số DTI cấp tỉnh.",
                                  "Quý II-2022, Tiền Giang đẩy mạnh chỉ số DTI cấp tỉnh."])
def test_a_document_number_or_a_quarter_is_not_the_figure_asked_for(text):
    info = analyze("Chỉ số DTI của Tiền Giang đạt bao nhiêu điểm?")
    found = figs.extract_figures(text)
    assert found and not any(f.is_quantity for f in found)
    assert not has_expected(info, found)
    row = featurize(info, hits_for(text), candidate_spans(hits_for(text)))[0]
    assert row[FEATURES.index("expects_missing")] == 1.0
    answer = ExtractiveAnswerer().run(info, hits_for(text))
    assert answer.abstained, answer.answer


def test_the_sentence_with_the_score_answers_where_the_plan_number_does_not():
    info = analyze("Chỉ số DTI của Tiền Giang đạt bao nhiêu điểm?")
    answer = ExtractiveAnswerer().run(info, hits_for("Theo Kế hoạch 370, Tiền Giang đẩy mạnh chỉ số DTI cấp tỉnh.",
                                                     "Chỉ số DTI của Tiền Giang đạt 0,4856 điểm."))
    assert not answer.abstained and "0,4856" in answer.answer and "370" not in answer.answer


def test_which_plan_questions_ask_for_the_document_number():
    assert analyze("Kế hoạch số mấy của UBND tỉnh Tiền Giang về chuyển đổi số?").expects == "doc"
    assert figs.extract_figures("Kế hoạch 370 của UBND tỉnh")[0].kind == "doc"


# --- composition ---------------------------------------------------------------------------------------------

def test_a_figure_question_is_answered_with_the_figure_first_and_its_status():
    text = "Năm 2021, kinh tế số Tiền Giang đạt 8,59% GRDP. Tỉnh phấn đấu đến năm 2025 kinh tế số chiếm 15% GRDP."
    hits = hits_for(text)
    info = analyze("Kinh tế số Tiền Giang chiếm bao nhiêu phần trăm GRDP?")
    a = verify_answer(compose(info, hits, candidate_spans(hits)))
    first = a.answer.splitlines()[0]
    assert first.startswith("8,59% (năm 2021, đã đạt) [1]") and "15% (năm 2025, mục tiêu) [1]" in first
    assert {f.text for f in a.figures if f.answers} == {"8,59%", "15%"}
    assert all(f.verified and f.in_quote for f in a.figures if f.answers)


def test_the_figure_of_the_asked_year_comes_first_and_alone_leads():
    text = ("Tiền Giang phấn đấu đến năm 2025 kinh tế số chiếm 15% GRDP. "
            "Năm 2021, kinh tế số Tiền Giang đạt 8,59% GRDP.")
    hits = hits_for(text)
    spans = candidate_spans(hits)
    target, result = spans[0], spans[-1]  # the selector ranked the target first
    a = verify_answer(compose(analyze("Năm 2021 kinh tế số chiếm bao nhiêu phần trăm GRDP của Tiền Giang?"),
                              hits, [target, result]))
    lines = a.answer.splitlines()
    assert lines[0] == "8,59% (năm 2021, đã đạt) [1]" and "8,59%" in lines[1]
    assert {f.text for f in a.figures if f.answers} == {"8,59%"}
    # no year asked: both lead, in the selector's order
    b = compose(analyze("Kinh tế số Tiền Giang chiếm bao nhiêu phần trăm GRDP?"), hits, [target, result])
    assert b.answer.splitlines()[0] == "15% (năm 2025, mục tiêu) [1]; 8,59% (năm 2021, đã đạt) [1]"


def test_the_figure_of_the_asked_year_is_the_key_figure_of_its_sentence():
    text = "Tỉnh phấn đấu đến năm 2025 kinh tế số chiếm 15% GRDP (đến năm 2030 đạt 25%)."
    assert key_figure(analyze("Năm 2030 kinh tế số chiếm bao nhiêu GRDP?"), text).text == "25%"
    assert key_figure(analyze("Kinh tế số chiếm bao nhiêu GRDP?"), text).text == "15%"


def test_a_second_quote_about_something_else_is_quoted_but_not_led_with():
    hits = hits_for("Đóng góp của kinh tế số vào GRDP của tỉnh ước đạt 6,42%. "
                    "Đến nay, 80% hoạt động chỉ đạo, điều hành được thực hiện trên nền tảng số.")
    spans = candidate_spans(hits)
    a = verify_answer(compose(analyze("Kinh tế số đóng góp bao nhiêu phần trăm GRDP của Đồng Tháp?"), hits,
                              [spans[0], spans[-1]]))
    assert a.answer.splitlines()[0].startswith("6,42%") and "80%" not in a.answer.splitlines()[0]
    assert "80% hoạt động" in a.answer  # still quoted: the reader sees it, unbadged
    assert {f.text for f in a.figures if f.answers} == {"6,42%"}


def test_only_the_figures_that_answer_are_marked():
    text = "Tiền Giang có 12 huyện; tỷ lệ nộp thuế điện tử đạt hơn 84%."
    hits = hits_for(text)
    a = verify_answer(compose(analyze("Tỷ lệ nộp thuế điện tử ở Tiền Giang là bao nhiêu?"), hits, candidate_spans(hits)))
    assert {f.text for f in a.figures if f.answers} == {"hơn 84%"}
    assert any(f.text == "12 huyện" and not f.answers for f in a.figures)


@pytest.mark.parametrize("before,status", [("đã đạt", "đã đạt"), ("mục tiêu đến năm 2030 là", "mục tiêu"),
                                           ("phấn đấu", "mục tiêu"), ("hiện có", "đã đạt")])
def test_achieved_or_target_comes_from_the_words_before_the_figure(before, status):
    text = f"Tỉnh {before} 150 doanh nghiệp số."
    f = figs.extract_figures(text)[-1]
    assert figure_status(text, f)[1] == status


def test_without_a_cue_the_article_date_tells_result_from_target():
    text = "Năm 2025, kinh tế số chiếm 20% GRDP."
    f = [g for g in figs.extract_figures(text) if g.unit == "%"][0]
    assert figure_status(text, f, "2022-05-01") == ("2025", "mục tiêu")
    assert figure_status(text, f, "2026-01-01") == ("2025", "đã đạt")


def test_another_year_than_asked_is_said_plainly():
    text = "Năm 2021, kinh tế số Tiền Giang đạt 8,59% GRDP."
    spans = candidate_spans(hits_for(text))
    note = year_note(analyze("Năm 2023 kinh tế số Tiền Giang chiếm bao nhiêu % GRDP?"), spans)
    assert "2023" in note and "2021" in note
    assert year_note(analyze("Năm 2021 kinh tế số Tiền Giang chiếm bao nhiêu % GRDP?"), spans) == ""


def test_a_comparison_names_each_province_on_its_own_line():
    hits = hits_for("Năm 2021, kinh tế số Đồng Tháp đạt 6,42% GRDP.", "Năm 2021, kinh tế số Tiền Giang đạt 8,59% GRDP.",
                    provinces=("Đồng Tháp", "Tiền Giang"))
    info = analyze("Kinh tế số của Đồng Tháp và Tiền Giang chiếm bao nhiêu % GRDP?")
    a = compose(info, hits, candidate_spans(hits), by_province=True)
    lines = a.answer.splitlines()
    assert lines[0].startswith("Đồng Tháp: 6,42%") and any(ln.startswith("Tiền Giang: 8,59%") for ln in lines)


@pytest.mark.parametrize("question", ["Kinh tế số chiếm bao nhiêu phần trăm GRDP ở Bến Tre và Đồng Tháp?",
                                      "Tỷ trọng kinh tế số trong GRDP của Đồng Tháp và Bến Tre là bao nhiêu?"])
def test_a_comparison_accounts_for_every_province_it_names(question):
    hits = hits_for("Đến năm 2025, kinh tế số của Bến Tre chiếm 10% GRDP.",
                    "Tỉnh có 12 huyện và 3 thành phố.",
                    "Đóng góp của kinh tế số vào GRDP của Đồng Tháp ước đạt 6,42%.",
                    provinces=("Bến Tre", "Bến Tre", "Đồng Tháp"))
    a = ExtractiveAnswerer().run(analyze(question), hits)
    assert not a.abstained, a.answer
    lines = a.answer.splitlines()
    for province, figure in (("Bến Tre", "10%"), ("Đồng Tháp", "6,42%")):
        line = [ln for ln in lines if ln.startswith(f"{province}:")]
        missing = [ln for ln in lines if ln.startswith("Chưa tìm thấy") and province in ln]
        assert (line and figure in line[0]) or missing, a.answer
    assert "12 huyện" not in a.answer


def test_a_ranking_is_said_to_cover_only_the_articles_held():
    note = coverage_note(["Hậu Giang", "Tiền Giang"])
    assert "Hậu Giang" in note and "Tiền Giang" in note and "toàn quốc" in note


def test_key_figure_prefers_the_figure_near_the_question_words():
    text = "Có gần 2.000 doanh nghiệp tham gia, trong đó 862 doanh nghiệp đã có doanh thu."
    info = analyze("Bao nhiêu doanh nghiệp đã có doanh thu?")
    assert key_figure(info, text).text == "862 doanh nghiệp"


# --- the selector artifact -----------------------------------------------------------------------------------

def test_the_committed_selector_says_how_it_was_made():
    art = json.loads(DEFAULT_ARTIFACT.read_text(encoding="utf-8"))
    trained = art["trained"]
    assert trained["command"].startswith("python -m assistant.learn.train_selector")
    assert trained["data_sha256"] and all(re.fullmatch(r"[0-9a-f]{64}", h) for h in trained["data_sha256"].values())
    assert {"top1", "gold_in_quote", "false_abstention", "leftout_abstained"} <= set(trained["validation"])
    sel = SentenceSelector.load()
    assert sel.features == list(FEATURES) and 0.0 < sel.threshold < 1.0
    assert sel.without_semantic is not None and "sem" not in sel.without_semantic.features


def test_the_answer_decision_sees_what_of_the_question_no_candidate_contains():
    info = analyze("Năm 2022, Bạc Liêu có bao nhiêu doanh nghiệp công nghệ số?")
    present = "Năm 2022, Bạc Liêu có 120 doanh nghiệp công nghệ số đang hoạt động."
    absent = "Năm 2021, Tiền Giang có 862 doanh nghiệp đã có doanh thu."
    col = {f: i for i, f in enumerate(QUESTION_FEATURES)}
    rows = {}
    for label, text in (("present", present), ("absent", absent)):
        hits = hits_for(text)
        spans = candidate_spans(hits)
        rows[label] = question_row(np.ones(len(spans)), featurize(info, hits, spans), info, [s.text for s in spans])
    assert rows["present"][col["names_asked"]] == rows["absent"][col["names_asked"]] == 1.0
    assert rows["present"][col["names_missing"]] == 0.0 and rows["absent"][col["names_missing"]] == 1.0
    assert rows["present"][col["numbers_missing"]] == 0.0 and rows["absent"][col["numbers_missing"]] == 1.0
    assert rows["present"][col["pairs_found"]] > rows["absent"][col["pairs_found"]]
    model = SentenceSelector.load().answer_model
    assert set(model["features"]) <= set(QUESTION_FEATURES)


def test_a_selector_for_other_features_is_refused(tmp_path):
    art = json.loads(DEFAULT_ARTIFACT.read_text(encoding="utf-8"))
    art["features"] = art["features"] + ["a_signal_this_code_does_not_compute"]
    path = tmp_path / "selector.json"
    path.write_text(json.dumps(art), encoding="utf-8")
    from assistant.answer.selector import SelectorError

    with pytest.raises(SelectorError, match="bộ đặc trưng khác"):
        SentenceSelector.load(path)


# --- never a number that is not in a source ------------------------------------------------------------------

_WORDS = ["kinh tế số", "GRDP", "doanh nghiệp", "dịch vụ công", "trực tuyến", "năm 2021", "đạt", "mục tiêu",
          "tỷ lệ", "hơn", "chiếm", "Tiền Giang", "Bến Tre", "xếp thứ"]
_NUMS = ["8,59%", "15%", "12/63", "862", "2.000", "0,4856", "259.961 lượt", "105.800 tem"]
_sentence = st.lists(st.sampled_from(_WORDS + _NUMS), min_size=3, max_size=12).map(lambda ws: " ".join(ws) + ".")


@settings(max_examples=30, deadline=None)
@given(texts=st.lists(st.lists(_sentence, min_size=1, max_size=4).map(" ".join), min_size=1, max_size=3),
       question=st.lists(st.sampled_from(_WORDS + ["bao nhiêu", "mấy", "là gì"]), min_size=2, max_size=8))
def test_every_figure_of_an_answer_is_in_its_cited_quote(texts, question):
    info = analyze(" ".join(question) + "?")
    a = verify_answer(ExtractiveAnswerer().run(info, hits_for(*texts)))
    if a.abstained:
        return
    quotes = " ".join(c.quote for c in a.citations)
    for f in figs.extract_figures(re.sub(r"\[\d+\]", " ", a.answer)):  # [n] marks are not figures
        if f.is_quantity:
            assert figs.find_in(f, quotes) is not None, (f.text, a.answer)
    assert all(c.quote in c.text for c in a.citations)
