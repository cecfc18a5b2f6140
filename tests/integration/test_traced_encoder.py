"""The traced copy of the embedding model: same vectors and token counts as sentence-transformers, used
only by small fresh-process builds, ignored when stale."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import unicodedata

import numpy as np
import pytest

from assistant.indexing.embed import embeddings as embeddings_module
from assistant.indexing.embed import traced_encoder
from assistant.indexing.catalog import Catalog
from assistant.config import Settings
from assistant.indexing.indexer import embedding_text
from tests.support.paths import CORPUS, MODEL_DIR, ROOT, SEED_IDS


# bf16 rounds differently with each batch's padded width; fp32 agrees to float precision.
SAME = 0.995 if traced_encoder.resolved_dtype(Settings.from_env()) == "bf16" else 0.9999


@pytest.fixture(scope="session")
def traced():
    settings = Settings.from_env(embedding_model=str(MODEL_DIR))
    assert traced_encoder.is_current(settings), "set-up (scripts/setup.sh) exports the trace next to the model"
    enc = traced_encoder.load_traced(settings)
    assert enc is not None
    return enc


def _seed_chunk_texts(built_index) -> list[str]:
    cat = Catalog(built_index / "index", create=False)
    try:
        return [embedding_text(c.title, c.text) for c in cat.iter_chunks()]
    finally:
        cat.close()


def test_traced_vectors_match_sentence_transformers(traced, embeddings, built_index):
    texts = _seed_chunk_texts(built_index)[:40]
    a, b = traced.encode_passages(texts), embeddings.encode_passages(texts)
    assert a.shape == b.shape == (len(texts), embeddings.dimension)
    cos = (a * b).sum(axis=1)
    assert cos.min() > SAME, cos.min()
    q = "Tiền Giang xếp hạng bao nhiêu về kinh tế số?"
    assert float(traced.encode_queries([q])[0] @ embeddings.encode_queries([q])[0]) > SAME
    # Batch composition and order do not change a text's vector beyond rounding (padding is masked out).
    alone = traced.encode_passages([texts[3]])[0]
    assert float(alone @ a[3]) > SAME


def test_traced_token_counts_equal_the_chunkers_and_long_texts_are_cut_like_sentence_transformers(
        traced, embeddings):
    texts = [(CORPUS / f"{aid}.txt").read_text(encoding="utf-8") for aid in SEED_IDS]
    assert [traced.count_tokens(t) for t in texts] == [embeddings.count_tokens(t) for t in texts]
    assert max(traced.count_tokens(t) for t in texts) > 512  # counts are not truncated
    long = texts[0] * 2  # far over 512 tokens: both cut to <s> + 510 + </s>
    assert float(traced.encode_passages([long])[0] @ embeddings.encode_passages([long])[0]) > SAME
    assert traced.encode_passages([]).shape == (0, embeddings.dimension)


def _model_copy(tmp_path):
    """A model folder of symlinks to the real files, with its own copy of the trace record."""
    copy = tmp_path / "multilingual-e5-small"
    copy.mkdir()
    for f in MODEL_DIR.iterdir():
        if f.name != traced_encoder.TRACED_DIR:
            (copy / f.name).symlink_to(f)
    (copy / traced_encoder.TRACED_DIR).mkdir()
    src = Settings.from_env(embedding_model=str(MODEL_DIR))
    pt, meta = traced_encoder.traced_paths(src)
    (copy / traced_encoder.TRACED_DIR / pt.name).symlink_to(pt)
    shutil.copy(meta, copy / traced_encoder.TRACED_DIR / meta.name)
    return Settings.from_env(embedding_model=str(copy)), copy / traced_encoder.TRACED_DIR / meta.name


@pytest.mark.parametrize("change", ["torch", "fingerprint", "missing", "garbage"])
def test_a_stale_or_broken_trace_is_not_used(tmp_path, change):
    settings, meta = _model_copy(tmp_path)
    assert traced_encoder.is_current(settings)
    record = json.loads(meta.read_text())
    if change == "missing":
        meta.unlink()
    elif change == "garbage":
        meta.write_text("{not json")
    else:
        record[change] = "0.0-other"
        meta.write_text(json.dumps(record))
    assert not traced_encoder.is_current(settings)
    assert traced_encoder.load_traced(settings) is None


def test_trace_is_per_dtype(tmp_path):
    settings, _ = _model_copy(tmp_path)
    other = "fp32" if traced_encoder.resolved_dtype(settings) == "bf16" else "bf16"
    assert not traced_encoder.is_current(Settings.from_env(embedding_model=settings.embedding_model,
                                                           embedding_dtype=other))


# A fresh `python -m assistant index`, reporting which libraries it needed.
CLI_WITH_IMPORTS = r"""
import json, sys
import assistant.indexing.indexer as ix
if len(sys.argv) > 1 and sys.argv[1] == "--max":
    ix.TRACED_MAX_CHUNKS = int(sys.argv[2]); del sys.argv[1:3]
from assistant.app.cli import main
code = main(sys.argv[1:])
print(json.dumps({"sentence_transformers": "sentence_transformers" in sys.modules, "torch": "torch" in sys.modules}))
sys.exit(code)
"""


def _add_article(corpus, name: str) -> None:
    text = (corpus / f"{SEED_IDS[3]}.txt").read_text(encoding="utf-8")
    text = text.replace("Đồng Tháp", "Vĩnh Long").replace('title: "', 'title: "Bản tin mới: ', 1)
    (corpus / name).write_text(text, encoding="utf-8")


@pytest.mark.parametrize("max_chunks,expect_st", [(None, False), (0, True)])
def test_a_small_cli_build_uses_the_trace_and_its_vectors_serve(index_copy, subprocess_env, embeddings,
                                                                 max_chunks, expect_st):
    settings, corpus, _ = index_copy
    _add_article(corpus, "005_vinh_long.txt")
    args = ["--max", str(max_chunks)] if max_chunks is not None else []
    proc = subprocess.run([sys.executable, "-c", CLI_WITH_IMPORTS, *args, "index", "--corpus", str(corpus),
                           "--index", str(settings.index_dir), "--quiet"],
                          cwd=ROOT, env=subprocess_env, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "added=1" in proc.stdout
    used = json.loads(proc.stdout.strip().splitlines()[-1])
    assert used["torch"] and used["sentence_transformers"] is expect_st
    # The new vectors (from whichever encoder) agree with sentence-transformers and serve queries.
    from assistant.indexing.vectorstore import VectorStore

    cat = Catalog(settings.index_dir, create=False)
    new = cat.chunks_of("005_vinh_long")
    cat.close()
    store = VectorStore.open(settings, embeddings.fingerprint)
    stored = store.collection.get(ids=[c.chunk_id for c in new], include=["embeddings"])
    vecs = dict(zip(stored["ids"], np.asarray(stored["embeddings"])))
    ref = embeddings.encode_passages([embedding_text(c.title, c.text) for c in new])
    assert min(float(vecs[c.chunk_id] @ r) for c, r in zip(new, ref)) > SAME
    q = embeddings.encode_queries(["Bản tin mới: Vĩnh Long chuyển đổi số"])[0]
    hits = [cid for cid, _ in store.query(q, 3)]
    assert hits and hits[0] in vecs


def test_export_is_skipped_when_current_and_forced_export_round_trips(tmp_path, subprocess_env, traced):
    settings, meta = _model_copy(tmp_path)
    env = {**subprocess_env, "ASSISTANT_EMBEDDING_MODEL": settings.embedding_model}
    pt = traced_encoder.traced_paths(settings)[0]
    before = meta.stat().st_mtime_ns
    cmd = [sys.executable, "-m", "assistant.indexing.embed.traced_encoder"]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout == ""
    assert meta.stat().st_mtime_ns == before and pt.is_symlink()  # nothing rewritten

    proc = subprocess.run(cmd + ["--force"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert not pt.is_symlink() and pt.stat().st_size > 10_000_000
    assert not list(pt.parent.glob("*.tmp*")), "temporary files are renamed into place"
    assert traced_encoder.is_current(settings)
    fresh = traced_encoder.TracedEmbeddings.load(settings)
    text = ["Đồng Tháp có 320 khóm, ấp đã thành lập tổ công nghệ số cộng đồng."]
    assert float(fresh.encode_passages(text)[0] @ traced.encode_passages(text)[0]) > 0.9999  # same batch: same


TRICKY = ["Kinh tế số chiếm 8,59% GRDP… theo Sở TT&TT", "Doanh thu đạt １２３ tỷ đồng（năm ２０２１）",
          unicodedata.normalize("NFD", "Hậu Giang đứng thứ 17/63 về chỉ số chuyển đổi số"), "Tỉnh   có\u00a0862 DN"]


def test_every_encoder_path_gives_the_same_vectors_for_ellipses_full_width_and_nfd_text(traced, embeddings):
    """The app's sentence-transformers path and the CLI's traced path tokenize with the model's normalizer, so a
    text embedded by either gets the same vector as its normalized spelling (no '<unk>' for '…' or '１')."""
    plain = [embeddings_module.model_normalize(unicodedata.normalize("NFC", t)) for t in TRICKY]
    for enc in (embeddings, traced):
        a, b = enc.encode_passages(TRICKY), enc.encode_passages(plain)
        assert ((a * b).sum(axis=1) > SAME).all()
    cross = (embeddings.encode_passages(TRICKY) * traced.encode_passages(TRICKY)).sum(axis=1)
    assert (cross > SAME).all(), cross
    unk = embeddings.model.tokenizer.unk_token_id
    for t in TRICKY:
        assert unk not in embeddings.model.tokenizer(embeddings_module.model_normalize(t))["input_ids"]
