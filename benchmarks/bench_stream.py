"""Benchmark of ``synth stream`` through a pty: throughput with zero loss, pacing error, CPU at 26 Hz.

The sender (synth.stream.sender.send, as the command runs it) is a child process writing to the
pty's slave end; this process reads the master end and decodes (synth.stream.wire.Decoder) and
checks that every sample arrived, in order, unchanged.

    python benchmarks/bench_stream.py            # all (about 35 s)
    python benchmarks/bench_stream.py --quick    # 2 s pacing runs instead of 10 s

Goals (issue 5): >= 100,000 samples/s binary with zero loss; pacing error <= 0.1 % over 10 s
at 26 Hz and 6,660 Hz; CPU < 5 % of one core at 26 Hz.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import select
import time

import numpy as np

from synth.stream.link import open_link
from synth.stream.pacing import Pacer
from synth.stream.sender import SampleFeed, send
from synth.stream.sources import array_source
from synth.stream.summary import StreamSummary
from synth.stream.wire import Decoder, Encoder

SENSITIVITY = 0.122
UNPACED_HZ = 50_000_000.0  # a rate no link reaches: the sender writes as fast as it can


def samples(count: int) -> np.ndarray:
    """(count, 3) int16 test samples."""
    return np.random.default_rng(0).integers(-32768, 32768, (count, 3)).astype(np.int16)


def sender(path: str, fmt: str, units: str, rate: float, count: int, conn) -> None:
    """Child process: send ``count`` samples at ``rate``; report timing and CPU through ``conn``."""
    link = open_link(path, 4_000_000)
    summary = StreamSummary("sent", rate)
    source = array_source(samples(count), rate, SENSITIVITY, "bench")
    cpu0, wall0 = time.process_time(), time.monotonic()
    pacer = Pacer(rate)
    send(link, SampleFeed(source.chunks()), Encoder(fmt, units, SENSITIVITY), pacer, summary, count)
    conn.send({"samples": summary.samples, "achieved": summary.achieved_rate_hz, "cpu_s": time.process_time() - cpu0,
               "wall_s": time.monotonic() - wall0, "lateness_s": pacer.lateness()})
    link.close()


def run(fmt: str, units: str, rate: float, count: int) -> dict:
    """Send ``count`` samples through a fresh pty; returns the sender's report plus the receiver's checks."""
    master, slave = os.openpty()
    parent, child = multiprocessing.Pipe()
    process = multiprocessing.get_context("fork").Process(target=sender, args=(os.ttyname(slave), fmt, units, rate, count, child))
    process.start()
    decoder = Decoder(fmt, units, SENSITIVITY)
    got, arrivals = [], []
    while sum(map(len, got)) < count and (process.is_alive() or select.select([master], [], [], 0)[0]):
        if select.select([master], [], [], 0.5)[0]:
            batch = decoder.feed(os.read(master, 1 << 16))
            if len(batch):
                got.append(batch)
                arrivals.append((time.monotonic(), len(batch)))
    report = parent.recv()
    process.join()
    os.close(master)
    os.close(slave)
    received = np.concatenate(got) if got else np.zeros((0, 3), np.int16)
    report["zero_loss"] = received.shape == (count, 3) and bool(np.array_equal(received, samples(count)))
    report["received_rate"] = (count - arrivals[0][1]) / (arrivals[-1][0] - arrivals[0][0])
    return report


def throughput(fmt: str, units: str, count: int) -> None:
    report = run(fmt, units, UNPACED_HZ, count)
    rate = report["samples"] / report["wall_s"]
    print(f"throughput {fmt:6s} {units:3s}: {rate:12,.0f} samples/s sustained over {report['samples']:,} samples "
          f"({report['wall_s']:.2f} s), zero loss: {report['zero_loss']}")


def pacing(rate: float, seconds: float) -> None:
    report = run("binary", "lsb", rate, int(rate * seconds))
    sender_error = abs(report["achieved"] / rate - 1)
    receiver_error = abs(report["received_rate"] / rate - 1)
    cpu = report["cpu_s"] / report["wall_s"]
    print(f"pacing {rate:7g} Hz over {seconds:g} s: sender {report['achieved']:.4f} samples/s (error {sender_error:.4%}), "
          f"receiver {report['received_rate']:.4f} (error {receiver_error:.4%}), last sample {report['lateness_s'] * 1e3:.2f} ms "
          f"after due; sender CPU {cpu:.2%} of one core; zero loss: {report['zero_loss']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 s pacing runs")
    args = parser.parse_args()
    seconds = 2.0 if args.quick else 10.0
    throughput("binary", "lsb", 2_000_000)
    throughput("csv", "lsb", 400_000)
    throughput("csv", "mg", 400_000)
    pacing(26.0, seconds)
    pacing(6660.0, seconds)


if __name__ == "__main__":
    main()
