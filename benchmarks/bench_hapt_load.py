"""Time HAPT loading + windowing on the real recordings (61 experiments, 1,122,772 samples at 50 Hz).

Reads ``../shared/data/uci_hapt`` (relative to the repository; UCI's RawData layout, see
synth/data/hapt.py) with the default classes, resampled to 26 Hz and cut into windows of 48
samples every 8. Prints the windows per class, the windows per subject and the load time.
Skips, saying why, when the folder is absent: the data is a user's own download and never
part of the repository.

Run: ``.venv/bin/python benchmarks/bench_hapt_load.py [--path DIR]``.
Goal: a few seconds on 2 cores.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from pathlib import Path

from synth.data.hapt import load_hapt

REPO = Path(__file__).resolve().parents[1]
DEFAULT_PATH = REPO / ".." / "shared" / "data" / "uci_hapt"
RATE_HZ, WINDOW, STRIDE = 26.0, 48, 8


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--path", type=Path, default=DEFAULT_PATH, help="folder holding RawData/")
    args = parser.parse_args()
    if not args.path.is_dir():
        print(f"skipped: no HAPT folder at {args.path.resolve()} (fetch it with 'synth data fetch hapt' and pass --path)")
        return
    start = time.perf_counter()
    windows = load_hapt(args.path, RATE_HZ, WINDOW, STRIDE)
    seconds = time.perf_counter() - start
    per_subject = Counter(windows.groups.tolist())
    print(f"windows: {len(windows)} of {WINDOW} samples at {RATE_HZ:g} Hz, stride {STRIDE}")
    print(f"per class: {windows.class_counts()}")
    print(f"subjects: {len(per_subject)}, windows per subject {min(per_subject.values())}..{max(per_subject.values())}")
    print(f"load + window: {seconds:.2f} s")


if __name__ == "__main__":
    main()
