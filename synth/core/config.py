"""Typed run configuration loaded from JSON.

One file can hold every section; each command reads the sections it needs. Unknown keys and
wrong types are all reported at once, in one line, with the allowed keys or values.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from synth.core.errors import ConfigError
from synth.core.limits import SEED_MAX


class _Strict(BaseModel):
    """Base of every section: unknown keys are errors, values are not coerced across types."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class DataConfig(_Strict):
    """Where the real windows come from and how they are cut.

    ``classes`` maps each output class name to the source labels it gathers (PAMAP2 activity
    IDs, ST label names or integers, capture labels); None keeps the source's own classes.
    """

    source: Literal["st_har", "pamap2", "st_mobility", "csv", "hapt"]
    path: str
    window: int = Field(24, ge=4, le=4096)
    stride: Optional[int] = Field(None, ge=1)
    classes: Optional[dict[str, list[int | str]]] = None
    test_groups: list[str] = []
    imu: Literal["hand", "chest", "ankle"] = "ankle"
    accelerometer: Literal["16g", "6g"] = "16g"
    max_gap_s: float = Field(0.1, ge=0.0)


class ModelConfig(_Strict):
    """Sizes of the conditional WGAN-GP: the generator's widest hidden layer, the critic's filters."""

    noise_dim: int = Field(32, ge=1, le=1024)
    generator_units: int = Field(224, ge=8, le=4096)
    critic_filters: int = Field(32, ge=4, le=1024)


class TrainConfig(_Strict):
    """WGAN-GP optimisation (defaults follow Gulrajani et al. 2017)."""

    steps: int = Field(2000, ge=1)
    batch_size: int = Field(64, ge=2, le=65536)
    n_critic: int = Field(5, ge=1, le=100)
    gp_weight: float = Field(10.0, ge=0.0)
    learning_rate: float = Field(1e-4, gt=0.0)
    beta_1: float = Field(0.0, ge=0.0, lt=1.0)
    beta_2: float = Field(0.9, ge=0.0, lt=1.0)
    # weight of the per-window statistics distance in the generator's loss (synth.models.window_statistics)
    statistics_weight: float = Field(0.0, ge=0.0)
    checkpoint_every: int = Field(500, ge=1)
    steps_per_epoch: int = Field(100, ge=1)
    run_dir: str = "runs/train"


class GenerateConfig(_Strict):
    """What ``synth generate`` makes: counts, profile and output formats.

    Either ``windows_per_class`` or ``total`` (split by ``class_ratios``, equal by default).
    ``classes`` restricts generation to some of the generator's classes. ``filter`` names an
    autoencoder folder (``synth train-autoencoder``) whose realism filter drops generated windows.
    """

    generator: str
    profile: str = "lsm6dsl_4g"
    windows_per_class: Optional[int] = Field(None, ge=1)
    total: Optional[int] = Field(None, ge=1)
    class_ratios: Optional[dict[str, float]] = None
    classes: Optional[list[str]] = None
    batch_size: int = Field(8192, ge=1)
    add_noise: bool = False
    add_offset: bool = False
    csv: bool = True
    filter: Optional[str] = None


class ClassifierConfig(_Strict):
    """``synth train-classifier``: an ST-compatible activity classifier (IGN or GMP, ST's model zoo).

    The window length comes from the data section; classes are weighted equally in the loss.
    """

    architecture: Literal["ign", "gmp"] = "ign"
    epochs: int = Field(30, ge=1, le=10000)
    batch_size: int = Field(64, ge=1, le=65536)
    learning_rate: float = Field(1e-3, gt=0.0)
    dropout: float = Field(0.5, ge=0.0, lt=1.0)
    run_dir: str = "runs/classifier"


class AutoencoderConfig(_Strict):
    """``synth train-autoencoder``: the realism filter's window autoencoder.

    The window length comes from the data section; data.test_groups are the held-out recordings
    on which the threshold mean + k x std of the reconstruction error is set.
    """

    filters: int = Field(16, ge=1, le=1024)
    latent: int = Field(32, ge=1, le=4096)
    epochs: int = Field(60, ge=1, le=10000)
    batch_size: int = Field(64, ge=1, le=65536)
    learning_rate: float = Field(1e-3, gt=0.0)
    k: float = Field(3.0, gt=0.0)
    run_dir: str = "runs/autoencoder"


class FinetuneConfig(_Strict):
    """``synth finetune``: continue a trained generator toward a sensor profile's output.

    The data section names the target-domain recordings (seen through each profile), the train
    section the WGAN-GP optimisation (steps, batch, n_critic, learning rate). ``classifier`` is
    the frozen judge: "st_bsd3" (ST's example model), a ``synth train-classifier`` folder or an
    ST model-zoo .h5/.keras file whose output order ``classifier_classes`` gives.

    Target recordings (see synth.data.target): ``recordings_per_class`` K of each class, drawn
    with the seed from the data's recordings that are not in data.test_groups (0: none, the
    classifier's feedback only; null: all of them), or ``recordings`` names them. With K = 0,
    ``anchor_weight`` x the mean squared distance to the base generator's windows (same noise,
    critic representation) keeps the generator realistic where no critic can, and
    ``gravity_weight`` x the squared deviation of each window's mean from 1 g (in 0.05 g units)
    holds it to the one fact every accelerometer window obeys.
    ``rotated_copies`` adds that many copies of every target window, each turned by a uniformly
    random rotation: a few recordings show a few ways of wearing the board, users wear it in many.
    ``relearn_orientation`` starts the offset head (where gravity lies) afresh instead of from
    the source's, whose sensor was worn another way (only with target recordings).
    """

    generator: str
    profiles: list[str] = Field(["lsm6dsl_4g"], min_length=1)
    recordings_per_class: Optional[int] = Field(None, ge=0)
    recordings: Optional[list[str]] = Field(None, min_length=1)
    anchor_weight: float = Field(1.0, ge=0.0)
    gravity_weight: float = Field(1.0, ge=0.0)
    rotated_copies: int = Field(0, ge=0, le=100)
    relearn_orientation: bool = False
    classifier: str = "st_bsd3"
    classifier_classes: Optional[list[str]] = None
    classifier_weight: float = Field(1.0, ge=0.0)
    critic_warmup_steps: int = Field(500, ge=0)
    evaluation_critic_steps: int = Field(1000, ge=1)
    evaluation_windows: int = Field(1000, ge=1)
    run_dir: str = "runs/finetune"


class _Aggregation(_Strict):
    """How a federation aggregates its nodes' models (synth.federated.aggregate): ``aggregation``
    "fedavg", or a rule robust to bad nodes with its ``trim_fraction`` (trimmed_mean) and the
    ``malicious_nodes`` it must withstand (krum, multikrum, bulyan)."""

    aggregation: Literal["fedavg", "median", "trimmed_mean", "krum", "multikrum", "bulyan"] = "fedavg"
    trim_fraction: float = Field(0.2, ge=0.0, lt=0.5)
    malicious_nodes: int = Field(0, ge=0, le=1000)


class ShareConfig(_Aggregation):
    """``synth share``: GAN-sharing across nodes that each hold part of the data (see synth.share).

    Every node trains its own conditional WGAN-GP (sections model and train) and an activity
    classifier (section classifier, ``classifier_epochs`` per round) and shares only generator
    weights. ``mode``: "relay" (each node receives the others' generators), "fedavg" (each node
    receives their window-weighted average), "classifier_fedavg" (no GANs: FedAvg of the
    classifiers, the usual federated baseline) or "local" (nothing is shared); the fedavg modes
    aggregate with ``aggregation`` (synth.federated.aggregate: "fedavg" or a rule robust to bad
    nodes, with ``trim_fraction`` and ``malicious_nodes``). ``split`` says how
    a simulation deals the data's training recordings to nodes; ``node_classes`` (one list per
    node) pins the classes each simulated node holds instead.
    """

    nodes: int = Field(3, ge=2, le=1000)
    rounds: int = Field(5, ge=1, le=10000)
    mode: Literal["relay", "fedavg", "classifier_fedavg", "local"] = "relay"
    split: Literal["by_recording", "by_class", "one_class"] = "by_recording"
    node_classes: Optional[list[list[str]]] = None
    gan_epochs_per_round: int = Field(1, ge=0, le=10000)
    generated_per_class: int = Field(400, ge=1, le=10_000_000)
    classifier_epochs: int = Field(5, ge=1, le=10000)
    wire_dtype: Literal["float32", "float16", "int8"] = "float32"
    max_weight_norm: float = Field(1000.0, gt=0.0)  # trained generators of this architecture: about 20-25
    min_nodes: int = Field(2, ge=1)
    round_timeout_s: float = Field(3600.0, gt=0.0)
    run_dir: str = "runs/share"


class AnomalyConfig(_Aggregation):
    """``synth anomaly``: autoencoder anomaly detection, centralised, local-only or federated.

    ``source``: "windows" (the data section's accelerometer windows, with ``faults`` injected
    into the test recordings' windows), "csv" (``path``; ``label_column`` optional), "shuttle"
    (river's copy unless ``path``), "nbaiot" (a folder, ``devices`` optional) or "edge_iiotset"
    (a file). Normal rows are split ``validation_fraction`` (threshold rows) and
    ``test_fraction`` (test rows, with every anomalous row) by a seeded shuffle (windows: by
    recording). ``hidden``: the dense encoder widths (default: FedIoT's 86-58-38-29 for 115
    features, scaled to the width otherwise). Federated: ``nodes`` split by ``split`` ("by_group":
    one node per device or recording group; "iid"; "non_iid": unequal slices of the normal rows
    ordered along their first principal component), FedAvg over ``rounds`` of ``local_epochs``
    (or the robust ``aggregation`` rule of synth.federated.aggregate, whose threshold is then the
    median over nodes of each node's mean + k x std, and whose fault rule pools the nodes' histograms
    without the extreme ones: synth.anomaly.fault_rule.trimmed_rule).
    ``vocabulary`` pins Edge-IIoTset's one-hot categories per column, so that every node of a
    deployed federation encodes the same columns (default: the categories of the loaded rows).
    Windows are flagged by a fault rule (synth.anomaly.fault_rule): per motion level, each fault
    statistic's (1 - ``statistic_tail``) quantile on held-out normal windows, extended by
    ``threshold_margin`` x its distance from the median.
    """

    source: Literal["windows", "csv", "shuttle", "nbaiot", "edge_iiotset"] = "windows"
    path: Optional[str] = None
    label_column: Optional[str] = None
    devices: Optional[list[str]] = None
    max_rows_per_file: Optional[int] = Field(None, ge=1)
    vocabulary: Optional[dict[str, list[str]]] = None
    faults: Optional[list[str]] = None
    fault_params: dict[str, dict[str, float]] = {}
    hidden: Optional[list[int]] = Field(None, min_length=1)
    filters: int = Field(16, ge=1, le=1024)
    latent: int = Field(32, ge=1, le=4096)
    epochs: int = Field(20, ge=1, le=10000)
    batch_size: int = Field(64, ge=1, le=65536)
    learning_rate: float = Field(1e-3, gt=0.0)
    k: float = Field(3.0, gt=0.0)
    statistic_tail: float = Field(0.004, gt=0.0, lt=0.5)
    threshold_margin: float = Field(0.5, ge=0.0, le=100.0)
    validation_fraction: float = Field(0.2, gt=0.0, lt=1.0)
    test_fraction: float = Field(0.2, gt=0.0, lt=1.0)
    nodes: int = Field(3, ge=2, le=1000)
    split: Literal["by_group", "iid", "non_iid"] = "iid"
    non_iid_alpha: float = Field(0.5, gt=0.0)
    rounds: int = Field(10, ge=1, le=10000)
    local_epochs: int = Field(2, ge=1, le=10000)
    wire_dtype: Literal["float32", "float16", "int8"] = "float32"
    max_weight_norm: float = Field(1000.0, gt=0.0)
    min_nodes: int = Field(2, ge=1)
    round_timeout_s: float = Field(3600.0, gt=0.0)
    run_dir: str = "runs/anomaly"


class Config(_Strict):
    """A whole configuration file."""

    seed: int = Field(0, ge=0, le=SEED_MAX)
    profile: str = "lsm6dsl_4g"
    data: Optional[DataConfig] = None
    model: ModelConfig = ModelConfig()
    train: TrainConfig = TrainConfig()
    generate: Optional[GenerateConfig] = None
    classifier: Optional[ClassifierConfig] = None
    autoencoder: Optional[AutoencoderConfig] = None
    finetune: Optional[FinetuneConfig] = None
    share: Optional[ShareConfig] = None
    anomaly: Optional[AnomalyConfig] = None


def load_config(path: str | Path) -> Config:
    """Read and validate a JSON config; raise ConfigError naming every problem at once."""
    path = Path(path)
    try:
        raw = json.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config {path}: {exc}") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    return parse_config(raw, source=str(path))


def parse_config(raw: object, source: str = "config") -> Config:
    """Validate an already-parsed JSON value into a Config."""
    try:
        return Config.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(f"{source}: " + "; ".join(_describe(err) for err in exc.errors())) from None


def require(section: object, name: str, source: str = "config") -> object:
    """Return a config section that a command needs, or raise ConfigError naming it."""
    if section is None:
        raise ConfigError(f"{source}: the '{name}' section is required for this command")
    return section


def _describe(err: dict) -> str:
    """One short phrase for one pydantic error, with the allowed keys for unknown ones."""
    where = ".".join(str(part) for part in err["loc"]) or "(top level)"
    if err["type"] == "extra_forbidden":
        allowed = ", ".join(_allowed_keys(err["loc"][:-1]))
        return f"unknown key '{where}' (allowed: {allowed})"
    if err["type"] == "missing":
        return f"missing key '{where}'"
    return f"'{where}': {err['msg']}"


def _allowed_keys(parent: tuple) -> list[str]:
    """Field names of the config section at ``parent`` (a pydantic error location)."""
    model: type[BaseModel] = Config
    for part in parent:
        field = model.model_fields.get(str(part))
        annotation = getattr(field, "annotation", None)
        inner = [a for a in getattr(annotation, "__args__", (annotation,)) if isinstance(a, type)]
        nested = [a for a in inner if issubclass(a, BaseModel)]
        if not nested:
            break
        model = nested[0]
    return sorted(model.model_fields)
