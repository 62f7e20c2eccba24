"""Training throughput of the conditional WGAN-GP: real windows per second through the critic.

Usage: python benchmarks/bench_train.py [--window 48] [--batch 64] [--n-critic 5] [--steps 600]

Uses the shipped ST recordings (26 Hz, +-4 g), the default architecture, compiled train steps
and the tf.data pipeline that ``synth train`` uses. Each generator step consumes
n_critic x batch real windows; the first epoch (tracing and XLA compilation) is not timed.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def main() -> None:
    args = _parse()
    from synth.config import parse_config
    from synth.data.loading import load_windows
    from synth.models.training import build_wgan, enable_determinism, make_dataset
    from synth.models.zoo import get_class_scales

    config = parse_config({
        "data": {"source": "st_har", "path": "builtin", "window": args.window, "stride": 8},
        "train": {"batch_size": args.batch, "n_critic": args.n_critic, "steps_per_epoch": 100},
    })
    windows = load_windows(config.data, 26.0, Path("."))
    enable_determinism(0)
    model = build_wgan(config, windows, 4.0)
    scales = get_class_scales(model.generator)
    dataset = make_dataset(windows, scales, args.batch * args.n_critic, seed=0)
    model.fit(dataset, steps_per_epoch=100, epochs=1, verbose=0, shuffle=False)  # trace + compile
    start = time.perf_counter()
    model.fit(dataset, steps_per_epoch=args.steps, epochs=1, verbose=0, shuffle=False)
    seconds = time.perf_counter() - start
    steps_per_s = args.steps / seconds
    print(f"generator params: {model.generator.count_params():,}  critic params: {model.critic.count_params():,}")
    print(f"window {args.window} x 3, batch {args.batch}, n_critic {args.n_critic}, {args.steps} generator steps in {seconds:.1f} s")
    print(f"generator steps/s: {steps_per_s:.1f}")
    print(f"real windows/s through the critic: {steps_per_s * args.batch * args.n_critic:,.0f}")


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--window", type=int, default=48)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--n-critic", type=int, default=5)
    parser.add_argument("--steps", type=int, default=600)
    return parser.parse_args()


if __name__ == "__main__":
    main()
