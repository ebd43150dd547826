"""CLI start-up: a cold ``newsletter --help`` process against ``python -c pass``.

The baseline is the interpreter's own floor: nothing can start faster than that, so the
difference is what newsletter's imports cost. Target: under 300 ms.
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

from benchmarks.harness import ROOT, Row, cold_process, make_row, run_process

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
    cmd = newsletter_help()
    ours = cold_process(cmd, repeat, cwd=ROOT)
    baseline = cold_process([sys.executable, "-c", "pass"], repeat, cwd=ROOT)
    # Peak memory of the newsletter process itself, not of this measuring process.
    peak = statistics.median(run_process(cmd, cwd=ROOT).peak_mb for _ in range(3))
    return make_row(
        "startup (newsletter --help)",
        ours,
        baseline,
        TARGET,
        peak_mb=round(peak, 1),
        note=f"imports add {(ours - baseline) * 1000:.0f} ms to the bare interpreter; "
        f"median of {repeat} cold processes",
    )
