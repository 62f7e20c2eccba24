"""ST model-zoo classifiers loaded as ST ships them (.h5 and full-int8 .tflite), and bad model files."""

from pathlib import Path

import numpy as np
import pytest

from synth.core.errors import DataError, ModelError
from synth.classify.st_classifier import WISDM_CLASS_NAMES, load_st_classifier, load_window_classifier

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"
ZOO = SHARED / "st_model_zoo_wisdm"
BSD3_MODEL = Path(__file__).resolve().parents[2] / "synth" / "assets" / "st_har_bsd3" / "model.h5"
needs_zoo = pytest.mark.skipif(not ZOO.is_dir(), reason=f"ST WISDM models (SLA0044) not found at {ZOO}")


def zoo_files(name: str) -> tuple[Path, Path]:
    """(.h5, int8 .tflite) of one model-zoo model, e.g. 'ign_wl_24'."""
    return ZOO / name / f"{name}.h5", ZOO / name / f"{name}_int8.tflite"


@pytest.fixture(scope="module")
def real_windows_48():
    from synth.data.st_har import load_st_har

    return load_st_har(window=48, stride=48)


@needs_zoo
@pytest.mark.parametrize("name", ["ign_wl_48", "gmp_wl_48"])
def test_h5_and_tflite_agree_on_real_windows(name, real_windows_48):
    h5, tflite = (load_st_classifier(path) for path in zoo_files(name))
    assert h5.window == tflite.window == 48
    proba = tflite.predict_proba(real_windows_48.x)
    assert proba.shape == (len(real_windows_48), 4)
    assert np.allclose(proba.sum(axis=1), 1.0, atol=0.05)
    assert (h5.predict(real_windows_48.x) == tflite.predict(real_windows_48.x)).mean() > 0.95


@needs_zoo
@pytest.mark.parametrize("name", ["ign_wl_48", "gmp_wl_48"])
@pytest.mark.parametrize("kind", [0, 1], ids=["h5", "tflite"])
def test_real_stationary_and_running_windows_get_their_class(name, kind, real_windows_48):
    classifier = load_st_classifier(zoo_files(name)[kind], WISDM_CLASS_NAMES, window=48)
    for activity, expected in (("stationary", "Stationary"), ("running", "Jogging")):
        windows = real_windows_48.subset(real_windows_48.y == real_windows_48.classes.index(activity))
        assert (classifier.predict(windows.x) == expected).mean() > 0.9, activity


@needs_zoo
def test_window_length_comes_from_the_model():
    assert load_st_classifier(zoo_files("ign_wl_24")[1]).window == 24


@needs_zoo
@pytest.mark.parametrize("kind", [0, 1], ids=["h5", "tflite"])
def test_a_window_that_does_not_match_the_model_is_refused(kind):
    with pytest.raises(ModelError, match="windows of 24 samples, not 48"):
        load_st_classifier(zoo_files("ign_wl_24")[kind], window=48)


@needs_zoo
@pytest.mark.parametrize("kind", [0, 1], ids=["h5", "tflite"])
def test_a_class_list_of_the_wrong_length_is_refused(kind):
    with pytest.raises(ModelError, match="4 outputs but 3 class names"):
        load_st_classifier(zoo_files("ign_wl_24")[kind], ["stationary", "walking", "running"])


@needs_zoo
def test_windows_of_another_length_are_refused_at_prediction():
    classifier = load_st_classifier(zoo_files("ign_wl_24")[0])
    with pytest.raises(DataError, match=r"\(N, 24, 3\)"):
        classifier.predict(np.zeros((2, 48, 3)))


@needs_zoo
@pytest.mark.parametrize("kind", [0, 1], ids=["h5", "tflite"])
def test_a_wl24_model_scores_48_sample_windows_by_two_crops_and_reads_jogging_as_running(kind, real_windows_48):
    from synth.evaluate.evaluate import score_classifier

    classifier = load_window_classifier(zoo_files("ign_wl_24")[kind])
    assert classifier.window == 24 and classifier.classes == ("running", "stationary", "stairs", "walking")
    report = score_classifier(classifier, real_windows_48, real_windows_48)
    per_class = report["real"]["per_class"]
    assert per_class["stationary"]["accuracy"] > 0.9 and per_class["running"]["accuracy"] > 0.9
    # ST's WISDM models read BSD-3 walking mostly as stairs: a class the data lacks counts as wrong
    assert per_class["walking"]["predicted"]["stairs"] > per_class["walking"]["windows"] / 2
    assert report["classes_it_lacks"] == [] and report["synthetic"] == report["real"]


@pytest.mark.parametrize("suffix", [".h5", ".keras", ".tflite"])
def test_a_file_that_is_not_a_model_is_refused(tmp_path, suffix):
    path = tmp_path / f"notes{suffix}"
    path.write_text("not a model\n")
    with pytest.raises(ModelError, match="cannot load it as a|not a TFLite model"):
        load_st_classifier(path)


def test_an_unknown_suffix_and_a_missing_file_are_refused(tmp_path):
    (tmp_path / "model.onnx").write_bytes(b"\0")
    with pytest.raises(ModelError, match="unknown classifier format"):
        load_st_classifier(tmp_path / "model.onnx")
    with pytest.raises(ModelError, match="not found"):
        load_st_classifier(tmp_path / "absent.h5")


def test_an_h5_whose_layers_keras_cannot_rebuild_is_refused(tmp_path):
    import h5py

    path = tmp_path / "custom.h5"
    path.write_bytes(BSD3_MODEL.read_bytes())
    with h5py.File(path, "r+") as handle:  # rename a layer class to one Keras does not know
        config = handle.attrs["model_config"]
        config = config.decode() if isinstance(config, bytes) else config
        handle.attrs["model_config"] = config.replace('"Conv1D"', '"MyCustomConv"', 1)
    with pytest.raises(ModelError, match="cannot load it as a Keras model"):
        load_st_classifier(path, ["stationary", "walking", "running"])


def test_an_input_shape_other_than_st_layout_is_refused():
    with pytest.raises(ModelError, match=r"not ST's \(batch, window, 3, 1\)"):
        load_st_classifier(BSD3_MODEL, ["stationary", "walking", "running"])
