"""synth export of ``synth anomaly`` detectors (features and windows) and their C: the manifest,
the standalone C equal to tflite-micro, ``NAME_is_anomaly`` equal to the Python mirror on every
held-out row (standalone and TFLM flavours), and the Cortex-M4 build on QEMU. Tiny detectors.

The window detector flags by its fault rule (its errors, motion levels and fault statistics are
compared bit for bit too); two more manifests of its model exercise the rule: one without it (as
written before rules existed: the error against the threshold decides) and one whose thresholds
sit on held-out rows' own statistics, so that every statistic fires on some rows and not others."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from synth.export import c_build
from synth.export.standalone import environment
from test_export_c import ARM_TOOLS, _random_inputs

pytest.importorskip("tflite_micro")
pytest.importorskip("ai_edge_litert")

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = {
    "features": {"seed": 1, "anomaly": {"source": "shuttle", "epochs": 2, "hidden": [6, 4, 3], "batch_size": 256}},
    "windows": {"seed": 2, "profile": "lsm6dsl_4g", "data": {"source": "st_har", "path": "builtin", "window": 24, "stride": 24},
                "anomaly": {"source": "windows", "epochs": 1, "filters": 4, "latent": 8}},
}
KINDS = tuple(CONFIGS)
RULE_VARIANTS = ("windows_no_rule", "windows_hand_rule")  # manifests of the window detector's model (see above)
HAND_QUANTILE = 0.9  # the hand rule's thresholds: this quantile of each statistic at each motion level
HAND_MIN_ROWS = 20  # of a level that stands on its own rows in the hand rule
FAULTS = ("flat_surprise", "rail_share", "low_magnitude", "spike_ratio", "hf_energy", "magnitude_trend", "magnitude_high")
NAME = "det"
NEEDS_GCC = pytest.mark.skipif(bool(c_build.missing_tools("gcc")), reason="gcc is not installed")


def _train(raw: dict, folder: Path) -> Path:
    """A detector folder trained on ``raw``'s rows, with the config in its JSON (as synth anomaly writes it)."""
    from synth.anomaly.dataset import load_anomaly_data
    from synth.anomaly.detector import save_detector
    from synth.anomaly.training import train_detector
    from synth.core.config import parse_config

    if raw["anomaly"]["source"] == "shuttle":
        pytest.importorskip("river")
    config = parse_config(raw)
    data = load_anomaly_data(config, ROOT)
    model, info = train_detector(data.train, data.validation, config.anomaly, config.seed, data.full_scale_g, data.rate_hz)
    return save_detector(model, {**info, "training": "centralised", "config": config.model_dump(mode="json")}, folder)


@pytest.fixture(scope="module")
def detectors(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("detectors")
    return {kind: _train(raw, folder / kind) for kind, raw in CONFIGS.items()}


@pytest.fixture(scope="module")
def sources(detectors) -> dict:
    """Each detector's DetectorSource: its raw held-out rows and their truth."""
    from synth.export.quantize import load_export_source

    return {kind: load_export_source("autoencoder", folder) for kind, folder in detectors.items()}


@pytest.fixture(scope="module")
def exports(detectors, sources, tmp_path_factory) -> dict[str, Path]:
    """Each detector exported for the STM32 (model.tflite and manifest.json), and the RULE_VARIANTS of the
    window detector's export."""
    from synth.export.bundle import export_model

    folder = tmp_path_factory.mktemp("exports")
    for kind, detector in detectors.items():
        export_model("autoencoder", detector, "stm32", folder / kind)
    windows = folder / "windows"
    anomaly = _manifest(windows)["extra"]["anomaly"]
    plain = {key: value for key, value in anomaly.items() if key != "fault_rule"}
    hand = {**plain, "fault_rule": _hand_rule(windows, sources["windows"]).to_json()}
    for variant, block in zip(RULE_VARIANTS, (plain, hand)):
        _with_anomaly_block(windows, block, folder / variant)
    return {name: folder / name for name in (*detectors, *RULE_VARIANTS)}


def _with_anomaly_block(export: Path, anomaly: dict, out: Path) -> None:
    """A copy of ``export`` whose manifest holds ``anomaly`` as its extra.anomaly block."""
    out.mkdir()
    shutil.copy(export / "model.tflite", out / "model.tflite")
    manifest = _manifest(export)
    (out / "manifest.json").write_text(json.dumps({**manifest, "extra": {**manifest["extra"], "anomaly": anomaly}}))


def _hand_rule(export: Path, source):
    """A FaultRule whose thresholds are the HAND_QUANTILE (a value of the rows, so some rows sit exactly on a
    threshold) of each statistic of the normal held-out rows at each motion level, as the device computes them;
    a level with fewer than HAND_MIN_ROWS rows takes those of the levels next to it too, one more level each side
    until there are enough (as the fault rule's neighbour-level fallback, synth.anomaly.fault_rule)."""
    from synth.anomaly.fault_rule import MOTION_EDGES_G, STATISTICS, FaultRule

    values, level = _mirror_statistics(export, source.raw_held_out[~source.anomalous], MOTION_EDGES_G)
    thresholds, count = [], len(MOTION_EDGES_G) + 1
    for each in range(count):
        low, high = each, each + 1
        while ((level >= low) & (level < high)).sum() < HAND_MIN_ROWS and (low > 0 or high < count):
            low, high = max(low - 1, 0), min(high + 1, count)
        picked = values[(level >= low) & (level < high)]
        thresholds.append(np.quantile(picked, HAND_QUANTILE, axis=0, method="higher"))
    return FaultRule(STATISTICS, MOTION_EDGES_G, np.asarray(thresholds, np.float32))


@pytest.fixture(scope="module")
def standalone(exports, tmp_path_factory) -> dict[str, Path]:
    """Each export as standalone C named NAME, with the detector's manifest."""
    from synth.export.c_export import export_c

    folder = tmp_path_factory.mktemp("standalone")
    for kind, export in exports.items():
        export_c(export / "model.tflite", folder / kind, runtime="standalone", name=NAME, manifest_path=export / "manifest.json")
    return {kind: folder / kind for kind in exports}


def _manifest(export: Path) -> dict:
    return json.loads((export / "manifest.json").read_text())


def _mirror(export: Path, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(errors, flags) of the Python mirror on tflite-micro for raw rows."""
    from synth.export.anomaly_flag import device_flags

    return device_flags((export / "model.tflite").read_bytes(), _manifest(export)["extra"]["anomaly"], rows)


def _constants(export: Path):
    """The FlagConstants of an export."""
    from synth.core.tflite_file import read_graph
    from synth.export.anomaly_flag import flag_constants

    return flag_constants(_manifest(export)["extra"]["anomaly"], read_graph((export / "model.tflite").read_bytes()))


def _rule_of(export: Path):
    """The FaultRule of an export's manifest, or None."""
    return _constants(export).rule


def _mirror_statistics(export: Path, rows: np.ndarray, motion_edges_g=None) -> tuple[np.ndarray, np.ndarray]:
    """(fault statistics (N, S) float32, motion levels (N,)) of raw windows as the mirror computes them, at
    ``motion_edges_g`` (default: the export's rule's)."""
    from synth.anomaly.fault_rule import statistics
    from synth.export.anomaly_flag import prepare_rows

    constants = _constants(export)
    windows = prepare_rows(rows, constants).reshape(len(rows), *constants.row_shape)
    edges = motion_edges_g or constants.rule.motion_edges_g
    return statistics(windows, _mirror(export, rows)[0], constants.full_scale_g, edges)


def _compile(command: list) -> None:
    done = subprocess.run([str(part) for part in command], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]


def _has_rule(folder: Path) -> bool:
    """Whether the C in ``folder`` flags by a fault rule (it then declares NAME_fault_statistics)."""
    return f"{NAME}_fault_statistics" in (folder / f"{NAME}_anomaly.h").read_text()


def _record_size(folder: Path) -> int:
    """Bytes of one output record of the adapter: error and result, then the level and statistics with a rule."""
    from synth.anomaly.fault_rule import STATISTICS

    return 12 + 4 * len(STATISTICS) if _has_rule(folder) else 8


def _adapter(folder: Path) -> str:
    """Write NAME_flag.h, the test adapter that lets the generic harnesses drive NAME_is_anomaly; its name."""
    template = environment().get_template("anomaly/flag_harness.h.j2")
    (folder / f"{NAME}_flag.h").write_text(template.render(name=NAME, prefix=NAME.upper(), guard=NAME.upper(),
                                                           rule=_has_rule(folder)))
    return f"{NAME}_flag"


def _build_flag_host(folder: Path, model_folder: Path) -> Path:
    """Host build of NAME_is_anomaly in ``folder`` over the standalone model in ``model_folder``."""
    adapter = _adapter(folder)
    main = folder / "flag_main.c"
    main.write_text(environment().get_template("standalone/host_main.c.j2").render(name=adapter, prefix=adapter.upper()))
    exe = folder / "flag_host"
    _compile(["gcc", *c_build.HOST_FLAGS, f"-I{folder}", "-o", exe, main, folder / f"{NAME}_anomaly.c",
              *c_build.model_sources(model_folder, NAME)])
    return exe


def _as_bytes(rows: np.ndarray) -> np.ndarray:
    """Rows (N, ...) as float32 bytes (N, ROW_SIZE x 4) int8, the adapter's input records."""
    return np.ascontiguousarray(rows, np.float32).reshape(len(rows), -1).view(np.int8)


def _host_records(folder: Path, rows: np.ndarray, model_folder: Path | None = None) -> np.ndarray:
    """The adapter's output records of NAME_is_anomaly in ``folder`` on raw ``rows``, built and run on the host."""
    exe = _build_flag_host(folder, model_folder or folder)
    return c_build.run_host(exe, _as_bytes(rows), _record_size(folder))


def _results(records: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(errors (N,) float32, results (N,) int32) from the adapter's output records (N, 8 or more) int8."""
    records = np.ascontiguousarray(records)
    return records[:, :4].copy().view(np.float32).ravel(), records[:, 4:8].copy().view(np.int32).ravel()


def _statistics(records: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(fault statistics (N, S) float32, motion levels (N,) int32) from a rule's adapter records (N, 12 + 4 S)."""
    records = np.ascontiguousarray(records)
    return records[:, 12:].copy().view(np.float32), records[:, 8:12].copy().view(np.int32).ravel()


def _assert_equals_mirror(records: np.ndarray, export: Path, rows: np.ndarray) -> np.ndarray:
    """The C's errors and flags equal the mirror's bit for bit, and with a fault rule its motion levels and
    statistics too, on the rows without NaN (a NaN row has a NaN error, which flags it whatever the rest);
    returns the flags."""
    c_errors, c_results = _results(records)
    errors, flags = _mirror(export, rows)
    assert np.array_equal(c_results, flags.astype(np.int32)), f"{int((c_results != flags).sum())} flags differ"
    assert np.array_equal(c_errors, errors, equal_nan=True), f"max error difference {np.nanmax(np.abs(c_errors - errors))}"
    if _rule_of(export) is not None:
        finite = ~np.isnan(rows).reshape(len(rows), -1).any(axis=1)
        (c_values, c_level), (values, level) = _statistics(records[finite]), _mirror_statistics(export, rows[finite])
        assert np.array_equal(c_level, level), f"{int((c_level != level).sum())} motion levels differ"
        differ = c_values != values
        assert not differ.any(), f"statistics differ on {int(differ.any(axis=1).sum())} rows, by statistic {differ.sum(0)}"
    return flags


def _fault_rows(window: np.ndarray, full_scale_g: float) -> np.ndarray:
    """Faults made from a normal window (T, 3) g, one a row, each made to fire the statistic of FAULTS in its
    place: a stuck axis, saturation at the rails, a dropout to 0 g, a spike, a noise burst, a drifting bias, a gain;
    then a still board (every axis flat: normal, not stuck) and a window holding one NaN value."""
    t = len(window)
    rows = np.repeat(window[None].astype(np.float32), 9, axis=0)
    stuck, rails, dropout, spike, noise, drift, gain, still, nan = rows  # views: each edit changes its row
    stuck[t // 3 :, 0] = stuck[t // 3, 0]
    rails[::2, 2] = full_scale_g
    dropout[t // 2 : t // 2 + 3] = 0.0
    spike[t // 2, 1] += 1.5
    noise += np.random.default_rng(3).normal(0.0, 0.05, noise.shape).astype(np.float32)
    drift[:, 2] += np.linspace(0.0, 0.5, t, dtype=np.float32)
    gain *= np.float32(1.3)
    still[:] = np.float32([0.0, 0.0, 1.0])
    nan[t // 2, 0] = np.nan
    return rows


def _odd_rows(shape: tuple[int, ...]) -> np.ndarray:
    """Rows a sensor or a parser can produce: NaN, +-inf and huge values."""
    return np.stack([np.full(shape, np.nan), np.full(shape, np.inf), np.full(shape, -np.inf), np.full(shape, 1e30),
                     np.full(shape, -1e30)]).astype(np.float32)


@pytest.mark.parametrize("kind", KINDS)
def test_export_records_scaling_threshold_and_changed_flags(kind, exports, sources, detectors):
    from synth.export.audit import TFLM_BUILTIN_OPS, audit_ops
    from synth.core.tflite_file import read_model

    manifest, source = _manifest(exports[kind]), sources[kind]
    info = json.loads((detectors[kind] / "autoencoder.json").read_text())
    anomaly = manifest["extra"]["anomaly"]
    assert manifest["kind"] == "anomaly_detector" and manifest["labels"] == ["normal", "anomalous"]
    assert anomaly["input"] == kind and anomaly["threshold"] == info["threshold"] and anomaly["k"] == 3.0
    assert anomaly["feature_names"] == info["feature_names"] and anomaly["row_shape"] == info["row_shape"]
    assert (anomaly.get("scaling") == info.get("scaling")) and anomaly.get("full_scale_g") == info.get("full_scale_g")
    assert anomaly.get("fault_rule") == info.get("fault_rule") and ("fault_rule" in anomaly) == (kind == "windows")
    assert manifest["inputs"][0]["shape"] == [1, *info["row_shape"]] and manifest["preprocessing"]["inside_model"] is False
    tflite = (exports[kind] / "model.tflite").read_bytes()
    assert manifest["ops"] == audit_ops(read_model(tflite)) and set(manifest["ops"]) <= TFLM_BUILTIN_OPS
    flags = manifest["verification"]["flags"]
    assert flags["rows"] == len(source.raw_held_out) and 0 < source.anomalous.sum() < flags["rows"]
    assert flags["changed_share"] <= 0.01, flags  # int8 moves an error across the threshold only when it is near it
    assert abs(flags["int8"]["tpr"] - flags["float"]["tpr"]) <= 0.01 and abs(flags["int8"]["fpr"] - flags["float"]["fpr"]) <= 0.01


def test_features_are_quantised_after_scaling_over_the_whole_training_range(exports):
    """The representative data holds each extreme training row, so [0, 1] scaled fits the int8 input."""
    tensor = _manifest(exports["features"])["inputs"][0]
    low, high = ((q - tensor["zero_point"]) * tensor["scale"] for q in (-128, 127))
    assert low <= 0.0 and high == pytest.approx(1.0, abs=tensor["scale"])


@NEEDS_GCC
@pytest.mark.parametrize("kind", KINDS)
def test_standalone_c_equals_tflite_micro_on_random_and_held_out_rows(kind, exports, standalone, sources):
    from synth.export.anomaly_flag import flag_constants, prepare_rows, quantize_rows
    from synth.core.tflite_file import read_graph

    tflite = (exports[kind] / "model.tflite").read_bytes()
    graph = read_graph(tflite)
    constants = flag_constants(_manifest(exports[kind])["extra"]["anomaly"], graph)
    held = quantize_rows(prepare_rows(sources[kind].raw_held_out, constants), constants)
    _, random = _random_inputs(tflite, 300, seed=1)
    codes = np.concatenate([random, held])
    exe = c_build.build_host(standalone[kind], NAME)
    host = c_build.run_host(exe, codes, constants.row_size)
    reference = c_build.run_tflm(tflite, [codes.reshape(len(codes), *graph.tensors[graph.inputs[0]].shape)])
    assert np.array_equal(host, reference), f"{int((host != reference).sum())} int8 values differ"


@NEEDS_GCC
@pytest.mark.parametrize("kind", KINDS)
def test_is_anomaly_in_c_equals_the_python_mirror_on_every_held_out_row(kind, exports, standalone, sources, detectors):
    from synth.anomaly.detector import load_detector

    source = sources[kind]
    rows = np.concatenate([source.raw_held_out, _odd_rows(source.raw_held_out.shape[1:])])
    records = _host_records(standalone[kind], rows)
    flags = _assert_equals_mirror(records, exports[kind], rows)
    c_errors, c_results = _results(records)
    assert c_results[-5:].tolist() == [1] * 5 and np.isnan(c_errors[-5])  # NaN, +-inf and huge rows are anomalous
    float_flags = load_detector(detectors[kind]).flags(source.raw_held_out)
    assert int((float_flags != flags[: len(float_flags)]).sum()) == _manifest(exports[kind])["verification"]["flags"]["changed"]


@NEEDS_GCC
@pytest.mark.parametrize("kind, macros", [
    ("features", ("FEATURE_COUNT 9", "FEATURE_NAMES {", "FEATURE_LOW {", "FEATURE_INV_SPAN {")),
    ("windows", ("FULL_SCALE_G ", "MOTION_LEVELS 4", "MOTION_EDGES_G {", "STATISTIC_NAMES {", "FAULT_THRESHOLDS {")),
])
def test_tflm_flavour_holds_the_constants_and_flags_like_the_standalone_one(kind, macros, exports, standalone, sources,
                                                                          tmp_path):
    from synth.export.c_export import export_c

    export, out = exports[kind], tmp_path / "tflm"
    export_c(export / "model.tflite", out, runtime="tflm", name=NAME, manifest_path=export / "manifest.json")
    config = (out / f"{NAME}_config.h").read_text()
    for macro in (*macros, "THRESHOLD ", "INPUT0_SCALE ", "INPUT0_ZERO_POINT ", "OUTPUT0_SCALE ", "OUTPUT0_ZERO_POINT "):
        assert f"#define {NAME.upper()}_{macro}" in config
    assert f'#include "{NAME}_tflm.h"' in (out / f"{NAME}_anomaly.c").read_text()
    assert f"call {NAME}_init() once first" in (out / f"{NAME}_anomaly.h").read_text()
    # the TFLM glue and the standalone runtime share NAME_invoke's signature: link the TFLM flavour to the latter
    rows, model = sources[kind].raw_held_out[:2000], standalone[kind]
    assert np.array_equal(_host_records(out, rows, model), _host_records(model, rows))


def _m4_footprint(folder: Path) -> tuple[dict, dict]:
    """arm-none-eabi-size of (model + kernels, model + kernels + NAME_is_anomaly) as -Os Cortex-M4 objects."""
    model = c_build.model_footprint(folder, NAME)  # leaves NAME.m4.o and synth_kernels.m4.o next to the sources
    flag_object = folder / f"{NAME}_anomaly.m4.o"
    _compile(["arm-none-eabi-gcc", *c_build.M4_FLAGS, "-c", "-o", flag_object, folder / f"{NAME}_anomaly.c"])
    return model, c_build.arm_size(flag_object, *(Path(s).with_suffix(".m4.o") for s in c_build.model_sources(folder, NAME)))


def _run_on_qemu(folder: Path, rows: np.ndarray) -> np.ndarray:
    """The adapter's output records (N, 8) of NAME_is_anomaly on ``rows``, run on the emulated Cortex-M4."""
    adapter = _adapter(folder)
    main = folder / "qemu_main.c"
    records = [", ".join(str(int(v)) for v in row) for row in _as_bytes(rows)]
    template = environment().get_template("validation/main.c.j2")
    main.write_text(template.render(name=adapter, prefix=adapter.upper(), rows=records, count=len(rows)))
    sources = [str(main), str(c_build.VALIDATION_DIR / "text_line.c"), str(folder / f"{NAME}_anomaly.c"),
               *c_build.model_sources(folder, NAME)]
    elf = c_build.link_cortex_m4(folder / "flag.elf", sources, [folder, c_build.VALIDATION_DIR])
    code, on_qemu = c_build.run_qemu(elf, _record_size(folder))
    assert code == 0
    return on_qemu


@pytest.mark.skipif(bool(c_build.missing_tools("gcc", *ARM_TOOLS)),
                    reason=f"needs gcc and the Arm toolchain + QEMU ({', '.join(ARM_TOOLS)}); CI installs them")
@pytest.mark.parametrize("kind", (*KINDS, *RULE_VARIANTS))
def test_cortex_m4_build_fits_and_flags_like_the_host_on_qemu(kind, exports, standalone, sources, tmp_path):
    folder = tmp_path / "m4"
    shutil.copytree(standalone[kind], folder)
    model, size = _m4_footprint(folder)
    print(f"\n{kind}: Cortex-M4 -Os model + kernels + NAME_is_anomaly flash {size['flash']} B, RAM {size['ram']} B "
          f"(model + kernels alone {model['flash']} B, {model['ram']} B)")
    assert 0 < size["flash"] < 64 * 1024 and size["ram"] < 16 * 1024 and size["flash"] > model["flash"]
    source = sources["features" if kind == "features" else "windows"]
    picked = np.concatenate([np.flatnonzero(source.anomalous)[:8], np.flatnonzero(~source.anomalous)[:8]])
    rows = source.raw_held_out[picked]
    if kind != "features":
        rows = np.concatenate([rows, _fault_rows(rows[-1], float(_constants(exports[kind]).full_scale_g))])
    on_qemu = _run_on_qemu(folder, rows)
    finite = ~np.isnan(rows).reshape(len(rows), -1).any(axis=1)  # NaN bits may differ between FPUs, not their flags
    host = _host_records(folder, rows)
    assert np.array_equal(on_qemu[finite], host[finite]) and np.array_equal(_results(on_qemu)[1], _results(host)[1])
    _assert_equals_mirror(on_qemu, exports[kind], rows)


@NEEDS_GCC
@pytest.mark.parametrize("variant", RULE_VARIANTS)
def test_is_anomaly_with_and_without_a_fault_rule_equals_the_mirror_on_fault_rows(variant, exports, standalone, sources):
    from synth.anomaly.window_features import motion_level

    source, export = sources["windows"], exports[variant]
    normal = source.raw_held_out[~source.anomalous]
    quiet = normal[np.argmin(motion_level(normal))]  # where faults stand out
    faults = _fault_rows(quiet, float(_constants(export).full_scale_g))
    rows = np.concatenate([source.raw_held_out, faults, _odd_rows(normal.shape[1:])])
    records = _host_records(standalone[variant], rows)
    flags = _assert_equals_mirror(records, export, rows)
    rule = _rule_of(export)
    assert _has_rule(standalone[variant]) == (rule is not None)
    if rule is None:
        return
    values, level = _mirror_statistics(export, rows)
    fired = rule.reasons(values, level)
    assert fired.any(axis=0).all() and (~fired).any(axis=0).all()  # every statistic fires on some rows, not on all
    assert (values == rule.thresholds[level]).any()  # rows exactly on a threshold, which they do not pass
    made = len(source.raw_held_out) + np.arange(len(FAULTS))
    assert fired[made, [rule.names.index(name) for name in FAULTS]].all(), fired[made].astype(int)
    still = made[-1] + 1
    assert not fired[still, [rule.names.index(name) for name in ("flat_run", "flat_surprise", "flat_surprise_cross")]].any()
    assert flags[still + 1 :].all()  # NaN, +-inf and huge rows


def test_cli_exports_a_detector_for_the_pi_and_its_c(run_cli, detectors, exports, sources, tmp_path):
    result = run_cli("export", "--model", "autoencoder", "--target", "pi", "--source", detectors["features"], "--out", "pi")
    assert result.returncode == 0, result.stderr
    assert "anomaly_detector exported for pi" in result.stdout and "held-out rows changed by int8" in result.stdout
    assert sorted(p.name for p in (tmp_path / "pi").iterdir()) == ["manifest.json", "model.tflite", "run.py"]
    rows = sources["features"].raw_held_out[:200]
    np.savez(tmp_path / "rows.npz", x=rows)
    flagged = subprocess.run([sys.executable, str(tmp_path / "pi" / "run.py"), "flag", str(tmp_path / "rows.npz")],
                             capture_output=True, text=True, timeout=120)
    assert flagged.returncode == 0, flagged.stderr
    on_pi = np.array([line.endswith("ANOMALOUS") for line in flagged.stdout.splitlines()])
    # LiteRT may differ from tflite-micro by an LSB, which moves a row only when it sits on the threshold
    assert len(on_pi) == 200 and np.mean(on_pi == _mirror(exports["features"], rows)[1]) >= 0.99
    result = run_cli("export-c", "--tflite", "pi/model.tflite", "--manifest", "pi/manifest.json", "--out", "c",
                     "--runtime", "standalone", "--name", "shuttle")
    assert result.returncode == 0, result.stderr
    assert {"shuttle_anomaly.c", "shuttle_anomaly.h", "shuttle_config.h"} <= {p.name for p in (tmp_path / "c").iterdir()}


def test_a_window_detector_on_the_pi_judges_by_its_fault_rule(run_cli, detectors, exports, sources, tmp_path):
    result = run_cli("export", "--model", "autoencoder", "--target", "pi", "--source", detectors["windows"], "--out", "pi")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "pi" / "window_features.py").is_file()  # run.py imports the fault statistics from beside it
    rows = sources["windows"].raw_held_out[:200]
    np.savez(tmp_path / "rows.npz", x=rows)
    flagged = subprocess.run([sys.executable, str(tmp_path / "pi" / "run.py"), "flag", str(tmp_path / "rows.npz")],
                             capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert flagged.returncode == 0, flagged.stderr
    on_pi = np.array([line.endswith("ANOMALOUS") for line in flagged.stdout.splitlines()])
    assert len(on_pi) == len(rows) and np.mean(on_pi == _mirror(exports["windows"], rows)[1]) >= 0.99


def test_a_manifest_of_another_model_is_refused_in_one_line(exports, tmp_path):
    from synth.core.errors import ConfigError
    from synth.export.c_export import export_c

    with pytest.raises(ConfigError, match="belongs to another model") as error:
        export_c(exports["windows"] / "model.tflite", tmp_path / "c", runtime="standalone",
                 manifest_path=exports["features"] / "manifest.json")
    assert "\n" not in str(error.value) and not (tmp_path / "c").exists()


@pytest.mark.parametrize("change, message", [
    ({"input": "pixels"}, "input is 'pixels'"),
    ({"row_shape": None}, "incomplete or malformed"),
    ({"threshold": None}, "not a finite float32"),
    ({"threshold": 1e39}, "not a finite float32"),
    ({"scaling": {"low": [0.0], "high": [1.0]}}, "scaling has 1 / 1 values for rows of 9 features"),
    ({"fault_rule": {}}, "a fault rule needs windows of 3 to 512 samples x 3 axes, the rows are features"),
])
def test_a_malformed_anomaly_block_is_refused_in_one_line(change, message, exports):
    from synth.core.errors import ConfigError
    from synth.export.anomaly_flag import flag_constants
    from synth.core.tflite_file import read_graph

    anomaly = {**_manifest(exports["features"])["extra"]["anomaly"], **change}
    with pytest.raises(ConfigError, match=message) as error:
        flag_constants(anomaly, read_graph((exports["features"] / "model.tflite").read_bytes()))
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("change, message", [
    ({"thresholds": [[0.0] * 15]}, r"a fault rule needs thresholds \(4 levels x 15 statistics"),
    ({"statistics": ["flat_run"]}, "got .* over flat_run"),
    ({"motion_edges_g": None}, "incomplete or malformed"),
    ({"motion_edges_g": [], "thresholds": [[0.0] * 15]}, "at least one motion edge"),
    ({"thresholds": [[1e39] * 15] * 4}, "fault rule value that is not a finite float32"),
    ({"motion_edges_g": [0.01, float("nan"), 0.2]}, "fault rule value that is not a finite float32"),
])
def test_a_malformed_fault_rule_is_refused_in_one_line(change, message, exports):
    from synth.core.errors import ConfigError
    from synth.core.tflite_file import read_graph
    from synth.export.anomaly_flag import flag_constants

    anomaly = _manifest(exports["windows_hand_rule"])["extra"]["anomaly"]
    anomaly = {**anomaly, "fault_rule": {**anomaly["fault_rule"], **change}}
    with pytest.raises(ConfigError, match=message) as error:
        flag_constants(anomaly, read_graph((exports["windows"] / "model.tflite").read_bytes()))
    assert "\n" not in str(error.value)


OLD_STATISTICS = ("flat_run", "rail_share", "low_magnitude", "magnitude_high", "magnitude_low", "spike_ratio", "hf_energy",
                  "roughness", "magnitude_trend", "magnitude_hf", "reconstruction")  # before flat_surprise & co.


def test_a_detector_saved_with_the_old_statistics_is_refused_in_one_line(exports, detectors, tmp_path):
    from synth.anomaly.detector import load_detector
    from synth.core.errors import ModelError
    from synth.core.tflite_file import read_graph
    from synth.export.anomaly_flag import flag_constants

    old = {"statistics": list(OLD_STATISTICS), "motion_edges_g": [0.01, 0.05, 0.2], "thresholds": [[1.0] * 11] * 4}
    anomaly = {**_manifest(exports["windows"])["extra"]["anomaly"], "fault_rule": old}
    with pytest.raises(ModelError, match="holds 11 statistics.*retrain the detector") as error:
        flag_constants(anomaly, read_graph((exports["windows"] / "model.tflite").read_bytes()))
    assert "\n" not in str(error.value)
    folder = tmp_path / "old"
    shutil.copytree(detectors["windows"], folder)
    info = json.loads((folder / "autoencoder.json").read_text())
    (folder / "autoencoder.json").write_text(json.dumps({**info, "fault_rule": old}))
    with pytest.raises(ModelError, match=f"{folder}: the fault rule holds 11 statistics.*retrain") as error:
        load_detector(folder)
    assert "\n" not in str(error.value)


def test_a_detector_without_config_or_with_rows_that_do_not_fit_is_refused(detectors, write_config, tmp_path):
    from synth.core.errors import DataError, ModelError
    from synth.export.quantize import load_export_source

    folder = tmp_path / "bare"
    shutil.copytree(detectors["features"], folder)
    info = json.loads((folder / "autoencoder.json").read_text())
    (folder / "autoencoder.json").write_text(json.dumps({k: v for k, v in info.items() if k != "config"}))
    with pytest.raises(ModelError, match="holds no config to load its rows from: pass --config"):
        load_export_source("autoencoder", folder)
    with pytest.raises(DataError, match=r"rows of shape \(24, 3\) do not fit the detector"):
        load_export_source("autoencoder", folder, config=write_config(CONFIGS["windows"]))
