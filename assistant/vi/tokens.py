"""Vietnamese tokens for keyword matching: accent-folded syllables, syllable pairs, abbreviations.

Numbers stay whole ("8.619", "8,59", "12/63"); 'Tiền Giang', 'tien giang' and 'TIỀN GIANG' all
become `tien giang tien_giang`.

>>> lexical_tokens("Tiền Giang đạt 8,59% GRDP")
['tien', 'giang', 'dat', '8,59', '%', 'grdp', 'tien_giang', 'giang_dat', 'dat_8,59', '8,59_%', '%_grdp']
"""
from __future__ import annotations

import re

from assistant.vi.textnorm import fold, nfc

# Numbers with inner separators stay one token; '%' is its own token; otherwise word characters.
_TOKEN = re.compile(r"\d+(?:[.,/]\d+)*|%|[^\W_]+", re.UNICODE)
# Question words and function words that only add noise to a keyword query (folded forms).
QUERY_STOPWORDS = frozenset("""
bao nhieu la gi nao dau ai sao the khong co phai dung chua duoc cua va voi cho trong tren o
thi ma nhu nhung cac mot nay do ve theo den tu hay hoac da dang se bi boi vi de khi neu may
""".split())


# Abbreviations news articles use for words a question spells out (folded), and vice versa.
ABBREVIATIONS = {
    "dn": "doanh nghiep", "cntt": "cong nghe thong tin", "ubnd": "uy ban nhan dan", "hdnd": "hoi dong nhan dan",
    "tmdt": "thuong mai dien tu", "dvc": "dich vu cong", "dvctt": "dich vu cong truc tuyen",
    "ktxh": "kinh te xa hoi", "cds": "chuyen doi so", "ktso": "kinh te so", "nn": "nong nghiep",
    "tttt": "thong tin truyen thong", "cqdt": "chinh quyen dien tu", "cqs": "chinh quyen so",
}


def lexical_tokens(text: str, *, pairs: bool = True) -> list[str]:
    """Folded syllable tokens (abbreviations also spelled out), then adjacent pairs joined by '_'."""
    # NFC first: in decomposed input ("Hóa" typed on some keyboards) a combining accent splits the word.
    toks = [fold(m.group(0)) for m in _TOKEN.finditer(nfc(text))]
    expansions = [ABBREVIATIONS[t].split() for t in toks if t in ABBREVIATIONS]
    extra = [w for exp in expansions for w in exp]
    if not pairs:
        return toks + extra
    return toks + extra + [f"{a}_{b}" for a, b in zip(toks, toks[1:])] + \
        [f"{a}_{b}" for exp in expansions for a, b in zip(exp, exp[1:])]


# Number words a question may spell out where the article writes digits ("ba lĩnh vực" / "3 lĩnh vực").
# Matched with diacritics only: folded, "sau"/"tam"/"bay" are everyday words (after, heart, fly).
NUMBER_WORDS = {"hai": "2", "ba": "3", "bốn": "4", "sáu": "6", "bảy": "7", "tám": "8", "chín": "9", "mười": "10"}


def query_tokens(question: str) -> list[str]:
    """Distinct tokens of a question worth searching for (stop words dropped from unigrams)."""
    question = nfc(question)  # a decomposed accent would otherwise split the word
    toks = [fold(m.group(0)) for m in _TOKEN.finditer(question)]
    raw = [m.group(0).lower() for m in _TOKEN.finditer(question)]
    digits = [NUMBER_WORDS.get(r, t) for r, t in zip(raw, toks)]
    extra = [w for t in toks if t in ABBREVIATIONS for w in ABBREVIATIONS[t].split()]
    keep = [t for t in (toks + digits + extra) if t not in QUERY_STOPWORDS]
    pair_toks = [f"{a}_{b}" for seq in {tuple(toks), tuple(digits)} for a, b in zip(seq, seq[1:])
                 if not (a in QUERY_STOPWORDS and b in QUERY_STOPWORDS)]
    seen: dict[str, None] = {}
    for t in keep + pair_toks:
        seen.setdefault(t, None)
    return list(seen)
