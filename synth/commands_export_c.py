"""``synth export-c``: a .tflite model as C for firmware (TFLM glue, or standalone C99 int8 inference)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer


def register(app: typer.Typer, load_tensorflow) -> None:
    """Add ``synth export-c`` to ``app`` (no TensorFlow needed: the flatbuffer is read directly)."""
    del load_tensorflow

    @app.command("export-c")
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
