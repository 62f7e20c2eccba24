"""Export benchmark: int8 size, tensor arena and int8-vs-float error of the shipped generator, a
trained classifier (and ST's BSD-3 one) and an autoencoder.

    python benchmarks/bench_export.py

Train the classifier and autoencoder first (synth train-classifier / train-autoencoder with
configs/classifier_st_har.json and configs/autoencoder_st_har.json); missing ones are skipped.
Budgets (issue 4): generator <= 64 KB flash and <= 32 KB arena; classifier within 2x of ST's IGN
(3.1 KiB int8 weights, 2.8 KiB activations); int8 classifier accuracy within 1 point of float.
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODELS = (
    ("generator", ROOT / "synth/assets/generators/st_har_lsm6dsl_4g"),
    ("classifier", ROOT / "runs/classifier_st_har"),
    ("classifier", ROOT / "synth/assets/st_har_bsd3/model.h5"),
    ("autoencoder", ROOT / "runs/autoencoder_st_har"),
)


def measure(kind: str, source: Path) -> str:
    """One line: size, arena, and the kind's int8-vs-float figure."""
    from synth.export.arena import probe_arena
    from synth.core.tflite_file import read_model
    from synth.export.quantize import load_export_source, quantize_to_int8
    from synth.export.verify import verify

    loaded = load_export_source(kind, source)
    tflite = quantize_to_int8(loaded.model, loaded.samples)
    report = verify(loaded, tflite, read_model(tflite))
    line = f"{kind:11s} {source.relative_to(ROOT)}: {len(tflite) / 1024:.1f} KiB, arena {probe_arena(tflite) / 1024:.1f} KiB"
    if kind == "generator":
        lsb = report["generator_error_profile_lsb"]
        return (f"{line}; int8 vs float: mean {lsb['mean']:.0f} / max {lsb['max']:.0f} profile LSB "
                f"(one int8 output step = {report['int8_output_step_profile_lsb']:.0f} LSB), rms {report['tflite_micro_vs_float']['rms']:.3f} g")
    if "accuracy" in report:
        acc = report["accuracy"]
        return (f"{line}; accuracy float {acc['float']:.4f}, tflite-micro {acc['tflite_micro']:.4f}, LiteRT {acc['litert']:.4f} "
                f"on {report['samples']} {report['data']}: drop {report['accuracy_drop_points']:.2f} points")
    recon = report["reconstruction_error_g2"]
    return (f"{line}; reconstruction error float {recon['float_mean']:.4f} / int8 {recon['int8_mean']:.4f} g^2, "
            f"decisions differing {100 * report['decisions_differing']:.1f} % on {report['samples']} held-out windows")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args()
    for kind, source in MODELS:
        if not source.exists():
            print(f"{kind:11s} {source.relative_to(ROOT)}: missing, skipped")
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            print(measure(kind, source), flush=True)


if __name__ == "__main__":
    main()
