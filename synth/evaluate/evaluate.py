"""``synth evaluate``: an honest quality report of a synthetic dataset against real recordings.

The real data is named by a JSON config (the one that trained the generator will do): its
``data`` section says which recordings and how to cut them, its ``profile`` sets the rate, and
``data.test_groups`` lists the held-out recordings (never seen in training); every other
recording is the train side. Real windows are cut without overlap (stride = window), so no
sample is counted twice. Only the classes the synthetic dataset holds are evaluated.

Every synthetic number stands beside its real reference (see ``build_report``):
TSTR beside TRTR, TRTS, ST's BSD-3 classifier on synthetic beside held-out real, the
discriminative score of two discriminator families (0 is ideal) overall and per class beside
its real-vs-real floor, per-class signal metrics of both sides, the spectral distance of
synthetic to held-out real beside that of train-side real to held-out real, and
nearest-neighbour distances synthetic-to-real beside real-to-real. Per class, too (see
``synth.evaluate.evaluate_realism``): orientation coverage gaps, quantiles of per-window statistics and
a memorisation check, synthetic beside real-vs-real.

Users may add their own ST model-zoo classifiers (``ClassifierSpec``: a .h5 / .keras / full-int8
.tflite file and its output class order); each is scored like ST's BSD-3 one, on held-out real
and on synthetic windows, under ``classifiers`` in the report. They must fit the data: 26 Hz,
input (B, wl, 3, 1) with wl no longer than the windows, a class for every synthetic class;
otherwise ModelError / DataError / ConfigError (one line) before anything is written.

The report folder (report.json, report.md, PNG plots) is built in a temporary sibling and
renamed at the end; a non-empty folder is replaced only with ``force``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional, Sequence

import numpy as np

from synth.classify.classifiers import KerasWindowClassifier, StBsd3Classifier, canonical_class, restrict_classes
from synth.classify.preprocessing import RATE_HZ
from synth.classify.st_classifier import WISDM_CLASS_NAMES, load_window_classifier
from synth.core.atomic import build_directory, check_directory_target, write_json, write_text
from synth.core.config import Config, load_config, require
from synth.core.errors import ConfigError, DataError, ModelError
from synth.core.profiles import load_profile
from synth.core.windows import Windows, concat
from synth.data.loading import load_windows
from synth.evaluate.evaluate_metrics import (
    CLASSIFIER_DESCRIPTION, Budget, nearest_neighbour_ratios, ratio, standardise, train_test_scores, value_range_g,
    window_features,
)
from synth.evaluate.evaluate_realism import class_realism, discriminative_report
from synth.evaluate.report import render_markdown, write_plots
from synth.gan.generate import CARD_FILE, load_dataset
from synth.realism.quality import classifier_report, compare_class

REPORT_JSON = "report.json"
REPORT_MD = "report.md"
NOTES = [
    "TSTR/TRTR/TRTS: one compact Conv1D per training set, on gravity-rotated, gravity-suppressed "
    "acceleration (m/s^2) with random headings; each trained for the same number of updates of the same batch size.",
    "Discriminative score: |accuracy - 0.5| of a discriminator telling real from synthetic, cross-validated "
    "over 5 folds of whole real recordings (every recording judged once, by a discriminator that never saw it); "
    "0 is indistinguishable, 0.5 always told apart. Two families: the same Conv1D on raw g, and "
    "scikit-learn's HistGradientBoostingClassifier on window features plus std |a|, motion RMS and peak |a| per window. "
    "Per class: a discriminator trained and tested within the class. Real vs real (the floor): each class's real "
    "recordings dealt into two halves, one playing synthetic, both sides in folds of whole recordings.",
    "st_bsd3 is ST's example classifier, trained by ST on all BSD-3 recordings (held-out ones included): "
    "its real accuracy is optimistic when the real data is BSD-3.",
    "NN ratio: median nearest-neighbour distance synthetic-to-real over held-out-real-to-real (window "
    "features, equal-size reference sets); near 1 is healthy, well below 1 suggests copies of training "
    "windows. Coverage ratio: held-out-real-to-synthetic over real-to-real; well above 1 suggests collapsed modes.",
    "Orientation gap: the largest difference over +-x, +-y, +-z of the share of windows with gravity mainly along "
    "that direction, synthetic vs train-side real beside held-out vs train-side real.",
    "Per-window statistics (g): std of |a|, RMS of the gravity-suppressed magnitude (ST's high-pass per window), "
    "peak |a|; quantiles 5-95 % per side, median ratios synthetic / held-out beside train-side / held-out.",
    "Memorisation: distance of each window to its nearest train-side window in standardised window-feature space, "
    "synthetic beside held-out real; the share of synthetic windows nearer than the held-out 1st percentile "
    "should be about 0.01 or less.",
]
USER_CLASSIFIER_NOTE = (
    "Your classifiers (--classifier) get ST's input: m/s^2 (g x 9.8) after gravity rotation + suppression; "
    "windows longer than a model's input are cut into non-overlapping crops and the crops' majority vote is the answer.")


@dataclass(frozen=True)
class EvaluationData:
    """The three sets of one evaluation, all Windows in g with the same classes, rate and length."""

    real_train: Windows
    real_test: Windows
    synthetic: Windows
    full_scale_g: float
    dropped_real_classes: tuple[str, ...]
    fine_tuning_target: Optional[dict] = None  # the generator's target card (synth finetune), if any


@dataclass(frozen=True)
class ClassifierSpec:
    """A user's ST classifier: its file (.h5, .keras or .tflite) and its output class names, in order."""

    path: Path
    classes: tuple[str, ...] = WISDM_CLASS_NAMES


def classifier_specs(paths: Sequence[Path], class_lists: Sequence[str] = ()) -> list[ClassifierSpec]:
    """Pair each classifier path with comma-separated class names: one list per path, one for all, or none (WISDM's).

    ConfigError for a count that fits neither, class lists without paths, or an empty or repeated name.
    """
    if class_lists and not paths:
        raise ConfigError("--classifier-classes needs a --classifier")
    if len(class_lists) not in (0, 1, len(paths)):
        raise ConfigError(f"{len(class_lists)} --classifier-classes for {len(paths)} --classifier: give one for each or one for all")
    parsed = [parse_class_names(text) for text in class_lists] or [WISDM_CLASS_NAMES]
    return [ClassifierSpec(Path(path), parsed[i if len(parsed) > 1 else 0]) for i, path in enumerate(paths)]


def parse_class_names(text: str) -> tuple[str, ...]:
    """'Jogging,Stationary,...' -> ('Jogging', 'Stationary', ...); ConfigError for an empty or repeated name."""
    names = tuple(name.strip() for name in text.split(","))
    if not all(names):
        raise ConfigError(f"--classifier-classes {text!r} has an empty class name (expected e.g. Jogging,Stationary,Stairs,Walking)")
    canonical = [canonical_class(n) for n in names]
    if len(set(canonical)) < len(canonical):  # two outputs for one activity (e.g. Jogging,running) are ambiguous
        raise ConfigError(f"--classifier-classes {text!r} names one activity twice")
    return names


def evaluate(real_config: Path, synthetic: Path, out: Path, force: bool = False, budget: Budget = Budget(),
             before_models: Callable[[], None] = lambda: None, classifiers: Sequence[ClassifierSpec] = ()) -> dict:
    """Evaluate the dataset folder ``synthetic`` against the real data of ``real_config``; write ``out``.

    ``before_models`` runs once the inputs are checked, before any model is loaded (the CLI
    imports TensorFlow there, so bad input is reported without waiting for it). ``classifiers``
    are scored beside ST's BSD-3 one; every one is loaded and checked before anything is written.
    """
    check_directory_target(out, force)
    data = load_evaluation_data(Path(real_config), Path(synthetic))
    if classifiers:
        check_st_rate(data.synthetic, Path(synthetic))
    before_models()
    loaded = [load_user_classifier(spec, data.synthetic, Path(synthetic)) for spec in classifiers]
    report = build_report(data, budget, loaded)
    report["inputs"].update(real_config=str(real_config), synthetic=str(synthetic),
                            classifiers=[{"path": str(c.path), "classes": list(c.classes)} for c in classifiers])
    write_report(data, report, out, force)
    return report


def write_report(data: EvaluationData, report: dict, out: Path, force: bool) -> None:
    """report.json, report.md and the PNG plots, written into ``out`` atomically."""
    with build_directory(out, force=force) as staging:
        write_json(staging / REPORT_JSON, report)
        write_text(staging / REPORT_MD, render_markdown(report))
        write_plots(staging, data.real_test, data.synthetic)


def load_evaluation_data(real_config: Path, synthetic: Path) -> EvaluationData:
    """Real train / held-out windows and the synthetic windows, checked to be comparable.

    DataError (one line) for a missing dataset folder, synthetic classes the real data lacks,
    or a window length or rate that differs.
    """
    fake = load_synthetic(synthetic)
    config = load_config(real_config)
    settings = require(config.data, "data", str(real_config))
    profile = load_profile(config.profile)
    real = load_windows(settings.model_copy(update={"stride": settings.window}), profile.odr_hz, real_config.parent)
    check_comparable(real, fake, synthetic)
    real, dropped = restrict_classes(real, fake.classes)
    train, test = split_held_out(real, config, real_config)
    return EvaluationData(train, test, fake, synthetic_full_scale(synthetic, profile.full_scale_g), dropped,
                          fine_tuning_target(synthetic))


def load_synthetic(folder: Path) -> Windows:
    """A ``synth generate`` folder as Windows in g (classes: those with windows, in dataset order)."""
    arrays = load_dataset(folder)
    used = np.unique(arrays["y"])
    remap = np.full(len(arrays["classes"]), -1, np.int64)
    remap[used] = np.arange(len(used))
    x = (arrays["mg"] / np.float32(1000.0)).astype(np.float32)
    return Windows(x, remap[arrays["y"]], tuple(str(arrays["classes"][i]) for i in used),
                   float(arrays["rate_hz"]), "g", np.full(len(x), "synthetic"))


def check_comparable(real: Windows, fake: Windows, synthetic: Path) -> None:
    """DataError unless the synthetic windows have the real rate and length and only real classes."""
    if not np.isclose(real.rate_hz, fake.rate_hz):
        raise DataError(f"{synthetic} is at {fake.rate_hz:g} Hz but the real data is at {real.rate_hz:g} Hz")
    if real.length != fake.length:
        raise DataError(f"{synthetic} has {fake.length}-sample windows but the real windows have {real.length}")
    known = {canonical_class(c) for c in real.classes}
    missing = [c for c in fake.classes if canonical_class(c) not in known]
    if missing:
        raise DataError(f"{synthetic} has classes the real data lacks: {', '.join(missing)} "
                        f"(real classes: {', '.join(real.classes)})")


def split_held_out(real: Windows, config: Config, source: Path) -> tuple[Windows, Windows]:
    """(train side, held out) by ``data.test_groups``; DataError when they select nothing usable."""
    groups = config.data.test_groups
    if not groups:
        raise DataError(f"{source}: data.test_groups is empty; list the held-out real recordings there")
    unknown = sorted(set(groups) - set(real.groups.tolist()))
    if unknown:
        raise DataError(f"{source}: data.test_groups names recordings with no windows: {', '.join(unknown[:5])}")
    train, test = real.split_by_group(groups)
    if not len(train) or not len(test):
        raise DataError(f"{source}: data.test_groups must leave recordings on both sides")
    return train, test


def check_st_rate(fake: Windows, synthetic: Path) -> None:
    """DataError unless the windows are at 26 Hz, the only rate ST's classifiers take."""
    if not np.isclose(fake.rate_hz, RATE_HZ):
        raise DataError(f"{synthetic} is at {fake.rate_hz:g} Hz but ST's classifiers (--classifier) take {RATE_HZ:g} Hz windows")


def load_user_classifier(spec: ClassifierSpec, fake: Windows, synthetic: Path) -> KerasWindowClassifier:
    """``spec`` loaded as a KerasWindowClassifier; ModelError unless it fits the synthetic windows.

    It fits when its input (wl samples) is no longer than the windows and it has a class for
    every synthetic class (canonical names: Jogging == running).
    """
    classifier = load_window_classifier(spec.path, spec.classes)
    if classifier.window > fake.length:
        raise ModelError(f"{spec.path}: the model takes windows of {classifier.window} samples, "
                         f"longer than the {fake.length}-sample windows of {synthetic}")
    lacking = classes_it_lacks(classifier, fake)
    if lacking:
        raise ModelError(f"{spec.path} has no class for {', '.join(lacking)} of {synthetic} "
                         f"(its classes: {', '.join(spec.classes)}; set them with --classifier-classes)")
    return classifier


def classes_it_lacks(classifier: KerasWindowClassifier, fake: Windows) -> list[str]:
    """The synthetic classes with no output of ``classifier`` (compared by canonical name)."""
    return [c for c in fake.classes if canonical_class(c) not in classifier.classes]


def fine_tuning_target(folder: Path) -> Optional[dict]:
    """The dataset card's record of the target recordings its generator was fine-tuned on, if any."""
    try:
        return json.loads((folder / CARD_FILE).read_text())["generator"]["fine_tuning_target"]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def target_notes(target: Optional[dict]) -> list[str]:
    """Report notes on what a fine-tuned generator learned from the target recordings alone."""
    if not target:
        return []
    used = sum(len(names) for names in target.get("recordings", {}).values())
    notes = [f"The generator was fine-tuned on {used} target recording(s) (inputs.fine_tuning_target lists them) "
             f"from a source with the classes {', '.join(target.get('source_classes', []))}."]
    if target.get("learned_from_target_only"):
        notes.append(f"{', '.join(target['learned_from_target_only'])}: not in the source data; learned from the target "
                     "recordings alone.")
    if target.get("left_out"):
        notes.append(f"{', '.join(target['left_out'])}: neither in the source nor in the target recordings used; not generated.")
    return notes


def synthetic_full_scale(folder: Path, default: float) -> float:
    """The dataset card's full scale (g), else ``default`` (the real data's profile)."""
    try:
        return float(json.loads((folder / CARD_FILE).read_text())["full_scale_g"])
    except (OSError, ValueError, KeyError, TypeError):
        return default


def build_report(data: EvaluationData, budget: Budget, classifiers: Sequence[KerasWindowClassifier] = ()) -> dict:
    """The report dict (see the module docstring); JSON-able. ``classifiers``: the user's, loaded."""
    train, test, fake = data.real_train, data.real_test, data.synthetic
    scores = train_test_scores(train, test, fake, budget)
    return {
        "inputs": describe_inputs(data),
        "classifier": {"architecture": CLASSIFIER_DESCRIPTION, "steps": budget.steps,
                       "batch_size": budget.batch_size, "seed": budget.seed},
        **scores,
        "tstr_over_trtr": ratio(scores["tstr"]["balanced"], scores["trtr"]["balanced"]),
        "st_classifier": st_classifier_report(test, fake),
        "classifiers": [score_classifier(c, test, fake) for c in classifiers],
        "discriminative": discriminative_report(concat([train, test]), fake, budget),
        "per_class": per_class_report(data, np.random.default_rng([budget.seed, 13])),
        "notes": NOTES + ([USER_CLASSIFIER_NOTE] if classifiers else []) + target_notes(data.fine_tuning_target),
    }


def describe_inputs(data: EvaluationData) -> dict:
    """Classes, rate, window and window counts of the three sets."""
    return {
        "classes": list(data.synthetic.classes), "rate_hz": data.synthetic.rate_hz, "window": data.synthetic.length,
        "full_scale_g": data.full_scale_g,
        "windows": {"real_train": data.real_train.class_counts(), "real_held_out": data.real_test.class_counts(),
                    "synthetic": data.synthetic.class_counts()},
        "held_out_recordings": sorted(set(data.real_test.groups.tolist())),
        "dropped_real_classes": list(data.dropped_real_classes),
        "fine_tuning_target": data.fine_tuning_target,
    }


def st_classifier_report(real_test: Windows, fake: Windows) -> dict:
    """ST's BSD-3 classifier scored by ``score_classifier``, or why it was skipped."""
    classifier = StBsd3Classifier()
    if fake.length < classifier.window:
        return {"classifier": classifier.name, "skipped": f"windows of {fake.length} samples are shorter than its input ({classifier.window})"}
    return score_classifier(classifier, real_test, fake)


def score_classifier(classifier: KerasWindowClassifier, real_test: Windows, fake: Windows) -> dict:
    """A window classifier's accuracy, overall and per class, on held-out real ("real") and synthetic windows.

    classifier: has ``name``, ``window`` (samples), canonical ``classes`` and
    ``predict(x_g, class_names)`` (see synth.classify.classifiers); windows (N, T >= window, 3) in g.
    """
    sets = {"real": (real_test.x, real_test.y), "synthetic": (fake.x, fake.y)}
    report = classifier_report(classifier, sets, fake.classes)
    return {**report, "window": classifier.window, "classes_it_lacks": classes_it_lacks(classifier, fake)}


def per_class_report(data: EvaluationData, rng: np.random.Generator) -> dict:
    """{class: class_report(...)}, or why a class was skipped (no windows on one side)."""
    sets = {"train": data.real_train, "held_out": data.real_test, "synthetic": data.synthetic}
    features = {side: window_features(w.x, w.rate_hz) for side, w in sets.items()}
    report = {}
    for index, name in enumerate(data.synthetic.classes):
        sides = {side: w.x[w.y == index] for side, w in sets.items()}
        if not all(len(v) for v in sides.values()):
            report[name] = {"skipped": "no windows on one side: " + ", ".join(k for k, v in sides.items() if not len(v))}
            continue
        reference = features["train"][data.real_train.y == index]
        scaled = {side: standardise(f[sets[side].y == index], reference) for side, f in features.items()}
        report[name] = class_report(sides, scaled, data, rng)
    return report


def class_report(sides: dict, features: dict, data: EvaluationData, rng: np.random.Generator) -> dict:
    """One class: signal metrics, value ranges, spectral distances, NN ratios and ``class_realism``.

    sides: {"train", "held_out", "synthetic": windows (N, T, 3) g}; features: their window
    features, standardised by the train side.
    """
    rate, full_scale = data.real_test.rate_hz, data.full_scale_g
    block = compare_class(sides["held_out"], sides["synthetic"], rate, full_scale)
    reference = compare_class(sides["held_out"], sides["train"], rate, full_scale)
    block["psd_distance_db_real_reference"] = reference["psd_distance_db"]
    block["real"].update(value_range_g(sides["held_out"]))
    block["generated"].update(value_range_g(sides["synthetic"]))
    block["nearest_neighbour"] = nearest_neighbour_ratios(*(features[k] for k in ("train", "held_out", "synthetic")), rng)
    return {**block, **class_realism(sides, features, rate)}
