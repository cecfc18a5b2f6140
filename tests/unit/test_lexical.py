"""Vietnamese keyword search: accent folding, whole numbers, FTS5 search updated in place."""
from __future__ import annotations

import sqlite3
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.indexing import lexical
from assistant.ingest.articles import load_article
from assistant.indexing.catalog import Catalog
from assistant.ingest.chunking import Chunker
from assistant.vi.tokens import lexical_tokens, query_tokens
from tests.support.paths import CORPUS, SEED_IDS


def test_tokens_fold_diacritics_and_d():
    toks = lexical_tokens("Tiền Giang ĐỒNG THÁP Đắk Lắk đạt", pairs=False)
    assert toks == ["tien", "giang", "dong", "thap", "dak", "lak", "dat"]


def test_typed_without_diacritics_gives_the_same_tokens():
    assert lexical_tokens("Tiền Giang đạt 8,59% GRDP") == lexical_tokens("tien giang dat 8,59% grdp")
    nfd = unicodedata.normalize("NFD", "Thanh Hóa đạt 98,5%")
    assert lexical_tokens(nfd) == lexical_tokens("thanh hoa dat 98,5%")


@pytest.mark.parametrize("number", ["8.619", "8,59", "12/63", "100.314", "2.212.325", "25/01/2023", "0,4856"])
def test_numbers_stay_whole(number):
    toks = lexical_tokens(f"giá trị {number} tỷ đồng", pairs=False)
    assert number in toks
    assert toks == ["gia", "tri", number, "ty", "dong"]


def test_percent_and_pairs():
    assert lexical_tokens("đạt 8,59% GRDP") == ["dat", "8,59", "%", "grdp", "dat_8,59", "8,59_%", "%_grdp"]


def test_trailing_sentence_punctuation_is_not_part_of_a_number():
    assert lexical_tokens("đạt 8.619. Tiếp", pairs=False) == ["dat", "8.619", "tiep"]
    assert lexical_tokens("xếp 12/63, cao", pairs=False) == ["xep", "12/63", "cao"]


def test_query_tokens_drop_question_words_but_keep_pairs():
    toks = query_tokens("Tiền Giang xếp hạng bao nhiêu về kinh tế số?")
    assert "bao" not in toks and "nhieu" not in toks and "ve" not in toks
    assert {"tien", "giang", "tien_giang", "kinh", "te", "so", "kinh_te"} <= set(toks)
    assert "bao_nhieu" not in toks
    assert len(toks) == len(set(toks))


def test_decomposed_question_finds_the_text():
    conn = sqlite3.connect(":memory:")
    lexical.create_schema(conn)
    lexical.add(conn, [(1, "Tỉ lệ ký số cơ quan ở Thanh Hóa đạt 98,5%"), (2, "Hậu Giang đạt 99%")])
    nfd = unicodedata.normalize("NFD", "Thanh Hóa đạt bao nhiêu?")
    assert query_tokens(nfd) == query_tokens("Thanh Hóa đạt bao nhiêu?")
    assert lexical.search(conn, nfd)[0][0] == 1


def test_query_of_only_stopwords_searches_nothing():
    conn = sqlite3.connect(":memory:")
    lexical.create_schema(conn)
    lexical.add(conn, [(1, "Tiền Giang là gì")])
    assert lexical.search(conn, "là gì?") == []
    assert lexical.search(conn, "   ") == []


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_tokens_are_folded_and_have_no_spaces(text):
    for t in lexical_tokens(text):
        assert t and " " not in t and t == t.lower()
        assert "đ" not in t
        assert not any(unicodedata.combining(c) for c in unicodedata.normalize("NFD", t) if c.isalpha())


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 10**6), min_size=1, max_size=4), st.sampled_from([".", ",", "/"]))
def test_any_separated_number_is_one_token(parts, sep):
    number = sep.join(str(p) for p in parts)
    assert lexical_tokens(f"con số {number} đồng", pairs=False) == ["con", "so", number, "dong"]


# --- FTS5 search over the real seeds ---------------------------------------------------------

@pytest.fixture(scope="module")
def seed_fts():
    """An in-memory FTS index of the seeds' chunks: (connection, rowid -> (article id, text))."""
    conn = sqlite3.connect(":memory:")
    lexical.create_schema(conn)
    rows, meta = [], {}
    for aid in SEED_IDS:
        art = load_article(CORPUS / f"{aid}.txt")
        for c in Chunker().run(aid, art.text):
            rowid = len(rows) + 1
            rows.append((rowid, c.text))
            meta[rowid] = (aid, c.text)
    lexical.add(conn, rows)
    return conn, meta


def test_unaccented_province_finds_its_article(seed_fts):
    conn, meta = seed_fts
    for query, aid in [("tien giang", "000_c8abe304363df3f5"), ("thanh hoa", "001_da462b655fd8cf87"),
                       ("hau giang", "002_130dbf42b88e02b2"), ("dong thap", "003_11d4590fe4f6bcca"),
                       ("ben tre", "004_7b060a5d05bf869f")]:
        hits = lexical.search(conn, query, k=3)
        assert hits and all(meta[r][0] == aid for r, _ in hits), (query, [meta[r][0] for r, _ in hits])
        assert all(score > 0 for _, score in hits)
        assert [s for _, s in hits] == sorted((s for _, s in hits), reverse=True)


@pytest.mark.parametrize(("query", "needle"), [("8.619", "8.619"), ("8,59%", "8,59%"), ("12/63", "12/63"),
                                               ("17/63", "17/63"), ("6,42", "6,42%"), ("98,5", "98,5%")])
def test_number_query_finds_the_chunk_with_that_number(seed_fts, query, needle):
    conn, meta = seed_fts
    hits = lexical.search(conn, query, k=5)
    assert hits, query
    assert needle in meta[hits[0][0]][1]
    if "%" not in query:  # ('%' is a token of its own and matches every percentage)
        # Whole-number matching: "8.619" must not match "8.479" or "8" elsewhere.
        assert all(needle.rstrip("%") in meta[r][1] for r, _ in hits)


def test_number_is_not_matched_by_its_parts(seed_fts):
    conn, meta = seed_fts
    hits = lexical.search(conn, "619", k=10)
    assert all("619" in meta[r][1].replace("8.619", "") for r, _ in hits)


def test_delete_updates_in_place():
    conn = sqlite3.connect(":memory:")
    lexical.create_schema(conn)
    lexical.create_schema(conn)  # idempotent
    lexical.add(conn, [(1, "Tiền Giang đạt 8.619 tỷ đồng"), (2, "Đồng Tháp đạt 6,42% GRDP")])
    assert [r for r, _ in lexical.search(conn, "tien giang")] == [1]
    lexical.delete(conn, [(1, "Tiền Giang đạt 8.619 tỷ đồng")])
    assert lexical.search(conn, "tien giang") == []
    assert lexical.search(conn, "8.619") == []
    assert [r for r, _ in lexical.search(conn, "Đồng Tháp 6,42%")] == [2]  # the other row is untouched
    lexical.add(conn, [(3, "Tiền Giang đạt 9.000 tỷ đồng")])
    assert [r for r, _ in lexical.search(conn, "Tiền Giang")] == [3]


def test_quotes_in_queries_are_safe():
    conn = sqlite3.connect(":memory:")
    lexical.create_schema(conn)
    lexical.add(conn, [(1, 'mô hình "Chợ 4.0" ở Hậu Giang')])
    assert [r for r, _ in lexical.search(conn, '"chợ 4.0" OR NEAR(')] == [1]


def test_catalog_keyword_search(tmp_path):
    cat = Catalog(tmp_path / "index")
    arts = [load_article(CORPUS / f"{aid}.txt") for aid in SEED_IDS]
    with cat.transaction() as conn:
        for a in arts:
            cat.replace_article(conn, a, Chunker().run(a.id, a.text), 1, 1)
    (rec, score), *_ = cat.keyword_search("tien giang kinh te so 8.619", 5)
    assert rec.article_id == "000_c8abe304363df3f5" and "8.619" in rec.text and score > 0
    assert rec.province == "Tiền Giang" and rec.title == "Bắt nhịp kinh tế số"
    # Replacing an article swaps its keyword rows in place.
    a0 = arts[0]
    new = a0.__class__(**{**a0.__dict__, "text": a0.text.replace("8.619", "9.999")})
    with cat.transaction() as conn:
        cat.replace_article(conn, new, Chunker().run(new.id, new.text), 2, 2)
    assert cat.keyword_search("8.619", 5) == []
    assert cat.keyword_search("9.999", 5)[0][0].article_id == a0.id
    fts_rows = {r[0] for r in cat.conn.execute(f"SELECT rowid FROM {lexical.FTS_TABLE}")}
    assert fts_rows == {r[0] for r in cat.conn.execute("SELECT rowid FROM chunks")}
    # The contentless table's own check: its index agrees with what was added and deleted.
    cat.conn.execute(f"INSERT INTO {lexical.FTS_TABLE}({lexical.FTS_TABLE}) VALUES ('integrity-check')")
    # Chunk text is stored once, in the article; the chunks table has no copy.
    cols = {r[1] for r in cat.conn.execute("PRAGMA table_info(chunks)")}
    assert "text" not in cols
    assert [c.text for c in cat.chunks_of(a0.id)] == [c.text for c in Chunker().run(new.id, new.text)]
    cat.close()


def test_frequent_tokens_are_left_out_of_the_query_but_never_all_of_it(monkeypatch):
    conn = sqlite3.connect(":memory:")
    lexical.create_schema(conn)
    conn.execute("CREATE TABLE chunks(rowid INTEGER PRIMARY KEY)")  # DocFrequencies counts the chunks here
    texts = [f"Năm 2023 tỉnh có {i} điểm" for i in range(30)] + ["Năm 2023 Bến Tre đạt 862 doanh nghiệp"]
    conn.executemany("INSERT INTO chunks(rowid) VALUES (?)", [(i,) for i in range(len(texts))])
    lexical.add(conn, enumerate(texts))
    monkeypatch.setattr(lexical, "MIN_CHUNKS_TO_PRUNE", 10)  # the real floor is in the thousands
    freqs = lexical.DocFrequencies(conn)
    assert freqs.frequent(["nam"], generation=1, min_chunks=1000) == set()  # a small index: nothing left out
    frequent = freqs.frequent(lexical.query_tokens("Năm 2023 Bến Tre có bao nhiêu doanh nghiệp?"), generation=1)
    assert {"nam", "2023"} <= frequent and "ben" not in frequent and "doanh" not in frequent
    hits = lexical.search(conn, "Năm 2023 Bến Tre có bao nhiêu doanh nghiệp?", 5, freqs, 1)
    assert hits[0][0] == 30 and len(hits) == 1  # only the rare words were searched
    assert len(lexical.search(conn, "Năm 2023 Bến Tre có bao nhiêu doanh nghiệp?", 50)) == 31  # unpruned
    assert len(lexical.search(conn, "năm 2023", 50, freqs, 1)) == 31  # only frequent words: all kept
    # A new generation (a build committed) recounts.
    conn.executemany("INSERT INTO chunks(rowid) VALUES (?)", [(i,) for i in range(31, 400)])
    lexical.add(conn, [(i, f"văn bản {i}") for i in range(31, 400)])
    assert "nam" in freqs.frequent(["nam"], generation=1)  # same generation: the cached count
    assert "nam" not in freqs.frequent(["nam"], generation=2)
