"""synth.stream: frame encoder/decoder, CSV lines, pacing, link budget (no I/O)."""

import numpy as np
import pytest

from synth.stream import csv_format, frame
from synth.stream.link import LinkError, check_budget
from synth.stream.pacing import Pacer


def samples(count, seed=0):
    """(count, 3) int16 test samples over the whole int16 range."""
    return np.random.default_rng(seed).integers(-32768, 32768, (count, 3)).astype(np.int16)


def frames_of(count, per_frame=10, first=0):
    """A list of encoded frames of ``per_frame`` samples each, and the samples."""
    lsb = samples(count * per_frame)
    return [frame.encode_frame(first + i, lsb[i * per_frame : (i + 1) * per_frame]) for i in range(count)], lsb


def decode_all(data, chunk=7):
    """Decode ``data`` fed in ``chunk``-byte pieces; returns (samples, stats)."""
    decoder = frame.FrameDecoder()
    got = [f.lsb for i in range(0, len(data), chunk) for f in decoder.feed(data[i : i + chunk])]
    got += [f.lsb for f in decoder.finish()]
    return (np.concatenate(got) if got else np.zeros((0, 3), np.int16)), decoder.stats


def test_crc_is_ccitt_false():
    assert frame.crc16(b"123456789") == frame.CRC_CHECK == 0x29B1


def test_layout_is_little_endian_with_sync_sequence_count_payload_crc():
    data = frame.encode_frame(0x1234, np.array([[1, -2, 258]], np.int16))
    assert data[:2] == b"\xa5\x5a" and data[2:4] == b"\x34\x12" and data[4:6] == b"\x01\x00"
    assert data[6:12] == b"\x01\x00\xfe\xff\x02\x01"
    assert int.from_bytes(data[12:], "little") == frame.crc16(data[2:12]) and len(data) == frame.frame_bytes(1)


def test_round_trip_any_chunking():
    data, lsb = frames_of(50)
    for chunk in (1, 3, 200, 10_000):
        got, stats = decode_all(b"".join(data), chunk)
        np.testing.assert_array_equal(got, lsb)
        assert (stats.frames, stats.lost, stats.corrupted, stats.partial, stats.duplicated, stats.garbage_bytes) == (50, 0, 0, 0, 0, 0)


def test_injected_faults_are_counted_exactly():
    data, _ = frames_of(40)
    corrupt = bytearray(data[5]); corrupt[20] ^= 0x01
    stream = [b"junk!"] + data[:5] + [bytes(corrupt)] + data[6:10] + [data[9]] + data[11:14] + [data[14][:30]] + data[15:]
    _, stats = decode_all(b"".join(stream))  # drops: frame 10; duplicate: 9; corrupt: 5; truncated: 14
    assert (stats.corrupted, stats.duplicated, stats.partial, stats.lost, stats.missing) == (1, 1, 1, 1, 3)
    assert stats.frames == 40 - 3 and stats.garbage_bytes == 5


def test_truncated_last_frame_and_bad_count_resync():
    data, _ = frames_of(3)
    bogus = frame.SYNC + b"\x00\x00\xff\xff"  # a sample count above MAX_SAMPLES
    _, stats = decode_all(bogus + b"".join(data) + data[0][:9])
    assert (stats.frames, stats.corrupted, stats.partial) == (3, 1, 1)


def test_sequence_wraps_without_loss():
    data, _ = frames_of(4, first=65534)
    _, stats = decode_all(b"".join(data))
    assert (stats.frames, stats.lost, stats.duplicated) == (4, 0, 0)


def test_encode_frames_splits_and_rejects_oversize():
    lsb = samples(300)
    got, stats = decode_all(frame.encode_frames(0, lsb, 128))
    np.testing.assert_array_equal(got, lsb)
    assert stats.frames == 3
    with pytest.raises(ValueError):
        frame.encode_frame(0, samples(frame.MAX_SAMPLES + 1))


@pytest.mark.parametrize("units", ["mg", "lsb"])
def test_csv_lines_round_trip_and_resync(units):
    lsb = samples(100)
    text = csv_format.encode_lines(lsb, units, 0.122)
    parser = csv_format.LineParser()
    garbled = b"3,4\n" + text[:50] + b"\xff,zz\n" + text[50:]  # a partial line, then a garbled one
    values = np.concatenate([parser.feed(garbled[i : i + 11]) for i in range(0, len(garbled), 11)])
    parser.finish()
    scale = 0.122 if units == "mg" else 1.0
    codes = np.round(values / scale).astype(int)
    assert parser.bad_lines == 3 and len(codes) == 99  # the garbled line swallowed one sample
    np.testing.assert_array_equal(codes[-50:], lsb[-50:])


def test_csv_mg_text_is_exact_and_short():
    assert csv_format.encode_lines(np.array([[3, -100, 0]], np.int16), "mg", 0.122) == b"0.366,-12.2,0\n"
    assert csv_format.max_line_bytes(-32768, "lsb", 0.122) == len(b"-32768,-32768,-32768\n")


class FakeClock:
    """A monotonic clock that sleeps instantly, overshooting each sleep by ``overshoot`` s."""

    def __init__(self, overshoot=0.0):
        self.now, self.overshoot = 100.0, overshoot

    def clock(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds + self.overshoot


@pytest.mark.parametrize("rate, batch", [(26.0, 1), (6660.0, 34)])
def test_pacing_does_not_drift_despite_oversleeping(rate, batch):
    fake = FakeClock(overshoot=0.002)
    pacer = Pacer(rate, clock=fake.clock, sleep=fake.sleep)
    sent = [pacer.next_batch() for _ in range(int(rate * 10) // batch)]
    assert sent[0] >= batch and pacer.released == sum(sent)
    assert 0 <= pacer.lateness() <= 0.002 + batch / rate  # bounded by one sleep overshoot, not growing


def test_pacing_catches_up_after_a_stall_without_dropping():
    fake = FakeClock()
    pacer = Pacer(100.0, clock=fake.clock, sleep=fake.sleep)
    pacer.next_batch()
    fake.now += 0.5  # the process was descheduled for 50 samples
    assert pacer.next_batch() == 50 and pacer.next_batch() == 1


def test_link_budget_warns_or_refuses():
    assert check_budget(26, 21, 115200, strict=True, what="csv") is None
    warning = check_budget(6660, 21, 115200, strict=False, what="csv")
    assert "exceeds" in warning and "11,520 B/s" in warning
    with pytest.raises(LinkError, match="--format binary"):
        check_budget(6660, 21, 115200, strict=True, what="csv")
