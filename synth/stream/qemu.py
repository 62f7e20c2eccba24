"""Hook for the end-to-end test against exported firmware running in QEMU (not written yet).

When the firmware export lands, a test will boot the exported image in QEMU with its UART as a
TCP chardev, stream frames to it with ``synth stream --port socket://127.0.0.1:PORT`` and read
back what the firmware decodes. Known limits (see ../shared/docs/facts.md): bookworm's QEMU 7.2
has netduinoplus2 and mps2-an386, whose UARTs receive reliably; QEMU 10's b-l475e-iot01a
stalls on receive; pyserial's socket:// drops bytes that arrive right at connect, so the
firmware must wait for a first byte. This module only builds the command line; nothing here
pretends to run firmware.
"""

from __future__ import annotations

from pathlib import Path

DEFAULT_MACHINE = "netduinoplus2"  # Cortex-M4 whose emulated UART receives reliably


def qemu_command(firmware: Path, tcp_port: int, machine: str = DEFAULT_MACHINE) -> list[str]:
    """The qemu-system-arm command that boots ``firmware`` (an ELF) with its first UART on 127.0.0.1:tcp_port."""
    return [
        "qemu-system-arm", "-M", machine, "-nographic", "-kernel", str(firmware),
        "-serial", f"tcp:127.0.0.1:{tcp_port},server=on,wait=on",
        "-semihosting-config", "enable=on,target=native",
    ]


def serial_url(tcp_port: int) -> str:
    """The pyserial URL of the emulated UART."""
    return f"socket://127.0.0.1:{tcp_port}"
