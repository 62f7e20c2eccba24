"""Byte-reproducible .npz files.

``numpy.savez`` stamps every member with the current time, so the same arrays give different
bytes on every call. Here members are stored uncompressed with a fixed timestamp and in sorted
order, so the same arrays always give the same file (and the same sha256). ``numpy.load``
reads the result as usual.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Mapping

import numpy as np

from synth.core.atomic import open_atomic
from synth.core.errors import DataError

_FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can hold


def save_npz(path: str | Path, arrays: Mapping[str, np.ndarray]) -> None:
    """Write ``arrays`` (name -> array) to ``path`` atomically, with deterministic bytes."""
    with open_atomic(path, "wb") as handle, zipfile.ZipFile(handle, "w", zipfile.ZIP_STORED) as archive:
        for name in sorted(arrays):
            info = zipfile.ZipInfo(f"{name}.npy", date_time=_FIXED_TIME)
            info.external_attr = 0o644 << 16
            with archive.open(info, "w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.asanyarray(arrays[name]), allow_pickle=False)


def load_npz(path: str | Path) -> dict[str, np.ndarray]:
    """Read every array of an .npz file into memory (never unpickles objects).

    A missing, truncated or foreign file is a DataError naming it: every artefact synth keeps as
    .npz (generator weights, checkpoints, datasets, captures, node state) is read through here.
    """
    try:
        archive = np.load(path, allow_pickle=False)
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise DataError(f"{path}: a single array (.npy), expected an .npz file")
        with archive:
            arrays = {name: archive[name] for name in archive.files}
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a folder, expected an .npz file") from None
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zipfile.LargeZipFile):
        raise DataError(f"{path}: not a readable .npz file (truncated, or another format)") from None
    if not arrays:
        raise DataError(f"{path}: the .npz file holds no arrays")
    return arrays
