"""Read a Vietnamese question: provinces named, what kind of figure it asks for, its focus terms.

>>> q = analyze("Tỷ lệ doanh nghiệp ở Tiền Giang nộp thuế điện tử là bao nhiêu?")
>>> q.provinces, q.expects, "nop_thue" in q.focus_pairs
(['Tiền Giang'], '%', True)
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from assistant.vi import gazetteer
from assistant.vi.tokens import QUERY_STOPWORDS, lexical_tokens
from assistant.vi.textnorm import fold, normalize_question

# Words that frame a question about a province but say nothing about the topic (folded).
GENERIC = frozenset("""
tinh pho huyen xa tp dia phuong bai viet nhac toi duoc gi bao nhieu la nao muc tieu
theo cua nam den vao ve
""".split())
# Cue words match whole words of the folded question ("dung thu" is "đứng thứ", not "sử dụng thuốc").
_PERCENT_CUE = re.compile(r"\b(?:phan tram|ty le|ti le|ty trong|ti trong)\b|%")
_RANK_CUE = re.compile(r"\b(?:thu may|xep thu|xep hang|thu hang|hang may|dung thu|thu bao nhieu)\b")
_QUANTITY_CUE = re.compile(r"\b(?:bao nhieu|may|phan tram|thu may|xep hang)\b|%")
# "Tỷ lệ …", "Số lượng …" with no question word ask for the figure itself; beside a question word that asks for
# something else ("Tỷ lệ nghiện rượu cao nhất ở độ tuổi nào?", "Để tăng tỷ lệ sinh, cần làm gì?") they only name
# the topic. "Tỉnh nào", "năm nào", "lĩnh vực nào" still want the place or year with its figure.
_SHARE_CUE = re.compile(r"\b(?:ty le|ti le|ty trong|ti trong|so luong)\b")
_OTHER_WH = re.compile(r"(?:^|\s)(?:gi|ai)(?=[\s?.,!]|$)|\b(?:vi sao|tai sao|the nao|ra sao|nhu nao|o dau|khi nao"
                       r"|luc nao|cach nao)\b|\b(?!(?:tinh|pho|phuong|noi|huyen|xa|vung|vuc|nganh|muc|nam|doan"
                       r"|diem|thang|quy)\b)[^\W\d_]+ nao\b")
_CLAIM_START = re.compile(r"^(co\s+)?(phai|dung|that)\s+(la\s+)?|^(co\s+dung\s+la|co\s+phai\s+la|co\s+that\s+la)\s+")
_CLAIM_END = re.compile(r"(khong|phai khong|dung khong|chu|that khong|hay khong)\s*\??$")
_FACTCHECK_VERBS = re.compile(r"^(kiem tra|xac minh|fact.?check)\b[:\s]*")


# Share of English function words that marks a question as English: "What is the DTI rank of Hậu Giang?"
# has 4 of 8; a Vietnamese question without diacritics has none (set by hand on the dev and paraphrase sets).
ENGLISH_SHARE = 0.3
_ENGLISH = frozenset("the what how many much is are was were of in which who when where does do did and to for "
                     "with rank ranking number percent province digital".split())


# A code-mixed question ("How many dịch vụ công … does Đồng Tháp have?") is read for its Vietnamese part: when
# one of these unambiguous English words is there, English function words are not topical terms.
_ENGLISH_CUES = frozenset("how many much what which does have has".split())
_ENGLISH_FUNCTION = frozenset("the what how many much is are was were of in which who when where does do did and "
                              "to for with have has a an".split())


def _english_words(text: str) -> set[str]:
    """English function words typed in a code-mixed question (empty when no unambiguous English cue is there)."""
    words = {w.lower() for w in re.findall(r"[A-Za-z]+", text) if w.isascii()}
    return words & _ENGLISH_FUNCTION if words & _ENGLISH_CUES else set()


def looks_english(text: str) -> bool:
    """True for a question written in English (no Vietnamese letters, mostly English function words)."""
    for m in reversed(gazetteer.find_provinces(text)):  # "Hậu Giang" in an English question is still English
        text = text[:m.start] + " " + text[m.end:]
    words = re.findall(r"[A-Za-zÀ-ỹĐđ]+", text)
    if not words or any(fold(w) != w.lower() for w in words):
        return False
    return sum(w.lower() in _ENGLISH for w in words) / len(words) >= ENGLISH_SHARE


@dataclass(frozen=True)
class QuestionInfo:
    """What the answerer needs to know about a question."""

    text: str
    folded: str
    provinces: list[str]
    expects: str | None  # '%', 'rank', 'number', 'doc' (a document's number) or None (no figure asked)
    focus: list[str] = field(default_factory=list)  # topical syllables (folded)
    focus_pairs: list[str] = field(default_factory=list)  # topical syllable pairs ('nop_thue')
    is_claim: bool = False
    claim: str = ""  # the statement to check, without "Có phải ... không?"
    count_noun: str = ""  # what "bao nhiêu X" counts, folded ("nguoi", "san pham"); "" if none
    asks_person: bool = False  # "… là ai?": the answer must name someone
    indices: frozenset[str] = frozenset()  # named indices asked about ("dti", "pci"), folded


def analyze(question: str, *, normalized: bool = False) -> QuestionInfo:
    """Analyze a question (normalized first unless the caller already did)."""
    text = question if normalized else normalize_question(question)
    folded = fold(text)
    provinces = gazetteer.provinces_in(text)
    province_tokens = {t for p in provinces for t in lexical_tokens(p, pairs=False)}
    for m in gazetteer.find_provinces(text):
        province_tokens.update(lexical_tokens(m.surface, pairs=False))
    toks = lexical_tokens(text, pairs=False)
    english = _english_words(text)

    def topical(t: str) -> bool:
        return t not in QUERY_STOPWORDS and t not in GENERIC and t not in province_tokens and t not in english

    focus = list(dict.fromkeys(t for t in toks if topical(t)))
    # Pairs with a number are brittle ("DTI 2021" vs "DTI cấp tỉnh năm 2021"): words only.
    pairs = list(dict.fromkeys(f"{a}_{b}" for a, b in zip(toks, toks[1:])
                               if topical(a) and topical(b) and not a[0].isdigit() and not b[0].isdigit()))
    cues = cue_text(text, folded)
    expects = _expected_figure(cues) or ("number" if {"how", "many"} <= english or {"how", "much"} <= english
                                           else None)
    claim = _claim_text(text, folded)
    return QuestionInfo(text, folded, provinces, expects, focus, pairs, bool(claim), claim, _count_noun(cues),
                        bool(_PERSON_CUE.search(folded)), NAMED_INDICES.intersection(toks))


# Named indices a ranking question can ask about; a sentence about another one does not answer it.
NAMED_INDICES = frozenset({"dti", "pci", "papi", "sipas", "ict", "par", "hdi", "gii", "pgi"})
# One person is asked for ("… là ai?", "vị nào"); "những ai", "nhóm người nào" ask for a kind of people, and
# "đơn vị nào" for a body.
WHICH_PERSON = r"(?<!\bdon )(?<!\bdia )(?<!\bgia )(?<!\bhuong )(?<!\bmui )\bvi nao\b"  # "vị nào", not "đơn vị nào"
_PERSON_CUE = re.compile(r"\b(?:la ai|ai la)\b|(?<!\bnhung )(?<!\bcac )(?<!\bnhom )\bnguoi nao\b|" + WHICH_PERSON)


# Measure words an article often leaves out after the number ("đạt 0,4856" for "bao nhiêu điểm").
OPTIONAL_COUNT_NOUNS = frozenset("diem lan bac phan nam thang ngay tuoi muc moi".split())
_COUNT_NOUN = re.compile(r"\b(?:bao nhieu|may)\s+(?!phan tram)([^\W\d_]+)(?:\s+([^\W\d_]+))?")


def _count_noun(folded: str) -> str:
    m = _COUNT_NOUN.search(folded)
    if not m or m.group(1) in QUERY_STOPWORDS or m.group(1) in OPTIONAL_COUNT_NOUNS:
        return ""
    second = m.group(2) or ""
    return m.group(1) if not second or second in QUERY_STOPWORDS or second in GENERIC else f"{m.group(1)} {second}"


# "Kế hoạch số mấy?": the answer is a document's number, not a quantity.
_DOC_CUE = re.compile(r"\b(?:ke hoach|nghi quyet|quyet dinh|chi thi|de an|chuong trinh|van ban|thong tu|nghi dinh)"
                      r"\s+(?:so\s+)?(?:so may|may|so bao nhieu|so hieu)\b")


def cue_text(text: str, folded: str) -> str:
    """The folded question with words that only look like "mấy" once folded ("máy bay", "may mắn") masked.

    A question typed without diacritics keeps every "may": there it may well be "mấy".

    >>> cue_text("Nhà vệ sinh trên máy bay ra sao?", fold("Nhà vệ sinh trên máy bay ra sao?"))
    'nha ve sinh tren m_y bay ra sao?'
    >>> cue_text("co may xa", "co may xa")
    'co may xa'
    """
    if text.lower() == folded:
        return folded
    return re.sub(r"\bmay\b", lambda m: m.group() if text[m.start():m.end()].lower() == "mấy" else "m_y", folded)


def _expected_figure(cues: str) -> str | None:
    """The kind of figure asked for, from the cue text of the question (`cue_text`).

    >>> [_expected_figure(fold(q)) for q in ("Tỷ lệ hồ sơ trực tuyến?", "Tỷ lệ nghiện rượu cao nhất ở độ tuổi nào?",
    ...                                      "Tỉnh nào có tỷ lệ cao nhất?", "Sau khi sử dụng thuốc, điều gì xảy ra?")]
    ['%', None, '%', None]
    """
    if _DOC_CUE.search(cues):
        return "doc"
    if _RANK_CUE.search(cues):
        return "rank"
    quantity = bool(_QUANTITY_CUE.search(cues)) or bool(_SHARE_CUE.search(cues) and not _OTHER_WH.search(cues))
    if quantity and _PERCENT_CUE.search(cues):
        return "%"
    return "number" if quantity else None


def _claim_text(text: str, folded: str) -> str:
    """The claim inside 'Có phải/Có đúng là ... không?' or 'Kiểm tra: ...', else ''."""
    f = folded.strip()
    m = _FACTCHECK_VERBS.match(f)
    if m:
        return text[m.end():].strip()
    start = _CLAIM_START.match(f)
    end = _CLAIM_END.search(f)
    if end and (start or re.search(r"\d", f)):
        # "Có phải X không?" or a yes/no question stating a figure: "Đồng Tháp có 214 dịch vụ không?"
        return text[start.end() if start else 0:end.start()].strip(" ,?")
    return ""


# The word joining a province to the next one in "A và B", "A, B hay C".
_JOINER_BEFORE = re.compile(r"\s*(?:,|\bvà|\bhay|\bvới|\bhoặc|\bso với)\s*$", re.IGNORECASE)
_JOINER_AFTER = re.compile(r"^\s*(?:,|và\b|hay\b|với\b|hoặc\b|so với\b)\s*", re.IGNORECASE)


def about_one_province(question: str, province: str) -> str:
    """The question with the other provinces it names cut out, with the word that joined them: the question a
    comparison asks of each province.

    >>> about_one_province("Kinh tế số chiếm bao nhiêu % GRDP ở Bến Tre và Đồng Tháp?", "Bến Tre")
    'Kinh tế số chiếm bao nhiêu % GRDP ở Bến Tre?'
    >>> about_one_province("Tiền Giang và hau giang xếp hạng DTI thứ mấy?", "Hậu Giang")
    'hau giang xếp hạng DTI thứ mấy?'
    >>> about_one_province("Tỉnh nào cao hơn, Đồng Tháp hay Tiền Giang?", "Tiền Giang")
    'Tỉnh nào cao hơn, Tiền Giang?'
    """
    text = question
    for m in reversed(gazetteer.find_provinces(question)):
        if m.province == province:
            continue
        before, after = text[:m.start], text[m.end:]
        if _JOINER_AFTER.match(after):  # "A và B": A goes with the word after it, B with the word before
            after = _JOINER_AFTER.sub("", after, count=1)
        elif joined := _JOINER_BEFORE.search(before):
            before = before[:joined.start()]
        before, after = before.rstrip(), after.lstrip()
        text = before + (" " if before and after and after[0] not in "?.,!;" else "") + after
    return text
