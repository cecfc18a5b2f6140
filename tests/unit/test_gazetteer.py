"""Tests for assistant.vi.gazetteer: tables, precision rules, offsets and linear time."""
from __future__ import annotations

import doctest
import string
import time
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.vi import gazetteer as gz
from assistant.vi.gazetteer import (
    PROVINCES,
    canonical,
    find_provinces,
    main_province,
    provinces_in,
    same_unit_now,
    successor,
)
from assistant.vi.textnorm import fold

BY_NAME = {p.name: p for p in PROVINCES}
ALL_ALIASES = sorted({(a, p.name) for p in PROVINCES for a in p.aliases})
# Folded "HN" is deliberately not a match in running text (upper case only).
TYPABLE_ALIASES = [(a, n) for a, n in ALL_ALIASES if a not in gz._EXACT_CASE]
# Words that could extend or block a name; random filler must avoid them.
RESERVED = {w for key in gz._TABLE for w in key}

# Post-2025 unit -> the pre-2025 units it was formed from (Resolution 202/2025/QH15).
MERGES = {
    "Tuyên Quang": {"Tuyên Quang", "Hà Giang"},
    "Lào Cai": {"Lào Cai", "Yên Bái"},
    "Thái Nguyên": {"Thái Nguyên", "Bắc Kạn"},
    "Phú Thọ": {"Phú Thọ", "Vĩnh Phúc", "Hòa Bình"},
    "Bắc Ninh": {"Bắc Ninh", "Bắc Giang"},
    "Hưng Yên": {"Hưng Yên", "Thái Bình"},
    "Hải Phòng": {"Hải Phòng", "Hải Dương"},
    "Ninh Bình": {"Ninh Bình", "Hà Nam", "Nam Định"},
    "Quảng Trị": {"Quảng Trị", "Quảng Bình"},
    "Đà Nẵng": {"Đà Nẵng", "Quảng Nam"},
    "Quảng Ngãi": {"Quảng Ngãi", "Kon Tum"},
    "Gia Lai": {"Gia Lai", "Bình Định"},
    "Khánh Hòa": {"Khánh Hòa", "Ninh Thuận"},
    "Lâm Đồng": {"Lâm Đồng", "Đắk Nông", "Bình Thuận"},
    "Đắk Lắk": {"Đắk Lắk", "Phú Yên"},
    "TP. Hồ Chí Minh": {"TP. Hồ Chí Minh", "Bình Dương", "Bà Rịa - Vũng Tàu"},
    "Đồng Nai": {"Đồng Nai", "Bình Phước"},
    "Tây Ninh": {"Tây Ninh", "Long An"},
    "Cần Thơ": {"Cần Thơ", "Sóc Trăng", "Hậu Giang"},
    "Vĩnh Long": {"Vĩnh Long", "Bến Tre", "Trà Vinh"},
    "Đồng Tháp": {"Đồng Tháp", "Tiền Giang"},
    "An Giang": {"An Giang", "Kiên Giang"},
    "Cà Mau": {"Cà Mau", "Bạc Liêu"},
    "Huế": {"Thừa Thiên Huế"},
}
UNCHANGED = ["Hà Nội", "Lai Châu", "Điện Biên", "Sơn La", "Lạng Sơn", "Quảng Ninh",
             "Thanh Hóa", "Nghệ An", "Hà Tĩnh", "Cao Bằng"]


def names(text: str) -> list[str]:
    return [m.province for m in find_provinces(text)]


# --- tables -----------------------------------------------------------------------

def test_unit_counts() -> None:
    assert len({p.name for p in PROVINCES}) == len(PROVINCES)
    assert sum(p.pre_2025 for p in PROVINCES) == 63
    assert sum(p.current for p in PROVINCES) == 34
    assert sum(p.current and p.kind == "thành phố" for p in PROVINCES) == 6
    assert {p.kind for p in PROVINCES} == {"tỉnh", "thành phố"}
    assert [p.name for p in PROVINCES if not p.pre_2025] == ["Huế"]


def test_every_old_unit_merges_into_a_current_unit() -> None:
    current = {p.name for p in PROVINCES if p.current}
    for p in PROVINCES:
        if p.pre_2025:
            assert p.merged_into in current, p
            # A unit is current exactly when it kept its own name.
            assert p.current == (p.merged_into == p.name), p


def test_merge_table_matches_resolution() -> None:
    formed: dict[str, set[str]] = {}
    for p in PROVINCES:
        if p.pre_2025:
            formed.setdefault(p.merged_into, set()).add(p.name)
    expected = dict(MERGES) | {name: {name} for name in UNCHANGED}
    assert formed == expected
    assert BY_NAME["Thừa Thiên Huế"].current is False
    assert BY_NAME["Huế"].merged_into is None and BY_NAME["Huế"].current


def test_canonical_round_trips_every_alias() -> None:
    for alias, name in ALL_ALIASES:
        assert canonical(alias) == name, alias
        assert canonical(fold(alias)) == name, alias
        assert canonical(alias.upper()) == name, alias
        assert canonical(f"  tỉnh {alias} ") == name, alias
    for p in PROVINCES:
        assert canonical(p.name) == p.name


@pytest.mark.parametrize("spelling, name", [
    ("dong thap", "Đồng Tháp"), ("TP.HCM", "TP. Hồ Chí Minh"), ("tp hcm", "TP. Hồ Chí Minh"),
    ("Thanh Hoá", "Thanh Hóa"), ("Hoà Bình", "Hòa Bình"), ("khanh hoa", "Khánh Hòa"),
    ("Đắc Lắc", "Đắk Lắk"), ("BR-VT", "Bà Rịa - Vũng Tàu"), ("Vũng Tàu", "Bà Rịa - Vũng Tàu"),
    ("Sài Gòn", "TP. Hồ Chí Minh"), ("Thừa Thiên - Huế", "Thừa Thiên Huế"), ("Huế", "Huế"),
    ("thành phố Huế", "Huế"), ("Thành phố Hồ Chí Minh", "TP. Hồ Chí Minh"),
    (unicodedata.normalize("NFD", "Tiền Giang"), "Tiền Giang"),
])
def test_canonical_spellings(spelling: str, name: str) -> None:
    assert canonical(spelling) == name


@pytest.mark.parametrize("junk", ["", "  ", "Việt Nam", "Giang", "tỉnh", "Chủ tịch Hồ Chí Minh", "Thái Bình Dương"])
def test_canonical_rejects_non_names(junk: str) -> None:
    assert canonical(junk) is None


def test_same_unit_now_and_successor() -> None:
    assert same_unit_now("Tiền Giang", "Đồng Tháp")
    assert same_unit_now("Bến Tre", "Trà Vinh")
    assert same_unit_now("Bình Dương", "TP. Hồ Chí Minh")
    assert same_unit_now("Thừa Thiên Huế", "Huế")
    assert same_unit_now("Hà Nội", "Hà Nội")
    assert not same_unit_now("Tiền Giang", "Bến Tre")
    assert not same_unit_now("Hà Nội", "không có")
    assert successor("Kon Tum") == "Quảng Ngãi"
    assert successor("Cao Bằng") == "Cao Bằng"
    assert successor("nowhere") is None


# --- sentences --------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("Tiền Giang xếp hạng 12/63", ["Tiền Giang"]),
    ("dong thap co bao nhieu dich vu cong truc tuyen", ["Đồng Tháp"]),
    ("Năng suất lao động của Tiền Giang và Bến Tre", ["Tiền Giang", "Bến Tre"]),
    ("Còn Bến Tre thì sao?", ["Bến Tre"]),
    ("TP.HCM và Hà Nội", ["TP. Hồ Chí Minh", "Hà Nội"]),
    ("Thái Bình Dương", []),
    ("hòa bình thế giới", []),
    ("tỉnh Hòa Bình", ["Hòa Bình"]),
    ("Hậu Giang đứng thứ 17/63, trong khi Kiên Giang...", ["Hậu Giang", "Kiên Giang"]),
    ("Thành phố Bến Tre là trung tâm của tỉnh", ["Bến Tre"]),
    ("TPHCM, TP HCM, HCM, Sài Gòn", ["TP. Hồ Chí Minh"] * 4),
    ("Ha Noi và HN", ["Hà Nội", "Hà Nội"]),
    ("Bà Rịa-Vũng Tàu, BR-VT và Vũng Tàu", ["Bà Rịa - Vũng Tàu"] * 3),
    ("Thừa Thiên - Huế và thành phố Huế", ["Thừa Thiên Huế", "Huế"]),
    ("Đắc Lắc, Thanh Hoá, Khánh Hoà", ["Đắk Lắk", "Thanh Hóa", "Khánh Hòa"]),
    ("TIỀN GIANG VÀ ĐỒNG THÁP", ["Tiền Giang", "Đồng Tháp"]),
])
def test_real_sentences(text: str, expected: list[str]) -> None:
    assert names(text) == expected


@pytest.mark.parametrize("text, expected", [
    # Word boundaries: no match inside other names or longer words.
    ("Tiền Giang và Kiên Giang", ["Tiền Giang", "Kiên Giang"]),
    ("tien giang va kien giang", ["Tiền Giang", "Kiên Giang"]),
    ("Long Anh là tên người", []),
    ("Long An", ["Long An"]),
    ("Hà Namx và xHà Nam", []),
    # Common words need capitals, a prefix, or a plain typed question.
    ("khát vọng hòa bình", []),
    ("Hòa bình là khát vọng", []),
    ("tỉnh hòa bình", ["Hòa Bình"]),
    ("Tinh hoa binh co gi?", ["Hòa Bình"]),
    ("hoa binh co bao nhieu dich vu cong", ["Hòa Bình"]),
    ("Hoa binh co bao nhieu dich vu cong", ["Hòa Bình"]),  # auto-capitalised first letter
    ("Cho hoi Hoa binh co gi", []),
    ("KHÁT VỌNG hòa bình", []),
    ("Giải Nobel Hòa Bình", []),
    ("Hoa Binh province", ["Hòa Bình"]),
    ("Hoà Bình và Hòa Bình", ["Hòa Bình", "Hòa Bình"]),
    ("tòa nhà cao bằng 10 tầng ở Cao Bằng", ["Cao Bằng"]),
    ("đất nước thái bình, Thái Bình", ["Thái Bình"]),
    ("đại dương và hải dương; Hải Dương", ["Hải Dương"]),
    ("dẹp yên, bình định", []),
    ("Thái Bình Dương rộng lớn; tỉnh Bình Dương", ["Bình Dương"]),
    ("thai binh duong", []),
    # Huế vs the name/flower Huệ.
    ("Nguyễn Thị Huệ ở Huế", ["Huế"]),
    ("HUỆ", []),
    ("du lich hue", ["Huế"]),
    # The person, the youth union and the newspaper are not the city.
    ("Chủ tịch Hồ Chí Minh", []),
    ("học tập tư tưởng Hồ Chí Minh", []),
    ("Đoàn TNCS Hồ Chí Minh TP. Hồ Chí Minh", ["TP. Hồ Chí Minh"]),
    ("báo Sài Gòn Giải Phóng", []),
    ("Chủ tịch UBND TP. Hồ Chí Minh", ["TP. Hồ Chí Minh"]),
    ("Hồ Chí Minh", ["TP. Hồ Chí Minh"]),
    # HN only in upper case.
    ("hn", []),
    ("Hn", []),
    # Names never span a line break or a comma.
    ("Tân Long\nAn ninh", []),
    ("Long, An", []),
])
def test_precision_rules(text: str, expected: list[str]) -> None:
    assert names(text) == expected


def test_mentions_include_prefix_and_longest_alias() -> None:
    got = [(m.province, m.surface) for m in find_provinces(
        "UBND tỉnh Tiền Giang, Thành phố Hồ Chí Minh và TP.Hồ Chí Minh; Bà Rịa - Vũng Tàu")]
    assert got == [
        ("Tiền Giang", "tỉnh Tiền Giang"),
        ("TP. Hồ Chí Minh", "Thành phố Hồ Chí Minh"),
        ("TP. Hồ Chí Minh", "TP.Hồ Chí Minh"),
        ("Bà Rịa - Vũng Tàu", "Bà Rịa - Vũng Tàu"),
    ]


def test_nfd_input_offsets_refer_to_nfc_text() -> None:
    nfd = unicodedata.normalize("NFD", "Sở TT&TT Tiền Giang và Đồng Tháp")
    nfc = unicodedata.normalize("NFC", nfd)
    mentions = find_provinces(nfd)
    assert [m.province for m in mentions] == ["Tiền Giang", "Đồng Tháp"]
    for m in mentions:
        assert nfc[m.start:m.end] == m.surface
        assert unicodedata.is_normalized("NFC", m.surface)


def test_provinces_in_is_distinct_in_first_mention_order() -> None:
    text = "Bến Tre, Tiền Giang, tỉnh Bến Tre, tien giang, Trà Vinh"
    assert provinces_in(text) == ["Bến Tre", "Tiền Giang", "Trà Vinh"]
    assert provinces_in("không có tỉnh nào") == []


def test_main_province() -> None:
    paragraph = (
        "Năm 2023, Hậu Giang đứng thứ 17/63 về chỉ số chuyển đổi số. Lãnh đạo tỉnh Hậu Giang "
        "cho biết sẽ học hỏi kinh nghiệm của Thành phố Hồ Chí Minh. Người dân Hậu Giang "
        "đã quen với dịch vụ công trực tuyến."
    )
    assert main_province(paragraph) == "Hậu Giang"
    # Title mentions weigh 3x: one title mention beats two body mentions.
    assert main_province("Bến Tre ... Bến Tre", title="Chuyển đổi số ở Trà Vinh") == "Trà Vinh"
    # Ties go to the first mention.
    assert main_province("Cà Mau và Bạc Liêu, Bạc Liêu và Cà Mau") == "Cà Mau"
    assert main_province("Bạc Liêu, Bạc Liêu, Bạc Liêu", title="Cà Mau") == "Cà Mau"
    assert main_province("chuyển đổi số", title="") is None


def test_module_docstring_examples() -> None:
    assert doctest.testmod(gz).failed == 0


def test_find_provinces_is_linear_in_text_length() -> None:
    """No absolute timing (a loaded machine makes it flaky): 10x the text takes at most ~20x the time
    (a quadratic scan would take ~100x) and finds 10x the mentions."""
    paragraph = (
        "Theo báo cáo của Sở Thông tin và Truyền thông, tỉnh Tiền Giang đã hoàn thành 12/15 chỉ tiêu "
        "chuyển đổi số, đứng sau Đồng Tháp và TP.HCM nhưng vượt Bến Tre, Long An. Năng suất lao động "
        "tăng, người dân sử dụng dịch vụ công trực tuyến nhiều hơn so với năm trước.\n"
    )
    short, long = paragraph * 5, paragraph * 50
    assert len(find_provinces(long)) == 10 * len(find_provinces(short)) > 0
    t_short = min(_timed(find_provinces, short) for _ in range(30))
    t_long = min(_timed(find_provinces, long) for _ in range(10))
    assert t_long <= 20 * t_short, f"{t_long / t_short:.1f}x the time for 10x the text"


def _timed(fn, arg) -> float:
    start = time.perf_counter()
    fn(arg)
    return time.perf_counter() - start


# --- properties -------------------------------------------------------------------

filler_word = st.text(string.ascii_lowercase, min_size=1, max_size=7).filter(lambda w: w not in RESERVED)
filler = st.lists(filler_word, max_size=5)


@settings(max_examples=300, deadline=None)
@given(before=filler, after=filler, pick=st.sampled_from(TYPABLE_ALIASES), typed=st.booleans())
def test_alias_found_among_random_words(before: list[str], after: list[str],
                                        pick: tuple[str, str], typed: bool) -> None:
    alias, name = pick
    surface = fold(alias) if typed else alias
    head = " ".join(before) + (" " if before else "")
    text = head + surface + (" " if after else "") + " ".join(after)
    mentions = find_provinces(text)
    assert len(mentions) == 1, (text, mentions)
    m = mentions[0]
    assert (m.province, m.start, m.end, m.surface) == (name, len(head), len(head) + len(surface), surface)
    assert text[m.start:m.end] == m.surface


name_fragments = st.sampled_from(
    [a for a, _ in ALL_ALIASES] + ["tỉnh ", "thành phố ", "TP.", "Chủ tịch ", " Dương", "-", "\n", ", ", "x"]
)
messy_text = st.lists(st.one_of(name_fragments, st.text(max_size=6)), max_size=12).map("".join)


@settings(max_examples=300, deadline=None)
@given(text=st.one_of(st.text(), messy_text))
def test_find_provinces_is_total_sorted_and_non_overlapping(text: str) -> None:
    mentions = find_provinces(text)
    nfc = unicodedata.normalize("NFC", text)
    previous_end = 0
    for m in mentions:
        assert previous_end <= m.start < m.end <= len(nfc)
        assert nfc[m.start:m.end] == m.surface
        assert canonical(m.province) == m.province
        previous_end = m.end


vietnamese_filler = ["và", "của", "tháng này", "xếp hạng", "trong khi", "thì sao", "dịch vụ", "người dân",
                     "hạng", "so với", "đứng đầu", "12/63"]


@settings(max_examples=300, deadline=None)
@given(picks=st.lists(st.tuples(st.sampled_from(TYPABLE_ALIASES), st.sampled_from(vietnamese_filler)),
                      min_size=1, max_size=6))
def test_fold_insensitive_for_typed_questions(picks: list[tuple[tuple[str, str], str]]) -> None:
    text = " ".join(f"{alias} {word}" for (alias, _), word in picks)
    expected = list(dict.fromkeys(name for (_, name), _ in picks))
    assert provinces_in(text) == expected
    assert provinces_in(fold(text)) == expected


def test_vietnamese_filler_is_neutral() -> None:
    for word in vietnamese_filler:
        assert not set(fold(word).split()) & RESERVED, word


@settings(max_examples=300, deadline=None)
@given(text=st.text())
def test_fast_fold_matches_textnorm(text: str) -> None:
    assert gz._fold(text) == fold(text)
