"""Test support for synth.share: a tiny share config, and (re-exported from synth.federated.in_process)
the Grid stand-in that delivers the server's messages to nodes in this process (the real engine is
tested in the simulation and deployment tests; this one lets tests inspect every message and make
nodes fail on purpose)."""

from __future__ import annotations

import copy
from pathlib import Path

from synth.federated.in_process import InProcessGrid, NodeDied  # noqa: F401  (re-exported for the tests)

TEST_GROUPS = ["stationary_03_26Hz_4g_mg", "walking_03_26Hz_4g_mg", "running_03_26Hz_4g_mg"]


def tiny_share_config(run_dir: Path, **share) -> dict:
    """A raw config for a tiny, fast GAN-sharing run on the shipped ST HAR recordings (windows of 48)."""
    return {
        "seed": 11,
        "profile": "lsm6dsl_4g",
        "data": {"source": "st_har", "path": "builtin", "window": 48, "stride": 48, "test_groups": list(TEST_GROUPS)},
        "model": {"noise_dim": 8, "generator_units": 16, "critic_filters": 8},
        "train": {"batch_size": 16, "n_critic": 2, "steps_per_epoch": 5},
        "classifier": {"architecture": "ign", "batch_size": 64, "dropout": 0.5},
        "share": {"nodes": 3, "rounds": 2, "split": "one_class", "gan_epochs_per_round": 1, "generated_per_class": 32,
                  "classifier_epochs": 1, "min_nodes": 2, "round_timeout_s": 600.0, "run_dir": str(run_dir), **share},
    }


def with_share(raw: dict, **share) -> dict:
    """A copy of ``raw`` with share settings changed."""
    out = copy.deepcopy(raw)
    out["share"].update(share)
    return out


