"""SMTP sending: ``newsletter send`` against smtplib, to the same fast local sink.

Three ways send the issue to the same recipients at ``benchmarks/smtpsink.py`` (a separate
process that offers PIPELINING and counts what it accepts; each run checks the count):

- baseline 1: a plain smtplib loop over one connection (``sendmail`` per message);
- baseline 2: smtplib over 8 threads, one connection each;
- ours: ``newsletter send`` as a library call (``plan_send`` then ``run_send``) over 4 and 8
  connections, with its send log on disk (a fresh SQLite store per run, every claim durable
  before its message leaves).

The baselines get the messages pre-built (the same bytes ``send`` writes, built before the
clock starts, a pool of distinct messages cycled over the recipients); ``send`` builds each
recipient's message itself while it sends, and that is timed. The issue is the repository's
own (about 46 KB a message). Rows: messages/s and the ratio to the 8-thread baseline, the
same with ``--delay`` (each sink reply ~3 ms late), and memory from a small to a large
audience (each size in a fresh process: peak RSS growth per recipient).

Targets: at least 1,000 messages/s with 4 to 8 connections, at least 1.5x the 8-thread
smtplib baseline, at least 600 messages/s with 3 ms added latency, flat memory.
"""

from __future__ import annotations

import os
import shutil
import smtplib
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.harness import ROOT, Row, make_row, repeats, run_process

MONTH = "2020-10"
SECRET = "benchmark-secret-not-for-mail"
RECIPIENTS = 5_000
RECIPIENTS_QUICK = 600
POOL = 200  # distinct pre-built messages for the baselines
LATENCY = 0.003
MEMORY_SMALL = 10_000
MEMORY_LARGE = 100_000
MEMORY_SIZES_QUICK_SMALL = 1_000
MEMORY_SIZES_QUICK_LARGE = 5_000
CONNECTIONS = (4, 8)
THREADS = 8
TARGET_RATE = 1_000.0
TARGET_RATIO = 1.5
TARGET_LATENCY_RATE = 600.0
FLAT_KB = 0.1  # "flat": at most this much peak memory per extra recipient


class Sink:
    """The sink process, on a free port."""

    def __init__(self, delay: float = 0.0) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.smtpsink", "--delay", str(delay)],
            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().split()
        if not line or line[0] != "ready":
            raise RuntimeError("the SMTP sink did not start")
        self.port = int(line[1])

    def count(self) -> int:
        with smtplib.SMTP("127.0.0.1", self.port, timeout=30) as conn:
            _, text = conn.docmd("XCOUNT")
            return int(text)

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


def write_project(root: Path, port: int, connections: int) -> Path:
    root.mkdir(parents=True)
    shutil.copytree(ROOT / "issues", root / "issues")
    text = (ROOT / "newsletter.toml").read_text()
    text = text[: text.index("\n[smtp]")] if "\n[smtp]" in text else text
    (root / "newsletter.toml").write_text(
        text + f'\n[smtp]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\n'
        f"connections = {connections}\n\n[send]\nretry_delay = 0\n"
    )
    return root


def write_audience(path: Path, count: int) -> Path:
    with path.open("w") as fh:
        fh.write("email,name\n")
        for i in range(count):
            fh.write(f"reader{i:07d}@example.org,Reader {i}\n")
    return path


def library_send(root: Path, audience: Path) -> tuple[float, int]:
    """``newsletter send`` as a library call: (seconds of run_send, messages sent)."""
    from newsletter.deliver.send import make_transport, plan_send, run_send
    from newsletter.project import Project

    os.environ["NEWSLETTER_SECRET"] = SECRET
    plan = plan_send(Project.at(root), MONTH, audience)
    transport = make_transport(plan.prepared, "smtp")
    start = time.perf_counter()
    report = run_send(plan, transport)
    seconds = time.perf_counter() - start
    if not report.ok:
        raise RuntimeError(f"send failed: {report}")
    return seconds, report.sent


def prebuilt(root: Path, count: int) -> list[bytes]:
    from newsletter.deliver.audience import Recipient
    from newsletter.deliver.export import prepare
    from newsletter.deliver.merge import Personalizer
    from newsletter.project import Project

    project = Project.at(root)
    prepared = prepare(project, MONTH)
    template = prepared.message_template()
    personal = Personalizer(project.config, MONTH, SECRET.encode()).personal
    return [
        template.render(personal(Recipient(email=f"reader{i:07d}@example.org", name=f"R {i}")))
        for i in range(count)
    ]


def smtplib_send(port: int, messages: list[bytes], count: int, threads: int) -> float:
    sender = "newsletter@example.org"
    lock = threading.Lock()
    counter = iter(range(count))

    def worker() -> None:
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as conn:
            while True:
                with lock:
                    i = next(counter, None)
                if i is None:
                    return
                conn.sendmail(sender, [f"reader{i:07d}@example.org"], messages[i % len(messages)])

    start = time.perf_counter()
    workers = [threading.Thread(target=worker) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return time.perf_counter() - start


def timed(sink: Sink, count: int, once: Callable[[], float], repeat: int) -> float:
    """The median seconds of ``once`` (after a warm-up), checking the sink got every message."""
    samples = []
    for i in range(repeat + 1):
        before = sink.count()
        seconds = once()
        got = sink.count() - before
        if got != count:
            raise RuntimeError(f"the sink accepted {got} messages, not {count}")
        if i:
            samples.append(seconds)
    return statistics.median(samples)


def throughput(count: int, delay: float, repeat: int, tmp: Path) -> dict[str, float]:
    tmp.mkdir(parents=True)
    sink = Sink(delay)
    try:
        audience = write_audience(tmp / f"audience-{count}.csv", count)
        runs = {"n": 0}

        def ours(connections: int) -> Callable[[], float]:
            def once() -> float:
                runs["n"] += 1
                root = write_project(tmp / f"p{runs['n']}", sink.port, connections)
                return library_send(root, audience)[0]

            return once

        base = write_project(tmp / "base", sink.port, 1)
        messages = prebuilt(base, POOL)
        out = {
            "smtplib-1": timed(sink, count, lambda: smtplib_send(sink.port, messages, count, 1),
                               repeat),
            f"smtplib-{THREADS}": timed(
                sink, count, lambda: smtplib_send(sink.port, messages, count, THREADS), repeat
            ),
        }  # fmt: skip
        for connections in CONNECTIONS:
            out[f"send-{connections}"] = timed(sink, count, ours(connections), repeat)
        return out
    finally:
        sink.close()


def memory(sizes: tuple[int, ...], tmp: Path) -> dict[int, tuple[float, float]]:
    """(peak RSS in MB, seconds) of a fresh process sending to ``size`` recipients, per size."""
    tmp.mkdir(parents=True)
    sink = Sink()
    try:
        peaks = {}
        for size in sizes:
            audience = write_audience(tmp / f"mem-{size}.csv", size)
            root = write_project(tmp / f"mem-{size}", sink.port, max(CONNECTIONS))
            code = (
                "import sys; from pathlib import Path; from benchmarks.send import library_send; "
                "library_send(Path(sys.argv[1]), Path(sys.argv[2]))"
            )
            result = run_process(
                [sys.executable, "-c", code, str(root), str(audience)], cwd=ROOT,
                env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=1800,
            )  # fmt: skip
            if result.returncode != 0:
                raise RuntimeError(f"memory run failed: {result.stderr[-500:]}")
            peaks[size] = (result.peak_mb, result.seconds)
        return peaks
    finally:
        sink.close()


def run(quick: bool) -> list[Row]:
    count = RECIPIENTS_QUICK if quick else RECIPIENTS
    repeat = repeats(quick)
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="bench-send-") as name:
        tmp = Path(name)
        for delay in (0.0, LATENCY):
            times = throughput(count, delay, repeat, tmp / f"d{delay}")
            rows += throughput_rows(times, count, delay)
        sizes = (
            (MEMORY_SIZES_QUICK_SMALL, MEMORY_SIZES_QUICK_LARGE)
            if quick
            else (MEMORY_SMALL, MEMORY_LARGE)
        )
        peaks = memory(sizes, tmp / "memory")
    small, large = sizes[0], sizes[-1]
    (low, _), (high, seconds) = peaks[small], peaks[large]
    growth_kb = (high - low) * 1024 / (large - small)
    rows.append(
        make_row(
            f"send memory ({small:,} -> {large:,} recipients)",
            seconds,
            None,
            f"flat (<= {FLAT_KB} KB per recipient)",
            peak_mb=high,
            met=growth_kb <= FLAT_KB,
            vs="none: an absolute target (memory from a small to a large audience)",
            note=f"peak RSS {low:.0f} MB -> {high:.0f} MB: {growth_kb:.2f} KB per extra "
            f"recipient (ours: the whole process for {large:,}, imports and render included)",
        )
    )
    return rows


def throughput_rows(times: dict[str, Any], count: int, delay: float) -> list[Row]:
    rows = []
    late = f", +{delay * 1000:.0f} ms a reply" if delay else ""
    one, threaded = times["smtplib-1"], times[f"smtplib-{THREADS}"]
    for connections in CONNECTIONS:
        ours = times[f"send-{connections}"]
        rate = count / ours
        if delay:
            met, target = rate >= TARGET_LATENCY_RATE, f">= {TARGET_LATENCY_RATE:.0f} msg/s"
        else:
            met = rate >= TARGET_RATE and threaded / ours >= TARGET_RATIO
            target = f">= {TARGET_RATE:,.0f} msg/s and >= {TARGET_RATIO}x"
        rows.append(
            make_row(
                f"send ({count:,} msgs, {connections} connections{late})",
                ours,
                threaded,
                target,
                met=met,
                vs=f"smtplib over {THREADS} threads, one connection each, messages pre-built: "
                "what a Python user would write to send faster than one connection",
                note=f"{rate:,.0f} msg/s; smtplib {count / one:,.0f} msg/s on one connection "
                f"({one / ours:.2f}x), {count / threaded:,.0f} on {THREADS} threads (the "
                "baseline)",
            )
        )
    return rows
