"""The binary frame of ``synth stream --format binary``, defined once (the C header is generated from it).

Layout (all multi-byte fields little endian)::

    offset  size      field
    0       2         sync word 0xA5 0x5A
    2       2         sequence number (uint16, +1 per frame, wraps 65535 -> 0)
    4       2         sample count n (uint16, 1 .. MAX_SAMPLES)
    6       6 n       payload: n samples of x, y, z int16 raw output codes (LSB)
    6 + 6 n 2         CRC-16/CCITT-FALSE over bytes 2 .. 6 + 6 n (sequence, count, payload)

CRC-16/CCITT-FALSE: polynomial 0x1021, initial value 0xFFFF, not reflected, no final XOR
(check value 0x29B1 for b"123456789"). Python's ``binascii.crc_hqx(data, 0xFFFF)`` is exactly
this CRC in C, so no table is kept here; the C side uses a 256-entry table.

The decoder is incremental: feed it bytes as they arrive, in chunks of any size. It
resynchronises on the sync word after garbage and counts, per ``FrameStats``:
- lost: frames missing from the sequence that no corrupted or partial frame accounts for;
- corrupted: frames whose CRC (or sample count) is wrong;
- partial: frames cut short (a new sync word starts inside them, or the stream ended);
- duplicated: a frame with the same sequence number as the previous one (dropped);
- garbage_bytes: bytes outside any frame.
The C decoder (firmware_export/synth_stream_frame.c) follows the same steps and counts the same.
"""

from __future__ import annotations

import binascii
import struct
from dataclasses import dataclass, field
from typing import Iterator

import numpy as np

SYNC = b"\xa5\x5a"
HEADER = struct.Struct("<2sHH")  # sync, sequence, sample count
CRC = struct.Struct("<H")
AXES = 3
SAMPLE_BYTES = AXES * 2  # x, y, z int16
MAX_SAMPLES = 128  # 768-byte payload: small enough for a microcontroller's receive buffer
HEADER_BYTES = HEADER.size
CRC_BYTES = CRC.size
OVERHEAD_BYTES = HEADER_BYTES + CRC_BYTES
MAX_FRAME_BYTES = OVERHEAD_BYTES + MAX_SAMPLES * SAMPLE_BYTES
SEQUENCE_MODULO = 1 << 16
CRC_NAME = "CRC-16/CCITT-FALSE"
CRC_POLY = 0x1021
CRC_INIT = 0xFFFF
CRC_CHECK = 0x29B1  # of b"123456789"
PAYLOAD_DTYPE = np.dtype("<i2")


def crc16(data: bytes) -> int:
    """CRC-16/CCITT-FALSE of ``data`` (0 .. 65535)."""
    return binascii.crc_hqx(data, CRC_INIT)


def frame_bytes(samples: int) -> int:
    """Size in bytes of a frame holding ``samples`` samples."""
    return OVERHEAD_BYTES + samples * SAMPLE_BYTES


def bytes_per_sample(samples_per_frame: int) -> float:
    """Link bytes per sample when frames hold ``samples_per_frame`` samples (overhead shared)."""
    return frame_bytes(samples_per_frame) / samples_per_frame


def encode_frame(sequence: int, lsb: np.ndarray) -> bytes:
    """One frame of ``lsb`` (n, 3) int16 output codes, 1 <= n <= MAX_SAMPLES."""
    lsb = np.asarray(lsb)
    if lsb.ndim != 2 or lsb.shape[1] != AXES or not 1 <= len(lsb) <= MAX_SAMPLES:
        raise ValueError(f"a frame holds (1..{MAX_SAMPLES}, 3) samples, got {lsb.shape}")
    body = struct.pack("<HH", sequence % SEQUENCE_MODULO, len(lsb)) + lsb.astype(PAYLOAD_DTYPE).tobytes()
    return SYNC + body + CRC.pack(crc16(body))


def encode_frames(first_sequence: int, lsb: np.ndarray, samples_per_frame: int = MAX_SAMPLES) -> bytes:
    """``lsb`` (S, 3) split into frames of at most ``samples_per_frame`` samples, numbered from ``first_sequence``."""
    chunks = range(0, len(lsb), samples_per_frame)
    return b"".join(encode_frame(first_sequence + i, lsb[start : start + samples_per_frame]) for i, start in enumerate(chunks))


@dataclass
class FrameStats:
    """What a decoder has seen so far (counts of frames, samples and bytes)."""

    frames: int = 0
    samples: int = 0
    lost: int = 0
    corrupted: int = 0
    partial: int = 0
    duplicated: int = 0
    garbage_bytes: int = 0
    missing: int = 0  # frames absent from the sequence, whatever the reason


@dataclass(frozen=True)
class Frame:
    """A decoded frame: its sequence number and samples (n, 3) int16."""

    sequence: int
    lsb: np.ndarray


@dataclass
class FrameDecoder:
    """Incremental decoder: ``feed(chunk)`` returns the frames completed by that chunk."""

    stats: FrameStats = field(default_factory=FrameStats)
    _buffer: bytearray = field(default_factory=bytearray)
    _last_sequence: int | None = None

    def feed(self, chunk: bytes) -> list[Frame]:
        """Append ``chunk`` and return every complete, valid, new frame in order."""
        self._buffer += chunk
        return list(self._drain())

    def finish(self) -> list[Frame]:
        """End of stream: an incomplete frame left in the buffer is counted partial; returns the frames after it."""
        frames = list(self._drain())
        while self._buffer:
            self.stats.partial += 1
            self._drop(self._next_sync(1, len(self._buffer)), garbage=False)
            frames += self._drain()
        return frames

    def reset_sequence(self) -> None:
        """Forget the last sequence number (after a reconnect the sender may have restarted)."""
        self._last_sequence = None

    def _drain(self) -> Iterator[Frame]:
        """Frames decodable from the buffer now; stops at an incomplete frame."""
        while True:
            start = self._buffer.find(SYNC)
            if start < 0:
                # keep a trailing first sync byte: the second may be in the next chunk
                keep = 1 if self._buffer[-1:] == SYNC[:1] else 0
                self._drop(len(self._buffer) - keep, garbage=True)
                return
            self._drop(start, garbage=True)
            if len(self._buffer) < HEADER_BYTES:
                return
            _, sequence, count = HEADER.unpack_from(self._buffer)
            if not 1 <= count <= MAX_SAMPLES:
                self.stats.corrupted += 1
                self._drop(len(SYNC), garbage=False)
                continue
            size = frame_bytes(count)
            if len(self._buffer) < size:
                return
            frame = self._checked(sequence, count, size)
            if frame is not None:
                yield frame

    def _checked(self, sequence: int, count: int, size: int) -> Frame | None:
        """The frame at the buffer's start if its CRC holds (and it is not a duplicate); consumes it."""
        body = bytes(self._buffer[len(SYNC) : size - CRC_BYTES])
        (crc,) = CRC.unpack_from(self._buffer, size - CRC_BYTES)
        if crc != crc16(body):
            # a sync word inside the span means this frame was cut short and another began
            inner = self._next_sync(1, size)
            if inner < size:
                self.stats.partial += 1
                self._drop(inner, garbage=False)
            else:
                self.stats.corrupted += 1
                self._drop(size, garbage=False)
            return None
        self._drop(size, garbage=False)
        if not self._count_sequence(sequence):
            return None
        lsb = np.frombuffer(body, PAYLOAD_DTYPE, offset=4).reshape(count, AXES).astype(np.int16)
        self.stats.frames += 1
        self.stats.samples += count
        return Frame(sequence, lsb)

    def _count_sequence(self, sequence: int) -> bool:
        """Update lost / duplicated from the sequence number; False for a duplicate or stale frame."""
        last, self._last_sequence = self._last_sequence, sequence
        if last is None:
            return True
        gap = (sequence - last - 1) % SEQUENCE_MODULO
        if gap >= SEQUENCE_MODULO // 2:  # the same number again (or an older one): a duplicate
            self.stats.duplicated += 1
            self._last_sequence = last
            return False
        self.stats.missing += gap
        self.stats.lost = max(0, self.stats.missing - self.stats.corrupted - self.stats.partial)
        return True

    def _next_sync(self, start: int, end: int) -> int:
        """Index of the next sync word in buffer[start:end], or ``end`` when there is none."""
        found = self._buffer.find(SYNC, start, end + 1)
        return end if found < 0 or found >= end else found

    def _drop(self, count: int, garbage: bool) -> None:
        """Remove ``count`` bytes from the buffer's start, counting them as garbage if asked."""
        if garbage:
            self.stats.garbage_bytes += count
        del self._buffer[:count]
