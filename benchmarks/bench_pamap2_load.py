"""Time PAMAP2 loading + windowing on a subject-sized file (376,000 rows, about 140 MB).

The file is written in the exact PAMAP2 layout (54 space-separated columns, 100 Hz) with
synthetic values: heart rate NaN on about 91 % of rows, a few IMU dropouts (short ones that are
interpolated and long ones that cut), activities including 0 (transient) and a timestamp jump
at each splice. Then ``load_pamap2`` reads it and cuts 26 Hz windows of 24 samples.

Run: ``.venv/bin/python benchmarks/bench_pamap2_load.py [--rows N] [--keep DIR]``.
Goal: at most 10 s on 2 cores.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from synth.data.pamap2 import load_pamap2

ACTIVITY_PLAN = [0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 12, 0, 13, 0, 16, 0, 17, 0, 24, 0]
NAN_BLOCK = " ".join(["NaN"] * 17)


def activities(rows: int) -> np.ndarray:
    """(rows,) activity IDs following ACTIVITY_PLAN in equal stretches."""
    return np.asarray(ACTIVITY_PLAN)[np.arange(rows) * len(ACTIVITY_PLAN) // rows]


def timestamps(activity: np.ndarray) -> np.ndarray:
    """(rows,) seconds at 100 Hz, jumping 30 s forward in the middle of every activity-0 stretch."""
    splice = np.zeros(len(activity))
    starts = np.flatnonzero(np.diff(activity, prepend=-1) != 0)
    zero_middles = [s + 50 for s in starts if activity[s] == 0 and s > 0]
    splice[zero_middles] = 30.0
    return 8.38 + np.arange(len(activity)) * 0.01 + np.cumsum(splice)


def block_pool(rng: np.random.Generator, size: int = 4096) -> list[str]:
    """Preformatted 17-column IMU blocks (temperature, acc16, acc6, gyro, mag, orientation)."""
    values = np.column_stack([
        rng.normal(31, 1, size), rng.normal(0, 4, (size, 6)), rng.normal(0, 0.5, (size, 3)),
        rng.normal(0, 40, (size, 3)),
    ])
    return [" ".join(f"{v:.6g}" for v in row) + " 1 0 0 0" for row in values]


def ankle_blocks(rng: np.random.Generator, activity: np.ndarray, t: np.ndarray) -> list[str]:
    """Ankle blocks with a gravity-plus-gait acc16 signal whose amplitude grows with the activity."""
    amp = np.where(activity >= 4, 3.0 + activity * 0.5, 0.2)
    acc = np.column_stack([9.8 + amp * np.sin(2 * np.pi * 1.8 * t), amp * np.cos(2 * np.pi * 1.8 * t), -0.1 + 0 * t])
    acc += rng.normal(0, 0.05, acc.shape)
    rest = block_pool(rng, 512)
    return [f"30.3125 {x:.6g} {y:.6g} {z:.6g} " + rest[i % 512].split(" ", 4)[4] for i, (x, y, z) in enumerate(acc)]


def drop_out(blocks: list[str], rng: np.random.Generator, runs: int, longest: int) -> None:
    """Replace ``runs`` random stretches of 1..longest rows with NaN blocks (wireless drops)."""
    for start in rng.integers(0, len(blocks) - longest, runs):
        for row in range(start, start + int(rng.integers(1, longest + 1))):
            blocks[row] = NAN_BLOCK


def write_synthetic_subject(path: Path, rows: int, seed: int = 0) -> None:
    """Write a ``rows``-line subject file in the exact PAMAP2 layout."""
    rng = np.random.default_rng(seed)
    activity = activities(rows)
    t = timestamps(activity)
    heart = np.where(rng.random(rows) < 0.91, "NaN", rng.integers(70, 180, rows).astype(str))
    hand, chest = block_pool(rng), block_pool(rng)
    ankle = ankle_blocks(rng, activity, t)
    drop_out(ankle, rng, runs=40, longest=8)
    drop_out(ankle, rng, runs=5, longest=300)
    with path.open("w") as handle:
        for i in range(rows):
            handle.write(f"{t[i]:.2f} {activity[i]} {heart[i]} {hand[i % 4096]} {chest[(i * 7) % 4096]} {ankle[i]}\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=376_000)
    parser.add_argument("--keep", type=Path, help="write the file here and keep it")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = (args.keep or Path(tmp)) / "subject101.dat"
        path.parent.mkdir(parents=True, exist_ok=True)
        write_synthetic_subject(path, args.rows)
        megabytes = path.stat().st_size / 1e6
        start = time.perf_counter()
        windows = load_pamap2(path, rate_hz=26.0, window=24)
        seconds = time.perf_counter() - start
    print(f"file: {args.rows} rows, {megabytes:.1f} MB")
    print(f"windows: {len(windows)} {windows.class_counts()}")
    print(f"load + window: {seconds:.2f} s, {args.rows / seconds:,.0f} rows/s")


if __name__ == "__main__":
    main()
