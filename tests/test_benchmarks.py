"""The benchmark harness works: the row contract, its helpers, broken workloads, the CLI.

No timing assertions: these check that the code paths run and report honestly, not how fast.
The full ``python -m benchmarks --quick`` run is CI's separate smoke step (``make bench-quick``).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from benchmarks import harness
from benchmarks.harness import (
    BenchmarkError,
    RowError,
    cold_process,
    make_row,
    measure,
    run_process,
    run_workload,
    target_met,
    traced_peak_mb,
    validate_row,
)
from tests.conftest import REPO

GOOD = {
    "workload": "render (cold)",
    "ours_s": 0.05,
    "baseline_s": 2,
    "ratio": None,
    "peak_mb": 40,
    "target": ">= 20x",
}


def test_a_valid_row_gets_floats_and_a_computed_ratio() -> None:
    row = validate_row({**GOOD, "msgs_per_s": 21000, "note": "n"})
    assert row["baseline_s"] == 2.0 and isinstance(row["baseline_s"], float)
    assert row["ratio"] == pytest.approx(40.0)
    assert row["note"] == "n"
    # Unknown keys are kept for the JSON, not dropped and not in the table.
    assert row["extra"] == {"msgs_per_s": 21000}


def test_a_given_ratio_is_kept() -> None:
    assert validate_row({**GOOD, "ratio": 3.5})["ratio"] == 3.5


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"ours_s": "fast"}, "'ours_s' must be a number"),
        ({"peak_mb": -1}, "non-negative"),
        ({"ratio": math.nan}, "non-negative"),
        ({"ours_s": True}, "'ours_s' must be a number"),
        ({"target": ""}, "'target' must be a non-empty string"),
        ({"met": "yes"}, "'met' must be True, False or None"),
    ],
)
def test_invalid_rows_are_rejected_with_the_key(change: dict[str, object], message: str) -> None:
    with pytest.raises(RowError, match=message):
        validate_row({**GOOD, **change})


def test_missing_keys_are_named() -> None:
    with pytest.raises(RowError, match=r"missing key.*baseline_s, ratio"):
        validate_row({k: v for k, v in GOOD.items() if k not in ("baseline_s", "ratio")})
    with pytest.raises(RowError, match="must be a dict"):
        validate_row([GOOD])


@pytest.mark.parametrize(
    ("target", "ours_s", "ratio", "met"),
    [
        (">= 20x", 0.1, 25.0, True),
        ("≥ 20× faster than MJML", 0.1, 19.9, False),
        ("at least 3x baseline items/s", 1.0, 3.0, True),
        ("< 300 ms", 0.299, None, True),
        ("< 300 ms", 0.301, None, False),
        ("under 1 s", 0.5, None, True),
        ("< 5 ms per issue", 0.006, None, False),
        ("flat memory", 1.0, 1.0, None),  # not a form the harness can judge
        (">= 20x", None, None, None),  # nothing measured
    ],
)
def test_targets_are_judged_from_their_form(
    target: str, ours_s: float | None, ratio: float | None, met: bool | None
) -> None:
    row = validate_row({**GOOD, "target": target, "ours_s": ours_s, "ratio": ratio})
    assert target_met(row) is met


def test_a_workloads_own_verdict_wins() -> None:
    assert target_met(make_row("export", 1.0, 2.0, ">= 20x", met=True)) is True
    assert target_met(make_row("export", 1.0, 50.0, "linear", met=False)) is False


def test_measure_returns_the_median_of_the_timed_calls() -> None:
    calls = []
    result = measure(lambda: calls.append(1), repeat=5, warmup=2)
    assert len(calls) == 7
    assert result >= 0


def test_cold_process_runs_fresh_processes_and_reports_failures(tmp_path: Path) -> None:
    marker = tmp_path / "runs"
    code = f"open({str(marker)!r}, 'a').write('x')"
    assert cold_process([sys.executable, "-c", code], repeat=2, warmup=1) > 0
    assert marker.read_text() == "xxx"
    with pytest.raises(BenchmarkError, match="exited with 3: no such project"):
        code = "import sys; print('no such project', file=sys.stderr); sys.exit(3)"
        cold_process([sys.executable, "-c", code], repeat=1)


def test_interleaved_runs_take_turns_and_drop_the_warmup(tmp_path: Path) -> None:
    marker = tmp_path / "order"
    cmds = {
        name: [sys.executable, "-c", f"open({str(marker)!r}, 'a').write({name!r})"]
        for name in ("A", "B")
    }
    runs = harness.interleaved_runs(cmds, repeat=2, warmup=1)
    assert marker.read_text() == "ABABAB"
    assert [len(runs["A"]), len(runs["B"])] == [2, 2]


def test_bytecode_env_lets_python_write_bytecode() -> None:
    env = harness.bytecode_env({"PYTHONDONTWRITEBYTECODE": "1", "HOME": "/h"})
    assert env == {"HOME": "/h"}


def test_run_process_reports_the_childs_own_peak_memory() -> None:
    # 80 MB written (not just reserved), so it is resident in the child, never in this process.
    run = run_process([sys.executable, "-c", "b = b'x' * (80 * 1024 * 1024); print(len(b))"])
    assert run.returncode == 0 and run.stdout.strip() == str(80 * 1024 * 1024)
    assert 80 < run.peak_mb < 200
    assert run.cpu_seconds > 0


def test_a_childs_peak_memory_does_not_count_its_parents() -> None:
    # A peak RSS survives fork and exec; the harness must not report the workload's own memory.
    held = b"y" * (200 * 1024 * 1024)
    run = run_process([sys.executable, "-c", "pass"])
    assert len(held) and run.peak_mb < 60


def test_traced_peak_sees_python_allocations() -> None:
    result, peak = traced_peak_mb(lambda: len([str(i) for i in range(200_000)]))
    assert result == 200_000
    assert peak > 5  # 200k short strings plus the list


@pytest.fixture
def fake_workloads(tmp_path: Path) -> Path:
    """A package of workloads that succeed, fail and misbehave in every way the harness meets."""
    package = tmp_path / "fakebench"
    package.mkdir()
    (package / "__init__.py").write_text("")
    modules = {
        "good": """
            from benchmarks.harness import make_row

            def run(quick):
                big = b"x" * (30 * 1024 * 1024)  # resident in this workload's process only
                return [
                    make_row("good a", 0.01, 0.5, ">= 20x", note=f"quick={quick} {len(big)}"),
                    make_row("good b", 2.0, 1.0, "< 1 s", peak_mb=12.5),
                ]
            """,
        "broken": """
            def run(quick):
                raise ValueError("the fixture feed is missing")
            """,
        "badrow": """
            def run(quick):
                return {"workload": "badrow", "ours_s": 1.0}
            """,
        "exits": """
            import sys

            def run(quick):
                sys.exit(3)
            """,
        "norun": "VALUE = 1\n",
        "sized": """
            from pathlib import Path

            from benchmarks import harness
            from benchmarks.harness import make_row

            SIZE = 1000
            RATE = 0.5
            LABEL = "default"
            FOLDER = Path("/")

            def run(quick):
                note = f"{SIZE!r} {RATE!r} {LABEL!r} {FOLDER!r} {harness.repeats(quick)}"
                return make_row("sized", 1.0, 2.0, ">= 1x", note=note)
            """,
        "brokenimport": "import a_module_that_is_not_installed\n",
        "slow": """
            import time

            def run(quick):
                time.sleep(60)
            """,
    }
    for name, source in modules.items():
        (package / f"{name}.py").write_text(textwrap.dedent(source))
    return tmp_path


def _run(name: str, fake: Path, timeout: float = 60) -> harness.Outcome:
    return run_workload(name, quick=True, package="fakebench", pythonpath=[fake], timeout=timeout)


def test_rows_come_back_from_a_fresh_process(fake_workloads: Path) -> None:
    outcome = _run("good", fake_workloads)
    assert outcome.error is None
    a, b = outcome.rows
    assert (a["workload"], a["ratio"], a["note"]) == ("good a", 50.0, f"quick=True {30 << 20}")
    assert target_met(a) is True and target_met(b) is False
    # Without its own figure, a row gets the workload process's peak RSS, not the harness's.
    assert a["peak_mb"] is not None and a["peak_mb"] > 30
    assert b["peak_mb"] == 12.5


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("missing", "module fakebench.missing does not exist yet"),
        ("broken", "ValueError: the fixture feed is missing"),
        ("badrow", "RowError: fakebench.badrow.run: row is missing key(s)"),
        ("exits", "the workload stopped without returning rows"),
        ("norun", "fakebench.norun has no run(quick) function"),
        ("brokenimport", "ModuleNotFoundError: No module named 'a_module_that_is_not_installed'"),
    ],
)
def test_a_broken_workload_becomes_a_not_available_row(
    fake_workloads: Path, name: str, reason: str
) -> None:
    outcome = _run(name, fake_workloads)
    assert outcome.error is not None and reason in outcome.error
    (row,) = outcome.rows
    assert row["workload"] == name
    assert row.get("note", "").startswith(f"not available: {reason}")
    assert row["ours_s"] is None and target_met(row) is None


def test_settings_override_constants_with_their_own_types(fake_workloads: Path) -> None:
    settings = [
        harness.parse_setting(text)
        for text in ("sized.SIZE=20", "sized.RATE=2", "sized.LABEL=tiny run", "sized.FOLDER=/tmp",
                     "harness.REPEAT_QUICK=1", "good.SIZE=5")
    ]  # fmt: skip
    outcome = run_workload(
        "sized", quick=True, package="fakebench", pythonpath=[fake_workloads], settings=settings
    )
    assert outcome.error is None
    # Settings for another workload ("good") are not applied here.
    assert outcome.rows[0].get("note") == "20 2.0 'tiny run' PosixPath('/tmp') 1"


def test_a_setting_for_a_missing_constant_fails_loudly(fake_workloads: Path) -> None:
    outcome = run_workload(
        "sized", quick=True, package="fakebench", pythonpath=[fake_workloads],
        settings=[harness.parse_setting("sized.SIZE_QUICK=3")],
    )  # fmt: skip
    assert (
        outcome.error
        == "RowError: --set fakebench.sized.SIZE_QUICK: fakebench.sized has no SIZE_QUICK"
    )


@pytest.mark.parametrize("text", ["SIZE=3", "sized.SIZE", "sized.=3", ".SIZE=3", "a.2x=1"])
def test_malformed_settings_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"expected MODULE\.NAME=VALUE"):
        harness.parse_setting(text)


def test_a_workload_that_hangs_is_stopped(fake_workloads: Path) -> None:
    outcome = _run("slow", fake_workloads, timeout=1)
    assert outcome.error == "stopped after 1 s"
    assert outcome.rows[0].get("note") == "not available: stopped after 1 s"


def test_the_table_and_markdown_show_every_row() -> None:
    rows = [
        make_row("render (cold)", 0.05, 2.0, ">= 20x"),
        harness.not_available("collect", "ValueError: boom | bang"),
    ]
    markdown = harness.markdown_table(rows)
    assert "| render (cold) | 50 ms | 2 s | 40× | – | >= 20x | yes |" in markdown
    assert "not available: ValueError: boom \\| bang" in markdown


def test_an_unknown_workload_name_is_refused() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--only", "rendr"],
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 2
    assert "unknown workload rendr; choose from " + ", ".join(harness.WORKLOADS) in (proc.stderr)


# Every workload at a tiny size, so the suite knows each still runs end to end (seconds, not the
# minutes of --quick). No npm on PATH: the render row then reports its baseline as not
# available instead of installing the MJML CLI.
TINY = [
    "harness.REPEAT_QUICK=1",
    "render.WARM_CALLS_QUICK=3",
    "render.MJML_BIN=/nonexistent/mjml",
    "preview.SAVES_QUICK=2",
    "preview.MJML=false",
    "collect.FEEDS_QUICK=2",
    "select.ITEMS_QUICK=500",
    "items.SMALL_QUICK=100",
    "items.LARGE_QUICK=300",
    "export.SMALL=500",
    "export.MEDIUM=2000",
    "export.BASELINE_SAMPLE_QUICK=2",
    "export.WARMUP=20",
    "startup.REPEAT_QUICK=1",
    "sendlog.RECIPIENTS_QUICK=20",
    "send.RECIPIENTS_QUICK=30",
    "send.POOL=5",
    "send.MEMORY_SIZES_QUICK_SMALL=20",
    "send.MEMORY_SIZES_QUICK_LARGE=60",
]


def test_every_workload_runs_at_a_tiny_size(tmp_path: Path) -> None:
    out, md = tmp_path / "tiny.json", tmp_path / "tiny.md"
    settings = [arg for text in TINY for arg in ("--set", text)]
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", *settings, "--json", str(out),
         "--markdown", str(md)],
        cwd=REPO, capture_output=True, text=True, timeout=600,
        env={**os.environ, "PATH": str(Path(sys.executable).parent)},
    )  # fmt: skip
    document = json.loads(out.read_text())
    errors = {w["name"]: w["error"] for w in document["workloads"] if w["error"]}
    assert errors == {}, proc.stderr
    assert proc.returncode == 0
    assert [w["name"] for w in document["workloads"]] == list(harness.WORKLOADS)
    for name in harness.WORKLOADS:
        rows = [r for r in document["rows"] if r["workload"].startswith(name)]
        assert rows and all(r["ours_s"] and r["ours_s"] > 0 for r in rows), name
        assert all(r["peak_mb"] and r["peak_mb"] > 0 for r in rows), name
        assert all(r["workload"] in md.read_text() for r in rows)
    assert "newsletter benchmarks (quick" in proc.stdout
    assert document["quick"] is True and document["machine"]["cores"] >= 1
    (startup,) = [r for r in document["rows"] if r["workload"].startswith("startup")]
    assert startup["ours_s"] > 0 and startup["met"] in (True, False)
    assert startup["baseline_s"] is None and "the bare interpreter takes" in startup["note"]


def test_the_cli_imports_no_library_module_before_a_command_runs() -> None:
    """Start-up stays fast: `newsletter --help` must not import the pipeline's heavy parts."""
    code = "import sys, newsletter.cli; print('\\n'.join(sorted(sys.modules)))"
    loaded = set(
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout.split()
    )
    heavy = {"httpx", "feedparser", "pydantic", "jinja2", "mjml", "css_inline", "nh3",
             "selectolax", "ruamel", "email_validator", "sqlite3", "markdown_it"}  # fmt: skip
    assert sorted(m for m in loaded if m.split(".")[0] in heavy) == []
    # errors.py is a few classes and registry.py the names behind --to and --via (what they
    # name is imported when used); everything else is imported inside the command functions.
    ours = {m for m in loaded if m.startswith("newsletter.") and not m.startswith("newsletter.cli")}
    assert sorted(ours - {"newsletter.errors", "newsletter.registry"}) == []
