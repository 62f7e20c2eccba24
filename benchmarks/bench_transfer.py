"""Data efficiency of the transfer path: another sensor's recordings + K of the target's own.

Source: UCI HAPT (a smartphone at the waist, 50 Hz, +-2 g; stationary and walking, no running),
read from ../shared/data/uci_hapt (skipped with the reason when absent). Target: ST's BSD-3
recordings of the LSM6DSL on the B-L475E-IOT01A (shipped), split by recording: the 19 held-out
recordings of configs/train_st_har_lsm6dsl_4g.json (7 stationary, 8 walking, 4 running) are
touched by nothing that trains; K recordings per class are drawn from the other 73.

For K in {0, 1, 2, 4, all} and three seeds (the seed draws the K recordings and seeds training):
- (a) real: a classifier trained on the K real recordings alone;
- (b) scratch: a generator trained on the K target recordings alone (``synth train``); at K =
  all also the shipped generator trained on all 73 (20,000 steps), the reference of the goal;
- (c) transfer: the HAPT-pretrained generator fine-tuned on the K recordings (``synth finetune``,
  frozen feedback classifier st_har_ign_wl48, not ST's BSD-3 model that judges below);
- (d) mixed: the K real recordings plus (c)'s synthetic windows, the real ones repeated so that
  both weigh the same in each class;
- source only: the HAPT generator through the profile, no fine-tuning (K = 0 row).
Figures per arm, per class and overall: held-out accuracy of classifiers trained on its windows
(two families: the evaluate CNN on ST's gravity-rotated input, and the same CNN on raw g, which
sees orientation), ST's BSD-3 classifier on the synthetic windows, the discriminative score
against held-out real windows beside the real-vs-real floor (two halves of the held-out
recordings), and orientation coverage (share of windows with gravity along +-x, +-y, +-z)
beside the real held-out and the K training recordings. Mean and spread over seeds.

Usage:
  .venv/bin/python benchmarks/bench_transfer.py [--out runs/bench_transfer] [--seeds 0 1 2]
      [--ks 0 1 2 4 all] [--source-steps 20000] [--scratch-steps 2000] [--finetune-steps 1600]
      [--classifier-steps 1000]
Writes OUT/k<K>_seed<S>/result.json per setting, OUT/results.json and OUT/report.md; a rerun
reuses every finished setting, so runs over different --ks can share OUT (one per core).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from synth.core.config import parse_config  # noqa: E402 (after the path set-up above)
from synth.data.st_har import load_st_har  # noqa: E402
from synth.data.target import select_recordings  # noqa: E402
from synth.realism.quality import orientation_coverage  # noqa: E402
from synth.core.windows import Windows, concat  # noqa: E402

HAPT = ROOT.parent / "shared" / "data" / "uci_hapt"
TRAIN_CONFIG = ROOT / "configs" / "train_st_har_lsm6dsl_4g.json"
HAPT_CONFIG = ROOT / "configs" / "train_hapt.json"
FEEDBACK = ROOT / "synth" / "assets" / "classifiers" / "st_har_ign_wl48"
SHIPPED = ROOT / "synth" / "assets" / "generators" / "st_har_lsm6dsl_4g"
CLASSES = ("stationary", "walking", "running")
WINDOW, STRIDE, RATE = 48, 8, 26.0
SYNTHETIC_PER_CLASS = 1000
log = logging.getLogger("bench_transfer")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("runs/bench_transfer"))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--ks", nargs="+", default=["0", "1", "2", "4", "all"])
    parser.add_argument("--source-steps", type=int, default=20000)
    parser.add_argument("--scratch-steps", type=int, default=2000)
    parser.add_argument("--finetune-steps", type=int, default=1600)
    parser.add_argument("--classifier-steps", type=int, default=1000)
    return parser.parse_args()


# --- data --------------------------------------------------------------------------------------


def target_split() -> tuple[Windows, Windows, list[str]]:
    """(training pool, held-out windows, held-out recordings) of BSD-3, in g, CLASSES order."""
    held = json.loads(TRAIN_CONFIG.read_text())["data"]["test_groups"]
    windows = load_st_har(rate_hz=RATE, window=WINDOW, stride=STRIDE)
    pool, test = windows.split_by_group(held)
    return pool, test, held


def halves(test: Windows) -> tuple[Windows, Windows]:
    """The held-out recordings split in two, alternately per class: the real-vs-real reference."""
    first = []
    for k in range(len(test.classes)):
        names = sorted(set(test.groups[test.y == k].tolist()))
        first += names[0::2]
    return test.split_by_group([g for g in set(test.groups.tolist()) if g not in first])


# --- models ------------------------------------------------------------------------------------


def source_generator(out: Path, steps: int) -> Path:
    """The HAPT-pretrained generator (``synth train`` on configs/train_hapt.json), trained once."""
    from synth.gan.train import run_training

    raw = json.loads(HAPT_CONFIG.read_text())
    raw["data"]["path"] = str(HAPT)
    raw["train"].update(steps=steps, run_dir=str(out / "source"))
    if not (out / "source" / "generator" / "generator.json").is_file():
        run_training(parse_config(raw), ROOT, resume=True, verbose=0)
    return out / "source" / "generator"


def scratch_generator(out: Path, recordings: list[str], seed: int, steps: int) -> Path:
    """A generator trained on ``recordings`` of BSD-3 alone (every other recording held out of training)."""
    from synth.gan.train import run_training

    raw = json.loads(TRAIN_CONFIG.read_text())
    everything = set(load_st_har(rate_hz=RATE, window=WINDOW, stride=WINDOW).groups.tolist())
    raw["seed"] = seed
    raw["data"]["test_groups"] = sorted(everything - set(recordings))
    raw["train"].update(steps=steps, run_dir=str(out), checkpoint_every=steps)
    if not (out / "generator" / "generator.json").is_file():
        run_training(parse_config(raw), ROOT, resume=False, verbose=0)
    return out / "generator"


def finetuned_generator(out: Path, source: Path, k: int | None, seed: int, steps: int) -> Path:
    """The source generator fine-tuned to lsm6dsl_4g on K recordings per class (``synth finetune``)."""
    from synth.gan.finetune import run_finetune

    raw = json.loads((ROOT / "configs" / "finetune_hapt_lsm6dsl.json").read_text())
    raw["seed"] = seed
    raw["train"]["steps"] = steps
    raw["finetune"].update(generator=str(source.resolve()), recordings_per_class=k, profiles=["lsm6dsl_4g"],
                           classifier=str(FEEDBACK), run_dir=str(out), evaluation_critic_steps=200,
                           evaluation_windows=200)
    if not (out / "lsm6dsl_4g" / "generator" / "generator.json").is_file():
        run_finetune(parse_config(raw), ROOT / "configs", force=True)
    return out / "lsm6dsl_4g" / "generator"


def synthetic_windows(generator: Path, seed: int) -> Windows:
    """SYNTHETIC_PER_CLASS windows of each of the generator's CLASSES, through lsm6dsl_4g, in g."""
    from synth.models.artifact import load_generator
    from synth.models.sampling import sample_windows
    from synth.core.profiles import load_profile
    from synth.core.transforms import apply_profile

    model, info = load_generator(generator)
    present = [c for c in CLASSES if c in info.classes]
    labels = np.repeat([info.classes.index(c) for c in present], SYNTHETIC_PER_CLASS)
    x = apply_profile(sample_windows(model, labels, info.noise_dim, len(info.classes), seed=seed + 100),
                      load_profile("lsm6dsl_4g"))[0]
    y = np.repeat([CLASSES.index(c) for c in present], SYNTHETIC_PER_CLASS)
    return Windows(x.astype(np.float32), y, CLASSES, RATE, "g", np.full(len(y), "synthetic"))


# --- figures -----------------------------------------------------------------------------------


def classifier_scores(train: Windows, test: Windows, budget) -> dict:
    """Held-out accuracy (overall, per class) of the two classifier families trained on ``train``."""
    from synth.evaluate.evaluate_metrics import (accuracy_scores, motion_input, predict_classes,
                                        train_window_classifier)

    out = {}
    for family, prepare, heading in (("rotated", lambda x: motion_input(x, RATE), True), ("raw", lambda x: x, False)):
        model = train_window_classifier(prepare(train.x), train.y, len(CLASSES), budget, heading)
        scores = accuracy_scores(predict_classes(model, prepare(test.x)), test.y, CLASSES)
        out[family] = {"overall": scores["overall"], "per_class": {c: v["accuracy"] for c, v in scores["per_class"].items()}}
    return out


def st_bsd3_scores(synthetic: Windows) -> dict:
    """ST's BSD-3 classifier: share of synthetic windows of each class it labels as that class."""
    from synth.classify.classifiers import StBsd3Classifier

    predicted = StBsd3Classifier().predict(synthetic.x)
    per_class = {c: float(np.mean(predicted[synthetic.y == k] == c)) for k, c in enumerate(CLASSES) if (synthetic.y == k).any()}
    return {"overall": float(np.mean(list(per_class.values()))), "per_class": per_class}


def discrimination(real: Windows, fake: Windows, budget) -> dict:
    """Discriminative score (0 = indistinguishable) overall and per class of the classes ``fake`` has."""
    from synth.evaluate.evaluate_metrics import discriminative_score

    out = {"overall": discriminative_score(real, fake, budget)["score"], "per_class": {}}
    for k, c in enumerate(CLASSES):
        if (fake.y == k).any() and (real.y == k).any():
            out["per_class"][c] = discriminative_score(real.subset(real.y == k), fake.subset(fake.y == k), budget)["score"]
    return out


def coverage(windows: Windows) -> dict:
    """Orientation coverage per class present."""
    return {c: orientation_coverage(windows.x[windows.y == k]) for k, c in enumerate(CLASSES) if (windows.y == k).any()}


def generator_figures(fake: Windows, test: Windows, budget) -> dict:
    return {"tstr": classifier_scores(fake, test, budget), "st_bsd3": st_bsd3_scores(fake),
            "discriminative": discrimination(test, fake, budget), "orientation": coverage(fake)}


def equal_weight_mix(real: Windows, synthetic: Windows) -> Windows:
    """The real windows plus the synthetic ones, each class's real windows repeated until they
    weigh as much as its synthetic windows: (d) adds synthetic data to the few real recordings
    without letting 1,000 generated windows per class drown a few dozen measured ones."""
    parts = [replace(synthetic, groups=synthetic.groups.astype(real.groups.dtype))]
    for k in range(len(real.classes)):
        mine = np.flatnonzero(real.y == k)
        if len(mine):
            repeats = max(1, int(round(np.sum(synthetic.y == k) / len(mine))))
            parts.append(real.subset(np.tile(mine, repeats)))
    return concat(parts)


# --- one K, one seed ---------------------------------------------------------------------------


def run_setting(args, out: Path, source: Path, pool: Windows, test: Windows, held: list[str], k_text: str, seed: int) -> dict:
    """Every arm's figures for one K and one seed."""
    from synth.evaluate.evaluate_metrics import Budget

    budget = Budget(steps=args.classifier_steps, seed=seed)
    k = None if k_text == "all" else int(k_text)
    chosen = select_recordings(pool, held, k, None, seed)
    names = sorted(r for rs in chosen.recordings.values() for r in rs)
    place = out / f"k{k_text}_seed{seed}"
    result = {"k": k_text, "seed": seed, "recordings": chosen.recordings, "arms": {}}
    started = time.perf_counter()
    fine = synthetic_windows(finetuned_generator(place / "transfer", source, k, seed, args.finetune_steps), seed)
    result["transfer_minutes"] = (time.perf_counter() - started) / 60
    result["arms"]["transfer"] = generator_figures(fine, test, budget)
    if names:
        real = chosen.windows
        result["arms"]["real"] = {"tstr": classifier_scores(real, test, budget), "orientation": coverage(real)}
        scratch = synthetic_windows(scratch_generator(place / "scratch", names, seed, args.scratch_steps), seed)
        result["arms"]["scratch"] = generator_figures(scratch, test, budget)
        result["arms"]["mixed"] = {"tstr": classifier_scores(equal_weight_mix(real, fine), test, budget)}
    log.info("K=%s seed %d done in %.1f min", k_text, seed, (time.perf_counter() - started) / 60)
    return result


def references(source: Path, test: Windows, budget_seed: int, steps: int) -> dict:
    """Source only, the shipped all-recordings generator, real held-out orientation and the real-vs-real floor."""
    from synth.evaluate.evaluate_metrics import Budget

    budget = Budget(steps=steps, seed=budget_seed)
    first, second = halves(test)
    return {
        "source_only": generator_figures(synthetic_windows(source, 0), test, budget),
        "shipped_all": generator_figures(synthetic_windows(SHIPPED, 0), test, budget),
        "real_vs_real": discrimination(first, second, budget),
        "held_out_orientation": coverage(test),
    }


# --- summary -----------------------------------------------------------------------------------


def pick(figures: dict, path: tuple) -> float | None:
    """figures[path[0]][path[1]]..., None where any step is missing."""
    for key in path:
        if not isinstance(figures, dict) or key not in figures or figures[key] is None:
            return None
        figures = figures[key]
    return figures


def spread(runs: list[dict], arm: str, path: tuple) -> str:
    """'mean ± sd' over seeds of one figure of one arm ('-' when absent)."""
    values = [v for r in runs if (v := pick(r["arms"].get(arm, {}), path)) is not None]
    if not values:
        return "-"
    return f"{np.mean(values):.3f} ± {np.std(values):.3f}" if len(values) > 1 else f"{values[0]:.3f}"


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])


def accuracy_tables(by_k: dict[str, list[dict]], refs: dict) -> list[str]:
    """One table per classifier family: held-out accuracy per K and arm, overall and per class."""
    arms = ("real", "scratch", "transfer", "mixed")
    out = []
    for family in ("rotated", "raw"):
        rows = []
        for k, runs in by_k.items():
            for part in ("overall", *CLASSES):
                path = ("tstr", family, "overall") if part == "overall" else ("tstr", family, "per_class", part)
                rows.append([k, part] + [spread(runs, arm, path) for arm in arms])
        source = spread([{"arms": {"x": refs["source_only"]}}], "x", ("tstr", family, "overall"))
        shipped = spread([{"arms": {"x": refs["shipped_all"]}}], "x", ("tstr", family, "overall"))
        rows.append(["source only (no fine-tuning)", "overall", "-", "-", source, "-"])
        rows.append(["shipped, all 73 recordings, 20,000 steps", "overall", "-", shipped, "-", "-"])
        out.append(f"Held-out accuracy, classifier on {family} input\n\n" + table(["K", "class", "(a) real", "(b) scratch", "(c) transfer", "(d) mixed"], rows))
    return out


def judge_table(by_k: dict[str, list[dict]], refs: dict) -> str:
    """ST's BSD-3 classifier and the discriminative score per class, for scratch and transfer."""
    rows = []
    for k, runs in by_k.items():
        for part in ("overall", *CLASSES):
            sub = () if part == "overall" else ("per_class",)
            key = ("overall",) if part == "overall" else (part,)
            rows.append([k, part] + [spread(runs, arm, (what, *sub, *key)) for what in ("st_bsd3", "discriminative")
                                      for arm in ("scratch", "transfer")])
    for name, label in (("source_only", "source only (as (c))"), ("shipped_all", "shipped, all 73 (as (b))")):
        for part in ("overall", *CLASSES):
            sub = () if part == "overall" else ("per_class",)
            key = ("overall",) if part == "overall" else (part,)
            wrapped = [{"arms": {"x": refs[name]}}]
            bsd3, disc = (spread(wrapped, "x", (what, *sub, *key)) for what in ("st_bsd3", "discriminative"))
            rows.append([label, part, "-", bsd3, "-", disc] if name == "source_only" else [label, part, bsd3, "-", disc, "-"])
    floor = refs["real_vs_real"]
    rows.append(["real vs real", "overall", "", "", f"{floor['overall']:.3f}", ""])
    rows += [["real vs real", c, "", "", f"{v:.3f}", ""] for c, v in floor["per_class"].items()]
    return ("ST BSD-3 classifier on synthetic windows (share labelled as requested) and discriminative score "
            "against held-out real windows (0 = indistinguishable)\n\n"
            + table(["K", "class", "BSD-3 (b)", "BSD-3 (c)", "disc (b)", "disc (c)"], rows))


def orientation_table(by_k: dict[str, list[dict]], refs: dict) -> str:
    """Orientation coverage per class: held-out real, K = 2 training recordings, (b) and (c) at K = 2."""
    rows = []
    runs = by_k.get("2", [])
    for c in CLASSES:
        rows.append(["held-out real", c] + [f"{refs['held_out_orientation'][c][d]:.2f}" for d in AXES])
        for arm in ("real", "scratch", "transfer"):
            rows.append([f"K=2 {arm}", c] + [spread(runs, arm, ("orientation", c, d)) for d in AXES])
        rows.append(["source only", c] + [spread([{"arms": {"x": refs["source_only"]}}], "x", ("orientation", c, d)) for d in AXES])
    return "Orientation coverage (share of windows with gravity mainly along each axis direction)\n\n" + table(["windows", "class", *AXES], rows)


AXES = ("+x", "-x", "+y", "-y", "+z", "-z")


def goals(by_k: dict[str, list[dict]], refs: dict) -> list[str]:
    """The issue's goals, each with its measured figures."""
    def mean(k, arm, path):
        values = [v for r in by_k.get(k, []) if (v := pick(r["arms"].get(arm, {}), path)) is not None]
        return float(np.mean(values)) if values else float("nan")

    lines = []
    fam = ("tstr", "rotated", "overall")
    reference = mean("all", "scratch", fam)
    lines.append(f"K=2 transfer TSTR {mean('2', 'transfer', fam):.3f} vs 0.95 x all-recordings scratch {reference:.3f} "
                 f"(= {0.95 * reference:.3f}); shipped all-recordings generator {pick(refs['shipped_all'], fam):.3f}")
    for part in ("overall", *CLASSES):
        path = fam if part == "overall" else ("tstr", "rotated", "per_class", part)
        a, d = 1 - mean("2", "real", path), 1 - mean("2", "mixed", path)
        lines.append(f"K=2 {part}: mixed error {d:.3f} vs 0.7 x real-only error {0.7 * a:.3f} (real-only {a:.3f})")
    for c in ("stationary", "walking"):
        lines.append(f"K=0 {c}: BSD-3 labels fine-tuned {mean('0', 'transfer', ('st_bsd3', 'per_class', c)):.3f}, "
                     f"source only {pick(refs['source_only'], ('st_bsd3', 'per_class', c)):.3f} (goal >= 0.90)")
    minutes = [r["transfer_minutes"] for r in by_k.get("2", [])]
    if minutes:
        lines.append(f"K=2 fine-tune (one profile, incl. before/after measurement) + sampling: {np.mean(minutes):.1f} min "
                     f"(max {np.max(minutes):.1f}); goal <= 15 min")
    return lines


def cached(path: Path, compute) -> dict:
    """The JSON at ``path``, computed and written first when absent (so reruns and parallel runs
    over other K share finished settings)."""
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(compute(), indent=1))
    return json.loads(path.read_text())


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    args = parse_args()
    if not (HAPT / "RawData" / "labels.txt").is_file():
        print(f"skipped: UCI HAPT not found at {HAPT} (expected RawData/labels.txt there; `synth data fetch hapt`)")
        return
    args.out.mkdir(parents=True, exist_ok=True)
    pool, test, held = target_split()
    started = time.perf_counter()
    source = source_generator(args.out, args.source_steps)
    log.info("source generator ready (%.1f min)", (time.perf_counter() - started) / 60)
    refs = cached(args.out / "references.json", lambda: references(source, test, 0, args.classifier_steps))
    by_k: dict[str, list[dict]] = {}
    for k in args.ks:
        by_k[k] = [cached(args.out / f"k{k}_seed{seed}" / "result.json",
                          lambda: run_setting(args, args.out, source, pool, test, held, k, seed)) for seed in args.seeds]
    (args.out / "results.json").write_text(json.dumps({"settings": vars(args) | {"out": str(args.out)},
                                                       "references": refs, "runs": by_k}, indent=1))
    sections = [*goals(by_k, refs), "", *accuracy_tables(by_k, refs), judge_table(by_k, refs), orientation_table(by_k, refs)]
    report = "\n\n".join(sections)
    (args.out / "report.md").write_text(report + "\n")
    print(report)
    print(f"\ntotal {(time.perf_counter() - started) / 60:.1f} min; results in {args.out}")


if __name__ == "__main__":
    main()
