"""The C frame encoder/decoder (firmware_export/synth_stream_frame.*) against the Python one, compiled with gcc."""

import shutil
import subprocess

import numpy as np
import pytest

from synth.stream import frame
from synth.stream.c_header import HEADER_PATH, render_header

EXPORT = HEADER_PATH.parent
HARNESS = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "synth_stream_frame.h"

/* encode: stdin lines "sequence count x y z ...", stdout the frames.
   decode: stdin bytes (fed in 5-byte pieces), stdout "frame seq count x y z ..." lines and a stats line. */
static void print_frame(void *context, uint16_t sequence, const int16_t *xyz, uint16_t count)
{
    unsigned i;
    (void)context;
    printf("frame %u %u", (unsigned)sequence, (unsigned)count);
    for (i = 0; i < 3u * count; ++i) printf(" %d", xyz[i]);
    printf("\n");
}

static int encode(void)
{
    static int16_t xyz[SYNTH_STREAM_MAX_SAMPLES * 3];
    static uint8_t out[SYNTH_STREAM_MAX_FRAME_BYTES];
    unsigned sequence, count, i;
    int value;
    while (scanf("%u %u", &sequence, &count) == 2) {
        for (i = 0; i < 3u * count; ++i) { if (scanf("%d", &value) != 1) return 1; xyz[i] = (int16_t)value; }
        fwrite(out, 1, synth_stream_encode(out, sizeof out, (uint16_t)sequence, xyz, (uint16_t)count), stdout);
    }
    return 0;
}

static int decode(void)
{
    static synth_stream_decoder_t decoder;
    uint8_t piece[5];
    size_t got;
    synth_stream_decoder_init(&decoder);
    while ((got = fread(piece, 1, sizeof piece, stdin)) > 0) synth_stream_decoder_feed(&decoder, piece, got, print_frame, NULL);
    synth_stream_decoder_finish(&decoder, print_frame, NULL);
    printf("stats %lu %lu %lu %lu %lu %lu %lu\n", (unsigned long)decoder.stats.frames, (unsigned long)decoder.stats.samples,
           (unsigned long)decoder.stats.lost, (unsigned long)decoder.stats.corrupted, (unsigned long)decoder.stats.partial,
           (unsigned long)decoder.stats.duplicated, (unsigned long)decoder.stats.garbage_bytes);
    return 0;
}

int main(int argc, char **argv)
{
    if (synth_stream_crc16((const uint8_t *)"123456789", 9) != SYNTH_STREAM_CRC_CHECK) return 3;
    return argc > 1 && strcmp(argv[1], "encode") == 0 ? encode() : decode();
}
"""


@pytest.fixture(scope="module")
def harness(tmp_path_factory):
    """The compiled C harness (gcc -std=c99 -Wall -Wextra -Werror)."""
    if shutil.which("gcc") is None:
        pytest.skip("gcc is not installed")
    folder = tmp_path_factory.mktemp("c")
    (folder / "harness.c").write_text(HARNESS)
    binary = folder / "harness"
    subprocess.run(["gcc", "-std=c99", "-Wall", "-Wextra", "-Werror", "-O2", f"-I{EXPORT}", str(folder / "harness.c"),
                    str(EXPORT / "synth_stream_frame.c"), "-o", str(binary)], check=True, capture_output=True)
    return binary


def run(binary, mode, data: bytes) -> bytes:
    return subprocess.run([str(binary), mode], input=data, capture_output=True, check=True).stdout


def batches(seed=0):
    """(sequence, samples) pairs with varied sizes, including the extremes of int16 and of the frame."""
    rng = np.random.default_rng(seed)
    sizes = [1, frame.MAX_SAMPLES, 7, 32, 2, 64]
    out = [(i, rng.integers(-32768, 32768, (n, 3)).astype(np.int16)) for i, n in enumerate(sizes)]
    out[0][1][0] = [-32768, 32767, 0]
    return out


def python_decode(data: bytes):
    """The Python decoder's frames and stats in the harness's text format."""
    decoder = frame.FrameDecoder()
    frames = [f for i in range(0, len(data), 5) for f in decoder.feed(data[i : i + 5])] + decoder.finish()
    s = decoder.stats
    lines = [" ".join(["frame", str(f.sequence), str(len(f.lsb)), *map(str, f.lsb.ravel())]) for f in frames]
    lines.append(f"stats {s.frames} {s.samples} {s.lost} {s.corrupted} {s.partial} {s.duplicated} {s.garbage_bytes}")
    return "\n".join(lines) + "\n"


def test_committed_header_is_generated_from_python():
    assert HEADER_PATH.read_text() == render_header(), "run: python -m synth.stream.c_header"


def test_c_encodes_the_same_bytes_as_python(harness):
    text = "".join(f"{seq} {len(lsb)} {' '.join(map(str, lsb.ravel()))}\n" for seq, lsb in batches())
    assert run(harness, "encode", text.encode()) == b"".join(frame.encode_frame(seq, lsb) for seq, lsb in batches())


def test_c_decodes_python_frames_with_faults_like_python(harness):
    data = [frame.encode_frame(seq, lsb) for seq, lsb in batches()]
    corrupt = bytearray(data[2]); corrupt[-1] ^= 0xFF
    stream = b"".join([b"\x00\xa5noise", data[0], data[1], bytes(corrupt), data[3], data[3], data[4][:-3], data[5], data[5][:10]])
    c_text = run(harness, "decode", stream).decode()
    assert c_text == python_decode(stream)
    assert c_text.splitlines()[-1] == "stats 4 225 0 1 2 1 7"  # frames samples lost corrupted partial duplicated garbage


def test_python_decodes_c_frames(harness):
    text = "".join(f"{seq} {len(lsb)} {' '.join(map(str, lsb.ravel()))}\n" for seq, lsb in batches(1))
    encoded = run(harness, "encode", text.encode())
    decoder = frame.FrameDecoder()
    got = decoder.feed(encoded[:-100]) + decoder.feed(encoded[-100:])
    assert [f.sequence for f in got] == list(range(6)) and decoder.stats.corrupted == 0
    np.testing.assert_array_equal(np.concatenate([f.lsb for f in got]), np.concatenate([lsb for _, lsb in batches(1)]))
