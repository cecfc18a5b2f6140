"""What the answer selector knows about each candidate sentence: one row of named signals.

Signals: sentence-level semantic similarity (e5 on the sentence), the lexical overlap of folded
syllables, whether the kind of figure asked for is there, year match or mismatch, achieved vs
target cues, province match, the chunk's retrieval rank and score, and the sentence's neighbours.

>>> from assistant.types import Hit, Passage
>>> from assistant.vi.question import analyze
>>> text = "Năm 2021, kinh tế số chiếm 8,59% GRDP. Mục tiêu năm 2025 là 15%."
>>> hits = [Hit(Passage("a:0", "a", 0, 0, len(text), text, province="Tiền Giang"), 1.0)]
>>> spans = candidate_spans(hits)
>>> rows = featurize(analyze("Năm 2021 kinh tế số chiếm bao nhiêu % GRDP?"), hits, spans)
>>> rows.shape == (2, len(FEATURES)), float(rows[0][FEATURES.index("year_match")]), float(rows[1][FEATURES.index("year_mismatch")])
(True, 1.0, 1.0)
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from assistant.ingest.sentences import quote_windows
from assistant.types import Hit
from assistant.vi import figures as figs
from assistant.vi import gazetteer
from assistant.vi.names import person_names
from assistant.vi.question import NAMED_INDICES, WHICH_PERSON, QuestionInfo
from assistant.vi.textnorm import fold
from assistant.vi.tokens import ABBREVIATIONS, QUERY_STOPWORDS, lexical_tokens

# Topical word pairs say more than single syllables ("nop_thue" vs "thue"): the weight from issue 2's dev
# sweep, kept as the coverage feature's definition (the selector learns how much coverage matters).
PAIR_WEIGHT = 1.6

# Context windows around a figure, in characters: about ten words before, fifteen after (what it counts).
FIGURE_CONTEXT_BEFORE, FIGURE_CONTEXT_AFTER = 60, 80
# The counted noun follows its number within a few words: "862 doanh nghiệp", "105.800 tem truy xuất".
COUNT_NOUN_WINDOW, COUNT_NOUN_WORDS = 40, 4

FEATURES = (
    "sem", "sem_gap", "sem_rank_inv", "lex_cov", "word_cov", "pair_hit", "lex_rank_inv",
    "expects", "has_expected", "expects_missing", "year_asked", "year_match", "year_mismatch",
    "q_target", "s_target", "s_achieved", "target_agree", "target_clash",
    "prov_asked", "other_place", "chunk_prov_match", "index_clash",
    "hit_rank_inv", "hit_score_rel", "dense_rank_inv", "top_article",
    "prev_sem", "next_sem", "prev_lex_cov", "log_len", "sent_pos_inv",
    "person_ok", "person_missing", "count_ok",
    "when_asked", "when_ok", "who_asked", "who_ok", "where_asked", "where_ok", "new_names", "people_missing",
    "q_number_hit", "q_plain",
)
# People are counted with "người" itself ("67.500 lượt người", "1.200 người"): a sentence whose figures count
# visits, files or percentages never answers "bao nhiêu người" (dev_qa d21); the one such paraphrase question's
# gold sentence counts "lượt người", so the gate costs no answerable question of ours.
PEOPLE_COUNT_NOUNS = frozenset({"nguoi"})
# Nouns that count people too ("700 công dân Anh", "327 giáo sư, bác sĩ", "6 y bác sĩ"): common Vietnamese news
# usage, folded; "lượt" (visits) and "hộ" (households) are not people.
PEOPLE_NOUNS = frozenset("""
nguoi cong_dan benh_nhan bac_si y_bac giao_su hoc_sinh sinh_vien tre_em tre thai_phu phu_nu nam_gioi nu_gioi
dan_ong lao_dong cong_nhan nhan_vien can_bo du_khach hanh_khach nan_nhan chuyen_gia nha_khoa nong_dan
thanh_vien cu_dan nguoi_dan dai_bieu hoc_vien giao_vien em be
""".split())
# Counts written in words ("ba người", "hàng trăm bệnh nhân"): the figure extractor reads digits only.
_SPELLED_COUNT = re.compile(r"\b(?:một|hai|ba|bốn|năm|sáu|bảy|tám|chín|mười|vài|hàng chục|hàng trăm|hàng nghìn"
                            r"|hàng ngàn|hàng triệu)\s+(?=[^\W\d_])", re.IGNORECASE)

# What kind of answer a wh-question wants (folded cue words): a time, a person, a place.
_WHEN_CUES = re.compile(r"\b(?:nam nao|khi nao|luc nao|bao gio|ngay nao|thang nao|thoi diem nao|thoi gian nao"
                        r"|giai doan nao|the ky nao|thap nien nao|nam bao nhieu|tu khi nao|den khi nao)\b")
_WHO_CUES = re.compile(r"(?:^|\s)ai(?:\s|\?|$)|\b(?:nguoi nao|nhan vat nao|ong nao|ba nao|to chuc nao)\b|"
                       + WHICH_PERSON)
_WHERE_CUES = re.compile(r"\b(?:o dau|tai dau|noi nao|nuoc nao|quoc gia nao|thanh pho nao|khu vuc nao|vung nao"
                         r"|dia diem nao|cho nao|den dau|tu dau)\b")
_CAPITALIZED = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-ZÀ-Ỹ][^\W\d_]+")

_YEAR = re.compile(r"\b(?:19[5-9]\d|20\d\d)\b")
# Cue words of plans and targets vs of results (folded); from the five seed articles' wording and common
# Vietnamese news usage ("phấn đấu đến năm 2025", "đã đạt", "hiện có").
_TARGET_CUES = re.compile(r"\b(?:muc tieu|phan dau|ke hoach|du kien|tam nhin|den nam|toi nam|dinh huong|se dat"
                          r"|chi tieu|dat muc|huong toi|giai doan)\b")
_ACHIEVED_CUES = re.compile(r"\b(?:da dat|dat duoc|hien co|hien nay|da co|da duoc|da co|tang len|dat |ket qua"
                            r"|thuc hien duoc|nam qua|vua qua|da trien khai|xep thu|xep hang|dung thu)")


@dataclass(eq=False)
class Span:
    """A candidate quote: a sentence (or the best clause of a long one) inside a retrieved chunk."""

    hit: Hit
    hit_rank: int
    start: int  # offsets inside the chunk text
    end: int
    position: int = 0  # the sentence's index inside its chunk
    coverage: float = 0.0  # weighted share of the question's topical terms found in the span
    word_coverage: float = 0.0  # share of the question's topical words (not pairs) in the span
    pair_hits: int = 0
    tokens: frozenset[str] = frozenset()  # its folded lexical tokens (question_row reads them again)
    score: float = 0.0  # the selector's probability that this span answers
    row: np.ndarray | None = None  # its FEATURES row, once scored

    @property
    def text(self) -> str:
        """The quoted text."""
        return self.hit.chunk.text[self.start:self.end]


# Hard guarantees, not scores: a sentence that lacks the kind of figure asked for, names only other provinces,
# or only another index, names nobody for a "who" question, or counts no people for "bao nhiêu người", never
# answers (a wrong figure is worse than no answer, DESIGN.md). The training data has too few such cases for the selector to learn them.
GATES = ("expects_missing", "other_place", "index_clash", "person_missing", "people_missing")


def eligible(rows: np.ndarray) -> np.ndarray:
    """Boolean per row: may this sentence answer at all (see GATES)?"""
    if len(rows) == 0:
        return np.zeros(0, bool)
    return ~np.any(rows[:, [FEATURES.index(g) for g in GATES]] > 0, axis=1)


def candidate_spans(hits: Sequence[Hit]) -> list[Span]:
    """Every sentence of the retrieved chunks; over-long sentences are cut into clause windows."""
    return [Span(h, rank, s, e, pos) for rank, h in enumerate(hits) for s, e, pos in quote_windows(h.chunk.text)]


def lexical_coverage(info: QuestionInfo, spans: Sequence[Span]) -> None:
    """Set each span's coverage of the question's focus terms, weighted by a local IDF."""
    token_sets = [frozenset(lexical_tokens(s.text)) for s in spans]
    n = len(spans)
    weights: dict[str, float] = {}
    for t in info.focus + info.focus_pairs:
        df = sum(1 for ts in token_sets if t in ts)
        # Local IDF: a term every candidate shares ('kinh te so') says little about which one answers.
        weights[t] = math.log(1 + (n + 1) / (df + 0.5)) * (PAIR_WEIGHT if "_" in t else 1.0)
    total = sum(weights.values()) or 1.0
    words = sum(weights[t] for t in info.focus)
    for s, ts in zip(spans, token_sets):
        s.tokens = ts
        s.coverage = sum(w for t, w in weights.items() if t in ts) / total
        s.pair_hits = sum(1 for t in info.focus_pairs if t in ts)
        s.word_coverage = sum(weights[t] for t in info.focus if t in ts) / words if words else 0.0


def figure_context(text: str, f: figs.Figure) -> tuple[set[str], set[str]]:
    """Words just before and just after a figure, within its clause: what the figure measures."""
    before = re.split(r"[,;:.()]", text[max(0, f.start - FIGURE_CONTEXT_BEFORE):f.start])[-1]
    after = re.split(r"[,;:.()]", text[f.end:f.end + FIGURE_CONTEXT_AFTER])[0]
    def words(s: str) -> set[str]:
        return {t for t in lexical_tokens(s, pairs=False) if t not in QUERY_STOPWORDS and not t[:1].isdigit()}
    unit = set(lexical_tokens(f.unit, pairs=False)) if f.unit not in ("%", "rank", "ratio", "") else set()
    return words(before), words(after) | unit


def counted_words(text: str, f: figs.Figure, n: int = 3) -> list[str]:
    """The first words naming what a figure counts: its unit and the words right after it ("105 sản phẩm OCOP")."""
    unit = lexical_tokens(f.unit, pairs=False) if f.unit not in ("%", "rank", "ratio", "") else []
    after = re.split(r"[,;:.()]", text[f.end:f.end + FIGURE_CONTEXT_AFTER])[0]
    return (unit + [t for t in lexical_tokens(after, pairs=False) if not t[:1].isdigit()])[:n]


def figure_index(text: str, f: figs.Figure) -> str:
    """The named index a figure belongs to: the last one named before it ("(DTI) … tăng 10 bậc (xếp thứ 39/63)")."""
    named = [t for t in lexical_tokens(text[:f.start], pairs=False) if t in NAMED_INDICES]
    return named[-1] if named else ""


def has_expected(info: QuestionInfo, found: Sequence[figs.Figure]) -> bool:
    """Whether the figures of a sentence include the kind the question asks for."""
    kinds = {f.kind for f in found}
    if info.expects == "number":
        return bool(kinds & figs.QUANTITY_KINDS)
    return info.expects in kinds or (info.expects == "rank" and "number" in kinds)


def about_something_else(info: QuestionInfo, text: str) -> bool:
    """True when the sentence names only other provinces than the asked ones."""
    if not info.provinces:
        return False
    named = gazetteer.provinces_in(text)
    return bool(named) and not set(named) & set(info.provinces)


def index_clash(info: QuestionInfo, text: str) -> bool:
    """True when the sentence names only another index than the asked one (PCI for a DTI question)."""
    if not info.indices:
        return False
    named = NAMED_INDICES.intersection(lexical_tokens(text, pairs=False))
    return bool(named) and not named & info.indices


def counts_noun(text: str, f: figs.Figure, noun: str) -> bool:
    """True when the figure is followed (within a few words) by the counted noun or its abbreviation."""
    head = noun.split()[0]
    if fold(f.unit).split()[:1] == [head]:
        return True
    after = lexical_tokens(text[f.end:f.end + COUNT_NOUN_WINDOW], pairs=False)
    return head in after[:COUNT_NOUN_WORDS] + [w for t in after[:2] if t in ABBREVIATIONS
                                               for w in ABBREVIATIONS[t].split()[:1]]


def counts_people(text: str, f: figs.Figure) -> bool:
    """A count (not a share) of people: its unit, or a noun within a few words after it inside its clause.

    >>> t = "Nghiên cứu trên gần 9.000 người trưởng thành."
    >>> counts_people(t, figs.extract_figures(t)[0])
    True
    """
    if f.kind != "number":
        return False
    return _names_people(f.unit) or _names_people(_clause_after(text, f.end))


def spelled_people_count(text: str) -> bool:
    """A count of people written in words ("còn cứu sống ba người khác", "hai người bị ngộ độc")."""
    return any(_names_people(_clause_after(text, m.end())) for m in _SPELLED_COUNT.finditer(text))


def _clause_after(text: str, pos: int) -> str:
    """The words after `pos`, up to the end of their clause, within the counted-noun window."""
    return re.split(r"[,;:.()]", text[pos:pos + COUNT_NOUN_WINDOW])[0]


def _names_people(words: str) -> bool:
    toks = lexical_tokens(words, pairs=False)[:COUNT_NOUN_WORDS]
    return bool(toks) and (toks[0] in PEOPLE_NOUNS or "_".join(toks[:2]) in PEOPLE_NOUNS) \
        or any(t in PEOPLE_COUNT_NOUNS for t in toks)


def question_years(info: QuestionInfo) -> set[str]:
    """Years the question names ("năm 2023", "2025")."""
    return set(_YEAR.findall(info.text))


def asks_target(info: QuestionInfo) -> bool:
    """The question asks for a plan or target ("mục tiêu", "phấn đấu", "đến năm 2030")."""
    return bool(_TARGET_CUES.search(info.folded))


def sentence_cues(text: str) -> tuple[bool, bool]:
    """(states a target, states a result) from cue words of the folded sentence."""
    f = fold(text)
    return bool(_TARGET_CUES.search(f)), bool(_ACHIEVED_CUES.search(f))


# Results stated in so many words; a bare "đạt" also introduces targets ("phấn đấu đạt 15%"), so it only
# counts when no target word stands in the clause.
_STRONG_ACHIEVED = re.compile(r"\b(?:da dat|dat duoc|hien co|hien nay|da co|da duoc|ket qua|thuc hien duoc|nam qua"
                              r"|vua qua|da trien khai|xep thu|xep hang|dung thu|tang len)\b")


# The answer decision's inputs, in three groups the training script compares (train_selector.ANSWER_INPUTS):
# the candidates' scores; how much of the question the retrieved sentences contain at all; what the best one
# gets wrong.
SCORE_INPUTS = ("best_p", "p_gap", "max_sem", "best_sem", "max_lex", "best_lex", "best_word_cov")
COVERAGE_INPUTS = ("focus_found", "pairs_found", "best_pairs_found", "names_asked", "names_missing",
                   "numbers_asked", "numbers_missing")
MISMATCH_INPUTS = ("best_count_missing", "best_year_mismatch", "best_target_clash")
QUESTION_FEATURES = SCORE_INPUTS + COVERAGE_INPUTS + MISMATCH_INPUTS
_DIGITS = re.compile(r"\d+(?:[.,]\d+)*")


def _share_missing(wanted: set[str], text: str) -> float:
    return sum(w not in text for w in wanted) / len(wanted) if wanted else 0.0


def question_row(probs: np.ndarray, rows: np.ndarray, info: QuestionInfo | None = None,
                 texts: Sequence[str] = (), tokens: Sequence[frozenset[str]] | None = None) -> np.ndarray:
    """What decides whether to answer at all: how sure the best sentence is, how close any comes, and how much
    of the question the retrieved sentences contain at all (a left-out article leaves its names and word pairs
    unmatched, while local-IDF coverage only ranks candidates against each other).

    `tokens`: the texts' `lexical_tokens` as sets, when the caller has them already."""
    if len(probs) == 0:
        return np.zeros(len(QUESTION_FEATURES), np.float32)
    order = np.argsort(-probs)
    best, second = order[0], order[1] if len(order) > 1 else order[0]
    col = {name: i for i, name in enumerate(FEATURES)}
    v = {"best_p": probs[best], "p_gap": probs[best] - probs[second], "max_sem": rows[:, col["sem"]].max(),
         "best_sem": rows[best, col["sem"]], "max_lex": rows[:, col["lex_cov"]].max(),
         "best_lex": rows[best, col["lex_cov"]], "best_word_cov": rows[best, col["word_cov"]],
         # What the best sentence gets wrong about the question: the thing counted, the year, achieved vs target.
         "best_count_missing": float(bool(info and info.count_noun) and not rows[best, col["count_ok"]]),
         "best_year_mismatch": rows[best, col["year_mismatch"]], "best_target_clash": rows[best, col["target_clash"]]}
    if info is not None and texts:
        tokens = tokens if tokens is not None else [frozenset(lexical_tokens(t)) for t in texts]
        found, best_tokens = set().union(*tokens), tokens[best]
        focus, pairs = set(info.focus), set(info.focus_pairs)
        folded = fold(" ".join(texts))
        names = {fold(m.group()) for m in _CAPITALIZED.finditer(info.text)}
        numbers = set(_DIGITS.findall(info.text))
        v.update(focus_found=len(focus & found) / len(focus) if focus else 1.0,
                 pairs_found=len(pairs & found) / len(pairs) if pairs else 1.0,
                 best_pairs_found=len(pairs & best_tokens) / len(pairs) if pairs else 1.0,
                 names_asked=float(bool(names)), names_missing=_share_missing(names, folded),
                 numbers_asked=float(bool(numbers)), numbers_missing=_share_missing(numbers, folded))
    return np.array([v.get(f, 0.0) for f in QUESTION_FEATURES], np.float32)


# "đạt tối thiểu 10%", "ít nhất 50%": a floor is how a plan states its target, never how a result is reported.
_FLOOR_CUES = re.compile(r"\b(?:toi thieu|it nhat|khong thap hon|tren duoi)\b")


def nearest_cue(clause: str) -> str | None:
    """'target' or 'achieved' for a figure from the words of its clause before it, else None."""
    f = fold(clause)
    last_t = max((m.end() for r in (_TARGET_CUES, _FLOOR_CUES) for m in r.finditer(f)), default=-1)
    last_a = max((m.end() for m in _STRONG_ACHIEVED.finditer(f)), default=-1)
    if last_a > last_t:
        return "achieved"
    if last_t >= 0:
        return "target"
    return "achieved" if re.search(r"\bdat\b", f) else None


def featurize(info: QuestionInfo, hits: Sequence[Hit], spans: Sequence[Span],
              qvec: np.ndarray | None = None, svecs: np.ndarray | None = None) -> np.ndarray:
    """One row of FEATURES per span; without vectors the semantic signals are 0."""
    n = len(spans)
    out = np.zeros((n, len(FEATURES)), np.float32)
    if not n:
        return out
    lexical_coverage(info, spans)
    sem = (svecs @ qvec).astype(np.float32) if qvec is not None and svecs is not None and len(svecs) else \
        np.zeros(n, np.float32)
    sem_order = np.argsort(-sem, kind="stable")
    sem_rank = np.empty(n, np.int64)
    sem_rank[sem_order] = np.arange(n)
    lex = np.array([s.coverage for s in spans])
    lex_rank = np.empty(n, np.int64)
    lex_rank[np.argsort(-lex, kind="stable")] = np.arange(n)
    top_score = max((h.score for h in hits), default=1.0) or 1.0
    top_article = hits[0].chunk.article_id if hits else ""
    years = question_years(info)
    q_target = asks_target(info)
    when, where = bool(_WHEN_CUES.search(info.folded)), bool(_WHERE_CUES.search(info.folded))
    who = info.asks_person or bool(_WHO_CUES.search(info.folded))
    q_names = {fold(w) for w in re.findall(r"[^\W\d_]+", info.text)}
    q_numbers = set(_DIGITS.findall(info.text)) - years
    # Typed without diacritics, a question is further from every sentence in e5's space: the selector learns
    # how much less the semantic signals then say.
    q_plain = float(info.text.lower() == info.folded)
    col = {name: i for i, name in enumerate(FEATURES)}
    for i, s in enumerate(spans):
        text = s.text
        row = out[i]
        row[col["sem"]] = sem[i]
        row[col["q_plain"]] = q_plain
        row[col["sem_gap"]] = sem[i] - sem.max()
        row[col["sem_rank_inv"]] = 1.0 / (1 + sem_rank[i])
        row[col["lex_cov"]] = s.coverage
        row[col["word_cov"]] = s.word_coverage
        row[col["pair_hit"]] = float(s.pair_hits > 0)
        row[col["lex_rank_inv"]] = 1.0 / (1 + lex_rank[i])
        found = figs.extract_figures(text)
        if info.expects:
            # "còn cứu sống ba người khác" answers "bao nhiêu người" though no digit is there.
            ok = has_expected(info, found) or (info.expects == "number" and bool(info.count_noun)
                                               and info.count_noun.split()[0] in PEOPLE_COUNT_NOUNS
                                               and spelled_people_count(text))
            row[col["expects"]] = 1.0
            row[col["has_expected"]] = float(ok)
            row[col["expects_missing"]] = float(not ok)
        if years:
            stated = set(_YEAR.findall(text))
            row[col["year_asked"]] = 1.0
            row[col["year_match"]] = float(bool(stated & years))
            row[col["year_mismatch"]] = float(bool(stated) and not stated & years)
        s_target, s_achieved = sentence_cues(text)
        row[col["q_target"]] = float(q_target)
        row[col["s_target"]] = float(s_target)
        row[col["s_achieved"]] = float(s_achieved)
        row[col["target_agree"]] = float(q_target == s_target)
        row[col["target_clash"]] = float((q_target and s_achieved and not s_target)
                                         or (not q_target and s_target and not s_achieved and bool(info.expects)))
        if info.provinces:
            row[col["prov_asked"]] = 1.0
            row[col["other_place"]] = float(about_something_else(info, text))
            row[col["chunk_prov_match"]] = float(bool(set(info.provinces) & set(s.hit.chunk.provinces)))
        row[col["index_clash"]] = float(index_clash(info, text))
        row[col["hit_rank_inv"]] = 1.0 / (1 + s.hit_rank)
        row[col["hit_score_rel"]] = s.hit.score / top_score
        row[col["dense_rank_inv"]] = 1.0 / (1 + s.hit.dense_rank) if s.hit.dense_rank is not None else 0.0
        row[col["top_article"]] = float(s.hit.chunk.article_id == top_article)
        prev = i - 1 if i > 0 and spans[i - 1].hit is s.hit else None
        nxt = i + 1 if i + 1 < n and spans[i + 1].hit is s.hit else None
        row[col["prev_sem"]] = sem[prev] if prev is not None else 0.0
        row[col["next_sem"]] = sem[nxt] if nxt is not None else 0.0
        row[col["prev_lex_cov"]] = spans[prev].coverage if prev is not None else 0.0
        row[col["log_len"]] = math.log1p(len(text))
        row[col["sent_pos_inv"]] = 1.0 / (1 + s.position)
        if info.asks_person:
            named = bool(person_names(text))
            row[col["person_ok"]] = float(named)
            row[col["person_missing"]] = float(not named)
        if when:
            row[col["when_asked"]] = 1.0
            row[col["when_ok"]] = float(bool(_YEAR.search(text)) or any(f.unit in ("date", "year", "time", "quarter")
                                                                         for f in found))
        if who:
            row[col["who_asked"]] = 1.0
            row[col["who_ok"]] = float(bool(person_names(text)))
        names = {fold(m.group()) for m in _CAPITALIZED.finditer(text)} - q_names
        if where:
            row[col["where_asked"]] = 1.0
            row[col["where_ok"]] = float(bool(names))
        row[col["new_names"]] = math.log1p(len(names))
        if q_numbers:  # "Tỉnh nào … 6,42% …?", "Ngày 8/7 …": the sentence that holds the question's own numbers
            row[col["q_number_hit"]] = sum(bool(re.search(rf"(?<![\d.,]){re.escape(x)}(?![\d]|[.,]\d)", text))
                                           for x in q_numbers) / len(q_numbers)
        if info.count_noun:
            row[col["count_ok"]] = float(any(counts_noun(text, f, info.count_noun) for f in found if f.is_quantity))
            if info.count_noun.split()[0] in PEOPLE_COUNT_NOUNS:
                people = any(counts_people(text, f) for f in found) or spelled_people_count(text)
                row[col["people_missing"]] = float(not people)
    return out
