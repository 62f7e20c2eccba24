"""``synth data``: download and inspect real data sets."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from synth.core.command_line import command_group

app = command_group("Download and inspect real data sets.")


@app.command("fetch")
def data_fetch(
    name: Annotated[str, typer.Argument(help="Data set to download: pamap2 or hapt.")],
    dest: Annotated[Path, typer.Option(help="Destination directory.")] = Path("data"),
    url: Annotated[Optional[str], typer.Option(help="Override the download address (mirrors).")] = None,
) -> None:
    """Download a public data set (pamap2 or hapt), verify it (PAMAP2: each file's official size and sha256; HAPT, without published digests: its structure) and unpack it."""
    from synth.data.fetch import fetch_dataset  # requests and tqdm load only for a download

    folder = fetch_dataset(name, dest, url=url)
    typer.echo(f"{name} ready in {folder}")
