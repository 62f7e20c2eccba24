"""Atomic writes: a crash or Ctrl-C never leaves a half-written file or dataset behind.

Files are written to a temporary sibling and renamed into place (rename is atomic on POSIX
within one file system). Directories are built in a temporary sibling and renamed at the end.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterator

from synth.core.errors import OutputError


def write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (fsynced temporary file, then rename)."""
    path = Path(path)
    with open_atomic(path, "wb") as handle:
        handle.write(data)


def write_text(path: str | Path, text: str) -> None:
    """Write UTF-8 ``text`` to ``path`` atomically."""
    write_bytes(path, text.encode("utf-8"))


def write_json(path: str | Path, value: object) -> None:
    """Write ``value`` as indented, key-sorted JSON atomically (stable bytes for stable input)."""
    write_text(path, json.dumps(value, indent=2, sort_keys=True) + "\n")


@contextlib.contextmanager
def open_atomic(path: str | Path, mode: str = "wb") -> Iterator:
    """Open a temporary sibling of ``path`` for writing; rename it onto ``path`` on success."""
    path = Path(path)
    check_file_target(path)
    _make_parent(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    except OSError as exc:
        raise OutputError(f"cannot write to {path.parent}: {exc.strerror}") from None
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the file the usual permissions
    try:
        with os.fdopen(fd, mode) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def check_file_target(path: str | Path) -> None:
    """OutputError when ``path`` is a folder (a file is to be written there)."""
    if Path(path).is_dir():
        raise OutputError(f"{path} is a folder; expected the path of a file to write")


@contextlib.contextmanager
def build_directory(target: str | Path, force: bool = False) -> Iterator[Path]:
    """Yield a temporary directory that replaces ``target`` only if the block succeeds.

    Refuses a non-empty ``target`` unless ``force``. On any error the temporary directory is
    removed and ``target`` is left exactly as it was.
    """
    target = Path(target)
    check_directory_target(target, force)
    _make_parent(target)
    try:
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent))
    except OSError as exc:
        raise OutputError(f"cannot write to {target.parent}: {exc.strerror}") from None
    os.chmod(staging, 0o777 & ~_umask())
    try:
        yield staging
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def save_keras(model, path: str | Path) -> None:
    """Save a Keras model to ``path`` (.keras) so that a crash never leaves a half-written file."""
    path = Path(path)
    _make_parent(path)
    partial = path.with_name(f".partial-{path.name}")  # keeps the .keras suffix Keras requires
    try:
        model.save(partial)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def check_directory_target(target: str | Path, force: bool = False) -> None:
    """Raise OutputError now if ``target`` could not be (re)placed by build_directory.

    Commands call this before long work so that a bad --out fails at once.
    """
    target = Path(target)
    if target.exists() and not target.is_dir():
        raise OutputError(f"output {target} exists and is not a directory")
    if target.is_dir() and any(target.iterdir()) and not force:
        raise OutputError(f"output directory {target} is not empty (use --force to replace it)")
    parent = next((p for p in (target.parent, *target.parent.parents) if p.exists()), Path("."))
    if not parent.is_dir():
        raise OutputError(f"cannot create {target}: {parent} is a file, not a directory")
    if not os.access(parent, os.W_OK):
        raise OutputError(f"output location {parent} is not writable")


def _umask() -> int:
    """The process umask (read by setting and restoring it)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _make_parent(path: Path) -> None:
    """Create the parent directory of ``path`` or raise OutputError saying why not."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create directory {path.parent}: {exc.strerror}") from None
    if not os.access(path.parent, os.W_OK):
        raise OutputError(f"output location {path.parent} is not writable")
