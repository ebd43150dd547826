"""The live preview: from saving the issue file to the reload event reaching an open page.

Setup (not timed): the render workload's project (the 12-story issue, every image at hand),
a ``PreviewServer`` on a free loopback port as ``newsletter preview`` starts it, and a
client holding ``/events`` open as the preview page does.

Timed, each save: from writing the issue file (a new subject) until the client reads the
``reload`` event, which is what a person waits for between saving and seeing the page
change (the browser's own reload of the page is the same for any tool and is not counted).

Baseline: MJML's own watch mode (``mjml --watch email.mjml -o out.html``), what someone
previewing MJML by hand would run: from writing the MJML file until the new HTML is on
disk (read every 2 ms). It compiles MJML only, with no templates, images, text part or
checks, so it does less per save than ours. Target (the benchmarks issue's): a median of
60 ms or less.
"""

from __future__ import annotations

import http.client
import queue
import re
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from benchmarks.harness import Row, make_row

SAVES = 15
SAVES_QUICK = 5
TARGET = "< 60 ms"
PAUSE_S = 0.3  # between saves, so each is a save of its own and not part of a burst
WAIT_S = 30.0
MJML_POLL_S = 0.002
MJML = True  # --set preview.MJML=false skips the baseline (the test suite's tiny run)


class EventClient:
    """Holds ``/events`` open in a thread, as the preview page does, and queues events."""

    def __init__(self, port: int) -> None:
        self.events: queue.Queue[tuple[str, float]] = queue.Queue()
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=WAIT_S + 30)
        self.conn.request("GET", "/events")
        self.response = self.conn.getresponse()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        try:
            while line := self.response.fp.readline():
                if line.startswith(b"event: "):
                    self.events.put((line[7:].strip().decode(), time.perf_counter()))
        except (OSError, ValueError):
            pass

    def next(self, name: str) -> float:
        while True:
            event, at = self.events.get(timeout=WAIT_S)
            if event == name:
                return at

    def close(self) -> None:
        self.conn.close()


def ours(root: Path, month: str, saves: int) -> tuple[list[float], list[str]]:
    from newsletter.preview.server import Build, PreviewServer

    issue = root / "issues" / f"{month}.yaml"
    original = issue.read_text()
    errors: list[str] = []
    latencies = []

    def failed(build: Build) -> None:
        if build.error:
            errors.append(build.error)

    with PreviewServer(root, month, port=0, on_rebuild=failed) as server:
        client = EventClient(server.port)
        try:
            client.next("hello")
            for n in range(saves + 1):  # the first save is a warm-up
                time.sleep(PAUSE_S)
                text = re.sub(r"(?m)^subject: .*$", f"subject: Benchmark save {n}", original)
                start = time.perf_counter()
                issue.write_text(text)
                arrived = client.next("reload")
                if n:
                    latencies.append(arrived - start)
        finally:
            client.close()
    return latencies, errors


def mjml_watch(mjml_bin: Path, source: Path, saves: int) -> list[float]:
    """Latencies of ``mjml --watch``: write the MJML, wait for the new HTML on disk."""
    out = source.with_name("watched.html")
    original = source.read_text()
    marker = "Benchmark save"
    assert marker not in original
    proc = subprocess.Popen(
        [str(mjml_bin), "--watch", str(source), "-o", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    latencies = []
    try:
        assert proc.stdout is not None
        # It compiles nothing until the first change; it says when it is watching.
        while b"watching" not in proc.stdout.readline():
            if proc.poll() is not None:
                raise RuntimeError("mjml --watch stopped before watching")
        threading.Thread(target=proc.stdout.read, daemon=True).start()  # keep the pipe drained
        time.sleep(0.5)
        for n in range(saves + 1):
            time.sleep(PAUSE_S)
            # One visible word changes, as a save in an editor changes the source.
            text = original.replace("</mj-text>", f" {marker} {n}</mj-text>", 1)
            start = time.perf_counter()
            source.write_text(text)
            wanted = re.compile(rf"{marker} {n}(?!\d)")
            deadline = time.monotonic() + WAIT_S
            while time.monotonic() < deadline:
                try:
                    if wanted.search(out.read_text(errors="replace")):
                        break
                except OSError:
                    pass
                time.sleep(MJML_POLL_S)
            else:
                raise TimeoutError("mjml --watch never wrote the change")
            if n:
                latencies.append(time.perf_counter() - start)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    return latencies


def run(quick: bool) -> Row:
    from benchmarks.render import MONTH, ensure_mjml, make_project, newsletter_cmd

    saves = SAVES_QUICK if quick else SAVES
    with tempfile.TemporaryDirectory(prefix="bench-preview-") as tmp:
        root = make_project(Path(tmp) / "project")
        # Fills the caches (templates, images) as the preview's own first build does.
        subprocess.run(
            newsletter_cmd("build", MONTH, "--mjml", "--project", str(root)),
            check=True, capture_output=True,
        )  # fmt: skip
        latencies, errors = ours(root, MONTH, saves)
        if errors:
            raise RuntimeError(f"the preview's rebuild failed: {errors[0]}")
        mjml_bin, version = ensure_mjml() if MJML else (None, "skipped (preview.MJML=false)")
        base: list[float] | None = None
        if mjml_bin is not None:
            base = mjml_watch(mjml_bin, root / "build" / MONTH / "email.mjml", saves)
    ours_s = statistics.median(latencies)
    note = (
        f"median of {saves} saves (min {min(latencies) * 1000:.0f} ms, max "
        f"{max(latencies) * 1000:.0f} ms): file written to the reload event at the page; "
        "each rebuild renders, checks and prepares the images"
    )
    if base is None:
        note += f"; baseline not available: {version}"
    return make_row(
        "preview: save to reload",
        ours_s,
        statistics.median(base) if base else None,
        TARGET,
        note=note,
        vs=f"{version} --watch: MJML's own watch mode, from save to the new HTML on disk",
    )
