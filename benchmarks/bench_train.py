"""Training throughput of the conditional WGAN-GP: real windows per second through the critic.

Usage: python benchmarks/bench_train.py [--config configs/train_st_har_lsm6dsl_4g.json] [--steps 600]

Uses the shipped ST recordings (26 Hz, +-4 g) and the model and train sections of ``--config``
(by default the shipped generator's: its sizes, batch, n_critic and statistics weight), compiled
train steps and the tf.data pipeline that ``synth train`` uses. Each generator step consumes
n_critic x batch real windows; the first epoch (tracing and XLA compilation) is not timed.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    args = _parse()
    from synth.core.config import parse_config
    from synth.data.loading import load_windows
    from synth.models.training import build_wgan, enable_determinism, make_dataset
    from synth.models.zoo import get_class_scales

    shipped = json.loads(args.config.read_text())
    config = parse_config({
        "data": {"source": "st_har", "path": "builtin", "window": shipped["data"]["window"], "stride": 8},
        "model": shipped["model"],
        "train": {**shipped["train"], "steps_per_epoch": 100},
    })
    batch, n_critic = config.train.batch_size, config.train.n_critic
    windows = load_windows(config.data, 26.0, ROOT)
    enable_determinism(0)
    model = build_wgan(config, windows, 4.0)
    scales = get_class_scales(model.generator)
    dataset = make_dataset(windows, scales, batch * n_critic, seed=0)
    model.fit(dataset, steps_per_epoch=100, epochs=1, verbose=0, shuffle=False)  # trace + compile
    start = time.perf_counter()
    model.fit(dataset, steps_per_epoch=args.steps, epochs=1, verbose=0, shuffle=False)
    seconds = time.perf_counter() - start
    steps_per_s = args.steps / seconds
    print(f"generator params: {model.generator.count_params():,}  critic params: {model.critic.count_params():,}")
    print(f"{args.config.name}: window {config.data.window} x 3, batch {batch}, n_critic {n_critic}, "
          f"statistics weight {config.train.statistics_weight:g}, {args.steps} generator steps in {seconds:.1f} s")
    print(f"generator steps/s: {steps_per_s:.1f}")
    print(f"real windows/s through the critic: {steps_per_s * batch * n_critic:,.0f}")


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=ROOT / "configs" / "train_st_har_lsm6dsl_4g.json")
    parser.add_argument("--steps", type=int, default=600)
    return parser.parse_args()


if __name__ == "__main__":
    main()
