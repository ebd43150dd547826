"""Rendering one 12-story issue, against the official MJML, the tool a user would otherwise
run to turn MJML into email HTML.

Setup (not timed): a project with this repository's newsletter.toml and the full 12-story
issue from tests/golden/issues/ (lead, cards with and without images, calls, events), and
the official MJML (npm ``mjml@5``, else the latest) installed into
``benchmarks/.cache/node_modules``. The generated MJML is written once with ``build --mjml``,
so both tools compile exactly the same source (including its ``mj-style inline`` CSS, which
both inline). The harness byte-compiles the project and its libraries first, and no process
here runs with ``PYTHONDONTWRITEBYTECODE``, so a cold process loads .pyc files, as it does
once installed. (Node 20 has no compile cache to fill; each MJML CLI start compiles its
JavaScript afresh, as it always does.)

Rows:
- cold process: ``newsletter build`` (Jinja2 + MJML + CSS inlining + plain text + web page
  + archive and feed) against ``mjml email.mjml -o out.html`` (MJML only), each a fresh
  process, taking turns (A B A B) so a drift in the machine's load touches both. Target (the
  benchmarks issue's): at least 2x faster.
- warm, in process: ``render_issue`` (HTML and text) once the templates are compiled, which
  is what the live preview does on every edit, against MJML's own warm compile
  (``mjml2html`` over and over in one Node process, the way a Node preview server keeps it
  loaded). The two take turns in two rounds. Target: under 5 ms.

Without npm (or when the install fails) the baselines are reported as not available, with
the reason, and our own numbers are still measured.
"""

from __future__ import annotations

import json
import re
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
    compile_bytecode,
    interleaved_runs,
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
COLD_TARGET = ">= 2x"
WARM_TARGET = "< 5 ms"
WARM_CALLS_QUICK = 50
WARM_CALLS_FULL = 400
IMAGE_URL = re.compile(r"https?://[^\s'\"]+\.(?:jpe?g|png|webp|gif)")
NODE_CALLS_QUICK = 20
NODE_CALLS_FULL = 200

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
    """The benchmark's project, with every story image at hand as after an earlier build.

    The sample's own pictures are local copies (sources/cluster/images); the other stories'
    images go into the download cache, stand-ins for what a first build fetched. Without
    them each cold build would spend its time failing to reach those servers.
    """
    from newsletter.project import Project
    from newsletter.render.imagefetch import cache_key

    (root / "issues").mkdir(parents=True)
    shutil.copy(ROOT / "newsletter.toml", root / "newsletter.toml")
    shutil.copy(ISSUE, root / "issues" / f"{MONTH}.yaml")
    images = root / "sources" / "cluster" / "images"
    shutil.copytree(ROOT / "sources" / "cluster" / "images", images)
    local = "https://oslocancercluster.no/wp-content/uploads/"
    stand_in = sorted(images.rglob("*.jpg"))[0].read_bytes()
    cache = Project.at(root).image_cache_dir / "src"
    cache.mkdir(parents=True, exist_ok=True)
    for url in set(IMAGE_URL.findall(ISSUE.read_text())):
        if url.startswith(local):
            path = images / url[len(local) :]
            path.parent.mkdir(parents=True, exist_ok=True)
            if not path.exists():
                path.write_bytes(stand_in)
        else:
            (cache / cache_key(url)).write_bytes(stand_in)
            note = {"url": url, "content_type": "image/jpeg", "bytes": len(stand_in)}
            (cache / f"{cache_key(url)}.json").write_text(json.dumps(note))
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

    compile_bytecode()  # no-op when the harness has just done it
    repeat = repeats(quick)
    mjml_bin, version = ensure_mjml()
    with tempfile.TemporaryDirectory(prefix="bench-render-") as tmp:
        root = make_project(Path(tmp) / "project")
        # Writes build/MONTH/email.mjml, and fills the template cache as any earlier build would.
        first = run_process(newsletter_cmd("build", MONTH, "--mjml", "--project", str(root)))
        if first.returncode != 0:
            raise BenchmarkError(f"newsletter build failed: {first.stderr.strip()[-300:]}")
        out_dir = root / "build" / MONTH
        mjml_source = out_dir / "email.mjml"
        html_kb = (out_dir / "email.html").stat().st_size / 1024

        ours_cmd = newsletter_cmd("build", MONTH, "--project", str(root))
        base = None
        if mjml_bin is not None:
            mjml_cmd = [str(mjml_bin), str(mjml_source), "-o", str(Path(tmp) / "mjml-out.html")]
            try:
                both = interleaved_runs({"ours": ours_cmd, "mjml": mjml_cmd}, repeat)
                ours, base = both["ours"], both["mjml"]
            except BenchmarkError as exc:
                version = f"{version} failed: {exc}"
        if base is None:
            ours = cold_runs(ours_cmd, repeat)
        ours_s = statistics.median(r.seconds for r in ours)
        ours_cpu = statistics.median(r.cpu_seconds for r in ours)

        project = Project.at(root)
        issue = load_issue(project.issue_path(MONTH))
        env = project_environment(project)
        calls = WARM_CALLS_QUICK if quick else WARM_CALLS_FULL
        node_calls = NODE_CALLS_QUICK if quick else NODE_CALLS_FULL
        warm, node = [], []
        for _ in range(2):  # two rounds each, taking turns
            warm.append(measure(lambda: render_issue(env, project.config, issue), calls // 2, 3))
            if base is not None:
                node.append(node_warm_seconds(mjml_source, node_calls // 2))
        warm_s = statistics.median(warm)
        warm_cpu = cpu_median(lambda: render_issue(env, project.config, issue), calls // 2)
        node_warm = None if not node or None in node else statistics.median(n or 0 for n in node)

    stories = f"12 stories, {html_kb:.0f} KB of HTML"
    cold_vs = f"the {version} CLI, cold: what a user runs to compile MJML"
    warm_vs = f"{version} warm in one Node process (mjml2html called again and again)"
    if base is None:
        unavailable = f"baseline not available: {version}"
        cold_note, warm_note = unavailable, unavailable
        base_s = None
    else:
        base_s = statistics.median(r.seconds for r in base)
        base_cpu = statistics.median(r.cpu_seconds for r in base)
        base_peak = max(r.peak_mb for r in base)
        cold_note = (
            f"{stories}; A B A B, byte-compiled; CPU {ours_cpu * 1000:.0f} ms vs "
            f"{base_cpu * 1000:.0f} ms (MJML peak {base_peak:.0f} MB); newsletter build also "
            "renders the text part, web page, archive and feed"
        )
        warm_note = (
            f"median of {calls} in-process renders (HTML + text), {warm_cpu * 1000:.2f} ms of "
            f"CPU each; MJML: median of {node_calls} compiles of the same MJML (MJML only, no "
            "templating or text part)"
        )
    return [
        make_row(
            "render: newsletter build (cold process)",
            ours_s,
            base_s,
            COLD_TARGET,
            peak_mb=round(max(r.peak_mb for r in ours), 1),
            note=cold_note,
            vs=cold_vs,
        ),
        make_row(
            "render: one issue, warm (in process)",
            warm_s,
            node_warm,
            WARM_TARGET,
            note=warm_note,
            vs=warm_vs,
        ),
    ]
