"""``synth finetune``: continue a trained generator toward what one sensor profile outputs.

For each profile (e.g. LSM6DSL at +-2, +-4 and +-6 g) the real target-domain windows are seen
through the profile (clip and quantisation in NumPy, synth.core.transforms.apply_profile) and the
generator keeps training against them with the WGAN-GP loss plus classifier_weight x the
cross-entropy of a frozen activity classifier on its generated windows of the requested class
(synth.models.finetune_gan). A fresh critic is first trained alone for
``critic_warmup_steps`` so that the generator's first updates follow a critic that already
knows the target domain.

Before/after figures per class, for the base and the fine-tuned generator alike:
- the classifier's accuracy: generated windows (through the profile) recognised as their
  requested class;
- the critic's distance: a fresh evaluation critic, the same for both (same seed, same data
  order, ``evaluation_critic_steps`` updates), trained to tell the profile's real windows from
  the generator's; the mean score gap real - generated estimates the Wasserstein distance
  (lower is closer).

Each profile's output folder (``run_dir/<profile>``, written atomically) holds generator/,
finetune.json (before/after, seed, data hash, config), losses.csv, before_after.png and one
samples_<class>.png per class.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from synth.classify.classifiers import restrict_classes
from synth.core.atomic import build_directory, check_directory_target, write_json
from synth.core.config import Config, FinetuneConfig, require
from synth.core.errors import DataError
from synth.core.plots import plot_before_after, plot_real_vs_generated, spread_examples
from synth.core.profiles import load_profile
from synth.core.runs import hash_arrays
from synth.core.transforms import apply_profile, random_orientations
from synth.core.windows import Windows, concat
from synth.data.csv_capture import capture_files
from synth.data.loading import load_windows, resolve_path
from synth.data.target import CaptureSettings, TargetSelection, check_captures, read_capture_settings, select_recordings
from synth.models.artifact import build_from_info, load_generator, save_generator
from synth.models.checkpoint import build_optimizers
from synth.models.sampling import sample_windows

log = logging.getLogger(__name__)

REPORT_FILE = "finetune.json"
FIGURE_FILE = "before_after.png"
LOSSES_FILE = "losses.csv"
GENERATOR_DIR = "generator"


@dataclass(frozen=True)
class FinetuneInputs:
    """Everything one fine-tuning run shares across profiles.

    generator_path: the base generator folder; base: that generator (Keras); info: its
    GeneratorInfo; feedback: the frozen
    ClassifierFeedback; classes: the fine-tuned generator's classes (the target's, less those
    neither the source nor the target recordings hold); donors: (K,) the base generator's class
    each starts from (synth.models.class_transfer); targets: (K,) the classifier's output index
    per class; real: the chosen target recordings' windows in g, in ``classes``' order (empty
    with K = 0); target: the TargetSelection (recordings used and held out); captures: the
    rate and sensor of each capture of a csv target (checked against each profile). ``real``
    holds the finetune.rotated_copies turned copies too. relearn_orientation: the offset head
    starts afresh (finetune.relearn_orientation, with target windows only); seed: the run's.
    """

    generator_path: Path
    base: object
    info: object
    feedback: object
    classes: tuple[str, ...]
    donors: tuple[int, ...]
    targets: np.ndarray
    real: Windows
    target: TargetSelection
    captures: tuple[CaptureSettings, ...] = ()
    relearn_orientation: bool = False
    seed: int = 0

    @property
    def generator_info(self):
        """The fine-tuned generator's GeneratorInfo before training: the base's, with ``classes``."""
        return replace(self.info, classes=self.classes)

    @property
    def learned_from_target_only(self) -> list[str]:
        """Classes the base generator lacks: the target recordings alone teach them."""
        return [c for c in self.classes if c not in self.info.classes]

    @property
    def left_out(self) -> list[str]:
        """Target classes the fine-tuned generator lacks (not in the source, no target recording)."""
        return [c for c in self.target.windows.classes if c not in self.classes]


def run_finetune(config: Config, base_dir: Path = Path("."), profiles: list[str] | None = None,
                 force: bool = False, verbose: int = 0) -> list[Path]:
    """Fine-tune per ``config`` for each profile (default: finetune.profiles); returns the output folders."""
    settings: FinetuneConfig = require(config.finetune, "finetune")
    names = profiles or settings.profiles
    for name in names:
        load_profile(name)  # a bad profile name fails before any model or data is loaded
    outputs = [Path(settings.run_dir) / name for name in names]
    for out in outputs:
        check_directory_target(out, force)
    inputs = load_inputs(config, base_dir)
    chosen = [load_profile(name, odr_hz=inputs.info.rate_hz) for name in names]
    for profile in chosen:  # every profile before the first run, so a refusal leaves nothing behind
        check_target_captures(inputs, profile)
    for name, profile, out in zip(names, chosen, outputs):
        finetune_profile(config, inputs, profile, out, force, verbose)
        log.info("fine-tuned generator for %s written to %s", name, out)
    return outputs


def load_inputs(config: Config, base_dir: Path) -> FinetuneInputs:
    """Load and cross-check the base generator, the classifier and the target recordings."""
    from synth.models.class_transfer import choose_donors
    from synth.classify.feedback import load_feedback
    from synth.models.zoo import get_class_scales

    settings = config.finetune
    data_config = require(config.data, "data")
    path = Path(settings.generator) if Path(settings.generator).is_absolute() else Path(base_dir) / settings.generator
    base, info = load_generator(path)
    feedback = load_feedback(settings.classifier, base_dir, settings.classifier_classes)
    feedback.check_windows(info.window, info.rate_hz)
    windows = load_windows(data_config, info.rate_hz, base_dir)
    if windows.length != info.window:
        raise DataError(f"the data has {windows.length}-sample windows but the generator makes {info.window}: set data.window to {info.window}")
    target = select_recordings(windows.to_units("g"), data_config.test_groups, settings.recordings_per_class,
                               settings.recordings, config.seed)
    classes = generator_classes(info.classes, target)
    real = with_rotated_copies(restrict_classes(target.windows, classes)[0], settings.rotated_copies, config.seed)
    donors = choose_donors(info.classes, get_class_scales(base), real)
    files = capture_files(resolve_path(data_config, base_dir)) if data_config.source == "csv" else []
    return FinetuneInputs(path, base, info, feedback, classes, tuple(donors), feedback.target_indices(classes), real,
                          target, read_capture_settings(files), settings.relearn_orientation and len(real) > 0,
                          config.seed)


def generator_classes(source: tuple[str, ...], target: TargetSelection) -> tuple[str, ...]:
    """The fine-tuned generator's classes: the target's, in its order, less classes that neither
    the source nor a chosen target recording holds; DataError when the source has a class the
    target lacks (the two class sets must be mapped onto each other first)."""
    target_classes = target.windows.classes
    extra = [c for c in source if c not in target_classes]
    if extra:
        raise DataError(f"the base generator's classes ({', '.join(source)}) and the target data's "
                        f"({', '.join(target_classes)}) differ: the target has no {', '.join(extra)}; "
                        "map the target's labels with data.classes or train the source without them")
    taught = {c for c, names in target.recordings.items() if names}
    kept = tuple(c for c in target_classes if c in source or c in taught)
    if not kept:
        raise DataError(f"no class to fine-tune: the source has {', '.join(source)}, the chosen target recordings none")
    return kept


def with_rotated_copies(windows: Windows, copies: int, seed: int) -> Windows:
    """``windows`` followed by ``copies`` copies of them, each window turned by its own random
    rotation (synth.core.transforms.random_orientations; groups and labels kept)."""
    rng = np.random.default_rng([seed, 15])
    turned = [replace(windows, x=random_orientations(windows.x, rng)) for _ in range(copies)]
    return concat([windows, *turned]) if len(windows) else windows


def check_target_captures(inputs: FinetuneInputs, profile) -> None:
    """A csv target's captures must be at the profile's rate and full scale (synth.data.target)."""
    check_captures(inputs.captures, profile.odr_hz, profile.full_scale_g, profile.name)


def finetune_profile(config: Config, inputs: FinetuneInputs, profile, out: Path, force: bool, verbose: int) -> None:
    """Fine-tune a fresh start generator (start_generator) for ``profile`` and write ``out`` atomically."""
    real = replace(inputs.real, x=apply_profile(inputs.real.x, profile)[0])
    data_hash = hash_arrays(real.x, real.y, extra=json.dumps(real.classes) + profile.name)
    with build_directory(out, force=force) as staging:
        log.info("%s: measuring the start generator", profile.name)
        before = measure(config, inputs, profile, real, start_generator(inputs))
        log.info("%s: %d fine-tuning steps on %d target windows", profile.name, config.train.steps, len(real))
        generator = train_generator(config, inputs, profile, real, staging / LOSSES_FILE, verbose)
        after = measure(config, inputs, profile, real, generator)
        log.info("%s: classifier accuracy %.3f -> %.3f", profile.name, before["accuracy"], after["accuracy"])
        report = _report(config, inputs, profile, data_hash, before, after)
        _save_generator(staging / GENERATOR_DIR, generator, inputs, profile, config, data_hash)
        write_json(staging / REPORT_FILE, report)
        _figures(staging, report, real, generator, inputs, profile, config.seed)


def start_generator(inputs: FinetuneInputs):
    """The base generator carried over to ``inputs.classes`` (synth.models.class_transfer), with
    the motion scales of the target recordings for every class they hold."""
    import keras

    from synth.models.class_transfer import ORIENTATION_LAYERS, transfer_generator
    from synth.models.zoo import class_scales, get_class_scales

    scales = get_class_scales(inputs.base)[list(inputs.donors)]
    present = np.bincount(inputs.real.y, minlength=len(inputs.classes)) > 0
    measured = class_scales(inputs.real.x, inputs.real.y, len(inputs.classes))
    scales[present] = measured[present]
    keras.utils.set_random_seed(inputs.seed)  # a fresh offset head starts the same in every call
    fresh = ORIENTATION_LAYERS if inputs.relearn_orientation else ()
    return transfer_generator(inputs.base, build_from_info(inputs.generator_info), inputs.info.noise_dim, inputs.donors,
                              scales, fresh)


def build_model(config: Config, inputs: FinetuneInputs, profile, generator, classifier_weight: float,
                anchor=None):
    """A compiled FeedbackWGANGP around ``generator`` with a fresh critic seeded by config.seed;
    with an ``anchor`` generator (K = 0), an AnchoredFeedback that has no critic updates."""
    from synth.models.finetune_gan import AnchoredFeedback, FeedbackWGANGP
    from synth.models.training import adam, enable_determinism
    from synth.models.zoo import build_critic, get_class_scales

    enable_determinism(config.seed)
    t = config.train
    critic = build_critic(inputs.info.window, len(inputs.classes), config.model.critic_filters)
    common = dict(n_critic=t.n_critic, gp_weight=t.gp_weight, seed=config.seed, statistics_weight=t.statistics_weight)
    args = (generator, critic, inputs.info.noise_dim, profile, inputs.feedback, inputs.targets,
            get_class_scales(generator), classifier_weight)
    if anchor is None:
        model = FeedbackWGANGP(*args, **common)
    else:
        model = AnchoredFeedback(*args, anchor=anchor, anchor_weight=config.finetune.anchor_weight,
                                 gravity_weight=config.finetune.gravity_weight, **common)
    model.compile(adam(t), adam(t), jit_compile=True, steps_per_execution=min(t.steps_per_epoch, 50))
    build_optimizers(model)
    return model


def train_generator(config: Config, inputs: FinetuneInputs, profile, real: Windows, losses: Path, verbose: int):
    """The start generator after config.train.steps fine-tuning steps: against a critic that
    first trains alone for critic_warmup_steps on the target windows, or, without target
    windows (K = 0), anchored to the start generator's own windows."""
    import keras

    from synth.models.critic_fit import fit_critic
    from synth.models.progress import StepProgress
    from synth.models.training import make_dataset, make_label_dataset
    from synth.models.zoo import get_class_scales

    settings, t = config.finetune, config.train
    generator = start_generator(inputs)
    epochs = -(-t.steps // t.steps_per_epoch)
    logger = keras.callbacks.CSVLogger(str(losses))
    if len(real) == 0:
        model = build_model(config, inputs, profile, generator, settings.classifier_weight, anchor=start_generator(inputs))
        stream = make_label_dataset(len(inputs.classes), t.batch_size, config.seed)
    else:
        model = build_model(config, inputs, profile, generator, settings.classifier_weight)
        stream = make_dataset(real, get_class_scales(model.generator), t.batch_size * t.n_critic, config.seed)
        fit_critic(model, stream.take(settings.critic_warmup_steps))
        stream = stream.skip(settings.critic_warmup_steps)
    progress = [StepProgress(t.steps, 0, f"fine-tuning to {profile.name}")] if verbose else []
    model.fit(stream, epochs=epochs, steps_per_epoch=t.steps_per_epoch, callbacks=[logger, *progress], verbose=0, shuffle=False)
    return model.generator


def measure(config: Config, inputs: FinetuneInputs, profile, real: Windows, generator) -> dict:
    """{class: {"accuracy", "critic_distance"}} and overall figures of ``generator`` through ``profile``.

    The critic distance needs target windows: it is None for a class without any (K = 0, or a
    class the chosen recordings lack).
    """
    settings = config.finetune
    distances = _critic_distances(config, inputs, profile, real, generator)
    labels, windows = generated_through_profile(generator, inputs.generator_info, profile, settings.evaluation_windows, config.seed)
    hits = inputs.feedback.predict_indices(windows) == inputs.targets[labels]
    per_class = {name: {"accuracy": float(hits[labels == k].mean()), "critic_distance": distances[k]}
                 for k, name in enumerate(inputs.classes)}
    known = [d for d in distances if d is not None]
    return {"per_class": per_class, "accuracy": float(hits.mean()),
            "critic_distance": float(np.mean(known)) if known else None}


def _critic_distances(config: Config, inputs: FinetuneInputs, profile, real: Windows, generator) -> list:
    """Per class, the gap of a fresh evaluation critic trained on ``real`` (None where no window)."""
    from synth.models.critic_fit import critic_distance_per_class, fit_critic
    from synth.models.training import make_dataset
    from synth.models.zoo import get_class_scales

    if len(real) == 0:
        return [None] * len(inputs.classes)
    settings, t = config.finetune, config.train
    model = build_model(config, inputs, profile, generator, 0.0)
    stream = make_dataset(real, get_class_scales(generator), t.batch_size * t.n_critic, config.seed + 1)
    fit_critic(model, stream.take(settings.evaluation_critic_steps))
    distances = critic_distance_per_class(model, real, get_class_scales(generator))
    return [None if np.isnan(d) else d for d in distances]


def generated_through_profile(generator, info, profile, per_class: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(labels (N,), windows (N, T, 3) g as the sensor outputs them), ``per_class`` of every class."""
    labels = np.repeat(np.arange(len(info.classes)), per_class)
    windows = sample_windows(generator, labels, info.noise_dim, len(info.classes), seed=seed + 2)
    return labels, apply_profile(windows, profile)[0]


def target_card(inputs: FinetuneInputs) -> dict:
    """What the run learned from the target: recordings used per class, held out, classes
    learned from the target alone and target classes left out."""
    return {
        "recordings_per_class": inputs.target.per_class,
        "recordings": inputs.target.recordings,
        "held_out": inputs.target.held_out,
        "source_classes": list(inputs.info.classes),
        "learned_from_target_only": inputs.learned_from_target_only,
        "left_out": inputs.left_out,
        "donors": {c: inputs.info.classes[d] for c, d in zip(inputs.classes, inputs.donors) if c not in inputs.info.classes},
    }


def _report(config: Config, inputs: FinetuneInputs, profile, data_hash: str, before: dict, after: dict) -> dict:
    """finetune.json: what was done, with what, and the before/after figures."""
    return {
        "profile": profile.card(),
        "base_generator": {"path": str(inputs.generator_path), "weights_sha256": inputs.info.weights_sha256,
                           "classes": list(inputs.info.classes)},
        "classifier": {"name": inputs.feedback.name, "classes": list(inputs.feedback.classes),
                       "window": inputs.feedback.window},
        "seed": config.seed,
        "data_hash": data_hash,
        "target": target_card(inputs),
        "real_windows": inputs.real.class_counts(),
        "before": before,
        "after": after,
        "config": config.model_dump(mode="json"),
    }


def _save_generator(folder: Path, generator, inputs: FinetuneInputs, profile, config: Config, data_hash: str) -> None:
    provenance = {"config": config.model_dump(mode="json"), "fine_tuned_from": inputs.info.weights_sha256,
                  "classifier": inputs.feedback.name, "steps": config.train.steps, "target": target_card(inputs)}
    info = replace(inputs.generator_info, profile=profile.name, seed=config.seed, data_hash=data_hash,
                   provenance=provenance, weights_sha256="")
    save_generator(folder, generator, info)


def _figures(folder: Path, report: dict, real: Windows, generator, inputs: FinetuneInputs, profile, seed: int) -> None:
    """before_after.png and one samples_<class>.png of real (when there are any) vs fine-tuned windows per class."""
    plot_before_after(report["before"]["per_class"], report["after"]["per_class"], inputs.feedback.name,
                      f"fine-tuning for {profile.name}", folder / FIGURE_FILE)
    labels, windows = generated_through_profile(generator, inputs.generator_info, profile, 8, seed)
    for k, name in enumerate(inputs.classes):
        examples = real.x[real.y == k]
        plot_real_vs_generated(spread_examples(examples) if len(examples) else windows[labels == k][:0],
                               windows[labels == k], f"{name} through {profile.name}: real vs fine-tuned",
                               real.rate_hz, folder / f"samples_{name}.png")
