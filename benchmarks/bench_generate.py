"""Generation speed: the generator alone, and ``synth generate`` end to end to .npz.

Usage: python benchmarks/bench_generate.py [--windows 1000000] [--units 224]

(a) a generator of windows 24 x 3 with about 45k parameters (units 224), batched, XLA-compiled;
(b) ``synth generate``'s work through the lsm6dsl_4g profile (clip, quantise) into dataset.npz
    (no CSV): load the generator, sample, write and hash the files, in one warm process;
(c) the same as a whole command, including interpreter start and the TensorFlow import (~3 s).
Both use an untrained generator: speed does not depend on the weights.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

CLASSES = ("stationary", "walking", "running")


def main() -> None:
    args = _parse()
    import numpy as np

    from synth.models.artifact import GeneratorInfo, build_from_info, save_generator
    from synth.models.sampling import sample_windows

    info = GeneratorInfo(classes=CLASSES, window=24, rate_hz=26.0, noise_dim=32, hidden_units=args.units, full_scale_g=4.0)
    generator = build_from_info(info)
    labels = np.arange(args.windows) % len(CLASSES)
    sample_windows(generator, labels[: args.batch], info.noise_dim, len(CLASSES), batch_size=args.batch)  # compile
    start = time.perf_counter()
    sample_windows(generator, labels, info.noise_dim, len(CLASSES), batch_size=args.batch)
    seconds = time.perf_counter() - start
    print(f"generator params: {generator.count_params():,}")
    print(f"(a) generator alone: {args.windows:,} windows of 24 x 3 in {seconds:.2f} s = {args.windows / seconds:,.0f} windows/s")
    with tempfile.TemporaryDirectory() as tmp:
        save_generator(Path(tmp) / "generator", generator, info)
        config = {"seed": 0, "generate": {"generator": str(Path(tmp) / "generator"), "total": args.windows, "csv": False, "batch_size": args.batch}}
        (Path(tmp) / "config.json").write_text(json.dumps(config))
        _bench_in_process(Path(tmp), config, args.windows)
        _bench_cli(Path(tmp), args.windows)


def _bench_in_process(tmp: Path, config: dict, windows: int) -> None:
    """Time ``generate_dataset`` (load generator, sample, profile, write, hash) with TF already loaded."""
    from synth.core.config import parse_config
    from synth.gan.generate import generate_dataset

    start = time.perf_counter()
    generate_dataset(parse_config(config), tmp / "out_in_process")
    seconds = time.perf_counter() - start
    print(f"(b) synth generate to .npz, in process: {windows:,} windows in {seconds:.2f} s = {windows / seconds:,.0f} windows/s")


def _bench_cli(tmp: Path, windows: int) -> None:
    """Time the whole ``synth generate`` command (process start, TF import, generation, write)."""
    command = [sys.executable, "-m", "synth.cli", "generate", "--config", str(tmp / "config.json"), "--out", str(tmp / "out")]
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    seconds = time.perf_counter() - start
    size_mb = (tmp / "out" / "dataset.npz").stat().st_size / 1e6
    print(f"(c) synth generate to .npz, whole command: {windows:,} windows in {seconds:.2f} s = {windows / seconds:,.0f} windows/s "
          f"(incl. interpreter start and TensorFlow import; dataset.npz {size_mb:.0f} MB)")


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--windows", type=int, default=1_000_000)
    parser.add_argument("--units", type=int, default=224)
    parser.add_argument("--batch", type=int, default=16384)
    return parser.parse_args()


if __name__ == "__main__":
    main()
