"""What a question asks for, and which figure of a sentence belongs to what: cue words, people counts, the
index and the year a figure belongs to, and the fact-check that rests on them (hand-made passages, no index)."""
from __future__ import annotations

import pytest

from assistant.answer.compose import figure_status, key_figure
from assistant.answer.extractive import ExtractiveAnswerer
from assistant.answer.factcheck import FactChecker
from assistant.answer.features import FEATURES, candidate_spans, eligible, featurize
from assistant.types import Hit, Passage
from assistant.vi import figures as figs
from assistant.vi.question import analyze

DT_INDICES = ("Năm 2022, Chỉ số chuyển đổi số (DTI) của Đồng Tháp tăng 10 bậc (xếp thứ 39/63 tỉnh, thành phố), "
              "Chỉ số sẵn sàng cho phát triển và ứng dụng công nghệ thông tin, truyền thông Việt Nam "
              "(Vietnam ICT Index 2022) tăng 9 bậc (xếp thứ 7/63 tỉnh, thành phố).")


def hit(text: str, province: str = "") -> list[Hit]:
    return [Hit(Passage("c0", "a0", 0, 0, len(text), text, title="Bài", province=province), 1.0, dense_rank=0)]


@pytest.mark.parametrize("question, expects", [
    ("Nhà vệ sinh trên máy bay được vệ sinh bằng cách nào?", None),  # "máy" is not "mấy"
    ("Vì sao Eli bị dao đâm mà vẫn được cho là còn may mắn?", None),
    ("Điều gì xảy ra sau 4 tháng sử dụng thuốc?", None),  # "dụng thuốc" is not "đứng thứ"
    ("Tỷ lệ nghiện rượu cao nhất nằm ở độ tuổi nào?", None),  # the share only names the topic
    ("Để tăng tỷ lệ sinh, các chuyên gia khuyến cáo điều gì?", None),
    ("Tỷ lệ hồ sơ trực tuyến của Đồng Tháp?", "%"),
    ("Tỉnh nào có tỷ lệ hồ sơ trực tuyến cao nhất?", "%"),
    ("Tỷ trọng kinh tế số trong GRDP của Tiền Giang?", "%"),
    ("Hậu Giang có mấy dịch vụ công trực tuyến?", "number"),
    ("hau giang co may dich vu cong truc tuyen", "number"),  # typed without diacritics: "may" may be "mấy"
    ("Đồng Tháp đứng thứ mấy về DTI?", "rank"),
])
def test_the_kind_of_figure_asked_for_comes_from_whole_cue_words(question, expects):
    assert analyze(question).expects == expects


@pytest.mark.parametrize("question, person", [
    ("Ai là người ký kế hoạch?", True), ("Vị nào chủ trì hội nghị?", True),
    ("Những ai dễ bị tiền sản giật?", False), ("Nhóm người nào nói tốt hơn?", False),
    ("Trung tâm được sáp nhập từ những đơn vị nào?", False),
])
def test_only_a_question_for_one_person_must_be_answered_with_a_name(question, person):
    assert analyze(question).asks_person is person


@pytest.mark.parametrize("sentence", [
    "Nghiên cứu phân tích dữ liệu trên gần 9.000 người trưởng thành.",  # the unit is inside the figure
    "Nhờ luật này, mỗi năm sẽ có thêm 700 công dân Anh được cứu sống.",
    "Ngoài Max, Keira còn hiến tạng cứu sống ba người khác.",  # a count in words
])
def test_a_count_of_people_may_answer_how_many_people(sentence):
    info = analyze("Có bao nhiêu người được cứu sống?")
    spans = candidate_spans(hit(sentence))
    assert eligible(featurize(info, hit(sentence), spans)).all()


@pytest.mark.parametrize("sentence", ["Ứng dụng có hơn 67.500 lượt truy cập.", "Tỉnh có 1.200 hộ sản xuất."])
def test_visits_and_households_still_never_answer_how_many_people(sentence):
    info = analyze("Có bao nhiêu người dùng ứng dụng?")
    row = featurize(info, hit(sentence), candidate_spans(hit(sentence)))[0]
    assert row[FEATURES.index("people_missing")] == 1.0 and not eligible(row[None])[0]


def test_a_sentence_holding_the_numbers_of_the_question_is_marked():
    text = "Kinh tế số ước đạt 6,42% GRDP. Đã tích hợp 763 dịch vụ (chiếm 47,54%). Có 16,42% khác."
    rows = featurize(analyze("Tỉnh nào có kinh tế số chiếm 6,42% GRDP?"), hit(text), candidate_spans(hit(text)))
    assert list(rows[:, FEATURES.index("q_number_hit")]) == [1.0, 0.0, 0.0]


def test_the_figure_of_the_index_asked_is_the_key_figure():
    assert key_figure(analyze("Đồng Tháp xếp thứ mấy về chỉ số DTI?"), DT_INDICES).text.endswith("39/63")
    assert key_figure(analyze("Đồng Tháp xếp thứ mấy về Vietnam ICT Index?"), DT_INDICES).text.endswith("7/63")


def test_a_year_right_after_a_figure_is_its_year():
    text = "Đến năm 2025, kinh tế số chiếm 10% GRDP và 30% vào năm 2030; tăng 8 bậc so với năm 2021."
    years = {f.text: figure_status(text, f)[0] for f in figs.extract_figures(text) if f.is_quantity}
    assert years["10%"] == "2025" and years["30%"] == "2030" and years["8 bậc"] != "2021"


@pytest.mark.parametrize("claim, verdict, source_figure", [
    ("Năm 2022 chỉ số Vietnam ICT Index của Đồng Tháp tăng 10 bậc", "khác", "9 bậc"),
    ("Năm 2022 chỉ số DTI của Đồng Tháp tăng 10 bậc", "khớp", "10 bậc"),
])
def test_a_claim_is_checked_against_the_figure_of_its_own_index(claim, verdict, source_figure):
    info = analyze(f"Có đúng là {claim} không?")
    answer = FactChecker(ExtractiveAnswerer()).run(info, hit(DT_INDICES, "Đồng Tháp"))
    assert answer.claims[0].verdict == verdict and answer.claims[0].source_text == source_figure


def test_a_claim_is_checked_against_the_figure_that_counts_the_same_thing():
    text = "105 sản phẩm OCOP của tỉnh và 1.506 sản phẩm nông sản đã được đưa lên 2 sàn thương mại điện tử."
    info = analyze("Hậu Giang đã đưa 150 sản phẩm OCOP lên sàn thương mại điện tử, có đúng không?")
    answer = FactChecker(ExtractiveAnswerer()).run(info, hit(text, "Hậu Giang"))
    assert answer.claims[0].source_text == "105 sản phẩm"


def test_a_target_claim_of_2030_is_checked_against_the_2030_figure():
    text = "…đến năm 2025, kinh tế số của tỉnh chiếm 10% GRDP và 30% vào năm 2030, trong đó tỷ lệ đạt tối thiểu 5%."
    info = analyze("Bến Tre đặt mục tiêu kinh tế số chiếm 30% GRDP vào năm 2030, đúng không?")
    answer = FactChecker(ExtractiveAnswerer()).run(info, hit(text, "Bến Tre"))
    assert answer.claims[0].verdict == "khớp" and answer.claims[0].source_text == "30%"


def test_which_province_has_which_figure_names_the_province_of_each():
    texts = ("Giá trị tăng thêm của kinh tế số năm 2021 là 8.619 tỷ đồng, chiếm 8,59% GRDP của tỉnh.",
             "Theo ước tính, đóng góp của kinh tế số vào GRDP của tỉnh ước đạt 6,42%, vượt chỉ tiêu.")
    hits = [Hit(Passage(f"c{i}", f"a{i}", 0, 0, len(t), t, title="Bài", province=p), 1.0 - 0.1 * i, dense_rank=i)
            for i, (t, p) in enumerate(zip(texts, ("Tiền Giang", "Đồng Tháp")))]
    answer = ExtractiveAnswerer().run(analyze("Tỉnh nào có kinh tế số chiếm 6,42% GRDP, tỉnh nào 8,59%?"), hits)
    assert "Tiền Giang: 8,59%" in answer.answer and "Đồng Tháp: 6,42%" in answer.answer
