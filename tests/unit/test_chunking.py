"""Chunking: Vietnamese-aware sentences, chunks that cover the article with exact offsets."""
from __future__ import annotations

import re

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from assistant.ingest.articles import load_article
from assistant.ingest.chunking import (
    CHUNKER_VERSION,
    Chunker,
    estimate_tokens,
    split_paragraphs,
    split_sentences,
)
from tests.support.paths import CORPUS

PROTECTED = ["8.619", "8,59%", "12/63", "TT-TT", "TP. Hồ Chí Minh", "Q. 1", "25/01/2023", "P. 5", "TX. Cai Lậy",
             "http://chuyendoiso.tiengiang.gov.vn", "https://tiengiang.gov.vn/chuyen-doi-so",
             "https://nld.com.vn/thoi-su/co-hoi-but-pha-tu-kinh-te-so-20231026210705189.htm",
             "www.baoapbac.vn", "lien.he@tiengiang.gov.vn", "8.619 tỷ đồng/100.314 tỷ đồng", "4G/5G",
             "Th.S Nguyễn Văn Anh", "PGS. TS. Trần Văn Bình", "ThS. Lê Chi"]


def sentences_of(text: str) -> list[str]:
    return [text[s:e] for s, e in split_sentences(text)]


# --- sentences -------------------------------------------------------------------------------

@pytest.mark.parametrize("token", PROTECTED)
def test_protected_token_is_never_split(token):
    text = f"Theo báo cáo, {token} là con số đáng chú ý. Tiếp theo là câu khác."
    assert sentences_of(text) == [f"Theo báo cáo, {token} là con số đáng chú ý.", "Tiếp theo là câu khác."]


@pytest.mark.parametrize("token", PROTECTED)
def test_protected_token_at_sentence_end(token):
    text = f"Kết quả được công bố tại {token}. Năm 2022 tỉnh tăng 10 bậc."
    assert sentences_of(text) == [f"Kết quả được công bố tại {token}.", "Năm 2022 tỉnh tăng 10 bậc."]


def test_split_on_real_boundaries():
    text = ("Tiền Giang xếp hạng 12/63. Giá trị đạt 8.619 tỷ đồng! Vì sao? “Quả ngọt đầu mùa” đã đến. "
            "(Ảnh) Sở TT-TT cho biết… 100% xã có 4G.")
    assert sentences_of(text) == ["Tiền Giang xếp hạng 12/63.", "Giá trị đạt 8.619 tỷ đồng!", "Vì sao?",
                                  "“Quả ngọt đầu mùa” đã đến.", "(Ảnh) Sở TT-TT cho biết…", "100% xã có 4G."]


def test_no_split_before_lower_case_or_inside_initials():
    assert len(sentences_of("Ông Nguyễn V. A. nói rằng đạt 8,59%. Sau đó.")) == 2
    assert len(sentences_of("Đạt 3 tỷ đ. so với năm trước. Hết.")) == 2
    assert len(sentences_of("Giai đoạn 2021 - 2025, v.v. và nhiều hơn.")) == 1


def test_offsets_are_absolute_within_a_paragraph():
    text = "Đoạn đầu.\nCâu một ở TP. Hồ Chí Minh. Câu hai."
    (ps, pe), (qs, qe) = split_paragraphs(text)
    spans = split_sentences(text, qs, qe)
    assert [text[s:e] for s, e in spans] == ["Câu một ở TP. Hồ Chí Minh.", "Câu hai."]


WORDS = ["tỉnh", "chuyển", "đổi", "số", "kinh", "tế", "đạt", "doanh", "nghiệp", "xã", "huyện", "năm", "GRDP",
         "DTI", "Sở", "cơ", "quan", "(CNTT)", "“số", "hóa”", "-", "và", "của", "Bộ", "trên", "địa", "bàn",
         "chú", "ý", "ở"]
FIRST = ["Tỉnh", "Năm", "Theo", "Đến", "Hiện", "Kinh", "Trong", "Ông", "“Chúng", "(Ảnh", "100%", "2.212.325",
         "TP. Hồ Chí Minh", "Sở TT-TT", "Q. 1"]
END = [".", "!", "?", "…", ".”", "!”", ".)"]

sentence = st.builds(lambda first, mid, end: " ".join([first, *mid]) + end,
                     st.sampled_from(FIRST),
                     st.lists(st.one_of(st.sampled_from(WORDS), st.sampled_from(PROTECTED)), min_size=1, max_size=12)
                     .filter(lambda ws: ws[-1] in WORDS or ws[-1] in PROTECTED),
                     st.sampled_from(END))


@settings(max_examples=300, deadline=None)
@given(st.lists(sentence, min_size=1, max_size=8), st.sampled_from([" ", "  ", " \u00a0"]))
@example(["Tỉnh đạt 8,59%.", "TP. Hồ Chí Minh xếp thứ 12/63."], " ")
@example(["Theo Q. 1.", "Q. 1 có 25/01/2023."], " ")
def test_split_sentences_finds_exactly_the_sentences(sents, sep):
    text = sep.join(sents)
    assert sentences_of(text) == sents
    # And therefore no boundary falls inside a protected token.
    bounds = {p for s, e in split_sentences(text) for p in (s, e)}
    for token in PROTECTED:
        for m in re.finditer(re.escape(token), text):
            assert not any(m.start() < b < m.end() for b in bounds), token


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(list("aĐếỹ Z09.,!?…:;/%-“”()\n\t\u00a0") + ["TP. ", "Q. ", "8.619", "http://a.vn"]),
                max_size=150).map("".join))
def test_sentence_spans_partition_each_paragraph(text):
    for ps, pe in split_paragraphs(text):
        assert text[ps:pe] == text[ps:pe].strip() and "\n" not in text[ps:pe]
        spans = split_sentences(text, ps, pe)
        assert spans, "a non-blank paragraph has at least one sentence"
        cur = ps
        for s, e in spans:
            assert cur <= s < e <= pe
            assert text[cur:s].strip() == ""  # nothing but whitespace between sentences
            assert text[s:e] == text[s:e].strip()
            cur = e
        assert text[cur:pe].strip() == ""


# --- chunks ----------------------------------------------------------------------------------

def check_chunks(text: str, chunks, count=None, max_tokens=None):
    """The chunk invariants the citations rely on."""
    covered = [False] * len(text)
    for i, c in enumerate(chunks):
        assert c.index == i
        assert text[c.start:c.end] == c.text
        assert c.text and c.text == c.text.strip()
        for k in range(c.start, c.end):
            covered[k] = True
        if count and max_tokens:
            assert count(c.text) <= max_tokens
    for k, ch in enumerate(text):
        assert covered[k] or ch.isspace(), f"char {k} {ch!r} in no chunk"
    for a, b in zip(chunks, chunks[1:]):
        assert a.start < b.start and a.end < b.end  # in order, each chunk moves forward
        assert b.start <= a.end or text[a.end:b.start].strip() == ""  # overlap or touch
    assert len({c.chunk_id for c in chunks}) == len(chunks)


paragraph = st.lists(sentence, min_size=1, max_size=6).map(" ".join)
article = st.lists(paragraph, min_size=1, max_size=8).map("\n".join)


@settings(max_examples=150, deadline=None)
@given(article, st.integers(10, 60), st.integers(0, 2))
def test_chunks_cover_article_with_exact_offsets(text, target, overlap):
    chunker = Chunker(target_tokens=target, max_tokens=target + 20, overlap=overlap)
    chunks = chunker.run("a1", text)
    check_chunks(text, chunks, estimate_tokens, target + 20)
    assert chunker.run("a1", text) == chunks  # deterministic


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=400),
       st.integers(5, 40))
def test_chunks_cover_any_text(text, budget):
    chunks = Chunker(target_tokens=budget, max_tokens=budget).run("x", text)
    check_chunks(text, chunks)
    assert bool(chunks) == bool(text.strip())


@settings(max_examples=50, deadline=None)
@given(st.lists(st.sampled_from(WORDS + PROTECTED + ["x" * 450]), min_size=50, max_size=300))
def test_run_on_sentences_are_cut_to_the_budget(words):
    text = "Mở đầu. " + " ".join(words) + " hết"  # one very long "sentence" without punctuation
    chunks = Chunker(target_tokens=30, max_tokens=40).run("r", text)
    check_chunks(text, chunks, estimate_tokens, 40)


def test_overlap_repeats_the_last_sentence():
    text = " ".join(f"Câu số {i} nói về chuyển đổi số của tỉnh Tiền Giang." for i in range(30))
    chunks = Chunker(target_tokens=40, max_tokens=60, overlap=1).run("o", text)
    assert len(chunks) > 3
    for a, b in zip(chunks, chunks[1:]):
        last = split_sentences(a.text)[-1]
        assert b.text.startswith(a.text[last[0]:last[1]])


def test_chunk_ids_are_deterministic_and_versioned():
    text = load_article(CORPUS / "003_11d4590fe4f6bcca.txt").text
    c1 = Chunker().run("003", text)
    c2 = Chunker().run("003", text)
    assert [c.chunk_id for c in c1] == [c.chunk_id for c in c2]
    assert all(re.fullmatch(r"003:[0-9a-f]{10}:\d+", c.chunk_id) for c in c1)
    changed = Chunker().run("003", text.replace("6,42%", "6,24%"))
    assert not {c.chunk_id for c in c1} & {c.chunk_id for c in changed}  # new text, new ids
    assert {c.chunk_id for c in Chunker().run("004", text)}.isdisjoint(c.chunk_id for c in c1)


def test_chunker_rejects_bad_budgets():
    with pytest.raises(ValueError):
        Chunker(target_tokens=400, max_tokens=300)
    with pytest.raises(ValueError):
        Chunker(max_tokens=600)
    with pytest.raises(ValueError):
        Chunker(overlap=-1)
    assert CHUNKER_VERSION
