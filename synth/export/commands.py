"""``synth export``: full-int8 TFLite for STM32 (tflite-micro) or a Raspberry Pi bundle (LiteRT);
``synth export-c``: a .tflite model as C for firmware (TFLM glue, or standalone C99 int8
inference; no TensorFlow needed: the flatbuffer is read directly)."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Annotated, Optional

import typer

from synth.core.command_line import load_tensorflow
from synth.core.limits import SEED_MAX
from synth.core.quiet import library_output_muted


def export(
    model: Annotated[str, typer.Option(help="Model kind: generator, classifier or autoencoder.")],
    target: Annotated[str, typer.Option(help="stm32 (tflite-micro) or pi (adds a LiteRT runner).")],
    source: Annotated[Path, typer.Option(help="Generator folder, classifier run folder (or ST's BSD-3 .h5), autoencoder or synth anomaly detector folder.")],
    out: Annotated[Path, typer.Option(help="Output folder (written atomically).")],
    config: Annotated[Optional[Path], typer.Option(help="Config whose data section gives the real windows for calibration (a detector's: its anomaly section gives the rows).")] = None,
    force: Annotated[bool, typer.Option(help="Replace a non-empty output folder.")] = False,
    seed: Annotated[int, typer.Option(min=0, max=SEED_MAX, help="Seed of the representative subset and the generator's noise.")] = 0,
) -> None:
    """Quantise to full int8, audit the ops against tflite-micro, verify on tflite-micro and LiteRT, write a manifest."""
    from synth.export.request import check_request

    check_request(model, source, target, out, force)  # one-line errors before the slow TensorFlow import
    load_tensorflow()
    with warnings.catch_warnings(), library_output_muted():  # converter logs and deprecation notices are not for users
        warnings.simplefilter("ignore")
        from synth.export.bundle import export_model  # Keras and LiteRT: their native start-up lines are muted here
        manifest = export_model(model, source, target, out, config=config, force=force, seed=seed)
    typer.echo(_summary(manifest, out))


def _generator_figure(per_class: dict) -> str:
    """Per class: the assembled windows' rms error against the float generator and the int8 motion step, in mg."""
    return "windows differ from the float generator's by " + ", ".join(
        f"{label} {v['rms_mg']:.3g} mg rms (int8 step {v['int8_motion_step_mg']:.3g} mg)" for label, v in per_class.items())


def _summary(manifest: dict, out: Path) -> str:
    """Two lines: what was written, and its size, arena and verified error (a third for a detector's flags)."""
    check = manifest["verification"]
    error, units = check["tflite_micro_vs_float"], check["output_units"]
    figure = (f"accuracy drop {check['accuracy_drop_points']:.2f} points" if "accuracy_drop_points" in check else
              _generator_figure(check["generator_error_profile_lsb"]["per_class"]) if "generator_error_profile_lsb" in check else
              f"output values differ from the float model's by {error['rms']:.3g} {units} rms, "
              f"{error['max_abs']:.3g} {units} at most (one int8 output step: {check['int8_output_step']:.3g} {units})")
    flags = check.get("flags")
    return (f"{manifest['kind']} exported for {manifest['target']} to {out}\n"
            f"{manifest['model_bytes']} bytes, arena {manifest['arena_bytes']} bytes, ops {', '.join(manifest['ops'])}; "
            f"int8 vs float on {check['samples']} samples: {figure}" +
            (f"\nflags of {flags['rows']} held-out rows changed by int8: {flags['changed']} "
             f"({100 * flags['changed_share']:.2f} %)" if flags else ""))


def export_c_command(
    tflite: Annotated[Path, typer.Option(help="Full-int8 .tflite model (from synth export).")],
    out: Annotated[Path, typer.Option(help="Output folder (written atomically).")],
    manifest: Annotated[Optional[Path], typer.Option(help="manifest.json of synth export: labels, sensor constants, arena.")] = None,
    runtime: Annotated[str, typer.Option(help="tflm (C array + TFLM glue) or standalone (C99, no TFLM, no malloc).")] = "tflm",
    name: Annotated[str, typer.Option(help="C identifier prefixing the files and symbols.")] = "synth_model",
    force: Annotated[bool, typer.Option(help="Replace a non-empty output folder.")] = False,
) -> None:
    """Write the model as C: a header of its constants plus TFLM glue or a standalone int8 runtime."""
    from synth.export.c_export import export_c

    result = export_c(tflite, out, runtime=runtime, name=name, manifest_path=manifest, force=force)
    typer.echo(f"{result['runtime']} C for {tflite.name} written to {out}: {', '.join(result['files'])}\n"
               f"ops {', '.join(result['ops'])}; arena {result['arena_bytes']} bytes")

