"""Find and compare the numeric figures stated in Vietnamese news text.

Every figure an answer states is checked against the cited source sentence;
this module turns both sides into `Figure`s so "8.619 tỷ đồng" in an answer
can be matched with "8.619 tỷ đồng/100.314 tỷ đồng" in the source.

>>> [(f.text, f.value, f.unit, f.qualifier) for f in extract_figures(
...     "Tỷ lệ doanh nghiệp nộp thuế điện tử đạt hơn 84%, xếp hạng 12/63.")]
[('hơn 84%', 84.0, '%', 'hơn'), ('hạng 12/63', 12.0, 'rank', '')]
>>> f = extract_figures("giá trị là 8.619 tỷ đồng")[0]
>>> (f.value, f.unit, f.scale_word)
(8619000000000.0, 'đồng', 'tỷ')
>>> find_in(f, "đạt 8.619.000.000.000 đồng năm 2021").text
'8.619.000.000.000 đồng'

Number literals (see `parse_number`): '.' groups thousands and ',' marks the
decimal part ("2.212.325", "8,59", "1.234,5").  A '.' that is not followed by
exactly three digits cannot be a thousands separator, so "4.0" / "1.5" are read
English-style as decimals (4.0, 1.5).  "1,234,567" (two or more comma groups)
is read as English thousands.  Spaces are never digit-group separators.

Units (`Figure.unit`), a closed set:
  "%"        "84%", "8,59 %", "5 phần trăm"
  "đồng", "USD"   money; `value` is in base units ("8.619 tỷ đồng" -> 8.619e12)
  count nouns     see `COUNT_UNITS` ("người", "lượt", "doanh nghiệp"/"DN", ...)
  "rank"     "12/63", "thứ 7", "xếp thứ 7/63", "hạng 17/63", and also
             counts-of-total such as "12/12 huyện", "143/143 xã" (value 12 or
             143, `denominator` 12 or 143; the noun after it is not consumed)
  "year"     "năm 2021" and bare 4-digit integers 1900-2100 ("Index 2022")
  "date"     "25/01/2023", "30-5-2022", "5/5/2022", "ngày 30/6", "tháng 5/2022",
             "ngày 20 tháng 10 năm 2020", "2023-01-25"; value = YYYYMMDD with
             unknown parts 0 ("tháng 5/2022" -> 20220500, "ngày 30/6" -> 630)
  "quarter"  "quý II-2022" -> 20222 (year*10 + quarter), "quý 3" -> 3
  "time"     "06:06" -> 606 (hh*100 + mm)
  "doc"      a bare number naming a document or version: "Kế hoạch 370",
             "Nghị quyết 08", "phiên bản 2.0" (value kept: "số mấy" questions ask it)
  ""         anything else ("0,4856", "Chợ 4.0")
A two-part "a/b" is a day/month date when written after "ngày"/"sáng"/... or
when a > b is a valid day and month ("đến 30/6"); otherwise it is a rank.
"thứ 2, 06/06/2022" (weekday) yields only the date.

Not figures: URLs, e-mails, domains ("postmart.vn"), file names and paths,
and identifiers where digits are glued to letters ("4G/5G", "COVID-19",
"GMT+7", "01-NQ/TU", "370/KH-UBND").  Numbers written as words ("ba triệu")
are not recognized.

Input is expected in NFC (`textnorm.clean_chars` does that); other input is
normalized internally and offsets still refer to the string passed in.
Matching is case-insensitive and accepts text without diacritics
("hon 84 phan tram" -> qualifier "hơn", unit "%").
"""
from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from assistant.vi.textnorm import fold

__all__ = [
    "COUNT_UNITS",
    "Figure",
    "NON_QUANTITY_UNITS",
    "QUANTITY_KINDS",
    "extract_figures",
    "find_in",
    "parse_number",
    "same_figure",
]


@dataclass(frozen=True)
class Figure:
    """One numeric statement found in a text, with its position and meaning."""

    text: str
    start: int
    end: int
    value: float
    unit: str
    qualifier: str
    denominator: float | None = None
    scale_word: str = ""

    @property
    def is_quantity(self) -> bool:
        """False for figures that say when or which document ("năm 2021", "quý II-2022", "Kế hoạch 370")."""
        return self.unit not in NON_QUANTITY_UNITS

    @property
    def kind(self) -> str:
        """What a question can ask for: '%', 'rank', 'number' (other quantities), else the unit ('year', 'doc')."""
        if not self.is_quantity:
            return self.unit
        if self.unit == "%":
            return "%"
        if self.unit in ("rank", "ratio") or self.denominator:
            return "rank"
        return "number"


# Units that frame a statement (when, which document) rather than state how much: never an answer to
# "bao nhiêu", never a figure to verify or tabulate.
NON_QUANTITY_UNITS = frozenset({"year", "date", "time", "quarter", "doc"})
QUANTITY_KINDS = frozenset({"%", "rank", "number"})


# --- lexicons (canonical form -> surface forms; unaccented forms are added) ---

QUALIFIERS: tuple[str, ...] = (
    "tối thiểu", "ít nhất", "tối đa", "nhiều nhất", "không quá", "chưa đến",
    "chưa tới", "xấp xỉ", "khoảng", "hơn", "gần", "trên", "dưới", "đến", "tới",
)

_SCALES: dict[str, tuple[str, int]] = {  # surface -> (canonical, power of ten)
    "nghìn": ("nghìn", 3), "ngàn": ("ngàn", 3), "triệu": ("triệu", 6),
    "tỷ": ("tỷ", 9), "tỉ": ("tỷ", 9), "trăm": ("trăm", 2),
}

_MONEY_UNITS: dict[str, tuple[str, ...]] = {
    "đồng": ("đồng", "vnđ", "vnd", "đ"),
    "USD": ("usd", "đô la mỹ", "đô la", "đô-la", "đôla"),
}

COUNT_UNITS: dict[str, tuple[str, ...]] = {
    "người": ("người",), "lượt": ("lượt",), "doanh nghiệp": ("doanh nghiệp", "dn"),
    "sản phẩm": ("sản phẩm",), "hộ": ("hộ",), "thuê bao": ("thuê bao",),
    "tài khoản": ("tài khoản",), "hồ sơ": ("hồ sơ",), "thủ tục": ("thủ tục",),
    "dịch vụ": ("dịch vụ",), "văn bản": ("văn bản",), "giao dịch": ("giao dịch",),
    "tem": ("tem",), "ý kiến": ("ý kiến",), "xã": ("xã",), "huyện": ("huyện",),
    "tỉnh": ("tỉnh",), "cơ quan": ("cơ quan",), "đơn vị": ("đơn vị",),
    "lần": ("lần",), "bậc": ("bậc",), "km": ("km",), "ha": ("ha",), "tấn": ("tấn",),
    "tháng": ("tháng",), "năm": ("năm",),  # durations: "9 tháng", "5 năm"
}
# How far back a date word ("ngày", "sáng") or a document word ("Kế hoạch số") may stand before a number, in
# characters: the longest such lead-in of the seed articles ("rạng sáng", "Nghị quyết số") plus a space or two.
DATE_WORD_WINDOW = 12
DOC_WORD_WINDOW = 30
YEAR_MIN, YEAR_MAX = 1900, 2100  # a bare 4-digit number in this range is read as a year ("Index 2022")
_DURATION_UNITS = ("tháng", "năm")  # "5 năm 2021": năm starts a year, not a unit

_STRICT_UNITS = frozenset({"%", "date", "time", "quarter"})
_DATE_PREFIXES = ("ngày", "sáng", "chiều", "tối", "trưa", "đêm", "hôm", "rạng sáng")


def _forms(surface: str) -> set[str]:
    """A surface form plus its unaccented spelling (skipped when it would be one letter)."""
    folded = fold(surface)
    return {surface, folded} if len(folded) > 1 else {surface}


def _alts(surfaces: Iterable[str]) -> str:
    """Regex alternation of surfaces (and unaccented forms), longest first, spaces flexible."""
    forms: set[str] = set()
    for s in surfaces:
        forms |= _forms(s)
    ordered = sorted(forms, key=len, reverse=True)
    return "(?:" + "|".join(r"\s+".join(map(re.escape, f.split(" "))) for f in ordered) + ")"


def _table(pairs: dict[str, str]) -> dict[str, str]:
    """Lookup table from casefolded surface (and unaccented surface) to canonical value."""
    out: dict[str, str] = {}
    for surface, canon in pairs.items():
        for f in _forms(surface):
            out[f.casefold()] = canon
    return out


def _lookup(table: dict[str, str], written: str) -> str:
    """Canonical form of a matched lexicon word."""
    key = " ".join(written.casefold().split())
    # IGNORECASE can match exotic case variants ('ſ' for 's') that no key spells.
    return table.get(key) or table.get(fold(key)) or key


_QUAL_TABLE = _table({q: q for q in QUALIFIERS})
_SCALE_TABLE = _table({s: c for s, (c, _) in _SCALES.items()})
_SCALE_POWER = {c: p for c, p in _SCALES.values()}
_UNIT_TABLE = _table(
    {s: c for units in (_MONEY_UNITS, COUNT_UNITS) for c, ss in units.items() for s in ss}
)

# --- regexes ---

_WEND = r"(?![^\W_])"  # end of word: not followed by a letter or digit
_QUAL = _alts(QUALIFIERS) + _WEND
# "tỷ lệ"/"tỷ trọng" are "ratio"/"share", not a billion.
_SCALE1 = "(?:" + _alts(_SCALES) + _WEND + r"(?!\s+(?:lệ|le|trọng)" + _WEND + "))"
_SCALE = _SCALE1 + r"(?:\s+" + _SCALE1 + ")?"
_UNIT = "(?:" + "|".join(
    [_alts(ss) + _WEND for u, ss in _MONEY_UNITS.items()]
    + [_alts(ss) + _WEND + (r"(?!\s*[0-9])" if u in _DURATION_UNITS else "")
       for u, ss in COUNT_UNITS.items()]
) + ")"
_PCT = r"(?:%|％|" + _alts(["phần trăm"]) + _WEND + ")"
_NGAY, _THANG, _NAM, _QUY = (_alts([w]) for w in ("ngày", "tháng", "năm", "quý"))
_HANG = _alts(["hạng"])
_DAY = r"(?:0?[1-9]|[12][0-9]|3[01])"
_MONTH = r"(?:0?[1-9]|1[0-2])"
_YEAR = r"(?:1[89][0-9]{2}|20[0-9]{2}|2100)"
_INT = r"(?:[0-9]{1,3}(?:\.[0-9]{3})+|[0-9]+)"
_END_NUM = r"(?![0-9]|[.,][0-9])"
_END_DATE = r"(?![0-9]|[/.-][0-9])"

_FIGURE_RE = re.compile(
    rf"""
    (?<![^\W_])(?<![0-9][.,])
    (?:(?P<qual>{_QUAL})\s+)?
    (?:
        (?P<wd>thứ\s+[2-7])(?![0-9])(?=\s*[,-]?\s*(?:{_NGAY}\s+)?[0-9]{{1,2}}[/.-][0-9])
      | {_NGAY}\s+(?P<ld>{_DAY})\s+{_THANG}\s+(?P<lm>{_MONTH})
            (?:\s+{_NAM}\s+(?P<ly>{_YEAR}))?(?![0-9])
      | (?P<iy>{_YEAR})-(?P<im>0[1-9]|1[0-2])-(?P<id>0[1-9]|[12][0-9]|3[01]){_END_DATE}
      | (?P<fd>{_DAY})(?P<sep>[/.-])(?P<fm>{_MONTH})(?P=sep)(?P<fy>{_YEAR}){_END_DATE}
      | {_THANG}\s+(?P<mm>{_MONTH})
            (?:\s*[/-]\s*(?P<my>{_YEAR})|\s+{_NAM}\s+(?P<my2>{_YEAR}))?{_END_DATE}
      | {_QUY}\s+(?P<q>iv|i{{1,3}}|[1-4])
            (?:\s*[/-]\s*(?P<qy>{_YEAR})|\s+{_NAM}\s+(?P<qy2>{_YEAR}))?{_WEND}{_END_DATE}
      | (?P<pm>{_MONTH})[/-](?P<py>{_YEAR}){_END_DATE}
      | (?P<hh>[01]?[0-9]|2[0-3]):(?P<mi>[0-5][0-9])(?::[0-5][0-9])?(?![0-9]|:[0-9])
      | (?P<rk>thứ|{_HANG})\s+(?P<rn>{_INT})(?:/(?P<rd>{_INT}))?{_END_NUM}(?!/[0-9])
      | (?P<xn>{_INT})/(?P<xd>{_INT}){_END_NUM}(?!/[0-9])
      | {_NAM}\s+(?P<yr>{_YEAR}){_END_NUM}
      | (?P<num>[0-9]+(?:[.,][0-9]+)*)
        (?: \s*(?P<pct>{_PCT})
          | (?:\s*(?P<scale>{_SCALE}))?(?:\s*(?P<unit>{_UNIT}))?
        )
    )
    """,
    re.IGNORECASE | re.VERBOSE,
)

_DATE_PREFIX_RE = re.compile(r"(?<![^\W_])" + _alts(_DATE_PREFIXES) + r"\s*$", re.IGNORECASE)
_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4}

# Spans whose digits are never figures.  Each pattern may only start where a token
# starts (look-behinds), which keeps long unbroken runs of text linear-time.
_SKIP_RES = tuple(
    re.compile(p, re.IGNORECASE)
    for p in (
        r"(?:https?|ftp)://[^\s<>\"“”]+|www\.[^\s<>\"“”]+",
        r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+",
        r"(?<![\w@.-])(?:[^\W_][\w-]*\.)+(?:vn|com|net|org|gov|edu|info|io|biz|asia)"
        r"(?![^\W_])(?:/[^\s<>\"“”()]*)?",
        r"(?<![^\s/\\<>\"“”()])[^\s/\\<>\"“”()]*\.(?:jpe?g|png|gif|webp|bmp|svg|tiff?|mp3|mp4|m4a|wav|avi|mov"
        r"|mkv|pdf|docx?|xlsx?|pptx?|zip|rar|7z|txt|csv|html?|php|aspx?)(?![^\W_])",
        r"(?<![^\s(\[])/[^\s/]+(?:/[^\s/]*)+",  # /uploads/Audio/2023/01/...
    )
)
# A run of letters/digits joined by punctuation, e.g. "01-NQ/TU", "đồng/100.314".
_CHAIN_RE = re.compile(r"[^\W_]+(?:[-/+_.,:&][^\W_]+)*")
_CHAIN_SPLIT_RE = re.compile(r"([-/+_.,:&])")
_DIGITS_RE = re.compile(r"[0-9]+")
# Digits glued to a unit or scale word ("500.000đ", "100km", "3triệu") are still figures.
_ATTACHED_RE = re.compile(
    r"[0-9]+(?:" + _alts([s for s in _SCALES]) + ")?(?:"
    + _alts([s for ss in (*_MONEY_UNITS.values(), *COUNT_UNITS.values()) for s in ss
             if " " not in s]) + ")?",
    re.IGNORECASE,
)
_ROMAN_RE = re.compile(r"[IVX]+")  # upper-case only: "quý II-2022" is not an identifier
_MASK = "\x00"  # neither a word character nor a space, so no pattern can cross it

_VN_THOUSANDS = re.compile(r"[0-9]{1,3}(?:\.[0-9]{3})+(?:,[0-9]+)?")
_VN_DECIMAL = re.compile(r"[0-9]+,[0-9]+")
_EN_THOUSANDS = re.compile(r"[0-9]{1,3}(?:,[0-9]{3}){2,}|[0-9]{1,3}(?:,[0-9]{3})+\.[0-9]+")
_EN_DECIMAL = re.compile(r"[0-9]+\.[0-9]+")


# --- numbers ---

def _parse_decimal(s: str) -> Decimal:
    """Exact value of a number literal; the rules are those of `parse_number`."""
    t = s.strip()
    sign = ""
    if t[:1] in ("-", "+", "\u2212"):
        sign, t = ("-" if t[0] != "+" else ""), t[1:]
    if _DIGITS_RE.fullmatch(t):
        digits = t
    elif _VN_THOUSANDS.fullmatch(t):
        digits = t.replace(".", "").replace(",", ".")
    elif _VN_DECIMAL.fullmatch(t):
        digits = t.replace(",", ".")
    elif _EN_THOUSANDS.fullmatch(t):
        digits = t.replace(",", "")
    elif _EN_DECIMAL.fullmatch(t):
        digits = t  # "4.0", "1.5": not a 3-digit group, so a decimal point
    else:
        raise ValueError(f"not a number literal: {s!r}")
    try:
        return Decimal(sign + digits)
    except InvalidOperation as exc:  # pragma: no cover - the regexes admit only digits
        raise ValueError(f"not a number literal: {s!r}") from exc


def _to_float(d: Decimal, source: str) -> float:
    value = float(d)
    if not math.isfinite(value):
        raise ValueError(f"number out of range: {source!r}")
    return value


def parse_number(s: str) -> float:
    """Parse a Vietnamese number literal ('8.619' -> 8619.0, '8,59' -> 8.59); ValueError on garbage."""
    return _to_float(_parse_decimal(s), s)


# --- extraction ---

def _nfc_map(text: str) -> tuple[str, list[int] | None, list[int] | None]:
    """NFC text plus, when it differs from `text`, each char's start/end offset in `text`."""
    if unicodedata.is_normalized("NFC", text):
        return text, None, None
    parts: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    bounds = [i for i, ch in enumerate(text) if i == 0 or not unicodedata.combining(ch)]
    bounds.append(len(text))
    # Compose per starter+marks cluster so every output char maps back to one cluster.
    for a, b in zip(bounds, bounds[1:]):
        piece = unicodedata.normalize("NFC", text[a:b])
        parts.append(piece)
        starts.extend([a] * len(piece))
        ends.extend([b] * len(piece))
    return "".join(parts), starts, ends


def _is_identifier(chain: str) -> bool:
    """True for letter/digit codes such as '01-NQ/TU', '4G', 'COVID-19', 'GMT+7'."""
    pieces = _CHAIN_SPLIT_RE.split(chain)
    atoms, seps = pieces[0::2], pieces[1::2]
    for atom in atoms:
        has_digit = any("0" <= ch <= "9" for ch in atom)
        if has_digit and any(ch.isalpha() for ch in atom) and not _ATTACHED_RE.fullmatch(atom):
            return True
    for left, sep, right in zip(atoms, seps, atoms[1:]):
        for num, word in ((left, right), (right, left)):
            if not (_DIGITS_RE.fullmatch(num) and word.isalpha()) or _ROMAN_RE.fullmatch(word):
                continue
            if sep in "-+_&":
                return True
            if sep in "/.:" and sum(ch.isupper() for ch in word) >= 2:
                return True
    return False


def _masked(work: str) -> str:
    """`work` with URLs, file names and identifiers blanked out, same length."""
    spans = [m.span() for rx in _SKIP_RES for m in rx.finditer(work)]
    spans += [
        m.span() for m in _CHAIN_RE.finditer(work)
        if _DIGITS_RE.search(m.group()) and _is_identifier(m.group())
    ]
    if not spans:
        return work
    chars = list(work)
    for a, b in spans:
        chars[a:b] = _MASK * (b - a)
    return "".join(chars)


def _date(y: int, m: int, d: int) -> tuple[float, str]:
    return float(y * 10000 + m * 100 + d), "date"


def _opt_int(*groups: str | None) -> int:
    return next((int(g) for g in groups if g), 0)


def _meaning(m: re.Match[str], work: str) -> tuple[float, str, float | None, str] | None:
    """(value, unit, denominator, scale_word) for one regex match, or None if not a figure."""
    g = m.group
    if g("wd"):
        return None
    if g("ld"):
        return (*_date(_opt_int(g("ly")), int(g("lm")), int(g("ld"))), None, "")
    if g("iy"):
        return (*_date(int(g("iy")), int(g("im")), int(g("id"))), None, "")
    if g("fd"):
        return (*_date(int(g("fy")), int(g("fm")), int(g("fd"))), None, "")
    if g("mm"):
        return (*_date(_opt_int(g("my"), g("my2")), int(g("mm")), 0), None, "")
    if g("q"):
        q = _ROMAN.get(g("q").lower()) or int(g("q"))
        year = _opt_int(g("qy"), g("qy2"))
        return float(year * 10 + q), "quarter", None, ""
    if g("pm"):
        return (*_date(int(g("py")), int(g("pm")), 0), None, "")
    if g("hh"):
        return float(int(g("hh")) * 100 + int(g("mi"))), "time", None, ""
    if g("rn"):
        den = parse_number(g("rd")) if g("rd") else None
        return parse_number(g("rn")), "rank", den, ""
    if g("xn"):
        n, d = parse_number(g("xn")), parse_number(g("xd"))
        if 1 <= n <= 31 and 1 <= d <= 12:
            after_date_word = _DATE_PREFIX_RE.search(work, max(0, m.start() - DATE_WORD_WINDOW), m.start())
            if after_date_word or n > d:  # "ngày 5/5", "đến 30/6"; "12/12 huyện" stays a count
                return (*_date(0, int(d), int(n)), None, "")
        return n, "rank", d, ""
    if g("yr"):
        return float(g("yr")), "year", None, ""
    number = _parse_decimal(g("num"))
    if g("pct"):
        return _to_float(number, g("num")), "%", None, ""
    scale_word = ""
    if g("scale"):
        words = [_lookup(_SCALE_TABLE, w) for w in g("scale").split()]
        scale_word = " ".join(words)
        number *= Decimal(10) ** sum(_SCALE_POWER.get(w, 0) for w in words)
    unit = _lookup(_UNIT_TABLE, g("unit")) if g("unit") else ""
    value = _to_float(number, g("num"))
    if not unit and not scale_word and _DIGITS_RE.fullmatch(g("num")) and YEAR_MIN <= value <= YEAR_MAX:
        unit = "year"  # a bare "2022" in "ICT Index 2022"
    return value, unit, None, scale_word


# Words after which a bare number names a document or version rather than measuring something.
_DOC_NUMBER_BEFORE = re.compile(
    r"\b(nghi quyet|ke hoach|quyet dinh|de an|thong tu|chi thi|cong van|nghi dinh|luat|phien ban|version|"
    r"chuong trinh|van ban|to trinh|thong bao|dieu|khoan|muc)( so)?\s*$")


def extract_figures(text: str) -> list[Figure]:
    """All figures in `text`, in order and non-overlapping, with offsets into `text`."""
    work, starts, ends = _nfc_map(text)
    masked = _masked(work)
    figures: list[Figure] = []
    last_end = 0
    for m in _FIGURE_RE.finditer(masked):
        try:
            meaning = _meaning(m, work)
        except ValueError:  # e.g. "192.168.1.1": digits but no valid literal
            continue
        if meaning is None:
            continue
        value, unit, denominator, scale_word = meaning
        if not unit and not scale_word and _DOC_NUMBER_BEFORE.search(fold(work[max(0, m.start() - DOC_WORD_WINDOW):m.start()])):
            unit = "doc"  # "Kế hoạch 370", "Nghị quyết số 01", "phiên bản 2.0": a name, not a quantity
        s, e = m.span()
        if starts is not None and ends is not None:
            s, e = starts[s], ends[e - 1]
        if s < last_end or s >= e:
            continue
        qualifier = _lookup(_QUAL_TABLE, m.group("qual")) if m.group("qual") else ""
        figures.append(Figure(text[s:e], s, e, value, unit, qualifier, denominator, scale_word))
        last_end = e
    return figures


# --- comparison ---

def _units_compatible(a: Figure, b: Figure) -> bool:
    if a.unit == b.unit:
        return True
    if a.unit in _STRICT_UNITS or b.unit in _STRICT_UNITS:
        return False  # "84" must not vouch for "84%", nor a date for a count
    if not a.unit or not b.unit:
        return True
    if "rank" in (a.unit, b.unit):
        # "143/143 xã" is a count of total, so it supports "143 xã".
        rank, other = (a, b) if a.unit == "rank" else (b, a)
        return rank.denominator is not None and other.unit in COUNT_UNITS
    return False


def _date_parts(value: float) -> tuple[int, int, int]:
    v = int(round(value))
    return v // 10000, v // 100 % 100, v % 100


def same_figure(a: Figure, b: Figure, *, rel_tol: float = 1e-6) -> bool:
    """True when a and b state the same quantity (value after scale, compatible unit); qualifiers are ignored."""
    if not _units_compatible(a, b):
        return False
    if a.denominator is not None and b.denominator is not None:
        if not math.isclose(a.denominator, b.denominator, rel_tol=rel_tol):
            return False
    if a.unit == "date" and b.unit == "date":
        # Unknown parts (0) are wildcards: "ngày 5/5" is the same day as "5/5/2022".
        return all(x == y or not x or not y for x, y in zip(_date_parts(a.value), _date_parts(b.value)))
    return math.isclose(a.value, b.value, rel_tol=rel_tol)


def find_in(fig: Figure, source_text: str) -> Figure | None:
    """The figure in `source_text` stating the same quantity as `fig`, preferring the same unit, else None."""
    matches = [f for f in extract_figures(source_text) if same_figure(fig, f)]
    if not matches:
        return None
    return min(matches, key=lambda f: (f.unit != fig.unit, f.qualifier != fig.qualifier))
