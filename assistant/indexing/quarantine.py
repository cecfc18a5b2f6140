"""Setting a broken index aside: moved to `<index>.broken-<time>-<pid>` for inspection, the newest few kept.

The index is derived data (rebuilt from `corpus/`), so a folder that cannot be read is moved out
of the way rather than repaired; older set-aside folders are deleted so they do not pile up.

Usage (needs the model, an index, a server or the shared data, so not run as a doctest)::

    moved = quarantine(Path("index"))
    moved.name
    # -> 'index.broken-20250101-120000-000123-4242'
"""
from __future__ import annotations

import logging
import os
import shutil
import time
from pathlib import Path

log = logging.getLogger("assistant")
# Hand-set: the latest broken index and the one before it are enough to inspect a recurring failure;
# each holds a whole index (tens to hundreds of MB), so keeping every one fills the disk.
KEEP_BROKEN = 2
MARKER = ".broken-"


def set_aside(index_dir: Path) -> list[Path]:
    """The set-aside folders of an index, oldest first (their names sort by time)."""
    index_dir = Path(index_dir)
    return sorted((p for p in index_dir.parent.glob(f"{index_dir.name}{MARKER}*") if p.is_dir()),
                  key=lambda p: p.name)


def quarantine(index_dir: Path, keep: int = KEEP_BROKEN) -> Path | None:
    """Move a broken index folder aside and delete all but the newest `keep` set-aside ones (logged).

    Returns where it went; None when there was nothing to move (no folder, or an empty one).
    """
    index_dir = Path(index_dir)
    if not index_dir.exists() or not any(index_dir.iterdir()):
        return None
    now = time.time()
    stamp = f"{time.strftime('%Y%m%d-%H%M%S', time.localtime(now))}-{int(now * 1e6) % 1_000_000:06d}"
    target = index_dir.with_name(f"{index_dir.name}{MARKER}{stamp}-{os.getpid()}")
    while target.exists():  # same microsecond and process: never move into an existing folder
        target = target.with_name(target.name + "x")
    shutil.move(str(index_dir), str(target))
    keep = max(1, keep)  # the one just moved is always kept
    earlier = [p for p in set_aside(index_dir) if p != target]
    doomed = earlier[:max(0, len(earlier) - (keep - 1))]
    for p in doomed:
        shutil.rmtree(p, ignore_errors=True)
    if doomed:
        log.warning("kept the newest %d broken indexes beside %s; deleted the older: %s", keep, index_dir.name,
                    ", ".join(p.name for p in doomed))
    return target
