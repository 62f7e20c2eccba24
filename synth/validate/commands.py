"""``synth validate``: run a model on tflite-micro, the host C and the target, and compare."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from synth.core.limits import SEED_MAX


def validate_command(
    tflite: Annotated[Path, typer.Option(help="The .tflite model (full int8, or int8 with a float32 interface).")],
    out: Annotated[Path, typer.Option(help="Output folder: validation.json, the C and the firmware (written atomically).")],
    manifest: Annotated[Optional[Path], typer.Option(help="manifest.json of synth export: labels, input units, arena.")] = None,
    data: Annotated[Optional[Path], typer.Option(help="A synth generate dataset folder: real windows (in g) besides the random inputs.")] = None,
    target: Annotated[str, typer.Option(help="host (gcc only), qemu (also ST's B-L475E-IOT01A in QEMU >= 9), or the serial port of a board running the --firmware image.")] = "host",
    firmware: Annotated[bool, typer.Option("--firmware", help="Only build the serial validation firmware for the B-L475E-IOT01A into --out, to flash before --target PORT.")] = False,
    random: Annotated[int, typer.Option(min=1, max=10_000, help="Random inputs over the model's whole input range.")] = 64,
    windows: Annotated[int, typer.Option(min=1, max=10_000, help="At most this many --data windows (a seeded choice).")] = 256,
    seed: Annotated[int, typer.Option(min=0, max=SEED_MAX, help="Seed of the random inputs and of the choice of windows.")] = 0,
    force: Annotated[bool, typer.Option(help="Replace a non-empty output folder.")] = False,
) -> None:
    """Run the model on tflite-micro, the host C and the target; report every difference, flash, RAM and cycles."""
    from synth.validate.validate import build_firmware, summary, validate

    if firmware:
        info = build_firmware(tflite, out, manifest_path=manifest, force=force)
        image = out / info["flash_image"]
        typer.echo(f"serial validation firmware of {tflite.name} for the {info['board']} written to {out} "
                   f"(flash {info['size']['flash']} B, RAM {info['size']['ram']} B)\n"
                   f"flash it: copy {image} to the board's DIS_L4IOT drive, or st-flash write {image} {info['flash_address']}\n"
                   f"then: synth validate --tflite {tflite} --target /dev/ttyACM0 --out VALIDATION")
        return
    report = validate(tflite, out, manifest_path=manifest, data=data, target=target, random_count=random,
                      data_limit=windows, seed=seed, force=force)
    typer.echo(summary(report, out))
