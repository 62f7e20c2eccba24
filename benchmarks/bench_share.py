"""GAN-sharing on real accelerometer data: per-node accuracy, mode coverage, wire cost and scale.

Usage:
  .venv/bin/python benchmarks/bench_share.py [--quick] [--out runs/bench_share]
      [--parts accuracy,coverage,wire,scale,sla] [--splits by_recording,one_class] [--parallel 2]

Every simulation is ``synth.share.simulate.run_share_simulation`` on a variant of
configs/share.json (only its share and train.steps_per_epoch settings change; the variants are
written to OUT/configs/). Parts:

- accuracy: ST's BSD-3 recordings (shipped in synth/assets) dealt to 3 nodes per split; per
  method (local only, GAN-sharing relay, FedAvg of the generators, FedAvg of the classifiers)
  the nodes' held-out accuracy after the last round (the config's data.test_groups: recordings
  of every class that no node holds), and one centralised classifier on all training windows
  pooled, with the same classifier settings and rounds x classifier_epochs epochs;
- coverage: each relay node's final generator asked for COVERAGE_PER_CLASS windows of every
  class, judged by ST's BSD-3 classifier: the share recognised as the requested class, for the
  classes the node held and for those it never held (what sharing gave it);
- wire: relay on the one_class split with generators sent as float32, float16 and int8:
  bytes per node per round and accuracy;
- scale: N = 3, 10 and 30 nodes, 2 rounds, shorter GAN epochs, one node played at a time (the
  simulation's default): seconds per round and the peak memory of this process and all its
  children (Ray's processes and workers), sampled every 0.5 s;
- sla: the same methods on ST's mobility_v1 recordings (SLA0044, read from ../shared/data and
  never copied) when present, otherwise one line says the part is skipped.

Writes OUT/results.json and OUT/report.md; the report also goes to stdout. Seeds are the
config's (7). --quick: tiny settings for a smoke run (one split, fewer runs), numbers meaningless.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shlex
import sys
import threading
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Optional

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BASE_CONFIG = ROOT / "configs" / "share.json"
MOBILITY = ROOT.parent / "shared" / "data" / "st_mobility_v1" / "train.pkl"
MOBILITY_CLASSES = {"stationary": [0], "walking": [1], "jogging": [2], "biking": [3]}
PARTS = ("accuracy", "coverage", "wire", "scale", "sla")
METHODS = {"local": "local only", "relay": "GAN-sharing (relay)", "fedavg": "FedAvg of generators",
           "classifier_fedavg": "FedAvg of classifiers"}
COVERAGE_PER_CLASS = 500
SAMPLE_PERIOD_S = 0.5
MIB = 2.0**20


@dataclass(frozen=True)
class Settings:
    """Run sizes: share settings of the accuracy/wire/sla runs and of the scale runs."""

    rounds: int = 4
    gan_epochs_per_round: int = 1
    steps_per_epoch: int = 100  # generator steps per GAN epoch
    classifier_epochs: int = 3
    generated_per_class: int = 600
    splits: tuple[str, ...] = ("by_recording", "one_class")
    modes: tuple[str, ...] = tuple(METHODS)
    wire_split: str = "one_class"
    wire_dtypes: tuple[str, ...] = ("float32", "float16", "int8")
    nodes: int = 3
    scale_nodes: tuple[int, ...] = (3, 10, 30)
    scale_rounds: int = 2
    scale_steps_per_epoch: int = 20
    sla_modes: tuple[str, ...] = tuple(METHODS)
    coverage_per_class: int = COVERAGE_PER_CLASS


FULL = Settings()
QUICK = Settings(rounds=2, steps_per_epoch=5, classifier_epochs=1, generated_per_class=60, splits=("one_class",),
                 modes=("local", "relay", "classifier_fedavg"), wire_dtypes=("float32", "int8"), scale_nodes=(3,),
                 scale_steps_per_epoch=5, sla_modes=("relay",), coverage_per_class=60)


# ---- configs -----------------------------------------------------------------------------
def file_hash(path: Path) -> str:
    """First 12 hex digits of a file's sha256."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]


def variant(base: dict, folder: Path, name: str, share: dict, steps_per_epoch: int, data: Optional[dict] = None) -> Path:
    """Write ``base`` with share/train/data edits to folder/name.json; returns the path."""
    config = json.loads(json.dumps(base))
    config["share"].update(share)
    config["train"]["steps_per_epoch"] = steps_per_epoch
    if data is not None:
        config["data"] = data
    path = folder / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(config, indent=2) + "\n")
    return path


def mobility_data(path: Path, window: int, stride: int) -> tuple[dict, list[str]]:
    """The data section for mobility_v1 and notes on what could not be held out.

    One recording of every class that has at least two (the shortest, to keep the most for
    training) is held out for the test; a class with a single recording stays in training only.
    """
    from synth.data.st_mobility import load_st_mobility

    windows = load_st_mobility(path, 26.0, window, stride, MOBILITY_CLASSES)
    test_groups, notes = [], []
    for k, name in enumerate(windows.classes):
        groups, counts = np.unique(windows.groups[windows.y == k], return_counts=True)
        if len(groups) >= 2:
            test_groups.append(str(groups[np.argmin(counts)]))
        else:
            notes.append(f"{name}: only {len(groups)} recording, so it cannot be held out: nodes train on it, "
                         f"no accuracy is measured on it")
    data = {"source": "st_mobility", "path": str(path), "window": window, "stride": stride,
            "classes": MOBILITY_CLASSES, "test_groups": test_groups}
    return data, notes


# ---- memory ------------------------------------------------------------------------------
class TreeMemory:
    """Peak memory in bytes of this process and all its descendants, sampled in a thread.

    PSS splits shared pages among the processes that map them, so its sum is the tree's real
    footprint; RSS counts shared pages once per process (an upper bound).
    """

    def __init__(self, period_s: float = SAMPLE_PERIOD_S):
        import ray  # noqa: F401  (puts Ray's bundled psutil on sys.path)
        import psutil

        self._psutil, self._root, self.period_s = psutil, psutil.Process(), period_s
        self.peak_rss = self.peak_pss = 0
        self.own_before = self._root.memory_full_info().pss  # this process alone, before the run
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "TreeMemory":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self.period_s)
        self._sample()

    def _sample(self) -> None:
        rss = pss = 0
        try:
            processes = [self._root, *self._root.children(recursive=True)]
        except self._psutil.Error:
            return
        for process in processes:
            try:
                info = process.memory_full_info()
            except self._psutil.Error:  # a process that ended between listing and reading
                continue
            rss, pss = rss + info.rss, pss + getattr(info, "pss", info.rss)
        self.peak_rss, self.peak_pss = max(self.peak_rss, rss), max(self.peak_pss, pss)


# ---- simulations -------------------------------------------------------------------------
@dataclass
class Run:
    """One finished simulation: its config, output folder, round log, wall time (s) and peak memory (bytes)."""

    config: Path
    folder: Path
    log: dict
    seconds: float
    peak_rss: int = 0
    peak_pss: int = 0
    own_before: int = 0


@dataclass
class Bench:
    """Runs simulations once each (several parts read the same run) and keeps the results."""

    settings: Settings
    out: Path
    parallel: int
    base: dict = field(default_factory=lambda: json.loads(BASE_CONFIG.read_text()))
    runs: dict = field(default_factory=dict)
    started: float = field(default_factory=time.perf_counter)
    incomplete: list = field(default_factory=list)  # rounds some node missed: their numbers are suspect

    def say(self, text: str) -> None:
        """A progress line on stderr, with minutes:seconds since the start."""
        elapsed = time.perf_counter() - self.started
        print(f"[{int(elapsed // 60):3d}:{int(elapsed % 60):02d}] {text}", file=sys.stderr, flush=True)

    def share_settings(self, **extra) -> dict:
        """Share settings of a run; min_nodes = all nodes, or the server may start round 1 before
        every simulated node has registered and leave the late ones out of it."""
        s = self.settings
        nodes = extra.get("nodes", s.nodes)
        return {"rounds": s.rounds, "gan_epochs_per_round": s.gan_epochs_per_round, "classifier_epochs": s.classifier_epochs,
                "generated_per_class": s.generated_per_class, "nodes": nodes, "min_nodes": nodes, **extra}

    def simulate(self, name: str, share: dict, nodes: int, steps_per_epoch: int, data: Optional[dict] = None,
                 parallel: Optional[int] = None) -> Run:
        """The simulation ``name`` (run once; later calls return the same Run)."""
        from synth.share.simulate import run_share_simulation

        if name in self.runs:
            return self.runs[name]
        config = variant(self.base, self.out / "configs", name, share, steps_per_epoch, data)
        self.say(f"{name}: {nodes} nodes, {share.get('rounds')} rounds ...")
        started = time.perf_counter()
        with TreeMemory() as memory:
            folder, log = run_share_simulation(config, nodes, self.out / "runs" / name, force=True,
                                               parallel=parallel or self.parallel)
        run = Run(config, folder, log, time.perf_counter() - started, memory.peak_rss, memory.peak_pss, memory.own_before)
        self.say(f"{name}: done in {run.seconds:.0f} s")
        for entry in log["rounds"]:
            if entry["answered"] != nodes:
                self.incomplete.append(f"{name} round {entry['round']}: {entry['answered']} of {nodes} nodes answered")
        self.runs[name] = run
        return run

    def method_run(self, dataset: str, split: str, mode: str, wire: str = "float32", data: Optional[dict] = None,
                   nodes: Optional[int] = None) -> Run:
        s = self.settings
        nodes = nodes or s.nodes
        share = self.share_settings(mode=mode, split=split, wire_dtype=wire, nodes=nodes)
        return self.simulate(f"{dataset}_{split}_{mode}_{wire}", share, nodes, s.steps_per_epoch, data)


# ---- metrics from round logs -------------------------------------------------------------
def last_round(run: Run) -> dict[str, dict]:
    """node name -> metrics of the last round."""
    return run.log["rounds"][-1]["nodes"]


def accuracy_summary(nodes: dict[str, dict], classes: list[str], prefix: str = "") -> dict:
    """Mean/min/max held-out accuracy over nodes and the mean per class (None where unmeasured)."""
    values = [m[prefix + "accuracy"] for m in nodes.values() if prefix + "accuracy" in m]
    per_class = {}
    for c in classes:
        scores = [m[f"{prefix}accuracy/{c}"] for m in nodes.values() if f"{prefix}accuracy/{c}" in m]
        per_class[c] = float(np.mean(scores)) if scores else None
    if not values:
        return {"mean": None, "min": None, "max": None, "per_class": per_class}
    return {"mean": float(np.mean(values)), "min": float(np.min(values)), "max": float(np.max(values)), "per_class": per_class}


def traffic(run: Run) -> dict:
    """Bytes per node per round: sent (mean over nodes and rounds) and received in the last round."""
    up = [m.get("bytes_up", 0) for r in run.log["rounds"] for m in r["nodes"].values()]
    down = [m.get("bytes_down", 0) for m in last_round(run).values()]
    return {"bytes_up": float(np.mean(up)), "bytes_down_last_round": float(np.mean(down))}


# ---- centralised upper bound and coverage ------------------------------------------------
class Models:
    """synth.share.models.SharedModels per config, built once, reset to the initial weights before each use."""

    def __init__(self):
        self._cache: dict[str, object] = {}

    def get(self, config, n_classes: int):
        from synth.share.models import SharedModels
        from synth.share.node_state import NodeState

        key = json.dumps([config.seed, config.profile, config.model.model_dump(), config.train.model_dump(),
                          config.classifier.model_dump(), config.data.window, n_classes], sort_keys=True)
        if key not in self._cache:
            self._cache[key] = SharedModels(config, config.data.window, n_classes)
        models = self._cache[key]
        models.restore(NodeState("fresh"), config.seed)
        return models


def centralised(models: Models, config_file: Path, nodes: int) -> dict:
    """Held-out scores of one classifier trained on every node's windows pooled, for the
    config's rounds x classifier_epochs epochs (what each node's classifier gets in total)."""
    import keras

    from synth.core.config import load_config
    from synth.share.node_data import simulated_nodes
    from synth.core.windows import concat

    config = load_config(config_file)
    parts, test = simulated_nodes(config, config_file.parent, nodes)
    pooled = concat([p.train for p in parts])
    pooled = pooled.subset(np.argsort(pooled.groups, kind="stable"))  # the same order whatever the split
    share = config.share.model_copy(update={"classifier_epochs": config.share.rounds * config.share.classifier_epochs})
    config = config.model_copy(update={"share": share})
    shared = models.get(config, len(pooled.classes))
    keras.utils.set_random_seed(config.seed)
    shared.train_classifier(pooled, config)
    return {"windows": len(pooled), **shared.score(test)}


def judge_rates(judge, x: np.ndarray, y: np.ndarray, classes: tuple[str, ...]) -> dict[str, Optional[float]]:
    """Share of windows (N, T, 3) in g of each class that ``judge`` names as that class (None if it cannot)."""
    from synth.classify.classifiers import canonical_class

    predicted = judge.predict(x, class_names=classes) if len(x) else np.zeros(0, object)
    rates = {}
    for k, name in enumerate(classes):
        known = canonical_class(name) in judge.classes and (y == k).any()
        rates[name] = float(np.mean(predicted[y == k] == name)) if known else None
    return rates


def coverage(models: Models, judge, run: Run, per_class: int) -> dict:
    """Per node: class -> (held locally?, share of its generated windows the judge recognises)."""
    from synth.core.config import load_config
    from synth.models.sampling import sample_windows
    from synth.share.node_data import simulated_nodes
    from synth.share.node_state import load_state

    config = load_config(run.config)
    nodes, test = simulated_nodes(config, run.config.parent, len(last_round(run)))
    classes = tuple(run.log["classes"])
    labels = np.repeat(np.arange(len(classes)), per_class)
    out = {"real_test": judge_rates(judge, test.x, test.y, classes), "nodes": {}}
    for node in nodes:
        shared = models.get(config, len(classes))
        shared.restore(load_state(run.folder / "nodes" / node.name, node.name), config.seed)
        x = sample_windows(shared.gan.generator, labels, config.model.noise_dim, len(classes), seed=config.seed)
        held = node.train.class_counts()
        rates = judge_rates(judge, x, labels, classes)
        out["nodes"][node.name] = {c: {"held": held[c] > 0, "recognised": rates[c]} for c in classes}
    return out


# ---- parts -------------------------------------------------------------------------------
def accuracy_part(bench: Bench, models: Models, dataset: str, splits, modes, data: Optional[dict] = None,
                  nodes: Optional[int] = None) -> list[dict]:
    """One row per (split, method) plus the centralised row and FedAvg's averaged model."""
    rows = []
    for split in splits:
        for mode in modes:
            run = bench.method_run(dataset, split, mode, data=data, nodes=nodes)
            classes = run.log["classes"]
            rows.append({"dataset": dataset, "split": split, "method": METHODS[mode], "mode": mode,
                         **accuracy_summary(last_round(run), classes), **traffic(run), "seconds": run.seconds})
            if mode == "classifier_fedavg":
                rows.append({"dataset": dataset, "split": split, "method": "FedAvg of classifiers: averaged model",
                             "mode": mode, **accuracy_summary(last_round(run), classes, "received_")})
        first = bench.method_run(dataset, split, modes[0], data=data, nodes=nodes)
        scores = centralised(models, first.config, len(last_round(first)))
        classes = first.log["classes"]
        rows.append({"dataset": dataset, "split": split, "method": "centralised (all data pooled)", "mode": "centralised",
                     "mean": scores.get("accuracy"), "min": scores.get("accuracy"), "max": scores.get("accuracy"),
                     "per_class": {c: scores.get(f"accuracy/{c}") for c in classes}, "windows": scores["windows"]})
        bench.say(f"{dataset} {split}: centralised accuracy {scores.get('accuracy', float('nan')):.3f}")
    return rows


def coverage_part(bench: Bench, models: Models, judge, dataset: str, splits, data=None, nodes=None) -> list[dict]:
    """Coverage of every relay run's final generators, one entry per split."""
    entries = []
    for split in splits:
        run = bench.method_run(dataset, split, "relay", data=data, nodes=nodes)
        entries.append({"dataset": dataset, "split": split, **coverage(models, judge, run, bench.settings.coverage_per_class)})
    return entries


def wire_part(bench: Bench) -> list[dict]:
    """Relay on one split with each wire format: bytes and accuracy."""
    rows = []
    for wire in bench.settings.wire_dtypes:
        run = bench.method_run("st_har", bench.settings.wire_split, "relay", wire)
        rows.append({"split": bench.settings.wire_split, "wire": wire, **accuracy_summary(last_round(run), run.log["classes"]),
                     **traffic(run)})
    return rows


def scale_part(bench: Bench) -> list[dict]:
    """Round time and peak memory of relay runs with N nodes (by_recording where the data allows)."""
    from synth.core.errors import ConfigError

    s, rows = bench.settings, []
    for n in s.scale_nodes:
        share = bench.share_settings(mode="relay", rounds=s.scale_rounds, nodes=n)
        note = ""
        try:
            run = bench.simulate(f"scale_{n}_by_recording", {**share, "split": "by_recording"}, n, s.scale_steps_per_epoch,
                                 parallel=1)
            split = "by_recording"
        except ConfigError as exc:  # a class has fewer training recordings than nodes
            note = f"by_recording impossible ({exc}); one_class instead"
            bench.say(f"scale {n}: {note}")
            run = bench.simulate(f"scale_{n}_one_class", {**share, "split": "one_class"}, n, s.scale_steps_per_epoch,
                                 parallel=1)
            split = "one_class"
        seconds = [r["seconds"] for r in run.log["rounds"]]
        rows.append({"nodes": n, "split": split, "round_seconds": seconds, "run_seconds": run.seconds,
                     "peak_rss": run.peak_rss, "peak_pss": run.peak_pss, "own_before": run.own_before, **traffic(run), "note": note,
                     "accuracy": accuracy_summary(last_round(run), run.log["classes"])["mean"]})
    return rows


def sla_part(bench: Bench, models: Models, judge) -> dict:
    """The accuracy and coverage parts on ST's mobility_v1, one_class with one node per class."""
    if not MOBILITY.is_file():
        return {"skipped": f"{MOBILITY} is absent: the SLA0044 part is skipped"}
    base = bench.base
    data, notes = mobility_data(MOBILITY, base["data"]["window"], base["data"]["stride"])
    nodes = len(MOBILITY_CLASSES)
    notes.append("split one_class with one node per class: walking and biking keep one training recording each "
                 "once one is held out, so no split can give those classes to more than one node")
    rows = accuracy_part(bench, models, "st_mobility", ("one_class",), bench.settings.sla_modes, data, nodes)
    cover = coverage_part(bench, models, judge, "st_mobility", ("one_class",), data, nodes) if "relay" in bench.settings.sla_modes else []
    return {"data": data, "notes": notes, "accuracy": rows, "coverage": cover}


# ---- report ------------------------------------------------------------------------------
def table(header: list[str], rows: list[list[str]]) -> str:
    """A Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows])


def num(value: Optional[float], digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def kib(value: Optional[float]) -> str:
    return "n/a" if value is None else f"{value / 1024:,.1f}"


def accuracy_table(rows: list[dict]) -> str:
    classes = list(rows[0]["per_class"])
    body = [[r["split"], r["method"], num(r["mean"]), num(r["min"]), num(r["max"]),
             *[num(r["per_class"].get(c)) for c in classes], kib(r.get("bytes_up"))] for r in rows]
    return table(["split", "method", "mean", "min", "max", *classes, "KiB sent / node / round"], body)


def coverage_table(entries: list[dict]) -> str:
    """Per split and class: the judge on real held-out windows, on nodes' own classes, on classes they never held."""
    body = []
    for e in entries:
        for c, real in e["real_test"].items():
            own = [n[c]["recognised"] for n in e["nodes"].values() if n[c]["held"] and n[c]["recognised"] is not None]
            other = [n[c]["recognised"] for n in e["nodes"].values() if not n[c]["held"] and n[c]["recognised"] is not None]
            body.append([e["split"], c, num(real), _spread(own), _spread(other)])
    return table(["split", "class", "real held-out", "generated by nodes holding the class",
                  "generated by nodes that never held it"], body)


def _spread(values: list[float]) -> str:
    if not values:
        return "n/a"
    return f"{np.mean(values):.3f} ({min(values):.2f}-{max(values):.2f}, n={len(values)})"


def wire_table(rows: list[dict]) -> str:
    reference = next((r["mean"] for r in rows if r["wire"] == "float32"), None)
    body = [[r["wire"], kib(r["bytes_up"]), kib(r["bytes_down_last_round"]), num(r["mean"]),
             num(None if reference is None or r["mean"] is None else r["mean"] - reference, 3), num(r["min"])] for r in rows]
    return table(["wire format", "KiB sent / node / round", "KiB received / node (last round)", "accuracy mean",
                  "vs float32", "accuracy min"], body)


def scale_table(rows: list[dict]) -> str:
    body = [[str(r["nodes"]), r["split"], *[f"{s:.1f}" for s in r["round_seconds"][:2]],
             f"{r['round_seconds'][-1] / r['nodes']:.1f}", f"{r['peak_pss'] / MIB:,.0f}", f"{r['peak_rss'] / MIB:,.0f}",
             f"{r['own_before'] / MIB:,.0f}",
             kib(r["bytes_up"]), kib(r["bytes_down_last_round"])] for r in rows]
    return table(["nodes", "split", "round 1 s", "round 2 s", "last round s / node", "peak PSS MiB", "peak RSS MiB",
                  "of which this process before the run (PSS MiB)",
                  "KiB sent / node / round", "KiB received / node (last round)"], body)


def report(results: dict) -> str:
    s = results["settings"]
    out = [f"# GAN-sharing benchmark{' (--quick: smoke settings, numbers meaningless)' if s['quick'] else ''}", "",
           f"command: `{results['command']}`  ",
           f"configs/share.json sha256 {results['config_hash']}, seed {results['seed']}; every variant is in "
           f"{results['out']}/configs/  ",
           f"accuracy/wire/sla runs: {s['rounds']} rounds, {s['gan_epochs_per_round']} GAN epoch(s) of "
           f"{s['steps_per_epoch']} generator steps per round, {s['classifier_epochs']} classifier epochs per round, "
           f"{s['generated_per_class']} generated windows per class, {s['nodes']} nodes, {results['parallel']} node(s) "
           f"played at once; scale runs: {s['scale_rounds']} rounds of {s['scale_steps_per_epoch']} generator steps, "
           f"one node at a time", ""]
    if "accuracy" in results:
        out += ["## Held-out accuracy per node after the last round (ST BSD-3 recordings)", "",
                "Mean/min/max over nodes; class columns: mean over nodes. Held-out: data.test_groups "
                "(recordings of every class that no node trains on).", "", accuracy_table(results["accuracy"]), ""]
    if "coverage" in results:
        out += [f"## Mode coverage: ST's BSD-3 classifier on {s['coverage_per_class']} generated windows per class "
                "and node (relay, final generators)", "", "Share recognised as the requested class: mean "
                "over nodes (min-max, number of nodes).", "", coverage_table(results["coverage"]), ""]
    if "wire" in results:
        out += [f"## Wire formats (relay, split {s['wire_split']})", "", wire_table(results["wire"]), ""]
    if "scale" in results:
        out += ["## Scale (relay)", "", "Peak memory: this process and all its children (Ray and its workers); "
                "PSS shares shared pages out, RSS counts them per process.", "", scale_table(results["scale"]), ""]
        out += [f"- {r['nodes']} nodes: {r['note']}" for r in results["scale"] if r["note"]] + [""]
    if "sla" in results:
        out += _sla_lines(results["sla"])
    missed = results.get("incomplete_rounds") or ["none"]
    out += [f"rounds that some node missed: {'; '.join(missed)}  ", f"runtime {results['runtime_s'] / 60:.1f} min"]
    return "\n".join(out) + "\n"


def _sla_lines(sla: dict) -> list[str]:
    if "skipped" in sla:
        return ["## ST mobility_v1 (SLA0044)", "", sla["skipped"], ""]
    lines = ["## ST mobility_v1 (SLA0044, read from ../shared/data)", "",
             f"held out: {', '.join(sla['data']['test_groups'])}", ""]
    lines += [f"- {note}" for note in sla["notes"]] + ["", accuracy_table(sla["accuracy"]), ""]
    if sla["coverage"]:
        lines += ["Coverage (ST's BSD-3 classifier; it knows stationary, walking and running = jogging, not biking):", "",
                  coverage_table(sla["coverage"]), ""]
    return lines


# ---- main --------------------------------------------------------------------------------
def main() -> None:
    args = _parse()
    settings = QUICK if args.quick else FULL
    if args.splits:
        settings = replace(settings, splits=tuple(args.splits.split(",")))
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    bench = Bench(settings, out, args.parallel)
    results = {"command": shlex.join(["python", *sys.argv]), "config_hash": file_hash(BASE_CONFIG),
               "seed": bench.base["seed"], "out": str(args.out), "parallel": args.parallel,
               "settings": {**asdict(settings), "quick": args.quick}}
    print(f"command: {results['command']}\nconfigs/share.json sha256 {results['config_hash']}", flush=True)
    _run_parts(bench, args.parts, results, out)
    text = report(results)
    (out / "report.md").write_text(text)
    print(text, flush=True)


def _run_parts(bench: Bench, parts: list[str], results: dict, out: Path) -> None:
    """Run the chosen parts in order, saving results.json after each (a late failure keeps the rest)."""
    from synth.classify.classifiers import StBsd3Classifier

    models, judge, s = Models(), StBsd3Classifier(), bench.settings
    steps = {
        "accuracy": lambda: accuracy_part(bench, models, "st_har", s.splits, s.modes),
        "coverage": lambda: coverage_part(bench, models, judge, "st_har", s.splits),
        "wire": lambda: wire_part(bench),
        "scale": lambda: scale_part(bench),
        "sla": lambda: sla_part(bench, models, judge),
    }
    for part in PARTS:
        if part in parts:
            bench.say(f"part {part}")
            results[part] = steps[part]()
            results["runtime_s"] = time.perf_counter() - bench.started
            results["incomplete_rounds"] = bench.incomplete
            (out / "results.json").write_text(json.dumps(results, indent=2, default=str) + "\n")


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny settings for a smoke run")
    parser.add_argument("--out", type=Path, default=Path("runs/bench_share"), help="output folder (runs are replaced)")
    parser.add_argument("--parts", type=lambda v: v.split(","), default=list(PARTS),
                        help=f"comma-separated subset of {','.join(PARTS)}")
    parser.add_argument("--splits", default=None, help="splits of the accuracy and coverage parts "
                        "(default by_recording,one_class; by_class is also allowed)")
    parser.add_argument("--parallel", type=int, default=2, help="nodes played at once in the accuracy/wire/sla runs")
    args = parser.parse_args()
    unknown = [p for p in args.parts if p not in PARTS]
    if unknown:
        parser.error(f"unknown part {unknown[0]!r} (allowed: {', '.join(PARTS)})")
    return args


if __name__ == "__main__":
    main()
