"""Test helpers: tiny HAPT folders in UCI's exact RawData layout (never the real data).

Two experiments at 50 Hz. Each sample's x is its 1-based line number / 1000 and z is 1 g, so a
window tells which lines of which file it came from. Segments (``experiment user activity
start end``, 1-based, inclusive):

- acc_exp01_user01.txt, 600 lines: 1-200 walking, 201-260 stand_to_sit, 261-500 sitting,
  501-600 unlabelled.
- acc_exp02_user02.txt, 400 lines: 1-10 unlabelled, 11-210 walking_upstairs, 211-400 standing
  (it ends on the file's last line).

Also a gyroscope file and a README, which the loader ignores and the fetch does not unpack.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

LENGTHS = {"acc_exp01_user01.txt": 600, "acc_exp02_user02.txt": 400}
LABELS = ["1 1 1 1 200", "1 1 7 201 260", "1 1 4 261 500", "2 2 2 11 210", "2 2 5 211 400"]
EXTRAS = {"RawData/gyro_exp01_user01.txt": b"0.1 0.2 0.3\n", "README.txt": b"HAPT test fixture\n"}


def acc_text(samples: np.ndarray) -> str:
    """Lines of ``x y z`` in g, space-separated, 12 significant digits (UCI's style)."""
    return "".join(f"{x:.12g} {y:.12g} {z:.12g}\n" for x, y, z in samples)


def line_coded(lines: int, y: float = 0.0) -> np.ndarray:
    """(lines, 3) samples whose x is the 1-based line number / 1000, y ``y`` and z 1 g."""
    number = np.arange(1, lines + 1) / 1000.0
    return np.column_stack([number, np.full(lines, y), np.ones(lines)])


def hapt_files(labels: list[str] = LABELS, extras: bool = True) -> dict[str, bytes]:
    """{path inside the data folder: bytes} of the fixture, e.g. ``RawData/labels.txt``."""
    files = {f"RawData/{name}": acc_text(line_coded(n, y=i)).encode() for i, (name, n) in enumerate(LENGTHS.items())}
    files["RawData/labels.txt"] = "".join(f"{line}\n" for line in labels).encode()
    return files | (EXTRAS if extras else {})


def write_files(root: Path, files: dict[str, bytes]) -> Path:
    """Write ``files`` {relative path: bytes} under ``root``; return ``root``."""
    for path, data in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(data)
    return root
