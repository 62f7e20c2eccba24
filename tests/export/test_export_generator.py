"""The generator on the device: an int8 core whose output keeps each class's detail, and the window
assembled from it in float32, the same in Python, in the generated C and in the Pi bundle."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

from synth.export import c_build
from synth.export.generator_window import ASSEMBLY, assemble_windows, dequantize_float32, generator_files

ROOT = Path(__file__).resolve().parents[2]
SHIPPED_GENERATOR = ROOT / "synth" / "assets" / "generators" / "st_har_lsm6dsl_4g_finetuned"
WINDOW_HARNESS = r"""
#include <stdio.h>
#include "gen_window.h"
/* stdin: records of one int32 class index then (1 + WINDOW) x 3 int8 outputs; stdout: WINDOW x 3 float32 per record */
int main(void)
{
    int32_t class_index;
    int8_t output[3 * (GEN_WINDOW + 1)];
    float window[3 * GEN_WINDOW];
    while (fread(&class_index, sizeof class_index, 1, stdin) == 1 && fread(output, 1, sizeof output, stdin) == sizeof output) {
        if (gen_window_g(output, (int)class_index, window) != 0) {
            return 3;
        }
        fwrite(window, sizeof window, 1, stdout);
    }
    return 0;
}
"""


@pytest.fixture(scope="module")
def shipped():
    """(float generator, its ExportSource, the int8 .tflite of its core) for the shipped +-4 g generator."""
    from synth.export.quantize import load_export_source, quantize_to_int8
    from synth.models.artifact import load_generator

    source = load_export_source("generator", SHIPPED_GENERATOR, max_samples=300)
    return load_generator(SHIPPED_GENERATOR)[0], source, quantize_to_int8(source.model, source.samples, max_samples=300)


def test_the_float_core_assembles_into_the_generators_own_windows(shipped):
    generator, source, _ = shipped
    noise, labels = source.samples
    rows = source.model.predict([noise, labels], verbose=0)
    assert rows.shape == (len(noise), 1 + 48, 3) and source.metadata["generator"]["layout"] == ASSEMBLY
    windows = assemble_windows(rows, labels.argmax(-1), source.metadata["generator"])
    np.testing.assert_allclose(windows, generator.predict([noise, labels], verbose=0), atol=2e-5)


def test_int8_windows_keep_every_class_detail(shipped):
    """On tflite-micro, each class's motion stays within about one of its own int8 steps of the float one
    (a single output scale for the whole window made that step 0.09 g for every class), the offset
    within 0.1 g, and each class's motion keeps its size."""
    from synth.core.tflite_file import read_graph
    from synth.realism.quality import window_statistics

    _, source, tflite = shipped
    noise, labels = source.samples
    classes = labels.argmax(-1)
    output = read_graph(tflite).tensors[read_graph(tflite).outputs[0]]
    assembly = source.metadata["generator"]
    micro = c_build.run_tflm(tflite, [c_build_input(tflite, 0, noise), c_build_input(tflite, 1, labels)])
    int8_windows = assemble_windows(dequantize_float32(micro.reshape(rows_shape(noise)), output.scale, output.zero_point), classes, assembly)
    float_windows = assemble_windows(source.model.predict([noise, labels], verbose=0), classes, assembly)
    scales = np.asarray(assembly["class_scales_g"])
    for k, label in enumerate(source.metadata["labels"]):
        error = int8_windows[classes == k] - float_windows[classes == k]
        motion_error = error - error.mean(axis=1, keepdims=True)
        assert np.sqrt(np.mean(motion_error**2)) <= 2 * output.scale * scales[k].max(), label  # about one motion step
        assert np.sqrt(np.mean(error.mean(axis=1) ** 2)) <= 0.1, label  # the offset: a tilt of a few degrees at most
        rms_int8, rms_float = (np.median(window_statistics(w[classes == k], 26.0)[:, 1]) for w in (int8_windows, float_windows))
        assert rms_int8 == pytest.approx(rms_float, rel=0.2), label


def c_build_input(tflite: bytes, index: int, values: np.ndarray) -> np.ndarray:
    """Float inputs (N, ...) -> int8 codes of the model's input ``index``."""
    from synth.core.tflite_file import read_graph
    from synth.export.verify import quantize

    graph = read_graph(tflite)
    tensor = graph.tensors[graph.inputs[index]]
    return quantize(values, tensor).reshape(len(values), *tensor.shape)


def rows_shape(noise: np.ndarray) -> tuple[int, int, int]:
    return (len(noise), 1 + 48, 3)


def test_the_generated_c_assembles_the_same_float32_windows_as_python(tmp_path):
    if c_build.missing_tools("gcc"):
        pytest.skip("gcc is not installed")
    rng = np.random.default_rng(3)
    scales = rng.uniform(1e-3, 1.5, (3, 3)).astype(np.float32)
    manifest = {"kind": "generator", "labels": ["stationary", "walking", "running"],
                "extra": {"generator": {"layout": ASSEMBLY, "offset_unit_g": 0.25, "class_scales_g": scales.tolist()}}}
    graph = _graph_with_output(scale=0.0431, zero_point=-3, shape=(1, 1 + 16, 3))
    files = generator_files(graph, "gen", "test.tflite", manifest, "standalone")
    assert sorted(files) == ["gen_window.c", "gen_window.h"]
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    (tmp_path / "main.c").write_text(WINDOW_HARNESS)
    exe = tmp_path / "window"
    subprocess.run(["gcc", *c_build.HOST_FLAGS, "-o", str(exe), str(tmp_path / "main.c"), str(tmp_path / "gen_window.c")], check=True)
    codes = rng.integers(-128, 128, (200, 17 * 3)).astype(np.int8)
    classes = rng.integers(0, 3, 200).astype(np.int32)
    records = b"".join(c.tobytes() + q.tobytes() for c, q in zip(classes, codes))
    done = subprocess.run([str(exe)], input=records, capture_output=True, check=True)
    c_windows = np.frombuffer(done.stdout, np.float32).reshape(200, 16, 3)
    python = assemble_windows(dequantize_float32(codes.reshape(200, 17, 3), 0.0431, -3), classes, manifest["extra"]["generator"])
    assert np.array_equal(c_windows.view(np.uint32), python.view(np.uint32))  # bit for bit
    bad = np.int32(3).tobytes() + codes[0].tobytes()
    assert subprocess.run([str(exe)], input=bad, capture_output=True).returncode == 3  # class index out of range


def test_export_c_writes_the_window_files_only_for_a_generator_manifest(shipped, tmp_path):
    from synth.export.bundle import export_model
    from synth.export.c_export import export_c

    export_model("generator", SHIPPED_GENERATOR, "stm32", tmp_path / "bundle")
    manifest = json.loads((tmp_path / "bundle" / "manifest.json").read_text())
    assert manifest["extra"]["generator"]["layout"] == ASSEMBLY and len(manifest["extra"]["generator"]["class_scales_g"]) == 3
    export_c(tmp_path / "bundle" / "model.tflite", tmp_path / "c", runtime="standalone", name="gen",
             manifest_path=tmp_path / "bundle" / "manifest.json")
    assert {"gen_window.h", "gen_window.c"} <= {p.name for p in (tmp_path / "c").iterdir()}
    export_c(tmp_path / "bundle" / "model.tflite", tmp_path / "plain", runtime="standalone", name="gen")
    assert not any("window" in p.name for p in (tmp_path / "plain").iterdir())


def _graph_with_output(scale: float, zero_point: int, shape: tuple[int, ...]):
    """A stand-in Graph whose only output tensor has this scale, zero point and shape."""
    from synth.core.tflite_file import Graph, Tensor

    tensor = Tensor(0, "out", shape, np.int8, np.array([scale], np.float32), np.array([zero_point], np.int64))
    return Graph(tensors=[tensor], operators=[], inputs=[], outputs=[0])
