"""One encoder for the app, the build and the CLI: the OpenVINO copy of the model made at set-up. It gives the
vectors and token counts of sentence-transformers, runs without torch, and is ignored when stale."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import unicodedata

import numpy as np
import pytest

from assistant.config import Settings
from assistant.indexing.catalog import Catalog
from assistant.indexing.embed import embeddings as embeddings_module
from assistant.indexing.embed import openvino_encoder
from assistant.indexing.indexer import embedding_text
from tests.support.paths import CORPUS, MODEL_DIR, ROOT, SEED_IDS

# The tolerance under which the index keeps vectors across runtimes and precisions (indexer.py): int8 weights
# and bf16 rounding move a vector by far less than this; another model or prefix moves it far more.
SAME = 0.995


def _seed_chunk_texts(built_index) -> list[str]:
    cat = Catalog(built_index / "index", create=False)
    try:
        return [embedding_text(c.title, c.text) for c in cat.iter_chunks()]
    finally:
        cat.close()


def test_openvino_vectors_match_sentence_transformers(embeddings, torch_embeddings, built_index):
    texts = _seed_chunk_texts(built_index)[:40]
    a, b = embeddings.encode_passages(texts), torch_embeddings.encode_passages(texts)
    assert a.shape == b.shape == (len(texts), embeddings.dimension)
    cos = (a * b).sum(axis=1)
    assert cos.min() > SAME and cos.mean() > 0.999, (cos.min(), cos.mean())
    q = "Tiền Giang xếp hạng bao nhiêu về kinh tế số?"
    assert float(embeddings.encode_queries([q])[0] @ torch_embeddings.encode_queries([q])[0]) > SAME
    # Batch composition and order do not change a text's vector beyond rounding (padding is masked out).
    alone = embeddings.encode_passages([texts[3]])[0]
    assert float(alone @ a[3]) > 0.9999
    # And the check can fail: another chunk's vector is far off.
    assert float(a[0] @ b[5]) < 0.95


def test_token_counts_equal_sentence_transformers_and_long_texts_are_cut_alike(embeddings, torch_embeddings):
    texts = [(CORPUS / f"{aid}.txt").read_text(encoding="utf-8") for aid in SEED_IDS]
    assert [embeddings.count_tokens(t) for t in texts] == [torch_embeddings.count_tokens(t) for t in texts]
    assert max(embeddings.count_tokens(t) for t in texts) > 512  # counts are not truncated
    long = texts[0] * 2  # far over 512 tokens: both cut to <s> + 510 + </s>
    assert float(embeddings.encode_passages([long])[0] @ torch_embeddings.encode_passages([long])[0]) > SAME
    assert embeddings.encode_passages([]).shape == (0, embeddings.dimension)


def test_concurrent_questions_get_their_own_vectors(embeddings):
    """Gradio and the JSON API answer from several threads: each thread has its own inference request."""
    from concurrent.futures import ThreadPoolExecutor

    qs = [f"Tỉnh số {i} có bao nhiêu dịch vụ công trực tuyến?" if i % 2 else "Hậu Giang xếp hạng DTI thứ mấy?"
          for i in range(16)]
    alone = embeddings.encode_queries(qs)
    with ThreadPoolExecutor(8) as pool:
        together = list(pool.map(lambda q: embeddings.encode_queries([q])[0], qs))
    assert min(float(a @ b) for a, b in zip(alone, together)) > 0.9999


def _model_copy(tmp_path):
    """A model folder of symlinks to the real files, with its own copy of the OpenVINO record."""
    copy = tmp_path / "multilingual-e5-small"
    copy.mkdir()
    for f in MODEL_DIR.iterdir():
        if f.name != openvino_encoder.IR_DIR:
            (copy / f.name).symlink_to(f)
    src, dst = MODEL_DIR / openvino_encoder.IR_DIR, copy / openvino_encoder.IR_DIR
    dst.mkdir()
    for f in src.iterdir():
        if f.name != openvino_encoder.RECORD:
            (dst / f.name).symlink_to(f)
    shutil.copy(src / openvino_encoder.RECORD, dst / openvino_encoder.RECORD)
    return Settings.from_env({}, embedding_model=str(copy)), dst / openvino_encoder.RECORD


@pytest.mark.parametrize("change", ["openvino", "fingerprint", "missing", "garbage"])
def test_a_stale_or_broken_conversion_is_not_used(tmp_path, change):
    settings, record_file = _model_copy(tmp_path)
    assert openvino_encoder.is_current(settings)
    assert embeddings_module.resolved_runtime(settings) == "openvino"
    record = json.loads(record_file.read_text())
    if change == "missing":
        record_file.unlink()
    elif change == "garbage":
        record_file.write_text("{not json")
    else:
        record[change] = "0.0-other"
        record_file.write_text(json.dumps(record))
    assert not openvino_encoder.is_current(settings)
    assert openvino_encoder.load_openvino(settings) is None
    # "auto" falls back to sentence-transformers; asking for OpenVINO explicitly says what to do.
    assert embeddings_module.resolved_runtime(settings) == "torch"
    assert embeddings_module.encoder_tag(settings).startswith("torch-")
    with pytest.raises(embeddings_module.ModelNotFoundError, match="OpenVINO.*cài đặt"):
        embeddings_module.load_embeddings(settings.replace(embedding_runtime="openvino"))


# A fresh `python -m assistant <command>`, reporting which libraries it needed.
CLI_WITH_IMPORTS = r"""
import json, sys
from assistant.app.cli import main
code = main(sys.argv[1:])
print(json.dumps({m: m in sys.modules for m in ("torch", "sentence_transformers", "transformers")}))
sys.exit(code)
"""


def _add_article(corpus, name: str) -> None:
    text = (corpus / f"{SEED_IDS[3]}.txt").read_text(encoding="utf-8")
    text = text.replace("Đồng Tháp", "Vĩnh Long").replace('title: "', 'title: "Bản tin mới: ', 1)
    (corpus / name).write_text(text, encoding="utf-8")


@pytest.mark.parametrize("runtime", ["auto", "torch"])
def test_a_cli_build_and_ask_need_no_torch_and_its_vectors_serve(index_copy, subprocess_env, torch_embeddings,
                                                                 runtime):
    settings, corpus, _ = index_copy
    _add_article(corpus, "005_vinh_long.txt")
    env = {**subprocess_env, "ASSISTANT_EMBEDDING_RUNTIME": runtime}
    where = ["--corpus", str(corpus), "--index", str(settings.index_dir)]
    proc = subprocess.run([sys.executable, "-c", CLI_WITH_IMPORTS, "index", *where, "--quiet", "--local"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "added=1" in proc.stdout
    used = json.loads(proc.stdout.strip().splitlines()[-1])
    assert used == {m: runtime == "torch" for m in used}
    # The new vectors (from either runtime) agree with sentence-transformers and serve queries.
    from assistant.indexing.vectorstore import VectorStore

    cat = Catalog(settings.index_dir, create=False)
    new = cat.chunks_of("005_vinh_long")
    assert cat.get_meta("encoder") == embeddings_module.encoder_tag(settings.replace(embedding_runtime=runtime))
    cat.close()
    store = VectorStore.open(settings, torch_embeddings.fingerprint)
    stored = store.collection.get(ids=[c.chunk_id for c in new], include=["embeddings"])
    vecs = dict(zip(stored["ids"], np.asarray(stored["embeddings"])))
    ref = torch_embeddings.encode_passages([embedding_text(c.title, c.text) for c in new])
    assert min(float(vecs[c.chunk_id] @ r) for c, r in zip(new, ref)) > SAME
    q = torch_embeddings.encode_queries(["Bản tin mới: Vĩnh Long chuyển đổi số"])[0]
    hits = [cid for cid, _ in store.query(q, 3)]
    assert hits and hits[0] in vecs
    if runtime == "auto":  # and a cold `ask` answers from it, still without torch
        proc = subprocess.run([sys.executable, "-c", CLI_WITH_IMPORTS, "ask", "--index", str(settings.index_dir),
                               "--local", "--json",
                               "Vĩnh Long có bao nhiêu khóm, ấp đã thành lập tổ công nghệ số cộng đồng?"],
                              cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)
        assert proc.returncode == 0, proc.stderr[-2000:]
        lines = proc.stdout.strip().splitlines()
        assert json.loads(lines[-1]) == {m: False for m in used}
        answer = json.loads("\n".join(lines[:-1]))
        assert not answer["abstained"] and answer["citations"][0]["article_id"] == "005_vinh_long"


def test_conversion_is_skipped_when_current_and_forced_conversion_round_trips(tmp_path, subprocess_env,
                                                                             embeddings):
    settings, record_file = _model_copy(tmp_path)
    env = {**subprocess_env, "ASSISTANT_EMBEDDING_MODEL": settings.embedding_model}
    xml = openvino_encoder.ir_dir(settings) / f"{openvino_encoder.IR_NAME}.xml"
    before = record_file.stat().st_mtime_ns
    cmd = [sys.executable, "-m", "assistant.indexing.embed.openvino_encoder"]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout == ""
    assert record_file.stat().st_mtime_ns == before and xml.is_symlink()  # nothing rewritten

    proc = subprocess.run(cmd + ["--force"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    weights = xml.with_suffix(".bin")
    assert not xml.is_symlink() and 50_000_000 < weights.stat().st_size < 200_000_000  # int8, not fp32 (470 MB)
    assert not list(xml.parent.parent.glob(f"{openvino_encoder.IR_DIR}.*")), "temporary folders are renamed away"
    assert openvino_encoder.is_current(settings)
    cache = openvino_encoder.ir_dir(settings) / openvino_encoder.CACHE  # compiled at set-up: quick first questions
    assert any(cache.iterdir()) and openvino_encoder._cache_dir(settings) == str(cache)
    fresh = openvino_encoder.load_openvino(settings)
    text = ["Đồng Tháp có 320 khóm, ấp đã thành lập tổ công nghệ số cộng đồng."]
    assert float(fresh.encode_passages(text)[0] @ embeddings.encode_passages(text)[0]) > 0.9999  # same weights


TRICKY = ["Kinh tế số chiếm 8,59% GRDP… theo Sở TT&TT", "Doanh thu đạt １２３ tỷ đồng（năm ２０２１）",
          unicodedata.normalize("NFD", "Hậu Giang đứng thứ 17/63 về chỉ số chuyển đổi số"), "Tỉnh   có\u00a0862 DN"]


def test_every_encoder_path_gives_the_same_vectors_for_ellipses_full_width_and_nfd_text(embeddings,
                                                                                       torch_embeddings):
    """Both runtimes tokenize with the model's normalizer, so a text embedded by either gets the same vector as
    its normalized spelling (no '<unk>' for '…' or '１')."""
    plain = [embeddings_module.model_normalize(unicodedata.normalize("NFC", t)) for t in TRICKY]
    for enc in (embeddings, torch_embeddings):
        a, b = enc.encode_passages(TRICKY), enc.encode_passages(plain)
        assert ((a * b).sum(axis=1) > 0.9999).all()
    cross = (embeddings.encode_passages(TRICKY) * torch_embeddings.encode_passages(TRICKY)).sum(axis=1)
    assert (cross > SAME).all(), cross
    tok = torch_embeddings.model.tokenizer
    for t in TRICKY:
        assert tok.unk_token_id not in tok(embeddings_module.model_normalize(t))["input_ids"]
        assert tok.unk_token_id not in embeddings.tokenizer.encode_batch([t])[0]
