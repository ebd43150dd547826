"""CLI start-up: a cold ``newsletter --help`` process. Target: under 300 ms.

There is no competing tool to compare with; the note gives the interpreter's own floor
(``python -c pass``), which nothing can start faster than, instead of a ratio to it.
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

from benchmarks.harness import ROOT, Row, cold_runs, make_row

TARGET = "< 300 ms"
REPEAT_QUICK = 5
REPEAT_FULL = 21


def newsletter_help() -> list[str]:
    """The installed ``newsletter`` command next to this interpreter, else ``python -m``."""
    script = Path(sys.executable).parent / "newsletter"
    if script.exists():
        return [str(script), "--help"]
    return [sys.executable, "-m", "newsletter", "--help"]


def run(quick: bool) -> Row:
    repeat = REPEAT_QUICK if quick else REPEAT_FULL
    ours = cold_runs(newsletter_help(), repeat, cwd=ROOT)
    baseline = cold_runs([sys.executable, "-c", "pass"], repeat, cwd=ROOT)
    wall = statistics.median(r.seconds for r in ours)
    cpu = statistics.median(r.cpu_seconds for r in ours)
    floor = statistics.median(r.seconds for r in baseline)
    return make_row(
        "startup (newsletter --help)",
        wall,
        None,
        TARGET,
        # The newsletter process's own peak, not this measuring process's.
        peak_mb=round(max(r.peak_mb for r in ours), 1),
        note=f"median of {repeat} cold processes; {cpu * 1000:.0f} ms of CPU time each "
        f"(the wall time also counts waiting for a core on a busy machine); the bare "
        f"interpreter takes {floor * 1000:.0f} ms "
        f"({statistics.median(r.cpu_seconds for r in baseline) * 1000:.0f} ms CPU)",
        vs="none: an absolute target (the interpreter's floor is in the note)",
    )
