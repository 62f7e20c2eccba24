"""``synth finetune``: continue a trained generator toward what one sensor profile outputs.

For each profile (e.g. LSM6DSL at +-2, +-4 and +-6 g) the real target-domain windows are seen
through the profile (clip and quantisation in NumPy, synth.transforms.apply_profile) and the
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

from synth.atomic import build_directory, check_directory_target, write_json
from synth.config import Config, FinetuneConfig, require
from synth.errors import DataError
from synth.runs import hash_arrays
from synth.windows import Windows

log = logging.getLogger(__name__)

REPORT_FILE = "finetune.json"
FIGURE_FILE = "before_after.png"
LOSSES_FILE = "losses.csv"
GENERATOR_DIR = "generator"


@dataclass(frozen=True)
class FinetuneInputs:
    """Everything one fine-tuning run shares across profiles.

    generator_path: the base generator folder; info: its GeneratorInfo; feedback: the frozen
    ClassifierFeedback; targets: (K,) its output index per generator class; real: the
    target-domain train windows in g, classes in the generator's order.
    """

    generator_path: Path
    info: object
    feedback: object
    targets: np.ndarray
    real: Windows


def run_finetune(config: Config, base_dir: Path = Path("."), profiles: list[str] | None = None,
                 force: bool = False, verbose: int = 0) -> list[Path]:
    """Fine-tune per ``config`` for each profile (default: finetune.profiles); returns the output folders."""
    from synth.profiles import load_profile

    settings: FinetuneConfig = require(config.finetune, "finetune")
    names = profiles or settings.profiles
    for name in names:
        load_profile(name)  # a bad profile name fails before any model or data is loaded
    outputs = [Path(settings.run_dir) / name for name in names]
    for out in outputs:
        check_directory_target(out, force)
    inputs = load_inputs(config, base_dir)
    for name, out in zip(names, outputs):
        profile = load_profile(name, odr_hz=inputs.info.rate_hz)
        finetune_profile(config, inputs, profile, out, force, verbose)
        log.info("fine-tuned generator for %s written to %s", name, out)
    return outputs


def load_inputs(config: Config, base_dir: Path) -> FinetuneInputs:
    """Load and cross-check the base generator, the classifier and the target-domain data."""
    from synth.data.loading import load_windows
    from synth.models.artifact import load_generator
    from synth.models.feedback import load_feedback

    settings = config.finetune
    data_config = require(config.data, "data")
    path = Path(settings.generator) if Path(settings.generator).is_absolute() else Path(base_dir) / settings.generator
    _, info = load_generator(path)
    feedback = load_feedback(settings.classifier, base_dir, settings.classifier_classes)
    feedback.check_windows(info.window, info.rate_hz)
    targets = feedback.target_indices(info.classes)
    windows = load_windows(data_config, info.rate_hz, base_dir)
    train, _ = windows.split_by_group(data_config.test_groups)
    return FinetuneInputs(path, info, feedback, targets, in_generator_classes(train.to_units("g"), info))


def in_generator_classes(windows: Windows, info) -> Windows:
    """Real windows re-indexed into the generator's classes; DataError when they do not match it."""
    from synth.evaluate import restrict_classes

    if windows.length != info.window:
        raise DataError(f"the data has {windows.length}-sample windows but the generator makes {info.window}: set data.window to {info.window}")
    kept, _ = restrict_classes(windows, tuple(info.classes))
    missing = [c for k, c in enumerate(info.classes) if not (kept.y == k).any()]
    if missing:
        raise DataError(f"the data has no windows of the generator's classes {', '.join(missing)} "
                        f"(data classes: {', '.join(windows.classes)})")
    return kept


def finetune_profile(config: Config, inputs: FinetuneInputs, profile, out: Path, force: bool, verbose: int) -> None:
    """Fine-tune a fresh copy of the base generator for ``profile`` and write ``out`` atomically."""
    from synth.transforms import apply_profile

    real = replace(inputs.real, x=apply_profile(inputs.real.x, profile)[0])
    data_hash = hash_arrays(real.x, real.y, extra=json.dumps(real.classes) + profile.name)
    with build_directory(out, force=force) as staging:
        log.info("%s: measuring the base generator", profile.name)
        before = measure(config, inputs, profile, real, _load_base(inputs))
        log.info("%s: critic warm-up, then %d fine-tuning steps", profile.name, config.train.steps)
        generator = train_generator(config, inputs, profile, real, staging / LOSSES_FILE, verbose)
        after = measure(config, inputs, profile, real, generator)
        log.info("%s: classifier accuracy %.3f -> %.3f, critic distance %.3f -> %.3f", profile.name,
                 before["accuracy"], after["accuracy"], before["critic_distance"], after["critic_distance"])
        report = _report(config, inputs, profile, data_hash, before, after)
        _save_generator(staging / GENERATOR_DIR, generator, inputs, profile, config, data_hash)
        write_json(staging / REPORT_FILE, report)
        _figures(staging, report, real, generator, inputs, profile, config.seed)


def _load_base(inputs: FinetuneInputs):
    from synth.models.artifact import load_generator

    return load_generator(inputs.generator_path)[0]


def build_model(config: Config, inputs: FinetuneInputs, profile, generator, classifier_weight: float):
    """A compiled FeedbackWGANGP around ``generator`` with a fresh critic seeded by config.seed."""
    from synth.models.checkpoint import build_optimizers
    from synth.models.finetune_gan import FeedbackWGANGP
    from synth.models.training import adam, enable_determinism
    from synth.models.zoo import build_critic, get_class_scales

    enable_determinism(config.seed)
    t = config.train
    critic = build_critic(inputs.info.window, len(inputs.info.classes), config.model.critic_filters)
    model = FeedbackWGANGP(generator, critic, inputs.info.noise_dim, profile, inputs.feedback, inputs.targets,
                           get_class_scales(generator), classifier_weight, n_critic=t.n_critic, gp_weight=t.gp_weight,
                           seed=config.seed)
    model.compile(adam(t), adam(t), jit_compile=True, steps_per_execution=min(t.steps_per_epoch, 50))
    build_optimizers(model)
    return model


def train_generator(config: Config, inputs: FinetuneInputs, profile, real: Windows, losses: Path, verbose: int):
    """The base generator after critic warm-up and config.train.steps fine-tuning steps."""
    import keras

    from synth.models.critic_fit import fit_critic
    from synth.models.training import make_dataset
    from synth.models.zoo import get_class_scales

    settings, t = config.finetune, config.train
    model = build_model(config, inputs, profile, _load_base(inputs), settings.classifier_weight)
    stream = make_dataset(real, get_class_scales(model.generator), t.batch_size * t.n_critic, config.seed)
    fit_critic(model, stream.take(settings.critic_warmup_steps))
    epochs = -(-t.steps // t.steps_per_epoch)
    model.fit(stream.skip(settings.critic_warmup_steps), epochs=epochs, steps_per_epoch=t.steps_per_epoch,
              callbacks=[keras.callbacks.CSVLogger(str(losses))], verbose=verbose, shuffle=False)
    return model.generator


def measure(config: Config, inputs: FinetuneInputs, profile, real: Windows, generator) -> dict:
    """{class: {"accuracy", "critic_distance"}} and "overall" of ``generator`` seen through ``profile``."""
    from synth.models.critic_fit import critic_distance_per_class, fit_critic
    from synth.models.training import make_dataset
    from synth.models.zoo import get_class_scales

    settings, t = config.finetune, config.train
    model = build_model(config, inputs, profile, generator, 0.0)
    stream = make_dataset(real, get_class_scales(generator), t.batch_size * t.n_critic, config.seed + 1)
    fit_critic(model, stream.take(settings.evaluation_critic_steps))
    distances = critic_distance_per_class(model, real, get_class_scales(generator))
    labels, windows = generated_through_profile(generator, inputs.info, profile, settings.evaluation_windows, config.seed)
    hits = inputs.feedback.predict_indices(windows) == inputs.targets[labels]
    per_class = {name: {"accuracy": float(hits[labels == k].mean()), "critic_distance": distances[k]}
                 for k, name in enumerate(inputs.info.classes)}
    return {"per_class": per_class, "accuracy": float(hits.mean()),
            "critic_distance": float(np.mean(distances))}


def generated_through_profile(generator, info, profile, per_class: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(labels (N,), windows (N, T, 3) g as the sensor outputs them), ``per_class`` of every class."""
    from synth.models.sampling import sample_windows
    from synth.transforms import apply_profile

    labels = np.repeat(np.arange(len(info.classes)), per_class)
    windows = sample_windows(generator, labels, info.noise_dim, len(info.classes), seed=seed + 2)
    return labels, apply_profile(windows, profile)[0]


def _report(config: Config, inputs: FinetuneInputs, profile, data_hash: str, before: dict, after: dict) -> dict:
    """finetune.json: what was done, with what, and the before/after figures."""
    return {
        "profile": profile.card(),
        "base_generator": {"path": str(inputs.generator_path), "weights_sha256": inputs.info.weights_sha256},
        "classifier": {"name": inputs.feedback.name, "classes": list(inputs.feedback.classes),
                       "window": inputs.feedback.window},
        "seed": config.seed,
        "data_hash": data_hash,
        "real_windows": inputs.real.class_counts(),
        "before": before,
        "after": after,
        "config": config.model_dump(mode="json"),
    }


def _save_generator(folder: Path, generator, inputs: FinetuneInputs, profile, config: Config, data_hash: str) -> None:
    from synth.models.artifact import save_generator

    provenance = {"config": config.model_dump(mode="json"), "fine_tuned_from": inputs.info.weights_sha256,
                  "classifier": inputs.feedback.name, "steps": config.train.steps}
    info = replace(inputs.info, profile=profile.name, seed=config.seed, data_hash=data_hash, provenance=provenance,
                   weights_sha256="")
    save_generator(folder, generator, info)


def _figures(folder: Path, report: dict, real: Windows, generator, inputs: FinetuneInputs, profile, seed: int) -> None:
    """before_after.png and one samples_<class>.png of real vs fine-tuned windows per class."""
    from synth.plots import plot_before_after, plot_real_vs_generated, spread_examples

    plot_before_after(report["before"]["per_class"], report["after"]["per_class"], inputs.feedback.name,
                      f"fine-tuning for {profile.name}", folder / FIGURE_FILE)
    labels, windows = generated_through_profile(generator, inputs.info, profile, 8, seed)
    for k, name in enumerate(inputs.info.classes):
        plot_real_vs_generated(spread_examples(real.x[real.y == k]), windows[labels == k], f"{name} through {profile.name}: real vs fine-tuned",
                               real.rate_hz, folder / f"samples_{name}.png")
