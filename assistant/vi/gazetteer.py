"""Gazetteer of Vietnamese provincial-level units and a fast mention finder.

Covers the 63 provinces / centrally-run cities that existed before the 2025
reorganisation and the 34 units in force from 1 July 2025 (Resolution
202/2025/QH15), with the successor of every old unit. The table (units, aliases,
successors and the word lists of the rules below) is the data file
``provinces.json`` beside this module, read once at import.

>>> [m.province for m in find_provinces("Tiền Giang xếp hạng 12/63, còn tp.hcm thì sao?")]
['Tiền Giang', 'TP. Hồ Chí Minh']
>>> provinces_in("dong thap co bao nhieu dich vu cong truc tuyen")
['Đồng Tháp']
>>> provinces_in("ứng dụng HauGiang có 67.500 lượt cài đặt; TienGiangS là nền tảng khác")
['Hậu Giang']
>>> canonical("Thanh Hoá"), canonical("TPHCM"), canonical("xyz")
('Thanh Hóa', 'TP. Hồ Chí Minh', None)
>>> same_unit_now("Tiền Giang", "Đồng Tháp"), same_unit_now("Thừa Thiên Huế", "Huế")
(True, True)

Decisions
---------
* Canonical names are the official short names with diacritics ("Hòa Bình",
  "Thanh Hóa", "Khánh Hòa" in the modern tone placement; "TP. Hồ Chí Minh";
  "Bà Rịa - Vũng Tàu"; "Thừa Thiên Huế").
* ``Province.merged_into`` is the canonical name of the post-2025 unit for every
  pre-2025 unit -- its *own* name when it kept it (e.g. "Đồng Tháp" ->
  "Đồng Tháp", "Tiền Giang" -> "Đồng Tháp").  It is ``None`` only for units that
  did not exist before 2025, i.e. "Huế".  So ``merged_into is not None`` means
  "one of the 63" (see ``Province.pre_2025``).
* "Thừa Thiên Huế" (pre-2025 province, ``current=False``) and "Huế" (the
  centrally-run city that replaced it, ``current=True``) are two entries:
  "Thừa Thiên Huế"/"TT-Huế" map to the former, "Huế"/"thành phố Huế" to the
  latter; ``same_unit_now`` treats them as one unit.
* "Vũng Tàu"/"Bà Rịa" count as Bà Rịa - Vũng Tàu and "thành phố Bến Tre" as
  Bến Tre: a city carrying its province's name is reported as the province.
  Other cities (Đà Lạt, Nha Trang, ...) are deliberately not aliases.
* "Hồ Chí Minh" alone is the city.  The person is excluded by blocking phrases
  such as "Chủ tịch Hồ Chí Minh", "tư tưởng Hồ Chí Minh", "Đoàn TNCS Hồ Chí
  Minh"; likewise "Thái Bình Dương" (Pacific Ocean) and the newspaper "Sài Gòn
  Giải Phóng" yield nothing.
* Names that are also common words ("hòa bình" = peace, "thái bình", "bình
  định", "cao bằng" = as high as, "hải dương" = ocean, "huế" vs "Huệ") are only
  accepted when (a) preceded by "tỉnh"/"thành phố"/"TP", or (b) every word is
  capitalised and the diacritics, if any, are exactly the name's, or (c) the
  whole text is a typed question: no diacritics and no capitals except its
  first letter (phones capitalise it).  ALL-CAPS headlines count as capitalised,
  a known false positive ("KHÁT VỌNG HÒA BÌNH").  "HN" is accepted only in
  upper case.  ``canonical`` ignores these rules: its input is known to be a name.
* Matching works on folded (lower-case, diacritic-free) word tokens, so it is
  case- and accent-insensitive and only ever matches whole words.  Words of a
  name may be separated by spaces/tabs or one dash ("Bà Rịa-Vũng Tàu"), and
  "TP" may be followed by a dot ("TP.HCM"); never by a line break or comma.
* A mention includes its administrative prefix ("tỉnh Hòa Bình",
  "Thành phố Hồ Chí Minh").  Input is NFC-normalised first and offsets refer to
  the NFC text (identical to the input when it is already NFC).
"""
from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from itertools import accumulate
from types import MappingProxyType
from typing import NamedTuple

from assistant.vi.textnorm import fold

__all__ = [
    "Province",
    "Mention",
    "PROVINCES",
    "find_provinces",
    "provinces_in",
    "main_province",
    "canonical",
    "same_unit_now",
    "successor",
]


@dataclass(frozen=True)
class Province:
    """One provincial-level unit, pre- or post-2025."""

    name: str                 # canonical display name with diacritics
    kind: str                 # "tỉnh" or "thành phố"
    aliases: tuple[str, ...]  # surface forms with diacritics; folded forms and prefixes are derived
    merged_into: str | None   # post-2025 unit it belongs to (its own name if kept); None = new in 2025
    current: bool             # True for the 34 units existing after 1 July 2025

    @property
    def pre_2025(self) -> bool:
        """True for the 63 units that existed before the 2025 reorganisation."""
        return self.merged_into is not None


@dataclass(frozen=True)
class Mention:
    """One occurrence of a province name in a text."""

    province: str   # canonical name
    start: int      # offsets into the NFC-normalised input
    end: int
    surface: str    # the matched text, prefix included


# The table itself is data: provinces.json beside this module (units, aliases, successors, and the
# word lists below), read once at import. Its "about"/"…_note" entries say what each part means.
TABLE_FILE = "provinces.json"
_KINDS = frozenset({"tỉnh", "thành phố"})
# Provincial-level units before the 2025 reorganisation, and from 1 July 2025 (Resolution 202/2025/QH15).
UNITS_BEFORE_2025 = 63
UNITS_FROM_2025 = 34

# Found through the package (importlib.resources), so it works from a clone or an installed copy.
_DATA: dict = json.loads(resources.files(__package__).joinpath(TABLE_FILE).read_text(encoding="utf-8"))
# Aliases that are also ordinary words or personal names; see module docstring.
_AMBIGUOUS = frozenset(_DATA["ambiguous"])
# Aliases accepted only with exactly this capitalisation.
_EXACT_CASE = frozenset(_DATA["exact_case"])
# Administrative prefixes that may precede any name and make it unambiguous.
_PREFIXES = tuple(_DATA["prefixes"])
# Phrases containing a name that are not about the province; matched and dropped.
_BLOCKERS = tuple(_DATA["blockers"])


_WORD = re.compile(r"\w+")
_SPLIT = re.compile(r"(\w+)")
# Characters allowed between the words of a name besides a single dash; no newlines,
# so a heading ending in "Long" followed by a line starting "An" is not "Long An".
_INLINE_SPACE = " \t\u00a0\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000"
_DASHES = frozenset({"", "-", "\u2013", "\u2014"})


# textnorm.fold maps each character independently and costs ~2 ms per 10 kB in pure
# Python; the same mapping as a translate table keeps find_provinces around 1 ms.
_FOLD_TABLE: Mapping[int, str] = MappingProxyType({
    cp: fold(chr(cp)) for block in (range(0x250), range(0x1E00, 0x1F00)) for cp in block
})
_FOLD_CHARS = frozenset(map(chr, _FOLD_TABLE))


def _fold(text: str) -> str:
    """Same result as ``textnorm.fold``, computed with ``str.translate``."""
    missing = set(text) - _FOLD_CHARS
    if not missing:
        return text.translate(_FOLD_TABLE)
    table = dict(_FOLD_TABLE)
    table.update({ord(ch): fold(ch) for ch in missing})
    return text.translate(table)


def _words(text: str) -> tuple[str, ...]:
    return tuple(_WORD.findall(_fold(unicodedata.normalize("NFC", text))))


def _build_provinces(data: dict) -> tuple[Province, ...]:
    """The units of the table in file order: the 63 pre-2025 ones, then those new in 2025."""
    units: list[Province] = []
    for region in data["before_2025"].values():
        for u in region:
            into = u.get("successor")
            units.append(Province(u["name"], u["kind"], (u["name"], *u.get("aliases", ())), into or u["name"],
                                  current=into is None))
    for u in data["new_2025"]:
        units.append(Province(u["name"], u["kind"], (u["name"], *u.get("aliases", ())), None, current=True))
    _check(units)
    return tuple(units)


def _check(units: list[Province]) -> None:
    """Refuse a table that breaks the gazetteer's promises (ValueError naming the file and the unit)."""
    names = {p.name for p in units}
    current = {p.name for p in units if p.current}
    problems = [f"{p.name}: kind {p.kind!r} is not one of {sorted(_KINDS)}" for p in units if p.kind not in _KINDS]
    problems += [f"{p.name}: successor {p.merged_into!r} is not a unit existing after 2025"
                 for p in units if p.merged_into is not None and p.merged_into not in current]
    problems += [f"{a!r} is not an alias of any unit" for a in _AMBIGUOUS | _EXACT_CASE
                 if not any(a in p.aliases for p in units)]
    if len(names) != len(units):
        problems.append("a unit name appears twice")
    before = sum(p.pre_2025 for p in units)
    if (before, len(current)) != (UNITS_BEFORE_2025, UNITS_FROM_2025):
        problems.append(f"{before} units before 2025 and {len(current)} after "
                        f"(need {UNITS_BEFORE_2025} and {UNITS_FROM_2025})")
    if problems:
        raise ValueError(f"{TABLE_FILE}: " + "; ".join(problems))


PROVINCES: tuple[Province, ...] = _build_provinces(_DATA)
_BY_NAME: Mapping[str, Province] = MappingProxyType({p.name: p for p in PROVINCES})


class _Entry(NamedTuple):
    province: str | None           # None for blocking phrases
    prefix_words: int              # leading administrative-prefix words in the key
    ambiguous: bool
    exact: frozenset[str] | None   # allowed surfaces when case matters
    forms: frozenset[str]          # lower-cased diacritic spellings, for the ambiguity check


def _build_table() -> dict[tuple[str, ...], _Entry]:
    grouped: dict[tuple[str, ...], list[tuple[str, str]]] = {}
    for p in PROVINCES:
        for alias in p.aliases:
            grouped.setdefault(_words(alias), []).append((p.name, alias))
    table: dict[tuple[str, ...], _Entry] = {}
    for key, hits in grouped.items():
        names = {n for n, _ in hits}
        if len(names) != 1:
            raise ValueError(f"alias {key} is shared by {sorted(names)}")
        aliases = [a for _, a in hits]
        exact = frozenset(aliases) if all(a in _EXACT_CASE for a in aliases) else None
        table[key] = _Entry(names.pop(), 0, any(a in _AMBIGUOUS for a in aliases), exact,
                            frozenset(" ".join(_WORD.findall(a.lower())) for a in aliases))
    for key, entry in list(table.items()):
        for prefix in map(_words, _PREFIXES):
            # Explicit aliases such as "TP HCM" already cover some prefixed keys.
            table.setdefault(prefix + key, entry._replace(prefix_words=len(prefix)))
    for phrase in _BLOCKERS:
        if _words(phrase) in table:
            raise ValueError(f"blocking phrase {phrase!r} would hide an alias")
        table[_words(phrase)] = _Entry(None, 0, False, None, frozenset())
    return table


_TABLE: Mapping[tuple[str, ...], _Entry] = MappingProxyType(_build_table())


class _Node:
    """Word trie node over ``_TABLE`` keys; built at import, read-only afterwards."""

    __slots__ = ("entry", "children")

    def __init__(self) -> None:
        self.entry: _Entry | None = None
        self.children: dict[str, _Node] = {}


def _build_trie() -> _Node:
    root = _Node()
    for key, entry in _TABLE.items():
        node = root
        for word in key:
            node = node.children.setdefault(word, _Node())
        node.entry = entry
    return root


# Walking a trie stops after one dict probe for almost every word, which is what
# keeps a 10 kB article well under a few milliseconds.
_TRIE: _Node = _build_trie()


def _joinable(gap: str, left_word: str) -> bool:
    gap = gap.strip(_INLINE_SPACE)
    return gap in _DASHES or (gap == "." and left_word == "tp")


def _accepted(entry: _Entry, words: list[str], plain: bool) -> bool:
    if entry.prefix_words:
        return True
    if entry.exact is not None:
        return " ".join(words) in entry.exact
    if not entry.ambiguous or plain:
        return True
    if not all(w[:1].isupper() for w in words):
        return False
    low = " ".join(words).lower()
    # Capitalised but with other diacritics is a different word ("Huệ" is not "Huế").
    return fold(low) == low or low in entry.forms


def find_provinces(text: str) -> list[Mention]:
    """Every province mention in text (with or without diacritics, any case), longest match first, non-overlapping, in order."""
    text = unicodedata.normalize("NFC", text)
    folded = _fold(text)
    # No diacritics and no capitals past the first letter: a typed question.
    plain = folded[1:] == text[1:] and folded[:1] == text[:1].lower()
    # parts = [gap, word, gap, word, ..., gap]; word k is parts[2k+1] and spans
    # bounds[2k]:bounds[2k+1].  Split + accumulate keep the per-word work in C.
    parts = _SPLIT.split(folded)
    bounds = list(accumulate(map(len, parts)))
    words = parts[1::2]
    mentions: list[Mention] = []
    i, n = 0, len(words)
    while i < n:
        node = _TRIE.children.get(words[i])
        if node is None:
            i += 1
            continue
        hits: list[tuple[int, _Entry]] = []
        length = 1
        while True:
            if node.entry is not None:
                hits.append((length, node.entry))
            j = i + length
            if j >= n:
                break
            child = node.children.get(words[j])
            if child is None or not _joinable(parts[2 * j], words[j - 1]):
                break
            node, length = child, length + 1
        step = 1
        for length, entry in reversed(hits):  # longest first
            if entry.province is None:  # blocking phrase: swallow it
                step = length
                break
            name_words = [text[bounds[2 * k]:bounds[2 * k + 1]]
                          for k in range(i + entry.prefix_words, i + length)]
            if _accepted(entry, name_words, plain):
                start, end = bounds[2 * i], bounds[2 * (i + length) - 1]
                mentions.append(Mention(entry.province, start, end, text[start:end]))
                step = length
                break
        i += step
    return _with_joined_names(text, mentions)


# An app or portal named for its province, written as one word: "ứng dụng HauGiang", "DongThap Online".
_JOINED = re.compile(r"\b((?:[A-ZĐ][a-zđà-ỹ]+){2,3})\b")
_JOINED_PART = re.compile(r"[A-ZĐ][a-zđà-ỹ]+")


def _with_joined_names(text: str, mentions: list[Mention]) -> list[Mention]:
    taken = [(m.start, m.end) for m in mentions]
    extra = []
    for m in _JOINED.finditer(text):
        name = canonical(" ".join(_JOINED_PART.findall(m.group())))
        if name and not any(a < m.end() and m.start() < b for a, b in taken):
            extra.append(Mention(name, m.start(), m.end(), m.group()))
    return sorted(mentions + extra, key=lambda x: x.start) if extra else mentions


def provinces_in(text: str) -> list[str]:
    """Distinct canonical province names mentioned in text, in order of first mention."""
    return list(dict.fromkeys(m.province for m in find_provinces(text)))


# A title names the article's subject; three body mentions of another province are needed to outweigh it
# (set on the seeds, where titles name the province once and bodies name neighbours in passing).
TITLE_WEIGHT = 3

def main_province(text: str, title: str = "") -> str | None:
    """The province an article is about: most mentions (title mentions weigh 3x), ties broken by first mention; None if none."""
    score: dict[str, int] = {}
    # Title mentions come before body mentions in reading order, so they win ties.
    for weight, part in ((TITLE_WEIGHT, title), (1, text)):
        for m in find_provinces(part):
            score[m.province] = score.get(m.province, 0) + weight
    # max() keeps the first of equal scores and dicts keep first-mention order.
    return max(score, key=score.__getitem__) if score else None


def canonical(name: str) -> str | None:
    """Canonical name for any alias/spelling ('dong thap', 'TP.HCM', 'Thanh Hoá') or None."""
    entry = _TABLE.get(_words(name))
    return entry.province if entry is not None else None


def successor(name: str) -> str | None:
    """Canonical name of the post-2025 unit that `name` (any alias) is now part of, or None."""
    province = _BY_NAME.get(canonical(name) or "")
    if province is None:
        return None
    return province.merged_into or province.name


def same_unit_now(a: str, b: str) -> bool:
    """True if two canonical names are (part of) the same post-2025 unit."""
    unit = successor(a)
    return unit is not None and unit == successor(b)
