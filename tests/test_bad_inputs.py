"""Bad input across every command, as a table: exit code 2, one error line, no traceback, nothing left behind.

Each case builds its inputs in a fresh folder, runs ``synth ...`` in-process (the entry point
``synth.cli.main``, so TensorFlow loads once for the whole table), and then checks the exit code,
that stderr holds exactly one error line and no traceback, and that the folder holds exactly the
files it held before the command ran.
"""

from __future__ import annotations

import json
import shutil
import socket
import sys
import threading
from pathlib import Path
from typing import Callable

import numpy as np
import pytest

from synth import cli
from synth.stream.commands import DISCONNECTED
from synth.core.npz import save_npz

ROOT = Path(__file__).resolve().parents[1]
GENERATOR = ROOT / "synth" / "assets" / "generators" / "st_har_lsm6dsl_4g_finetuned"
CLASSIFIER_FOLDER = ROOT / "synth" / "assets" / "classifiers" / "st_har_ign_wl48"
REAL_CONFIG = ROOT / "configs" / "train_st_har_lsm6dsl_4g.json"


# --- inputs ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def assets(tmp_path_factory) -> dict[str, Path]:
    """Good inputs the bad ones are made from: a small dataset, a tiny float .tflite model and the same
    model in int8 with a float interface."""
    from synth.core.config import parse_config
    from synth.gan.generate import generate_dataset

    folder = tmp_path_factory.mktemp("assets")
    config = parse_config({"seed": 0, "generate": {"generator": str(GENERATOR), "windows_per_class": 4, "csv": False}})
    generate_dataset(config, folder / "dataset")
    float_tflite, int8_tflite = _tiny_tflite(folder / "float.tflite", folder / "int8.tflite")
    return {"dataset": folder / "dataset", "float_tflite": float_tflite, "int8_tflite": int8_tflite}


def _tiny_tflite(float_path: Path, int8_path: Path) -> tuple[Path, Path]:
    import keras
    import tensorflow as tf

    from synth.export.quantize import quantize_to_int8

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((26, 3, 1)), keras.layers.Flatten(), keras.layers.Dense(4)])
    float_path.write_bytes(tf.lite.TFLiteConverter.from_keras_model(model).convert())
    samples = np.random.default_rng(0).uniform(-1, 1, (32, 26, 3, 1)).astype(np.float32)
    int8_path.write_bytes(quantize_to_int8(model, samples, max_samples=32, float_interface=True))
    return float_path, int8_path


def _bytes(n: int) -> bytes:
    return np.random.default_rng(n).integers(0, 256, n, dtype=np.uint8).tobytes()


# A kind of bad file: how to make it at a path (None: leave the path absent).
FILE_KINDS: dict[str, Callable[[Path], None] | None] = {
    "missing": None,
    "folder": lambda p: p.mkdir(parents=True),
    "empty": lambda p: p.write_bytes(b""),
    "random bytes": lambda p: p.write_bytes(_bytes(3000)),
    "unicode text": lambda p: p.write_text("données ünïcode, not what was asked for\n", encoding="utf-8"),
}

CONFIG_TEXTS = {
    "not JSON": "{ this is not json",
    "a JSON array": "[1, 2, 3]",
    "an unknown section": json.dumps({"seed": 0, "no_such_section": {}}),
    "a negative seed": json.dumps({"seed": -1}),
    "a huge seed": json.dumps({"seed": 2**70}),
    "a text seed": json.dumps({"seed": "zero"}),
}


def make_file(path: Path, kind: str) -> Path:
    """``path`` made into a bad file of ``kind`` (FILE_KINDS or CONFIG_TEXTS)."""
    if kind in CONFIG_TEXTS:
        path.write_text(CONFIG_TEXTS[kind])
    elif FILE_KINDS[kind] is not None:
        FILE_KINDS[kind](path)
    return path


def truncated_copy(source: Path, target: Path, keep: float = 0.5) -> Path:
    data = source.read_bytes()
    target.write_bytes(data[: int(len(data) * keep)])
    return target


def generator_copy(folder: Path, damage: str) -> Path:
    """The shipped generator copied to ``folder`` with one part damaged."""
    shutil.copytree(GENERATOR, folder, ignore=shutil.ignore_patterns("*.png", "*.csv", "*.md"))
    weights, meta = folder / "generator.weights.npz", folder / "generator.json"
    if damage == "truncated weights":
        truncated_copy(weights, weights)
    elif damage == "random weights":
        weights.write_bytes(_bytes(5000))
    elif damage == "no weights":
        weights.unlink()
    elif damage == "weights of another shape":
        save_npz(weights, {"a": np.zeros((3, 3), np.float32)})
    elif damage == "broken metadata":
        meta.write_text("{\"classes\": ")
    elif damage == "metadata of another kind":
        meta.write_text(json.dumps({"kind": "autoencoder"}))
    return folder


GENERATOR_DAMAGES = ("truncated weights", "random weights", "no weights", "weights of another shape",
                     "broken metadata", "metadata of another kind")


def dataset_copy(assets: dict, folder: Path, damage: str) -> Path:
    """A generated dataset folder with its dataset.npz damaged."""
    shutil.copytree(assets["dataset"], folder)
    npz = folder / "dataset.npz"
    if damage == "no dataset.npz":
        npz.unlink()
    elif damage == "truncated":
        truncated_copy(npz, npz)
    elif damage == "empty file":
        npz.write_bytes(b"")
    elif damage == "random bytes":
        npz.write_bytes(_bytes(4000))
    elif damage == "no arrays":
        save_npz(npz, {})
    elif damage == "another artefact":
        shutil.copy(GENERATOR / "generator.weights.npz", npz)
    elif damage == "labels out of range":
        arrays = dict(np.load(npz))
        arrays["y"] = arrays["y"] + 7
        save_npz(npz, arrays)
    return folder


DATASET_DAMAGES = ("no dataset.npz", "truncated", "empty file", "random bytes", "no arrays", "another artefact",
                   "labels out of range")


def tflite_file(assets: dict, path: Path, kind: str) -> Path:
    """A bad .tflite at ``path``: FILE_KINDS, truncated, a float model, or an .npz renamed."""
    if kind == "truncated":
        return truncated_copy(assets["float_tflite"], path, 0.6)
    if kind == "header only":
        path.write_bytes(assets["float_tflite"].read_bytes()[:8] + _bytes(500))
        return path
    if kind == "an .npz renamed":
        shutil.copy(GENERATOR / "generator.weights.npz", path)
        return path
    return make_file(path, kind)


TFLITE_KINDS = ("missing", "folder", "empty", "random bytes", "truncated", "header only", "an .npz renamed")


# --- the table ---------------------------------------------------------------------------------

# command line -> Case(build, args): build(folder, assets) makes inputs and returns the arguments
CONFIG_COMMANDS = {
    "train": lambda c: ["train", "--config", c],
    "generate": lambda c: ["generate", "--config", c, "--out", "out"],
    "evaluate --real": lambda c: ["evaluate", "--real", c, "--synthetic", "{dataset}", "--out", "out"],
    "train-classifier": lambda c: ["train-classifier", "--config", c],
    "train-autoencoder": lambda c: ["train-autoencoder", "--config", c],
    "finetune": lambda c: ["finetune", "--config", c],
    "share simulate": lambda c: ["share", "simulate", "--config", c, "--out", "out"],
    "anomaly train": lambda c: ["anomaly", "train", "--config", c, "--out", "out"],
    "anomaly federate": lambda c: ["anomaly", "federate", "--config", c, "--out", "out"],
    "anomaly compare": lambda c: ["anomaly", "compare", "--config", c, "--out", "out"],
    "anomaly evaluate": lambda c: ["anomaly", "evaluate", "--config", c, "--detector", "out", "--out", "report"],
    "export --config": lambda c: ["export", "--model", "generator", "--target", "stm32", "--source", str(GENERATOR),
                                  "--config", c, "--out", "out"],
}
CONFIG_KINDS = ("missing", "folder", "empty", "random bytes", "unicode text", *CONFIG_TEXTS)


def config_cases():
    for command, args in CONFIG_COMMANDS.items():
        for kind in CONFIG_KINDS:
            yield pytest.param(lambda folder, assets, a=args, k=kind: a(str(make_file(folder / "config.json", k))),
                               id=f"{command}: config {kind}")


def generate_config(folder: Path, **generate) -> list[str]:
    settings = {"generator": str(GENERATOR), "windows_per_class": 4} | generate
    (folder / "config.json").write_text(json.dumps({"seed": 0, "generate": settings}))
    return ["generate", "--config", "config.json", "--out", "out"]


GENERATE_SETTINGS = {
    "windows_per_class 0": {"windows_per_class": 0},
    "windows_per_class -1": {"windows_per_class": -1},
    "windows_per_class 1.5": {"windows_per_class": 1.5},
    "windows_per_class text": {"windows_per_class": "many"},
    "windows_per_class 10^9": {"windows_per_class": 10**9},
    "total 10^12": {"windows_per_class": None, "total": 10**12},
    "both counts": {"total": 10},
    "neither count": {"windows_per_class": None},
    "an unknown profile": {"profile": "lsm9000_4g"},
    "an unknown class": {"classes": ["swimming"]},
    "a class ratio of an unknown class": {"windows_per_class": None, "total": 10, "class_ratios": {"swimming": 1.0}},
    "batch_size 0": {"batch_size": 0},
    "a generator that does not exist": {"generator": "no/such/generator"},
    "a filter that does not exist": {"filter": "no/such/autoencoder"},
    "a classifier folder as generator": {"generator": str(CLASSIFIER_FOLDER)},
}


def generate_cases():
    for name, settings in GENERATE_SETTINGS.items():
        yield pytest.param(lambda folder, assets, s=settings: generate_config(folder, **s), id=f"generate: {name}")
    for damage in GENERATOR_DAMAGES:
        yield pytest.param(lambda folder, assets, d=damage: generate_config(folder, generator=str(generator_copy(folder / "gen", d))),
                           id=f"generate: generator with {damage}")
        yield pytest.param(lambda folder, assets, d=damage: ["export", "--model", "generator", "--target", "stm32", "--source",
                                                             str(generator_copy(folder / "gen", d)), "--out", "out"],
                           id=f"export: generator with {damage}")
        yield pytest.param(lambda folder, assets, d=damage: stream_ten("--source", "synthetic", "--generator",
                                                                        str(generator_copy(folder / "gen", d))),
                           id=f"stream: generator with {damage}")


def stream_ten(*args: str) -> list[str]:
    """``synth stream`` of 10 samples to loop://, with ``args``."""
    return ["stream", "--port", "loop://", "--samples", "10", *args]


def dataset_cases():
    for damage in DATASET_DAMAGES:
        yield pytest.param(lambda folder, assets, d=damage: ["evaluate", "--real", str(REAL_CONFIG), "--synthetic",
                                                             str(dataset_copy(assets, folder / "d", d)), "--out", "out"],
                           id=f"evaluate: dataset {damage}")
        yield pytest.param(lambda folder, assets, d=damage: stream_ten("--source", "file", "--input",
                                                                        str(dataset_copy(assets, folder / "d", d))),
                           id=f"stream: dataset {damage}")
        yield pytest.param(lambda folder, assets, d=damage: validate("--data", str(dataset_copy(assets, folder / "d", d)))(assets),
                           id=f"validate: dataset {damage}")
    for kind in ("missing", "empty", "random bytes", "unicode text"):
        for suffix in ("csv", "npz"):
            yield pytest.param(lambda folder, assets, k=kind, x=suffix: stream_ten("--source", "file", "--input",
                                                                                   str(make_file(folder / f"capture.{x}", k))),
                               id=f"stream: capture .{suffix} {kind}")


def tflite_cases():
    for kind in TFLITE_KINDS:
        yield pytest.param(lambda folder, assets, k=kind: ["export-c", "--tflite", str(tflite_file(assets, folder / "m.tflite", k)),
                                                           "--out", "out", "--runtime", "standalone"],
                           id=f"export-c: model {kind}")
        yield pytest.param(lambda folder, assets, k=kind: ["evaluate", "--real", str(REAL_CONFIG), "--synthetic", str(assets["dataset"]),
                                                           "--out", "out", "--classifier", str(tflite_file(assets, folder / "m.tflite", k))],
                           id=f"evaluate: classifier {kind}")
        yield pytest.param(lambda folder, assets, k=kind: ["validate", "--tflite", str(tflite_file(assets, folder / "m.tflite", k)),
                                                           "--out", "out"], id=f"validate: model {kind}")
    yield pytest.param(lambda folder, assets: ["validate", "--tflite", str(assets["float_tflite"]), "--out", "out"],
                       id="validate: a float model")
    yield pytest.param(lambda folder, assets: ["export-c", "--tflite", str(assets["float_tflite"]), "--out", "out", "--runtime", "tflm"],
                       id="export-c: a float model for tflm")
    for kind, text in (("missing", None), ("not JSON", "{"), ("a JSON array", "[]"),
                       ("another model's", json.dumps({"model_sha256": "0" * 64, "arena_bytes": 4096}))):
        def build(folder, assets, text=text):
            if text is not None:
                (folder / "manifest.json").write_text(text)
            return ["export-c", "--tflite", str(assets["float_tflite"]), "--out", "out", "--manifest", "manifest.json"]
        yield pytest.param(build, id=f"export-c: manifest {kind}")

        def build_validate(folder, assets, text=text):
            if text is not None:
                (folder / "manifest.json").write_text(text)
            return validate("--manifest", "manifest.json")(assets)
        yield pytest.param(build_validate, id=f"validate: manifest {kind}")
    for name in ("1starts_with_a_digit", "has-dash", "spaces in it", ""):
        yield pytest.param(lambda folder, assets, n=name: ["export-c", "--tflite", str(assets["float_tflite"]), "--out", "out",
                                                           "--runtime", "standalone", "--name", n], id=f"export-c: name {name!r}")
    yield pytest.param(lambda folder, assets: ["export-c", "--tflite", str(assets["float_tflite"]), "--out", "out", "--runtime", "cmsis"],
                       id="export-c: an unknown runtime")


def validate(*extra: str) -> Callable[[dict], list[str]]:
    """The arguments of ``synth validate`` of the tiny int8 model on the host, plus ``extra``."""
    return lambda assets: ["validate", "--tflite", str(assets["int8_tflite"]), "--out", "out", *extra]


def _dataset_args(assets):
    return ["--source", "file", "--input", str(assets["dataset"])]


NUMBER_CASES = {
    "generate --seed -1": lambda a: ["generate", "--config", "c.json", "--out", "out", "--seed", "-1"],
    "generate --seed 2**70": lambda a: ["generate", "--config", "c.json", "--out", "out", "--seed", str(2**70)],
    "generate --seed 1.5": lambda a: ["generate", "--config", "c.json", "--out", "out", "--seed", "1.5"],
    "generate --seed text": lambda a: ["generate", "--config", "c.json", "--out", "out", "--seed", "x"],
    "evaluate --seed -1": lambda a: ["evaluate", "--real", str(REAL_CONFIG), "--synthetic", str(a["dataset"]), "--out", "o", "--seed", "-1"],
    "evaluate --folds 1": lambda a: ["evaluate", "--real", str(REAL_CONFIG), "--synthetic", str(a["dataset"]), "--out", "o", "--folds", "1"],
    "evaluate --seed 2**40": lambda a: ["evaluate", "--real", str(REAL_CONFIG), "--synthetic", str(a["dataset"]), "--out", "o", "--seed", str(2**40)],
    "evaluate --steps 0": lambda a: ["evaluate", "--real", str(REAL_CONFIG), "--synthetic", str(a["dataset"]), "--out", "o", "--steps", "0"],
    "evaluate --steps -5": lambda a: ["evaluate", "--real", str(REAL_CONFIG), "--synthetic", str(a["dataset"]), "--out", "o", "--steps", "-5"],
    "evaluate --steps 2.5": lambda a: ["evaluate", "--real", str(REAL_CONFIG), "--synthetic", str(a["dataset"]), "--out", "o", "--steps", "2.5"],
    "export --seed -1": lambda a: ["export", "--model", "generator", "--target", "stm32", "--source", str(GENERATOR), "--out", "o", "--seed", "-1"],
    "export --model unknown": lambda a: ["export", "--model", "gan", "--target", "stm32", "--source", str(GENERATOR), "--out", "o"],
    "export --target unknown": lambda a: ["export", "--model", "generator", "--target", "esp32", "--source", str(GENERATOR), "--out", "o"],
    "export --source missing": lambda a: ["export", "--model", "generator", "--target", "stm32", "--source", "nothing", "--out", "o"],
    "stream --seed -1": lambda a: ["stream", "--port", "loop://", *_dataset_args(a), "--seed", "-1"],
    "stream --seconds -1": lambda a: ["stream", "--port", "loop://", *_dataset_args(a), "--seconds", "-1"],
    "stream --seconds 0": lambda a: ["stream", "--port", "loop://", *_dataset_args(a), "--seconds", "0"],
    "stream --seconds nan": lambda a: ["stream", "--port", "loop://", *_dataset_args(a), "--seconds", "nan"],
    "stream --seconds inf": lambda a: ["stream", "--port", "loop://", *_dataset_args(a), "--seconds", "inf"],
    "stream --samples 0": lambda a: ["stream", "--port", "loop://", *_dataset_args(a), "--samples", "0"],
    "stream --samples -3": lambda a: ["stream", "--port", "loop://", *_dataset_args(a), "--samples", "-3"],
    "stream --samples 1.5": lambda a: ["stream", "--port", "loop://", *_dataset_args(a), "--samples", "1.5"],
    "stream --seconds and --samples": lambda a: ["stream", "--port", "loop://", *_dataset_args(a), "--samples", "5", "--seconds", "1"],
    "stream --baud 0": lambda a: ["stream", "--port", "loop://", *_dataset_args(a), "--baud", "0"],
    "stream --baud -9600": lambda a: ["stream", "--port", "loop://", *_dataset_args(a), "--baud", "-9600"],
    "stream --speed 0": lambda a: ["stream", "--port", "loop://", *_dataset_args(a), "--speed", "0"],
    "stream --speed -2": lambda a: ["stream", "--port", "loop://", *_dataset_args(a), "--speed", "-2"],
    "stream --source unknown": lambda a: ["stream", "--port", "loop://", "--source", "radio"],
    "stream --format unknown": lambda a: ["stream", "--port", "loop://", *_dataset_args(a), "--format", "xml"],
    "stream --units unknown": lambda a: ["stream", "--port", "loop://", *_dataset_args(a), "--units", "furlongs"],
    "stream --profile unknown": lambda a: ["stream", "--port", "loop://", *_dataset_args(a), "--profile", "lsm9000"],
    "stream --class unknown": lambda a: ["stream", "--port", "loop://", *_dataset_args(a), "--class", "swimming"],
    "stream a port that does not exist": lambda a: ["stream", "--port", "/dev/ttyNOSUCHPORT", *_dataset_args(a)],
    "stream a socket nobody listens on": lambda a: ["stream", "--port", "socket://127.0.0.1:9", "--source", "live", "--seconds", "1"],
    "stream --record without live": lambda a: ["stream", "--port", "loop://", *_dataset_args(a), "--record", "rec.csv"],
    "stream --source file without --input": lambda a: ["stream", "--port", "loop://", "--source", "file"],
    "stream --source synthetic without --generator": lambda a: ["stream", "--port", "loop://", "--source", "synthetic"],
    "share keys --nodes -1": lambda a: ["share", "keys", "--out", "keys", "--nodes", "-1"],
    "share keys --nodes text": lambda a: ["share", "keys", "--out", "keys", "--nodes", "x"],
    "anomaly federate --nodes 0": lambda a: ["anomaly", "federate", "--config", "c.json", "--nodes", "0"],
    "anomaly federate --nodes -2": lambda a: ["anomaly", "federate", "--config", "c.json", "--nodes", "-2"],
    "share simulate --nodes 0": lambda a: ["share", "simulate", "--config", "c.json", "--nodes", "0"],
    "data fetch an unknown data set": lambda a: ["data", "fetch", "mnist", "--dest", "data"],
    "data fetch an unreachable address": lambda a: ["data", "fetch", "hapt", "--dest", "data", "--url", "http://127.0.0.1:9/hapt.zip"],
    "data fetch a URL that is not HTTP": lambda a: ["data", "fetch", "hapt", "--dest", "data", "--url", "ftp://example/hapt.zip"],
    "validate --random 0": validate("--random", "0"),
    "validate --random -4": validate("--random", "-4"),
    "validate --random 10**9": validate("--random", str(10**9)),
    "validate --windows 0": validate("--data", "{dataset}", "--windows", "0"),
    "validate --windows 2.5": validate("--data", "{dataset}", "--windows", "2.5"),
    "validate --seed -1": validate("--seed", "-1"),
    "validate --target unknown": validate("--target", "esp32"),
    "validate --data a folder without a dataset": validate("--data", "empty_dir"),
    "anomaly score a detector that does not exist": lambda a: ["anomaly", "score", "--detector", "nothing", "--input", "rows.csv"],
    "anomaly score an empty detector folder": lambda a: ["anomaly", "score", "--detector", "empty_dir", "--input", "rows.csv"],
}


def _number_case(build):
    def case(folder, assets):
        (folder / "c.json").write_text(json.dumps({"seed": 0, "generate": {"generator": str(GENERATOR), "windows_per_class": 4}}))
        (folder / "empty_dir").mkdir()
        (folder / "rows.csv").write_text("a,b\n1,2\n")
        return build(assets)
    return case


def number_cases():
    for name, build in NUMBER_CASES.items():
        yield pytest.param(_number_case(build), id=name)


def output_cases():
    """Outputs that cannot be written: an existing file, a non-empty folder, a path under a file."""
    commands = {
        "generate": lambda a, out: generate_config(a["folder"]) [:-1] + [out],
        "evaluate": lambda a, out: ["evaluate", "--real", str(REAL_CONFIG), "--synthetic", str(a["dataset"]), "--out", out],
        "export": lambda a, out: ["export", "--model", "generator", "--target", "stm32", "--source", str(GENERATOR), "--out", out],
        "export-c": lambda a, out: ["export-c", "--tflite", str(a["float_tflite"]), "--out", out, "--runtime", "standalone"],
        "validate": lambda a, out: ["validate", "--tflite", str(a["int8_tflite"]), "--out", out],
        "share keys": lambda a, out: ["share", "keys", "--out", out, "--nodes", "2"],
        "data fetch": lambda a, out: ["data", "fetch", "hapt", "--dest", out, "--url", "http://127.0.0.1:9/hapt.zip"],
    }
    makers = {
        "an existing file": lambda folder: (folder / "taken").write_text("keep") and "taken",
        "a non-empty folder": lambda folder: ((folder / "taken").mkdir(), (folder / "taken" / "keep.txt").write_text("keep")) and "taken",
        "a path under a file": lambda folder: (folder / "plain").write_text("keep") and "plain/inside",
    }
    for command, build in commands.items():
        for what, make in makers.items():
            if command in ("data fetch", "share keys") and what == "a non-empty folder":
                continue  # both add to a folder by design: other data sets, the cluster's existing keys
            yield pytest.param(lambda folder, assets, b=build, m=make: b({**assets, "folder": folder}, m(folder)),
                               id=f"{command}: --out {what}")
    yield pytest.param(lambda folder, assets: (folder / "taken").mkdir() or
                       ["anomaly", "score", "--detector", "nothing", "--input", "rows.csv", "--out", "taken"],
                       id="anomaly score: --out a folder")


CASES = [*config_cases(), *generate_cases(), *dataset_cases(), *tflite_cases(), *number_cases(), *output_cases()]


# --- running one case --------------------------------------------------------------------------


def snapshot(folder: Path) -> dict[str, bytes | None]:
    """Every path under ``folder`` with its bytes (None for folders)."""
    return {str(p.relative_to(folder)): (None if p.is_dir() else p.read_bytes()) for p in sorted(folder.rglob("*"))}


def run_synth(args: list[str], folder: Path, capsys, monkeypatch) -> tuple[int, str]:
    """(exit code, stderr) of ``synth *args`` run in-process in ``folder``."""
    monkeypatch.chdir(folder)
    monkeypatch.setattr(sys, "argv", ["synth", *args])
    capsys.readouterr()
    with pytest.raises(SystemExit) as done:
        cli.main()
    return done.value.code, capsys.readouterr().err


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith(("error:", "Error:"))]


def test_the_table_is_large_enough():
    assert len(CASES) >= 150
    assert len({case.id for case in CASES}) == len(CASES)


@pytest.mark.parametrize("build", CASES)
def test_bad_input_is_one_line_exit_2_and_leaves_nothing(build, assets, tmp_path, capsys, monkeypatch):
    folder = tmp_path / "work dir ü"  # spaces and unicode in every path
    folder.mkdir()
    args = [a.replace("{dataset}", str(assets["dataset"])) for a in build(folder, assets)]
    before = snapshot(folder)
    code, stderr = run_synth(args, folder, capsys, monkeypatch)
    assert code == 2, stderr
    assert "Traceback" not in stderr
    assert len(error_lines(stderr)) == 1, stderr
    if stderr.startswith("error:"):  # synth's own errors: the one line is all there is
        assert len(stderr.strip().splitlines()) == 1, stderr
    assert snapshot(folder) == before


def test_a_live_link_that_drops_for_good_ends_with_the_summary(tmp_path, capsys, monkeypatch):
    """A peer that sends a little and then goes away (the USB-unplug case): no traceback, the summary, the
    recording, and the exit code that says the link was lost."""
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]

    def serve_once():
        connection, _ = server.accept()
        connection.sendall(b"100,200,1000\n" * 20)
        connection.close()
        server.close()

    threading.Thread(target=serve_once, daemon=True).start()
    args = ["stream", "--port", f"socket://127.0.0.1:{port}", "--source", "live", "--seconds", "2", "--record", "capture.csv"]
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["synth", *args])
    with pytest.raises(SystemExit) as done:
        cli.main()
    printed = capsys.readouterr()
    assert done.value.code == DISCONNECTED, printed.err
    assert "Traceback" not in printed.err and "stopped by disconnect" in printed.out
    assert (tmp_path / "capture.csv").is_file() and (tmp_path / "capture.npz").is_file()


def test_unicode_and_spaces_in_paths_work(tmp_path, capsys, monkeypatch):
    folder = tmp_path / "données d'essai"
    folder.mkdir()
    generate_config(folder)
    code, stderr = run_synth(["generate", "--config", "config.json", "--out", "jeu de données ü"], folder, capsys, monkeypatch)
    assert code == 0, stderr
    assert (folder / "jeu de données ü" / "dataset.npz").is_file()
