"""Helpers of the embedded adapters that keep files on disk (blob folder, outbox)."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def _complete_temp_file(path: Path, data: bytes) -> str:
    """A temp file beside `path` holding all of `data`, on disk (a hidden name: listings skip it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return tmp


def write_atomic(path: Path, data: bytes) -> None:
    """Write a file so readers see the old or the new content, never half of it (temp file + rename)."""
    tmp = _complete_temp_file(path, data)
    try:
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_once(path: Path, data: bytes) -> bool:
    """Create a file only if none has this name, whole or not at all: False when one exists.

    A hard link of a complete temp file: link() fails atomically when the name exists, so of two
    creators at once exactly one wins, and a reader never sees half a file.
    """
    tmp = _complete_temp_file(path, data)
    try:
        os.link(tmp, path)
    except FileExistsError:
        return False
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    return True
