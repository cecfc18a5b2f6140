"""The extractive answerer's guards against quoting the wrong place, the wrong index or a nameless sentence
for a "who" question — cases that a 5,000-article corpus produced (benchmarks.compare, dev d20 and d07)."""
from __future__ import annotations

import pytest

from assistant.types import Passage
from assistant.answer.extractive import ExtractiveAnswerer
from assistant.vi.names import person_names
from assistant.vi.question import analyze
from assistant.types import Hit

PCI_THAI_NGUYEN = ("Cải thiện chỉ số PCI theo cách quyết liệt hơn, theo đại diện Sở KH&ĐT Thái Nguyên (xếp thứ 7 "
                   "bảng xếp hạng và đứng đầu nhóm Tốt), tỉnh đã lập tổ tham mưu. ")
DTI_DA_NANG = "Năm 2022, Đà Nẵng xếp thứ 1/63 tỉnh, thành phố về chỉ số DTI. "
PCI_DA_NANG = "Đà Nẵng xếp thứ 5/63 về chỉ số PCI năm 2022. "


def hits_for(*texts: str, province: str = "Hà Nội") -> list[Hit]:
    """One retrieved chunk per text, in rank order, from an article about `province`."""
    out = []
    for i, text in enumerate(texts):
        rec = Passage(rowid=i + 1, chunk_id=f"c{i}", article_id=f"a{i}", index=0, start=0, end=len(text),
                          text=text, mentions="Đà Nẵng,Thái Nguyên,Thanh Hóa", title=f"Bài {i}", province=province,
                          date="", source="", url="")
        out.append(Hit(rec, score=1.0 - 0.1 * i))
    return out


def test_a_sentence_about_another_province_and_index_does_not_answer():
    answer = ExtractiveAnswerer().run(analyze("Đà Nẵng xếp hạng bao nhiêu về chỉ số DTI?"), hits_for(PCI_THAI_NGUYEN))
    assert answer.abstained and "7" not in answer.answer


@pytest.mark.parametrize("extra,expected", [(DTI_DA_NANG, "1/63"), (PCI_DA_NANG, None)])
def test_the_asked_province_and_index_win(extra, expected):
    answer = ExtractiveAnswerer().run(analyze("Đà Nẵng xếp hạng bao nhiêu về chỉ số DTI?"),
                                      hits_for(PCI_THAI_NGUYEN, extra))
    if expected is None:  # Đà Nẵng's PCI rank is not its DTI rank
        assert answer.abstained
    else:
        # Without an embedder the selector may abstain; it must never quote Thái Nguyên's PCI rank, and the
        # Đà Nẵng DTI sentence must be the best-scored one (quoted when it answers).
        spans = ExtractiveAnswerer().rank(analyze("Đà Nẵng xếp hạng bao nhiêu về chỉ số DTI?"),
                                          hits_for(PCI_THAI_NGUYEN, extra))
        best = max(spans, key=lambda s: s.score)
        assert expected in best.text and best.score > 0
        assert all(s.score == 0 for s in spans if "Thái Nguyên" in s.text)
        assert "Thái Nguyên" not in answer.answer and (answer.abstained or expected in answer.answer)


def test_a_who_question_needs_a_sentence_that_names_someone():
    q = analyze("Phó Chủ tịch UBND tỉnh Thanh Hóa được nhắc tới trong bài là ai?")
    assert q.asks_person
    nameless = "Phó Chủ tịch UBND tỉnh Thanh Hóa nhấn mạnh địa phương chào đón các doanh nghiệp công nghệ số. "
    named = "Ông Mai Xuân Liêm, Phó Chủ tịch UBND tỉnh, phát biểu khai mạc hội thảo. "
    assert ExtractiveAnswerer().run(q, hits_for(nameless, province="Thanh Hóa")).abstained
    # Whether two lone sentences are enough to answer is the learned decision's call (the seed article answers
    # this question in tests/integration); the guard's part is that only the named sentence can be quoted.
    spans = ExtractiveAnswerer().rank(q, hits_for(nameless, named, province="Thanh Hóa"))
    assert [s.score > 0 for s in spans] == [False, True]
    answer = ExtractiveAnswerer().run(q, hits_for(nameless, named, province="Thanh Hóa"))
    assert "nhấn mạnh" not in answer.answer and (answer.abstained or "Mai Xuân Liêm" in answer.answer)


@pytest.mark.parametrize("text,names", [
    ("Phó Chủ tịch UBND tỉnh Thanh Hóa Mai Xuân Liêm phát biểu.", ["Mai Xuân Liêm"]),
    ("Ông Đặng Việt Dũng - Trưởng Ban Tuyên giáo", ["Đặng Việt Dũng"]),
    ("Bộ Thông tin và Truyền thông Việt Nam làm việc với Tiền Giang, Hà Nội và Đà Nẵng.", []),
    ("Tại Hội nghị Chuyển đổi số, bà Nguyễn Thị Thanh Hà cho biết.", ["Nguyễn Thị Thanh Hà"]),
    ("Sở TT-TT Bến Tre và UBND TP. Hồ Chí Minh", []),
])
def test_person_names(text, names):
    assert person_names(text) == names
