"""synth export-c: the standalone C runtime equals tflite-micro bit for bit on every model kind,
runs unchanged on an emulated Cortex-M4, and the TFLM files compile as C and C++."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

from synth.export import c_build
from synth.export.c_export import export_c
from synth.core.tflite_file import read_graph
from synth.export.standalone import generate_standalone

ROOT = Path(__file__).resolve().parents[2]
SHIPPED_GENERATOR = ROOT / "synth" / "assets" / "generators" / "st_har_lsm6dsl_4g"
ST_BSD3 = ROOT / "synth" / "assets" / "st_har_bsd3" / "model.h5"
ARM_TOOLS = ("arm-none-eabi-gcc", "arm-none-eabi-size", "qemu-system-arm")
N_INPUTS = 300


def _quantize(model, seed: int = 0) -> bytes:
    """Full-int8 .tflite of ``model`` calibrated on 64 uniform [-1, 1] inputs (seeded)."""
    from synth.export.quantize import quantize_to_int8

    rng = np.random.default_rng(seed)
    shapes = [tuple(i.shape[1:]) for i in model.inputs]
    samples = [rng.uniform(-1, 1, (64,) + s).astype(np.float32) for s in shapes]
    return quantize_to_int8(model, samples if len(samples) > 1 else samples[0], max_samples=64)


def _build(kind: str):
    """The Keras model of each kind: tiny seeded ones, ST's BSD-3 classifier, the shipped generator."""
    import keras

    from synth.models.artifact import load_generator
    from synth.models.autoencoder import build_autoencoder
    from synth.classify.har import build_har_classifier
    from synth.models.zoo import build_generator

    keras.utils.set_random_seed(7)
    if kind == "generator_tiny":
        return build_generator(24, 3, noise_dim=8, units=16)
    if kind in ("ign", "gmp"):
        return build_har_classifier(kind, 24, 4, preprocess=False, seed=7)
    if kind == "autoencoder":
        return build_autoencoder(24, 4.0, filters=4, latent=8)
    if kind == "st_bsd3":
        return keras.models.load_model(ST_BSD3, compile=False)
    return load_generator(SHIPPED_GENERATOR)[0]


KINDS = ("generator_tiny", "ign", "gmp", "autoencoder", "st_bsd3", "generator_shipped")


@pytest.fixture(scope="module")
def tflite_models(tmp_path_factory) -> dict[str, Path]:
    """Each kind converted once to full int8, written as a .tflite file."""
    pytest.importorskip("tflite_micro")
    folder = tmp_path_factory.mktemp("tflite")
    paths = {}
    for kind in KINDS:
        paths[kind] = folder / f"{kind}.tflite"
        paths[kind].write_bytes(_quantize(_build(kind)))
    return paths


def _random_inputs(tflite: bytes, n: int, seed: int) -> tuple[list[np.ndarray], np.ndarray]:
    """Uniform random int8 inputs: one array (n, *shape) per model input, and all of them packed (n, total)."""
    graph = read_graph(tflite)
    rng = np.random.default_rng(seed)
    per_input = [rng.integers(-128, 128, size=(n,) + graph.tensors[i].shape, dtype=np.int8) for i in graph.inputs]
    return per_input, np.concatenate([x.reshape(n, -1) for x in per_input], axis=1)


@pytest.fixture
def cli(run_cli):
    """cli(args) -> (exit code, stdout + stderr) of ``python -m synth.cli *args``."""

    def run(args: list[str]) -> tuple[int, str]:
        done = run_cli(*args)
        return done.returncode, done.stdout + done.stderr

    return run


def _standalone(tflite_path: Path, out: Path) -> tuple[Path, int]:
    """Export the standalone runtime and build the host harness; (executable, output size)."""
    export_c(tflite_path, out, runtime="standalone")
    graph = read_graph(tflite_path.read_bytes())
    return c_build.build_host(out, "synth_model"), graph.tensors[graph.outputs[0]].size


@pytest.mark.skipif(bool(c_build.missing_tools("gcc")), reason="gcc is not installed")
@pytest.mark.parametrize("kind", KINDS)
def test_standalone_c_equals_tflite_micro_bit_for_bit(kind, tflite_models, tmp_path):
    tflite = tflite_models[kind].read_bytes()
    exe, output_size = _standalone(tflite_models[kind], tmp_path / "c")
    per_input, packed = _random_inputs(tflite, N_INPUTS, seed=1)
    host = c_build.run_host(exe, packed, output_size)
    reference = c_build.run_tflm(tflite, per_input)
    assert host.shape == (N_INPUTS, output_size)
    assert np.array_equal(host, reference), f"{int((host != reference).sum())} int8 values differ"


@pytest.mark.skipif(bool(c_build.missing_tools("gcc", *ARM_TOOLS)),
                    reason=f"needs gcc and the Arm toolchain + QEMU ({', '.join(ARM_TOOLS)}); CI installs them")
@pytest.mark.parametrize("board", c_build.BOARDS.values(), ids=c_build.BOARDS.keys())
@pytest.mark.parametrize("kind", ("ign", "generator_tiny"))
def test_cortex_m4_build_on_qemu_equals_host_and_tflite_micro(kind, board, tflite_models, tmp_path):
    if board.machine not in c_build.qemu_machines():
        pytest.skip(f"this QEMU has no {board.machine} (QEMU >= 9; .ci/run installs it from bookworm-backports)")
    exe, output_size = _standalone(tflite_models[kind], tmp_path / "c")
    per_input, packed = _random_inputs(tflite_models[kind].read_bytes(), 12, seed=2)
    elf = c_build.build_cortex_m4(tmp_path / "c", "synth_model", packed, board)
    size = c_build.arm_size(elf)
    assert 0 < size["flash"] < 1024 * 1024 and size["ram"] < 96 * 1024
    code, on_qemu = c_build.run_qemu(elf, output_size, board=board)
    assert code == 0
    assert np.array_equal(on_qemu, c_build.run_host(exe, packed, output_size))
    assert np.array_equal(on_qemu, c_build.run_tflm(tflite_models[kind].read_bytes(), per_input))


def test_generated_c_is_deterministic(tflite_models):
    tflite = tflite_models["gmp"].read_bytes()
    assert generate_standalone(tflite) == generate_standalone(tflite)


@pytest.mark.skipif(bool(c_build.missing_tools("gcc", "g++", "nm")), reason="needs gcc, g++ and nm")
def test_tflm_files_compile_as_c_and_cxx_and_register_exactly_the_used_ops(tflite_models, tmp_path):
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"kind": "classifier", "labels": ["stationary", "walking", "running"], "arena_bytes": 4096,
                                    "rate_hz": 26.0, "profile": {"full_scale_g": 4.0, "fs_xl_code": 2, "sensor": "LSM6DSL"}}))
    out = tmp_path / "tflm"
    result = export_c(tflite_models["st_bsd3"], out, runtime="tflm", name="har", manifest_path=manifest)
    config = (out / "har_config.h").read_text()
    assert '#define HAR_LABELS { "stationary", "walking", "running" }' in config
    assert "#define HAR_ARENA_SIZE 4096" in config and "#define HAR_PROFILE_FULL_SCALE_G 4.0" in config and "#define HAR_RATE_HZ 26.0" in config
    glue = (out / "har_tflm.cc").read_text()
    assert f"MicroMutableOpResolver<{len(result['ops'])}>" in glue
    assert glue.count("resolver.Add") == len(result["ops"]) == len(set(result["ops"]))
    assert "alignas(16) const unsigned char har[]" in (out / "har_data.c").read_text()
    for compiler, flags in (("gcc", ["-std=c11"]), ("g++", ["-std=c++11", "-x", "c++"])):
        obj = tmp_path / f"{compiler}.o"
        subprocess.run([compiler, *flags, "-Wall", "-Wextra", "-Werror", "-c", "-o", str(obj), str(out / "har_data.c")], check=True)
        symbols = subprocess.run(["nm", str(obj)], capture_output=True, text=True, check=True).stdout.split()
        assert "har" in symbols and "har_len" in symbols  # C linkage, kept by C++


def test_cli_writes_standalone_files(cli, tflite_models, tmp_path):
    out = tmp_path / "c"
    code, output = cli(["export-c", "--tflite", str(tflite_models["ign"]), "--out", str(out), "--runtime", "standalone", "--name", "har_ign"])
    assert code == 0, output
    assert sorted(p.name for p in out.iterdir()) == ["har_ign.c", "har_ign.h", "har_ign_config.h", "synth_kernels.c", "synth_kernels.h"]
    assert "int har_ign_invoke(const int8_t *input, int8_t *output);" in (out / "har_ign.h").read_text()


def test_cli_names_an_op_the_standalone_runtime_lacks(cli, tmp_path):
    import keras

    inputs = keras.Input((8,))
    model = keras.Model(inputs, keras.layers.Dense(4, activation="sigmoid")(inputs))
    path = tmp_path / "sigmoid.tflite"
    path.write_bytes(_quantize(model))
    code, output = cli(["export-c", "--tflite", str(path), "--out", str(tmp_path / "c"), "--runtime", "standalone"])
    assert code == 2
    assert "LOGISTIC" in output and len(output.strip().splitlines()) == 1
    assert not (tmp_path / "c").exists()


@pytest.mark.parametrize("args, message", [
    (["--name", "int"], "clashes"),
    (["--name", "9lives"], "not a C identifier"),
    (["--name", "synth_conv2d"], "clashes"),
    (["--runtime", "cmsis"], "unknown runtime"),
])
def test_cli_rejects_bad_options_in_one_line(cli, tflite_models, tmp_path, args, message):
    code, output = cli(["export-c", "--tflite", str(tflite_models["gmp"]), "--out", str(tmp_path / "c"), *args])
    assert code == 2 and message in output
    assert len(output.strip().splitlines()) == 1


def test_cli_refuses_a_non_empty_output_and_a_missing_model(cli, tflite_models, tmp_path):
    out = tmp_path / "c"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    code, output = cli(["export-c", "--tflite", str(tflite_models["gmp"]), "--out", str(out), "--runtime", "standalone"])
    assert code == 2 and "not empty" in output
    assert (out / "keep.txt").read_text() == "mine"
    code, output = cli(["export-c", "--tflite", str(tmp_path / "missing.tflite"), "--out", str(tmp_path / "d")])
    assert code == 2 and "cannot read the model" in output
