"""synth.stream over real links without hardware: loop://, pty pairs and socket:// to a local server."""

import os
import socket
import threading
import time

import numpy as np
import pytest

from synth.stream import frame
from synth.stream.link import LinkError, open_link
from synth.stream.live import receive
from synth.stream.pacing import Pacer
from synth.stream.sender import Replies, SampleFeed, send
from synth.stream.sources import array_source
from synth.stream.summary import StreamSummary
from synth.stream.wire import Decoder, Encoder

RATE = 20_000.0  # fast enough to keep the tests short; pacing is not what these test
SENSITIVITY = 0.122


def random_samples(count, seed=0):
    return np.random.default_rng(seed).integers(-32768, 32768, (count, 3)).astype(np.int16)


def send_all(link, lsb, fmt, units="lsb", rate=RATE):
    """Send ``lsb`` over ``link``; returns the sender's summary."""
    summary = StreamSummary("sent", rate)
    source = array_source(lsb, rate, SENSITIVITY, "test")
    send(link, SampleFeed(source.chunks()), Encoder(fmt, units, SENSITIVITY), Pacer(rate), summary, None)
    return summary


def receive_in_thread(opener, fmt, limit, units="lsb", seconds=20.0):
    """Start receive() in a thread; returns (thread, summary, decoder, received list)."""
    decoder = Decoder(fmt, units, SENSITIVITY)
    summary = StreamSummary("received", RATE, frames=decoder.frames.stats)
    got = []
    args = (opener, decoder, summary, got.append, limit, time.monotonic() + seconds, lambda line: None)
    thread = threading.Thread(target=receive, args=args, daemon=True)
    thread.start()
    return thread, summary, decoder, got


def drain_fd(fd, stop, out):
    """Read a pty master until ``stop`` is set and nothing more arrives."""
    os.set_blocking(fd, False)
    while True:
        try:
            chunk = os.read(fd, 65536)
        except BlockingIOError:
            if stop.is_set():
                return
            time.sleep(0.002)
            continue
        except OSError:
            return
        out.append(chunk)


@pytest.fixture
def pty_pair():
    """(master fd, slave path): pyserial opens the slave, the test holds the master."""
    master, slave = os.openpty()
    path = os.ttyname(slave)
    yield master, path
    for fd in (master, slave):
        try:
            os.close(fd)
        except OSError:
            pass


class Unclosed:
    """A link the receiver may not close (the sender writes to the same loop:// object)."""

    def __init__(self, link):
        self.link = link

    def __getattr__(self, name):
        return getattr(self.link, name)

    def close(self):
        pass


@pytest.mark.parametrize("fmt", ["binary", "csv"])
def test_loop_url_end_to_end_zero_loss(fmt):
    link = open_link("loop://", 115200)
    lsb = random_samples(3000)
    thread, summary, decoder, got = receive_in_thread(lambda: Unclosed(link), fmt, len(lsb))
    sent = send_all(link, lsb, fmt)
    thread.join(20)
    np.testing.assert_array_equal(np.concatenate(got), lsb)
    assert sent.samples == summary.samples == 3000 and sent.stopped_by == "end of input"
    assert decoder.frames.stats.lost == decoder.frames.stats.corrupted == decoder.lines.bad_lines == 0


@pytest.mark.parametrize("fmt, units", [("binary", "lsb"), ("csv", "mg"), ("csv", "lsb")])
def test_pty_sender_zero_loss(pty_pair, fmt, units):
    master, path = pty_pair
    lsb = random_samples(4000, 1)
    stop, chunks = threading.Event(), []
    reader = threading.Thread(target=drain_fd, args=(master, stop, chunks), daemon=True)
    reader.start()
    link = open_link(path, 115200)
    sent = send_all(link, lsb, fmt, units)
    link.close()
    stop.set()
    reader.join(10)
    decoder = Decoder(fmt, units, SENSITIVITY)
    got = decoder.feed(b"".join(chunks))
    decoder.finish()
    np.testing.assert_array_equal(got, lsb)
    assert sent.samples == 4000 and decoder.frames.stats.lost == 0 and decoder.lines.bad_lines == 0


def test_sender_collects_and_drains_what_the_board_answers(pty_pair):
    """Answers that arrive while sending and up to the quiet time after the last write are all read."""
    master, path = pty_pair
    stop, chunks = threading.Event(), []
    reader = threading.Thread(target=drain_fd, args=(master, stop, chunks), daemon=True)
    reader.start()
    answer_late = threading.Timer(0.4, os.write, args=(master, b"stats samples 300\n"))
    link = open_link(path, 115200)  # opening flushes what was waiting: the board answers after it
    os.write(master, b"window 0 class 1\n")
    summary, replies = StreamSummary("sent", RATE), Replies()
    source = array_source(random_samples(300, 3), RATE, SENSITIVITY, "test")
    answer_late.start()
    send(link, SampleFeed(source.chunks()), Encoder("binary", "lsb", SENSITIVITY), Pacer(RATE), summary, None,
         replies=replies)
    link.close()
    stop.set()
    assert summary.samples == 300 and summary.stopped_by == "end of input"
    assert replies.lines() == ["window 0 class 1", "stats samples 300"]


def test_pty_receiver_counts_injected_faults_exactly(pty_pair):
    master, path = pty_pair
    lsb = random_samples(30 * 10, 2)
    data = [frame.encode_frame(i, lsb[i * 10 : (i + 1) * 10]) for i in range(30)]
    corrupt = bytearray(data[4]); corrupt[8] ^= 0x40
    stream = data[:4] + [bytes(corrupt)] + data[5:12] + [data[11]] + data[13:20] + [data[20][:25]] + data[21:]
    thread, summary, decoder, got = receive_in_thread(lambda: open_link(path, 115200), "binary", None, seconds=1.5)
    time.sleep(0.3)
    for piece in stream:
        os.write(master, piece)
    thread.join(10)
    s = decoder.frames.stats
    assert (s.corrupted, s.duplicated, s.partial, s.lost, s.frames) == (1, 1, 1, 1, 27)
    assert summary.samples == 270


def test_sender_stops_cleanly_when_the_pty_closes(pty_pair):
    master, path = pty_pair
    link = open_link(path, 115200)
    timer = threading.Timer(0.3, os.close, args=(master,))
    timer.start()
    summary = send_all(link, random_samples(200_000), "binary", rate=2000.0)
    timer.join()
    assert summary.stopped_by.startswith("disconnect") and 0 < summary.samples < 200_000
    assert summary.lines()[0].startswith("sent ")


def test_missing_port_names_it_and_lists_ports():
    with pytest.raises(LinkError, match=r"cannot open port /dev/ttyNOSUCH0: no such port \(ports found: .+\)"):
        open_link("/dev/ttyNOSUCH0", 115200)


def test_busy_port_is_reported(pty_pair):
    _, path = pty_pair
    first = open_link(path, 115200)
    try:
        with pytest.raises(LinkError, match=f"cannot open port {path}: busy"):
            open_link(path, 115200)
    finally:
        first.close()


def serve_twice(server, payloads):
    """Accept one connection per payload, send it, close it (a board that resets in between)."""
    for payload in payloads:
        connection, _ = server.accept()
        time.sleep(0.2)  # pyserial's socket:// drops bytes that arrive right at connect
        connection.sendall(payload)
        time.sleep(0.2)
        connection.close()


def test_live_receiver_reconnects_over_socket():
    lsb = random_samples(40 * 8, 3)
    first = frame.encode_frames(0, lsb[:160], 8)
    second = frame.encode_frames(0, lsb[160:], 8)  # the sender restarted: sequence from 0 again
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    threading.Thread(target=serve_twice, args=(server, [first, second]), daemon=True).start()
    url = f"socket://127.0.0.1:{port}"
    thread, summary, decoder, got = receive_in_thread(lambda: open_link(url, 115200), "binary", len(lsb), seconds=15)
    thread.join(20)
    server.close()
    np.testing.assert_array_equal(np.concatenate(got), lsb)
    assert summary.reconnects == 1 and decoder.frames.stats.lost == 0 and summary.stopped_by == "limit reached"
