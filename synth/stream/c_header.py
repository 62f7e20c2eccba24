"""Write firmware_export/synth_stream_frame.h from the frame definition in synth.stream.frame.

Run ``python -m synth.stream.c_header`` after changing the frame; a test checks that the
committed header equals what this renders.
"""

from __future__ import annotations


from synth.core.atomic import write_text
from synth.core.shipped import shipped_folder
from synth.stream import frame

EXPORT_DIR = shipped_folder("firmware_export")
TEMPLATE = "synth_stream_frame.h.j2"
HEADER_PATH = EXPORT_DIR / "synth_stream_frame.h"
TABLE_COLUMNS = 8


def crc_table() -> list[int]:
    """The 256-entry table of the frame's CRC (MSB first, polynomial frame.CRC_POLY)."""
    table = []
    for byte in range(256):
        crc = byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ frame.CRC_POLY if crc & 0x8000 else crc << 1) & 0xFFFF
        table.append(crc)
    return table


def render_header() -> str:
    """The C header text for the current frame definition."""
    import jinja2

    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(EXPORT_DIR / "templates"), keep_trailing_newline=True,
                                     undefined=jinja2.StrictUndefined)
    table = [f"0x{value:04X}u" for value in crc_table()]
    rows = [", ".join(table[i : i + TABLE_COLUMNS]) + ("," if i + TABLE_COLUMNS < len(table) else "")
            for i in range(0, len(table), TABLE_COLUMNS)]
    return environment.get_template(TEMPLATE).render(
        sync=frame.SYNC, header_bytes=frame.HEADER_BYTES, crc_bytes=frame.CRC_BYTES, sample_bytes=frame.SAMPLE_BYTES,
        axes=frame.AXES, max_samples=frame.MAX_SAMPLES, max_frame_bytes=frame.MAX_FRAME_BYTES, crc_name=frame.CRC_NAME,
        crc_poly=frame.CRC_POLY, crc_init=frame.CRC_INIT, crc_check=frame.CRC_CHECK, crc_rows=rows,
    )


def main() -> None:
    """Write the header next to the template folder."""
    write_text(HEADER_PATH, render_header())
    print(f"wrote {HEADER_PATH}")


if __name__ == "__main__":
    main()
