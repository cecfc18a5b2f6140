"""Chunking on the real seeds with the real tokenizer: chunks cover the article, fit the model, keep figures whole."""
from __future__ import annotations

import pytest

from assistant.indexing.indexer import embedding_text
from assistant.ingest.articles import load_article
from assistant.ingest.chunking import MAX_TOKENS, Chunker
from tests.support.paths import CORPUS, SEED_IDS
from tests.unit.test_chunking import check_chunks


@pytest.fixture(scope="module")
def seed_chunks(token_count):
    out = {}
    for aid in SEED_IDS:
        art = load_article(CORPUS / f"{aid}.txt")
        out[aid] = (art, Chunker(token_count).run(aid, art.text))
    return out


def test_seed_chunks_cover_and_map_back(seed_chunks, token_count):
    for aid, (art, chunks) in seed_chunks.items():
        check_chunks(art.text, chunks, token_count, MAX_TOKENS)
        assert len(chunks) >= 3, aid


def test_seed_chunks_fit_the_model(seed_chunks, embeddings):
    # What the indexer embeds: "passage: " + title + chunk, with special tokens.
    for aid, (art, chunks) in seed_chunks.items():
        for c in chunks:
            assert embeddings.token_count(embedding_text(art.title, c.text)) <= 512, (aid, c.index)


def test_seed_chunk_sizes_mostly_in_range(seed_chunks, token_count):
    sizes = [token_count(c.text) for _, chunks in seed_chunks.values() for c in chunks]
    within = [150 <= s <= 350 for s in sizes]
    assert sum(within) >= 0.8 * len(sizes), sorted(sizes)
    # Only an article's last chunk may be short.
    for _, chunks in seed_chunks.values():
        assert all(token_count(c.text) >= 100 for c in chunks[:-1])


def test_seed_figures_stay_inside_one_chunk(seed_chunks):
    art, chunks = seed_chunks["000_c8abe304363df3f5"]
    for fig in ("8.619 tỷ đồng/100.314 tỷ đồng, chiếm 8,59% GRDP", "xếp hạng 12/63 tỉnh", "Sở Thông tin và Truyền thông (TT-TT)"):
        assert any(fig in c.text for c in chunks), fig
