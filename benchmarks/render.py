"""Rendering one 12-story issue, against the official MJML command-line tool.

Setup (not timed): a project with this repository's newsletter.toml and the full 12-story
issue from tests/golden/issues/ (lead, cards with and without images, calls, events), and
the official MJML CLI (npm ``mjml@5``, else the latest) installed into
``benchmarks/.cache/node_modules``. The generated MJML is written once with ``build --mjml``,
so both tools compile exactly the same source (including its ``mj-style inline`` CSS, which
both inline).

Rows:
- cold process: ``newsletter build`` (Jinja2 + MJML + CSS inlining + plain text + web page
  + archive and feed) against ``mjml email.mjml -o out.html`` (MJML only), each a fresh
  process. Target (the performance issue's): at least 20x faster. It is missed: a cold
  Python process cannot import what a build needs in 26 ms (see benchmarks/README.md).
- warm, in process: ``render_issue`` (HTML and text) once the templates are compiled, which
  is what the live preview does on every edit. Target: under 5 ms. There is no Python API
  for official MJML, so the baseline of this row is the MJML CLI's cold process; the note
  also gives MJML's own warm, in-process time (``mjml2html`` in one Node process), measured in
  the same run, for a like-for-like ratio.

Without npm (or when the install fails) the baseline is reported as not available, with
the reason, and our own numbers are still measured.
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.harness import (
    ROOT,
    BenchmarkError,
    Row,
    cold_runs,
    make_row,
    measure,
    repeats,
    run_process,
)

ISSUE = ROOT / "tests" / "golden" / "issues" / "2024-03.yaml"
MONTH = "2024-03"
CACHE = ROOT / "benchmarks" / ".cache"
MJML_BIN = CACHE / "node_modules" / ".bin" / "mjml"
NPM_TIMEOUT_S = 600.0
COLD_TARGET = ">= 20x"
WARM_TARGET = "< 5 ms"
WARM_CALLS_QUICK = 50
WARM_CALLS_FULL = 400

# Runs inside Node: compile the same MJML many times in one process, print the median.
NODE_WARM = """
const mjml = require(process.argv[1]);
const fs = require('fs');
const src = fs.readFileSync(process.argv[2], 'utf8');
const n = parseInt(process.argv[3], 10);
(async () => {
  for (let i = 0; i < 5; i++) await mjml(src, {validationLevel: 'skip'});
  const times = [];
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    await mjml(src, {validationLevel: 'skip'});
    times.push(Number(process.hrtime.bigint() - t) / 1e9);
  }
  times.sort((a, b) => a - b);
  console.log(JSON.stringify({median: times[Math.floor(n / 2)]}));
})();
"""


def ensure_mjml() -> tuple[Path | None, str]:
    """The MJML CLI (installing it with npm if needed), or None and the reason."""
    if MJML_BIN.exists():
        return MJML_BIN, _mjml_version()
    npm = shutil.which("npm")
    if npm is None:
        return None, "npm is not installed"
    CACHE.mkdir(parents=True, exist_ok=True)
    errors = []
    for spec in ("mjml@5", "mjml"):
        try:
            done = subprocess.run(
                [npm, "install", "--prefix", str(CACHE), "--no-audit", "--no-fund",
                 "--loglevel=error", spec],
                capture_output=True, text=True, timeout=NPM_TIMEOUT_S,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            errors.append(f"npm install {spec} took over {NPM_TIMEOUT_S:.0f} s")
            continue
        if done.returncode == 0 and MJML_BIN.exists():
            return MJML_BIN, _mjml_version()
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        errors.append(f"npm install {spec} failed: {tail[0]}")
    return None, "; ".join(errors)


def _mjml_version() -> str:
    package = CACHE / "node_modules" / "mjml" / "package.json"
    try:
        return "mjml " + str(json.loads(package.read_text())["version"])
    except (OSError, ValueError, KeyError):
        return "mjml (version unknown)"


def newsletter_cmd(*args: str) -> list[str]:
    script = Path(sys.executable).parent / "newsletter"
    if script.exists():
        return [str(script), *args]
    return [sys.executable, "-m", "newsletter", *args]


def make_project(root: Path) -> Path:
    (root / "issues").mkdir(parents=True)
    shutil.copy(ROOT / "newsletter.toml", root / "newsletter.toml")
    shutil.copy(ISSUE, root / "issues" / f"{MONTH}.yaml")
    return root


def node_warm_seconds(mjml_source: Path, calls: int) -> float | None:
    node = shutil.which("node")
    if node is None:
        return None
    done = subprocess.run(
        [node, "-e", NODE_WARM, str(CACHE / "node_modules" / "mjml"), str(mjml_source),
         str(calls)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    if done.returncode != 0:
        return None
    return float(json.loads(done.stdout.strip().splitlines()[-1])["median"])


def cpu_median(fn: Callable[[], object], calls: int) -> float:
    """The median CPU seconds of one call: what the render costs, whatever else runs."""
    samples = []
    for _ in range(calls):
        start = time.process_time()
        fn()
        samples.append(time.process_time() - start)
    return statistics.median(samples)


def run(quick: bool) -> list[Row]:
    from newsletter.issuefile import load_issue
    from newsletter.project import Project
    from newsletter.render import project_environment, render_issue

    repeat = repeats(quick)
    with tempfile.TemporaryDirectory(prefix="bench-render-") as tmp:
        root = make_project(Path(tmp) / "project")
        # Writes build/MONTH/email.mjml, and fills the template cache as any earlier build would.
        first = run_process(newsletter_cmd("build", MONTH, "--mjml", "--project", str(root)))
        if first.returncode != 0:
            raise BenchmarkError(f"newsletter build failed: {first.stderr.strip()[-300:]}")
        out_dir = root / "build" / MONTH
        mjml_source = out_dir / "email.mjml"
        html_kb = (out_dir / "email.html").stat().st_size / 1024

        ours = cold_runs(newsletter_cmd("build", MONTH, "--project", str(root)), repeat)
        ours_s = statistics.median(r.seconds for r in ours)
        ours_cpu = statistics.median(r.cpu_seconds for r in ours)

        project = Project.at(root)
        issue = load_issue(project.issue_path(MONTH))
        env = project_environment(project)
        calls = WARM_CALLS_QUICK if quick else WARM_CALLS_FULL
        warm_s = measure(lambda: render_issue(env, project.config, issue), calls, warmup=3)
        warm_cpu = cpu_median(lambda: render_issue(env, project.config, issue), calls)

        mjml_bin, version = ensure_mjml()
        base_s = base_cpu = node_warm = None
        base_peak = None
        if mjml_bin is not None:
            target = Path(tmp) / "mjml-out.html"
            try:
                base = cold_runs([str(mjml_bin), str(mjml_source), "-o", str(target)], repeat)
                base_s = statistics.median(r.seconds for r in base)
                base_cpu = statistics.median(r.cpu_seconds for r in base)
                base_peak = max(r.peak_mb for r in base)
            except BenchmarkError as exc:
                version = f"{version} failed: {exc}"
            node_warm = node_warm_seconds(mjml_source, 20 if quick else 100)

    stories = f"12 stories, {html_kb:.0f} KB of HTML"
    if base_s is None or base_cpu is None:
        unavailable = f"baseline not available: {version}"
        cold_note, warm_note = unavailable, unavailable
    else:
        cold_note = (
            f"{stories}; the template cache is warm, as after any earlier build; "
            f"CPU {ours_cpu * 1000:.0f} ms vs {base_cpu * 1000:.0f} ms "
            f"({version} CLI, peak {base_peak:.0f} MB); newsletter build also writes the "
            "text part, web page, archive and feed"
        )
        like_for_like = (
            f"; {version} warm in one Node process: {node_warm * 1000:.1f} ms "
            f"({node_warm / warm_s:.1f}x ours)"
            if node_warm
            else ""
        )
        warm_note = (
            f"median of {calls} in-process renders (HTML + text), {warm_cpu * 1000:.2f} ms "
            "of CPU each (the wall time also counts waiting for a core on a busy machine); "
            "baseline is the MJML CLI "
            f"cold (there is no in-process Python MJML){like_for_like}"
        )
    return [
        make_row(
            "render: newsletter build (cold process)",
            ours_s,
            base_s,
            COLD_TARGET,
            peak_mb=round(max(r.peak_mb for r in ours), 1),
            note=cold_note,
        ),
        make_row(
            "render: one issue, warm (in process)",
            warm_s,
            base_s,
            WARM_TARGET,
            note=warm_note,
        ),
    ]
