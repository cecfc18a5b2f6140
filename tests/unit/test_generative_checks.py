"""The checks a generative answer must pass (issue 14), on hand-made answers and sources: no model, no index."""
from __future__ import annotations

import time

import pytest
from hypothesis import given, strategies as st

from assistant.answer.grounding import GroundingCheck, attribution_problem, restates, sentences, states_fact
from assistant.answer.guard import LLMError, ReplyGuard, looping
from assistant.answer.verify import verify_answer
from assistant.types import Answer, Citation
from assistant.vi import figures as figs

DT = "Năm 2021, kinh tế số của Đồng Tháp chiếm 6,42% GRDP của tỉnh."
TG = "Năm 2021, kinh tế số Tiền Giang chiếm 8,59% GRDP; mục tiêu năm 2025 là 15%."
QUESTION = "Kinh tế số của Tiền Giang và Đồng Tháp chiếm bao nhiêu phần trăm GRDP?"


def cite(n: int, text: str, province: str) -> Citation:
    return Citation(n, f"a{n}", f"a{n}:0", f"bài {n}", province, "", "", "", text)


def checked(reply: str, question: str = QUESTION) -> Answer:
    a = Answer(question, reply, False, citations=[cite(1, DT, "Đồng Tháp"), cite(2, TG, "Tiền Giang")])
    return GroundingCheck().run(verify_answer(a), question)


# --- attribution: the cited figure must be about the same province, year and indicator ------------------------
def test_a_correct_two_province_answer_passes():
    a = checked("Năm 2021, kinh tế số Đồng Tháp chiếm 6,42% GRDP [1]; Tiền Giang chiếm 8,59% GRDP [2].")
    assert not a.flagged and not a.abstained and all(f.verified for f in a.figures), a.notice


def test_a_figure_given_to_the_wrong_province_is_flagged_naming_the_right_one():
    a = checked("Kinh tế số của Tiền Giang chiếm 6,42% GRDP [1].")
    assert a.flagged and not a.figures[0].verified and "Đồng Tháp" in a.notice


def test_a_figure_given_to_the_wrong_year_is_flagged():
    a = checked("Năm 2023, kinh tế số Đồng Tháp chiếm 6,42% GRDP [1].")
    assert a.flagged and "2021" in a.notice


def test_a_figure_given_to_another_indicator_is_flagged():
    a = checked("Đồng Tháp có 6,42% doanh nghiệp dùng hóa đơn điện tử [1].")
    assert a.flagged and "chỉ tiêu khác" in a.notice


def test_a_target_attributed_to_its_own_year_passes_and_to_another_is_caught():
    assert not checked("Tiền Giang đặt mục tiêu kinh tế số chiếm 15% GRDP vào năm 2025 [2].").flagged
    f = figs.extract_figures("Đồng Tháp đạt 15% GRDP [2].")[0]
    assert "Tiền Giang" in attribution_problem("Đồng Tháp đạt 15% GRDP [2].", f, cite(2, TG, "Tiền Giang"))


# --- citations required; saying nothing is abstaining ------------------------------------------------------
def test_an_uncited_statement_is_flagged_even_without_a_figure():
    a = checked("Tiền Giang đẩy mạnh phát triển kinh tế số ở mọi ngành. Kinh tế số chiếm 8,59% GRDP [2].")
    assert a.flagged and "không có trích dẫn" in a.notice


@pytest.mark.parametrize("reply", [
    "Kinh tế số của Tiền Giang và Đồng Tháp chiếm bao nhiêu phần trăm GRDP? [1]",
    "Trong các nguồn [1] [2] có thông tin liên quan đến kinh tế số và GRDP.",
])
def test_a_reply_that_restates_the_question_or_says_nothing_is_an_abstention(reply):
    a = checked(reply)
    assert a.abstained and a.kind == "abstain" and not a.flagged


def test_an_abstention_in_words_is_left_alone():
    a = checked("Không tìm thấy thông tin trong các bài viết hiện có.")
    assert not a.flagged and not a.notice


def test_states_fact_and_restates_on_their_own():
    assert states_fact("Đồng Tháp có 214 dịch vụ.") and not states_fact("Cụ thể như sau:")
    assert restates("Đồng Tháp có bao nhiêu dịch vụ công? [1]", "Đồng Tháp có bao nhiêu dịch vụ công trực tuyến?")
    assert not restates("Đồng Tháp có 214 dịch vụ công [1].", "Đồng Tháp có bao nhiêu dịch vụ công?")
    # a number that counts nothing still answers "số mấy"; the question's own year does not
    q = "Tỉnh ủy Tiền Giang ban hành nghị quyết số mấy về chuyển đổi số đến năm 2025?"
    assert not restates("Tỉnh ủy Tiền Giang ban hành nghị quyết số 08 về chuyển đổi số đến năm 2025 [1].", q)
    assert restates("Tỉnh ủy Tiền Giang ban hành nghị quyết về chuyển đổi số đến năm 2025 [1].", q)


_piece = st.text(alphabet="abc đồ 12,%", min_size=1, max_size=20).map(str.strip).filter(bool)


@given(st.lists(st.tuples(_piece, st.sampled_from(["", " [1]", " [2][3]"]), st.sampled_from([".", "!", "?"])),
                min_size=1, max_size=6))
def test_sentences_keep_every_word_and_each_mark_with_its_sentence(parts):
    text = " ".join(f"{body}{end}{marks}" for body, marks, end in parts)
    out = sentences(text)
    assert " ".join(out).split() == text.split()  # nothing lost, nothing reordered
    assert all(not s.startswith("[") for s in out[1:])  # a mark after a full stop closes the sentence before it


# --- the stream guard ---------------------------------------------------------------------------------------
def test_looping_needs_a_long_run_written_three_times():
    line = "Đồng Tháp có 214 dịch vụ công trực tuyến một phần [1]. "
    assert looping(line * 3) and not looping(line * 2)
    comparison = ("Đồng Tháp có 214 dịch vụ công trực tuyến một phần [1]; Hậu Giang có 120 dịch vụ công trực tuyến "
                  "một phần [2]; Tiền Giang có 98 dịch vụ công trực tuyến một phần [3].")
    assert not looping(comparison)  # a shared 7-word indicator repeated per province is not a loop


def test_the_guard_passes_a_normal_reply_through():
    assert "".join(ReplyGuard(5).run(iter(["Đồng Tháp ", "có 214 ", "dịch vụ [1]."]))) == "Đồng Tháp có 214 dịch vụ [1]."


def test_the_guard_stops_a_stream_that_never_ends_at_the_wall_clock_deadline():
    def trickle():
        while True:
            time.sleep(0.05)
            yield "x "

    t = time.perf_counter()
    with pytest.raises(LLMError, match="quá thời gian"):
        for _ in ReplyGuard(0.5).run(trickle()):
            pass
    assert time.perf_counter() - t < 2


def test_the_guard_hands_on_the_streams_own_error():
    def broken():
        yield "Đồng "
        raise LLMError("không kết nối được")

    with pytest.raises(LLMError, match="không kết nối được"):
        list(ReplyGuard(5).run(broken()))


def test_the_guard_refuses_a_deadline_that_is_not_positive():
    with pytest.raises(ValueError):
        ReplyGuard(0)


# --- the sentence prompt: the best sentences overall, with their neighbours, the best source first -----------
def _ranked(question: str, texts: list[str], provinces: tuple[str, ...]):
    from assistant.answer.extractive import ExtractiveAnswerer
    from assistant.types import Hit, Passage
    from assistant.vi.question import analyze

    hits = [Hit(Passage(f"c{i}", f"a{i}", 0, 0, len(t), t, title=f"Bài {i}", province=p), 1.0 - 0.1 * i, dense_rank=i)
            for i, (t, p) in enumerate(zip(texts, provinces))]
    info = analyze(question)
    return info, hits, ExtractiveAnswerer().rank(info, hits)


FILLER = ["Hội nghị diễn ra tại hội trường tỉnh ủy.", "Các đại biểu đã thảo luận sôi nổi.",
          "Buổi làm việc kết thúc vào buổi chiều.", "Lãnh đạo các sở cùng tham dự."]


def test_the_source_with_the_answering_sentence_comes_first_with_its_neighbours_only():
    from assistant.answer.llm import prompt_sources

    other = " ".join(FILLER)
    answering = " ".join(FILLER[:2] + [DT] + FILLER[2:])
    info, hits, spans = _ranked("Kinh tế số Đồng Tháp chiếm bao nhiêu phần trăm GRDP năm 2021?",
                                [other, answering], ("Đồng Tháp", "Đồng Tháp"))
    used, excerpts = prompt_sources(spans, 1)
    assert [h.chunk.chunk_id for h in used] == ["c1"]  # retrieval ranked it second; the selector puts it first
    assert excerpts["c1"] == " ".join([FILLER[1], DT, FILLER[2]])  # the sentence and one neighbour each side


def test_each_named_province_gets_a_source_even_when_its_sentence_scores_low():
    from assistant.answer.llm import prompt_sources

    info, hits, spans = _ranked(QUESTION, [" ".join([TG] + FILLER), " ".join(FILLER[:3] + [DT])],
                                ("Tiền Giang", "Đồng Tháp"))
    used, excerpts = prompt_sources(spans, 1, info.provinces)
    assert {h.chunk.province for h in used} == {"Tiền Giang", "Đồng Tháp"}
    assert any("6,42%" in e for e in excerpts.values()) and any("8,59%" in e for e in excerpts.values())


@given(st.lists(st.sampled_from(FILLER + [DT, TG]), min_size=1, max_size=8), st.integers(1, 6))
def test_excerpts_are_verbatim_sentences_of_their_own_chunk_and_at_most_n_plus_neighbours(parts, n):
    from assistant.answer.llm import prompt_sources

    texts = [" ".join(parts), " ".join(reversed(parts))]
    info, hits, spans = _ranked(QUESTION, texts, ("Tiền Giang", "Đồng Tháp"))
    used, excerpts = prompt_sources(spans, n)
    assert len({h.chunk.chunk_id for h in used}) == len(used) and set(excerpts) == {h.chunk.chunk_id for h in used}
    for h in used:
        shown = [p for p in excerpts[h.chunk.chunk_id].split(" … ")]
        assert all(p in h.chunk.text for p in shown)
    assert sum(len(e) for e in excerpts.values()) <= sum(len(t) for t in texts)


def test_a_sentence_prompt_needs_at_least_one_sentence():
    from assistant.answer.llm import prompt_sources

    with pytest.raises(ValueError):
        prompt_sources([], 0)
