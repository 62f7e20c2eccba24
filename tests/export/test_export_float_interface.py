"""export-c --runtime standalone of int8 models with a float32 interface (QUANTIZE first, DEQUANTIZE last):
ST's model-zoo classifiers and the project's own, equal to tflite-micro bit for bit on the host and in QEMU."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from synth.core.errors import ModelError
from synth.export import c_build
from synth.export.c_export import export_c
from synth.export.float_boundary import split_float_boundary
from synth.validate.inputs import float_inputs
from synth.core.tflite_file import read_graph

ZOO = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "st_model_zoo_wisdm"
ZOO_MODELS = ("gmp_wl_24", "gmp_wl_48", "ign_wl_24", "ign_wl_48")
ARM_TOOLS = ("arm-none-eabi-gcc", "arm-none-eabi-size", "qemu-system-arm")
needs_gcc = pytest.mark.skipif(bool(c_build.missing_tools("gcc")), reason="gcc is not installed")
needs_zoo = pytest.mark.skipif(not ZOO.is_dir(), reason=f"ST WISDM models (SLA0044) not found at {ZOO}")


def _zoo(name: str) -> Path:
    return ZOO / name / f"{name}_int8.tflite"


@pytest.fixture(scope="module")
def own_float_model(tmp_path_factory) -> Path:
    """A tiny seeded HAR classifier converted with the converter's default float32 interface."""
    import keras

    from synth.export.quantize import quantize_to_int8
    from synth.classify.har import build_har_classifier

    keras.utils.set_random_seed(3)
    model = build_har_classifier("ign", 24, 4, preprocess=False, seed=3)
    samples = np.random.default_rng(3).uniform(-1, 1, (64, *model.inputs[0].shape[1:])).astype(np.float32)
    path = tmp_path_factory.mktemp("own") / "own_float.tflite"
    path.write_bytes(quantize_to_int8(model, samples, max_samples=64, float_interface=True))
    return path


def _float_inputs(tflite: bytes, n: int, seed: int) -> np.ndarray:
    """(n, input size) float32 over and beyond the input's int8 range, and exact half steps between two codes."""
    graph = split_float_boundary(read_graph(tflite))[0]
    core = graph.tensors[graph.inputs[0]]
    return float_inputs(core, (n, core.size), np.random.default_rng(seed))


def _check_host_equals_tflm(path: Path, out: Path, n: int = 200) -> None:
    tflite = path.read_bytes()
    export_c(path, out, runtime="standalone")
    graph = read_graph(tflite)
    inputs = _float_inputs(tflite, n, seed=4)
    host = c_build.run_host(c_build.build_host(out, "synth_model"), inputs, graph.tensors[graph.outputs[0]].size, np.float32)
    reference = c_build.run_tflm(tflite, [inputs.reshape(n, *graph.tensors[graph.inputs[0]].shape)])
    assert reference.dtype == np.float32 and host.shape == reference.shape
    assert np.array_equal(host.view(np.int32), reference.view(np.int32)), f"{int((host != reference).sum())} values differ"


@needs_gcc
@needs_zoo
@pytest.mark.parametrize("name", ZOO_MODELS)
def test_model_zoo_float_interface_equals_tflite_micro(name, tmp_path):
    pytest.importorskip("tflite_micro")
    _check_host_equals_tflm(_zoo(name), tmp_path / "c")


@needs_gcc
def test_own_float_interface_model_equals_tflite_micro(own_float_model, tmp_path):
    pytest.importorskip("tflite_micro")
    ops = [op.op for op in read_graph(own_float_model.read_bytes()).operators]
    assert ops[0] == "QUANTIZE" and ops[-1] == "DEQUANTIZE"
    _check_host_equals_tflm(own_float_model, tmp_path / "c")
    header = (tmp_path / "c" / "synth_model.h").read_text()
    assert "int synth_model_invoke(const float *input, float *output);" in header


@pytest.mark.skipif(bool(c_build.missing_tools("gcc", *ARM_TOOLS)), reason=f"needs gcc, {', '.join(ARM_TOOLS)}")
@needs_zoo
def test_model_zoo_float_interface_on_qemu_equals_host(tmp_path):
    path = _zoo("ign_wl_24")
    tflite = path.read_bytes()
    export_c(path, tmp_path / "c", runtime="standalone")
    graph = read_graph(tflite)
    inputs, size = _float_inputs(tflite, 8, seed=5), graph.tensors[graph.outputs[0]].size
    code, on_qemu = c_build.run_qemu(c_build.build_cortex_m4(tmp_path / "c", "synth_model", inputs), size,
                                     output_dtype=np.float32)
    host = c_build.run_host(c_build.build_host(tmp_path / "c", "synth_model"), inputs, size, np.float32)
    assert code == 0 and np.array_equal(on_qemu.view(np.int32), host.view(np.int32))


def test_a_float_model_without_quantize_is_refused_in_one_line(tmp_path):
    """A float32 model (no int8 core) has no boundary to convert: one line names the input, no files are left."""
    import tensorflow as tf

    model = tf.keras.Sequential([tf.keras.Input((8,)), tf.keras.layers.Dense(2)])
    path = tmp_path / "float.tflite"
    path.write_bytes(tf.lite.TFLiteConverter.from_keras_model(model).convert())
    with pytest.raises(ModelError, match="float32 input .* is not read by one QUANTIZE") as caught:
        export_c(path, tmp_path / "c", runtime="standalone")
    assert "\n" not in str(caught.value) and not (tmp_path / "c").exists()


@needs_zoo
def test_the_tflm_runtime_still_refuses_a_float_interface(tmp_path):
    with pytest.raises(ModelError, match="--runtime standalone also takes a float32 interface"):
        export_c(_zoo("ign_wl_24"), tmp_path / "c", runtime="tflm")
