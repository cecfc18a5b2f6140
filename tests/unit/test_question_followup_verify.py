"""Question analysis, follow-up resolution and answer verification (pure functions)."""
from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from assistant.vi.followup import is_followup, resolve
from assistant.vi.question import analyze
from assistant.answer.verify import cited_numbers, verify_figures


@pytest.mark.parametrize("question, expects", [
    ("Tỷ lệ doanh nghiệp nộp thuế điện tử là bao nhiêu?", "%"),
    ("Chỉ số ICT Index 2022 của Đồng Tháp xếp thứ mấy?", "rank"),
    ("Thanh Hóa đã cung cấp bao nhiêu tem truy xuất nguồn gốc?", "number"),
    ("Ba lĩnh vực trọng tâm chuyển đổi số của Đồng Tháp là gì?", None),
    ("dong thap co bao nhieu dich vu cong truc tuyen mot phan", "number"),
])
def test_expected_figure_kind(question, expects):
    assert analyze(question).expects == expects


def test_claims_are_recognised_and_stripped_of_the_question_frame():
    for q, claim in [("Có phải Hậu Giang đứng thứ 12/63 về DTI năm 2021 không?", "Hậu Giang đứng thứ 12/63 về DTI năm 2021"),
                     ("Có đúng là Tiền Giang có 1.255 sản phẩm không?", "Tiền Giang có 1.255 sản phẩm"),
                     ("Kiểm tra: Đồng Tháp có 214 dịch vụ công", "Đồng Tháp có 214 dịch vụ công"),
                     ("Đồng Tháp có 763 dịch vụ công trực tuyến một phần không?",
                      "Đồng Tháp có 763 dịch vụ công trực tuyến một phần")]:
        info = analyze(q)
        assert info.is_claim and info.claim == claim
    assert not analyze("Đồng Tháp có bao nhiêu dịch vụ công không?").is_claim
    assert not analyze("Tiền Giang xếp hạng bao nhiêu?").is_claim


def test_focus_terms_leave_out_provinces_and_question_words():
    info = analyze("Dân số tỉnh Tiền Giang là bao nhiêu người?")
    assert info.provinces == ["Tiền Giang"]
    assert "dan_so" in info.focus_pairs and "tien_giang" not in info.focus_pairs
    assert info.count_noun == "nguoi"


@pytest.mark.parametrize("question, previous, expected", [
    ("Còn Bến Tre thì sao?", "Năng suất lao động của Tiền Giang tăng bao nhiêu?",
     "Năng suất lao động của Bến Tre tăng bao nhiêu?"),
    ("Còn Bến Tre thì sao?", "Năng suất lao động của Tiền Giang và Đồng Tháp tăng bao nhiêu?",
     "Năng suất lao động của Bến Tre tăng bao nhiêu?"),
    ("Còn Bến Tre và Hậu Giang thì sao?", "Năng suất lao động của Tiền Giang tăng bao nhiêu?",
     "Năng suất lao động của Bến Tre và Hậu Giang tăng bao nhiêu?"),
    ("Thế còn Hậu Giang?", "Tiền Giang xếp hạng DTI thứ mấy?", "Hậu Giang xếp hạng DTI thứ mấy?"),
    ("Còn tỷ lệ ký số ở tỉnh đó thì sao?", "Thanh Hóa có bao nhiêu doanh nghiệp số?", "Tỷ lệ ký số ở Thanh Hóa?"),
])
def test_followups_are_rewritten(question, previous, expected):
    assert resolve(question, [previous]) == expected


def test_standalone_questions_are_left_alone():
    q = "Đồng Tháp có bao nhiêu dịch vụ công?"
    assert not is_followup(q)
    assert resolve(q, ["Tiền Giang xếp hạng DTI thứ mấy?"]) == q
    assert resolve("Còn Bến Tre thì sao?", []) == "Còn Bến Tre thì sao?"


@given(st.text(max_size=80), st.lists(st.text(max_size=80), max_size=3))
def test_resolve_never_fails_and_returns_text(question, history):
    out = resolve(question, history)
    assert isinstance(out, str)
    if not history or not is_followup(question):  # nothing to resolve against, or nothing elliptic
        assert out == question
    assert resolve(question, []) == question


PROVINCES_ASKED = ["Tiền Giang", "Bến Tre", "Đồng Tháp", "Hậu Giang", "Thanh Hóa", "Cà Mau", "Lào Cai", "Nghệ An"]
TOPICS = ["Năng suất lao động", "Tỷ lệ ký số", "Số doanh nghiệp công nghệ số", "Chỉ số DTI"]


@given(st.sampled_from(TOPICS), st.sampled_from(PROVINCES_ASKED), st.sampled_from(PROVINCES_ASKED),
       st.sampled_from(["Còn {} thì sao?", "Thế còn {}?", "Còn {} thì thế nào?"]))
def test_a_followup_naming_another_province_asks_the_previous_question_about_it(topic, old, new, form):
    previous = f"{topic} của {old} là bao nhiêu?"
    question = form.format(new)
    assert is_followup(question)
    assert resolve(question, ["Câu hỏi cũ hơn về Hà Nội?", previous]) == f"{topic} của {new} là bao nhiêu?"


def test_figures_are_checked_against_the_source_they_cite():
    sources = {1: "Tiền Giang đạt 8,59% GRDP, xếp hạng 12/63.", 2: "Bến Tre có 214 dịch vụ công."}
    checks, bad = verify_figures("Tỷ trọng đạt 8,59% [1]. Bến Tre có 214 dịch vụ [2].", sources)
    assert bad == [] and [(c.text.split()[0], c.verified, c.citation) for c in checks] == \
        [("8,59%", True, 1), ("214", True, 2)]
    wrong, _ = verify_figures("Bến Tre có 8,59% [2].", sources)  # in a source, but not the cited one
    assert [c.verified for c in wrong] == [False]
    uncited, _ = verify_figures("Tỉnh có 9.999 doanh nghiệp.", sources)
    assert uncited[0].verified is False and uncited[0].citation is None


def test_citations_to_missing_sources_are_reported():
    _, bad = verify_figures("Xem [1] và [4].", {1: "a"})
    assert bad == [4]
    assert cited_numbers("a [2] b [1] c [2]") == [2, 1]


def test_years_frame_a_statement_and_are_not_checked():
    checks, _ = verify_figures("Đến năm 2025 đạt 15% [1].", {1: "đến năm 2030 đạt 15%"})
    assert [c.text for c in checks] == ["15%"] and checks[0].verified


# --- a comparison asked of one province -----------------------------------------------------------------------

_SEED_PROVINCES = ["Tiền Giang", "Đồng Tháp", "Bến Tre", "Hậu Giang", "Thanh Hóa"]


@settings(max_examples=80, deadline=None)
@given(pair=st.permutations(_SEED_PROVINCES).map(lambda p: p[:2]), joiner=st.sampled_from([" và ", ", ", " hay ", " với "]),
       lead=st.sampled_from(["Kinh tế số chiếm bao nhiêu % GRDP ở ", "So sánh chỉ số DTI của "]), keep_first=st.booleans())
def test_one_province_of_a_comparison_keeps_it_and_drops_the_other(pair, joiner, lead, keep_first):
    from assistant.vi import gazetteer
    from assistant.vi.question import about_one_province

    keep, drop = pair if keep_first else pair[::-1]
    one = about_one_province(f"{lead}{pair[0]}{joiner}{pair[1]}?", keep)
    assert gazetteer.provinces_in(one) == [keep], one
    assert one.startswith(lead.strip()) and one.endswith(f"{keep}?"), one
