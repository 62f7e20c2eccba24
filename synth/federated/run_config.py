"""The run config of synth's Flower apps: the keys both apps read and how a value is found.

A Flower App's run config ([tool.flwr.app.config], overridable with ``flwr run --run-config``)
names the run's synth config and the output folder on the SuperLink machine; a simulation gives
the same values up front as ``defaults`` and adds ``min-nodes``, all its nodes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Mapping

from synth.core.config import Config, load_config, require
from synth.core.errors import ConfigError

if TYPE_CHECKING:  # Flower is imported by the apps that call these
    from flwr.app import Context

OUT_DIR, MIN_NODES = "out-dir", "min-nodes"


def run_config(context: Context, defaults: Mapping[str, str], config_key: str, section: str) -> Config:
    """The run's synth config (path under ``config_key``) whose ``section``.min_nodes is at least the
    run config's ``min-nodes``: a simulation knows all its nodes will join, and must not start
    round 1 before they have."""
    config = load_config(run_setting(context.run_config, defaults, config_key))
    expected = int(run_setting(context.run_config, defaults, MIN_NODES, "0"))
    settings = require(getattr(config, section), section)
    if expected <= settings.min_nodes:
        return config
    return config.model_copy(update={section: settings.model_copy(update={"min_nodes": expected})})


def run_setting(run_config: Mapping, defaults: Mapping[str, str], key: str, fallback: str | None = None) -> str:
    """A run-config value, else its stand-in from ``defaults``, else ``fallback``; ConfigError when none."""
    value = run_config.get(key) or defaults.get(key) or fallback
    if not value:
        raise ConfigError(f"the run config needs {key!r}")
    return str(value)
