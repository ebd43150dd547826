"""The benchmark harness: the row contract, timers, memory, one subprocess per workload, the table.

Workload modules (``benchmarks/<name>.py``) expose ``run(quick: bool)`` returning one ``Row``
dict or a list of them, and may use the helpers here (``measure``, ``cold_process``,
``run_process``, ``peak_rss_mb``, ``traced_peak_mb``, ``make_row``). The harness runs every
workload in a fresh Python process, so imports are cold and peak memory is per workload.
"""

from __future__ import annotations

import importlib
import json
import os
import platform
import re
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import tracemalloc
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NotRequired, TypedDict, TypeVar

ROOT = Path(__file__).resolve().parent.parent
# The fixed order of the table; each name is a module of this package.
WORKLOADS = (
    "render",
    "preview",
    "collect",
    "select",
    "items",
    "export",
    "startup",
    "sendlog",
    "send",
)

# Medians over this many timed runs (after one untimed warm-up run).
REPEAT_QUICK = 3
REPEAT_FULL = 7
# A workload that runs longer than this is stopped and reported as not available.
TIMEOUT_QUICK_S = 300.0
TIMEOUT_FULL_S = 1800.0

T = TypeVar("T")


class Row(TypedDict):
    """One line of the results table; what every workload's ``run(quick)`` returns.

    ``ratio`` is ``baseline_s / ours_s``: above 1 means we are that many times faster.
    ``peak_mb`` may be None: the harness then fills in the workload process's peak RSS.
    ``met`` may be left out when ``target`` has a form the harness can judge (``>= 20x``,
    ``< 1 s``, ``< 300 ms``); otherwise set it yourself. ``vs`` names the baseline in a few
    words (the tool a user would pick instead), shown in the table.
    """

    workload: str
    ours_s: float | None
    baseline_s: float | None
    ratio: float | None
    peak_mb: float | None
    target: str
    note: NotRequired[str]
    met: NotRequired[bool | None]
    vs: NotRequired[str]
    extra: NotRequired[dict[str, Any]]


class RowError(ValueError):
    """A workload returned something that is not a valid Row."""


class BenchmarkError(RuntimeError):
    """A benchmark could not run (a command failed, a tool is missing)."""


_NUMBER_KEYS = ("ours_s", "baseline_s", "ratio", "peak_mb")
_KNOWN_KEYS = {"workload", "target", "note", "met", "vs", "extra", *_NUMBER_KEYS}


def validate_row(obj: object, source: str = "workload") -> Row:
    """``obj`` checked against the Row contract; ints become floats, unknown keys go to extra."""
    if not isinstance(obj, Mapping):
        raise RowError(f"{source}: a row must be a dict, got {type(obj).__name__}")
    missing = [k for k in ("workload", "target", *_NUMBER_KEYS) if k not in obj]
    if missing:
        raise RowError(f"{source}: row is missing key(s) {', '.join(missing)}")
    for key in ("workload", "target"):
        if not isinstance(obj[key], str) or not obj[key]:
            raise RowError(f"{source}: {key!r} must be a non-empty string")
    numbers: dict[str, float | None] = {}
    for key in _NUMBER_KEYS:
        value = obj[key]
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise RowError(f"{source}: {key!r} must be a number or None, got {value!r}")
        if value is not None and (value != value or value < 0):  # NaN or negative
            raise RowError(f"{source}: {key!r} must be a non-negative number, got {value!r}")
        numbers[key] = None if value is None else float(value)
    row = Row(
        workload=obj["workload"],
        ours_s=numbers["ours_s"],
        baseline_s=numbers["baseline_s"],
        ratio=numbers["ratio"],
        peak_mb=numbers["peak_mb"],
        target=obj["target"],
    )
    if row["ratio"] is None and row["ours_s"] and row["baseline_s"] is not None:
        row["ratio"] = row["baseline_s"] / row["ours_s"]
    if obj.get("note") is not None:
        row["note"] = str(obj["note"])
    if obj.get("vs") is not None:
        row["vs"] = str(obj["vs"])
    if "met" in obj:
        if obj["met"] is not None and not isinstance(obj["met"], bool):
            raise RowError(f"{source}: 'met' must be True, False or None, got {obj['met']!r}")
        row["met"] = obj["met"]
    extra = dict(obj.get("extra") or {})
    extra.update({k: v for k, v in obj.items() if k not in _KNOWN_KEYS})
    if extra:
        row["extra"] = extra
    return row


def make_row(
    workload: str,
    ours_s: float | None,
    baseline_s: float | None,
    target: str,
    *,
    peak_mb: float | None = None,
    note: str | None = None,
    met: bool | None = None,
    vs: str | None = None,
) -> Row:
    """A valid Row; ``ratio`` is computed as baseline / ours; ``vs`` names the baseline."""
    obj: dict[str, Any] = {
        "workload": workload,
        "ours_s": ours_s,
        "baseline_s": baseline_s,
        "ratio": None,
        "peak_mb": peak_mb,
        "target": target,
    }
    if note is not None:
        obj["note"] = note
    if met is not None:
        obj["met"] = met
    if vs is not None:
        obj["vs"] = vs
    return validate_row(obj)


_RATIO_TARGET = re.compile(r"(?:>=|≥|at least)\s*([\d.]+)\s*[x×]", re.IGNORECASE)
_TIME_TARGET = re.compile(r"(?:<|under)\s*([\d.]+)\s*(ms|s)\b", re.IGNORECASE)


def target_met(row: Row) -> bool | None:
    """Whether ``row`` meets its target: its own ``met``, or judged from the target's form.

    ``>= 20x`` compares the ratio; ``< 300 ms`` / ``< 1 s`` compare our median. None when the
    target has another form (the workload should then set ``met``) or a number is missing.
    """
    if "met" in row:
        return row["met"]
    if match := _RATIO_TARGET.search(row["target"]):
        return None if row["ratio"] is None else row["ratio"] >= float(match.group(1))
    if match := _TIME_TARGET.search(row["target"]):
        limit = float(match.group(1)) / (1000 if match.group(2).lower() == "ms" else 1)
        return None if row["ours_s"] is None else row["ours_s"] < limit
    return None


# --- timers and memory -----------------------------------------------------------------------


def repeats(quick: bool) -> int:
    """How many timed runs a median is taken over."""
    return REPEAT_QUICK if quick else REPEAT_FULL


def timings(fn: Callable[[], object], repeat: int, warmup: int = 1) -> list[float]:
    """Wall-clock seconds of ``repeat`` calls of ``fn``, after ``warmup`` untimed calls."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return samples


def measure(fn: Callable[[], object], repeat: int = REPEAT_FULL, warmup: int = 1) -> float:
    """The median wall-clock seconds of one call of ``fn`` (like timeit, but the median)."""
    return statistics.median(timings(fn, repeat, warmup))


def interleaved_calls(
    fns: Mapping[str, Callable[[], object]], repeat: int = REPEAT_FULL, warmup: int = 1
) -> dict[str, float]:
    """The median wall seconds of each function, called in turn (A B A B ...) after
    ``warmup`` untimed rounds, so a change in the machine's load touches every side alike."""
    samples: dict[str, list[float]] = {name: [] for name in fns}
    for i in range(warmup + repeat):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            if i >= warmup:
                samples[name].append(time.perf_counter() - start)
    return {name: statistics.median(times) for name, times in samples.items()}


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, in MB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports KB, macOS bytes.
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def traced_peak_mb(fn: Callable[[], T]) -> tuple[T, float]:
    """``fn()``'s result and the peak of Python allocations made during it, in MB.

    Unlike ``peak_rss_mb`` this is per call, so several sizes can be compared in one process;
    it slows Python allocation down, so do not time the same call.
    """
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    try:
        result = fn()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        if not was_tracing:
            tracemalloc.stop()
    return result, max(peak - base, 0) / (1024 * 1024)


@dataclass(frozen=True)
class ProcessRun:
    seconds: float
    cpu_seconds: float  # user + system: what the process itself used, whatever else runs
    peak_mb: float
    returncode: int
    stdout: str
    stderr: str


# Starts the measured command for run_process. A process's peak RSS (ru_maxrss) survives
# exec and starts from its parent's memory (fork copies it, vfork shares it), so a command
# started straight from a workload holding 300 MB would report 300 MB. Forked from this
# small, freshly exec'd launcher, it starts from a few MB; the launcher also times it.
_LAUNCHER = """
import json, os, sys, time
cmd = sys.argv[2:]
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.execvp(cmd[0], cmd)
    except OSError as exc:
        os.write(2, f"{cmd[0]}: {exc}\\n".encode())
    os._exit(127)
_, status, usage = os.wait4(pid, 0)
seconds = time.perf_counter() - start
with open(sys.argv[1], "w") as out:
    cpu = usage.ru_utime + usage.ru_stime
    json.dump([seconds, cpu, usage.ru_maxrss, os.waitstatus_to_exitcode(status)], out)
"""


def run_process(
    cmd: Sequence[str],
    *,
    cwd: Path | str | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 600.0,
) -> ProcessRun:
    """Run ``cmd`` once: wall seconds, CPU seconds, the process's own peak RSS (MB), its output."""
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.TemporaryDirectory(prefix="bench-run-") as tmp,
    ):
        result = Path(tmp) / "usage.json"
        launcher = [sys.executable, "-I", "-S", "-c", _LAUNCHER, str(result), *cmd]
        proc = subprocess.Popen(
            launcher, cwd=cwd, env=None if env is None else dict(env), stdout=out, stderr=err,
            start_new_session=True,  # a timeout stops the command too, not just the launcher
        )  # fmt: skip
        timer = threading.Timer(timeout, lambda: os.killpg(proc.pid, signal.SIGKILL))
        timer.start()
        try:
            proc.wait()
        finally:
            timer.cancel()
        if not result.exists():
            raise BenchmarkError(f"{' '.join(cmd)} did not finish within {timeout:.0f} s")
        seconds, cpu_seconds, maxrss_kb, returncode = json.loads(result.read_text())
        out.seek(0)
        err.seek(0)
        return ProcessRun(
            seconds=seconds,
            cpu_seconds=cpu_seconds,
            peak_mb=maxrss_kb / 1024,
            returncode=returncode,
            stdout=out.read().decode(errors="replace"),
            stderr=err.read().decode(errors="replace"),
        )


def cold_runs(
    cmd: Sequence[str],
    repeat: int = REPEAT_FULL,
    *,
    warmup: int = 1,
    cwd: Path | str | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 600.0,
) -> list[ProcessRun]:
    """``repeat`` fresh processes running ``cmd``, after ``warmup`` untimed ones; raises on failure.

    The warm-up run fills the OS file cache, so every timed run starts from the same state:
    a new interpreter with cold imports, and files already in memory.
    """
    runs = []
    for i in range(warmup + repeat):
        result = checked_run(cmd, cwd=cwd, env=env, timeout=timeout)
        if i >= warmup:
            runs.append(result)
    return runs


def checked_run(
    cmd: Sequence[str],
    *,
    cwd: Path | str | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 600.0,
) -> ProcessRun:
    """``run_process``, raising ``BenchmarkError`` with the tail of its output when it fails."""
    result = run_process(cmd, cwd=cwd, env=env, timeout=timeout)
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-5:]
        message = f"{' '.join(cmd)} exited with {result.returncode}: " + " / ".join(tail)
        raise BenchmarkError(message)
    return result


def interleaved_runs(
    cmds: Mapping[str, Sequence[str]],
    repeat: int = REPEAT_FULL,
    *,
    warmup: int = 1,
    cwd: Path | str | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 600.0,
) -> dict[str, list[ProcessRun]]:
    """Fresh processes of each command in turn (A B A B ...), ``repeat`` timed runs each.

    Taking turns, a drift in the machine's load touches both sides alike; three runs of one
    and then three of the other would hand one side the quieter minute.
    """
    runs: dict[str, list[ProcessRun]] = {name: [] for name in cmds}
    for i in range(warmup + repeat):
        for name, cmd in cmds.items():
            result = checked_run(cmd, cwd=cwd, env=env, timeout=timeout)
            if i >= warmup:
                runs[name].append(result)
    return runs


def bytecode_env(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """``env`` (else this process's environment) with Python free to write bytecode.

    A developer's shell (or CI) may set ``PYTHONDONTWRITEBYTECODE``; a cold process then
    compiles every module of ours on every start, which no installed copy ever does.
    """
    return {
        k: v for k, v in (os.environ if env is None else env).items()
        if k != "PYTHONDONTWRITEBYTECODE"
    }  # fmt: skip


def compile_bytecode(*paths: Path | str) -> None:
    """Byte-compile ``paths`` (default: the project's and the benchmarks' sources, and the
    installed libraries) as an install would, so cold processes load .pyc files."""
    import sysconfig

    if not paths:
        libs = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
        paths = (ROOT / "newsletter", ROOT / "benchmarks", *sorted(libs))
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", "-j", "0", *map(str, paths)],
        env=bytecode_env(), check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def cold_process(
    cmd: Sequence[str],
    repeat: int = REPEAT_FULL,
    *,
    warmup: int = 1,
    cwd: Path | str | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 600.0,
) -> float:
    """The median wall seconds of a fresh process running ``cmd`` (see ``cold_runs``)."""
    runs = cold_runs(cmd, repeat, warmup=warmup, cwd=cwd, env=env, timeout=timeout)
    return statistics.median(r.seconds for r in runs)


# --- the machine -----------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    """What the numbers were measured on (the machine is shared, so the load matters too)."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory_gb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "cpu": cpu,
        "cores": usable,
        "memory_gb": memory_gb,
        "os": platform.platform(),
        "python": platform.python_version(),
        "load_avg": [round(x, 2) for x in os.getloadavg()],
    }


# --- running workloads -----------------------------------------------------------------------


@dataclass
class Outcome:
    """What one workload produced: rows, or the reason it could not run."""

    name: str
    rows: list[Row]
    error: str | None = None
    elapsed_s: float = 0.0
    log: str = ""


def not_available(name: str, reason: str) -> Row:
    return Row(
        workload=name,
        ours_s=None,
        baseline_s=None,
        ratio=None,
        peak_mb=None,
        target="",
        note=f"not available: {reason}",
        met=None,
    )


def parse_setting(text: str) -> tuple[str, str, str]:
    """``module.NAME=value`` (as given to ``--set``) split into its three parts."""
    target, sep, value = text.partition("=")
    module, dot, name = target.strip().rpartition(".")
    if not sep or not dot or not module or not name.isidentifier():
        raise ValueError(f"{text!r}: expected MODULE.NAME=VALUE, e.g. collect.FEEDS_QUICK=10")
    return module, name, value.strip()


def apply_settings(mod: Any, settings: Sequence[tuple[str, str]]) -> None:
    """Override module constants, each value converted to the constant's own type.

    Only existing constants can be set, so a renamed one fails loudly instead of being ignored.
    """
    for name, value in settings:
        if not hasattr(mod, name):
            raise RowError(f"--set {mod.__name__}.{name}: {mod.__name__} has no {name}")
        current = getattr(mod, name)
        converted: object
        if isinstance(current, bool):
            converted = value.lower() in ("1", "true", "yes")
        elif isinstance(current, int | float | Path):
            converted = type(current)(value)
        elif isinstance(current, str) or current is None:
            converted = value
        else:
            raise RowError(f"--set {mod.__name__}.{name}: cannot set a {type(current).__name__}")
        setattr(mod, name, converted)


def _child_main(
    module: str, result_path: str, quick: bool, settings: Sequence[Sequence[str]] = ()
) -> None:
    """Inside the fresh process: import one workload, run it, write its rows as JSON.

    ``settings`` are (module, NAME, value) overrides; those for ``harness`` and for this
    workload are applied before it runs.
    """
    # Stays the answer if the workload leaves without returning (sys.exit, interrupt).
    result: dict[str, Any] = {"error": "the workload stopped without returning rows"}
    try:
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name and module.startswith(exc.name):
                result = {"error": f"module {module} does not exist yet"}
                return
            raise
        short = module.rpartition(".")[2]
        harness = sys.modules[__name__]
        apply_settings(harness, [(n, v) for m, n, v in settings if m == "harness"])
        apply_settings(mod, [(n, v) for m, n, v in settings if m == short])
        run = getattr(mod, "run", None)
        if not callable(run):
            result = {"error": f"{module} has no run(quick) function"}
            return
        produced = run(quick)
        items = produced if isinstance(produced, list) else [produced]
        rows = [validate_row(item, f"{module}.run") for item in items]
        if not rows:
            raise RowError(f"{module}.run returned no rows")
        for row in rows:
            if row["peak_mb"] is None:
                row["peak_mb"] = round(peak_rss_mb(), 1)
        result = {"rows": rows}
    except Exception as exc:
        result = {
            "error": f"{type(exc).__name__}: {exc}",
            "traceback": traceback.format_exc(),
        }
    finally:
        Path(result_path).write_text(json.dumps(result, default=str))


def run_workload(
    name: str,
    quick: bool,
    *,
    package: str = "benchmarks",
    pythonpath: Sequence[Path] = (),
    timeout: float | None = None,
    verbose: bool = False,
    settings: Sequence[tuple[str, str, str]] = (),
) -> Outcome:
    """Run ``<package>.<name>`` in a fresh Python process; never raises for a broken workload.

    ``settings`` are ``parse_setting`` results: constants to override in the harness or the
    workload module before it runs (smaller sizes for a smoke test, say).
    """
    if timeout is None:
        timeout = TIMEOUT_QUICK_S if quick else TIMEOUT_FULL_S
    paths = [str(p) for p in (*pythonpath, ROOT)]
    if os.environ.get("PYTHONPATH"):
        paths.append(os.environ["PYTHONPATH"])
    env = {**bytecode_env(), "PYTHONPATH": os.pathsep.join(paths)}
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        result_path = Path(tmp) / "result.json"
        log_path = Path(tmp) / "log.txt"
        code = (
            "import sys; from benchmarks.harness import _child_main; "
            "import json; "
            "_child_main(sys.argv[1], sys.argv[2], sys.argv[3] == 'quick', json.loads(sys.argv[4]))"
        )
        cmd = [sys.executable, "-c", code, f"{package}.{name}", str(result_path),
               "quick" if quick else "full", json.dumps(list(settings))]  # fmt: skip
        with log_path.open("wb") as log:
            # Its own session, so a timeout also stops whatever the workload started.
            proc = subprocess.Popen(
                cmd,
                cwd=ROOT,
                env=env,
                stdout=None if verbose else log,
                stderr=None if verbose else subprocess.STDOUT,
                start_new_session=True,
            )
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            except BaseException:
                # Ctrl-C reaches only this process (the workload has its own session).
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                raise
        elapsed = time.perf_counter() - start
        log_text = log_path.read_text(errors="replace")
        if proc.returncode == -signal.SIGKILL and not result_path.exists():
            error = f"stopped after {timeout:.0f} s"
            return Outcome(name, [not_available(name, error)], error, elapsed, log_text)
        if not result_path.exists():
            tail = " / ".join(log_text.strip().splitlines()[-3:])
            error = f"the workload process exited with {proc.returncode}" + (
                f": {tail}" if tail else ""
            )
            return Outcome(name, [not_available(name, error)], error, elapsed, log_text)
        result = json.loads(result_path.read_text())
    if "error" in result:
        log_text += result.get("traceback", "")
        return Outcome(
            name, [not_available(name, result["error"])], result["error"], elapsed, log_text
        )
    rows = [validate_row(r, name) for r in result["rows"]]
    return Outcome(name, rows, None, elapsed, log_text)


# --- presenting ------------------------------------------------------------------------------


def format_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.3g} ms"
    return f"{seconds:.3g} s"


def format_ratio(ratio: float | None) -> str:
    if ratio is None:
        return "–"
    return f"{ratio:.3g}×" if ratio < 100 else f"{ratio:,.0f}×"


def format_met(met: bool | None) -> str:
    return {True: "yes", False: "NO", None: "–"}[met]


COLUMNS = ("workload", "ours", "baseline", "ratio", "peak MB", "target", "met?", "vs", "note")


def table_cells(row: Row) -> list[str]:
    return [
        row["workload"],
        format_seconds(row["ours_s"]),
        format_seconds(row["baseline_s"]),
        format_ratio(row["ratio"]),
        "–" if row["peak_mb"] is None else f"{row['peak_mb']:.0f}",
        row["target"],
        format_met(target_met(row)),
        row.get("vs", "–"),
        row.get("note", ""),
    ]


def print_table(rows: Sequence[Row], title: str = "Benchmarks") -> None:
    """The results as one Rich table; notes follow it, so the numbers stay on one line each."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    # A log file or CI step is not a terminal; give it room for the whole table.
    console = Console(width=None if sys.stdout.isatty() else 150)
    table = Table(title=title, caption="ours and baseline are medians; ratio = baseline / ours")
    for column in COLUMNS[:-1]:
        numeric = column in ("ours", "baseline", "ratio", "peak MB")
        wraps = column in ("target", "vs")
        table.add_column(column, justify="right" if numeric else "left", no_wrap=not wraps)
    notes = []
    for row in rows:
        cells = [escape(cell) for cell in table_cells(row)]
        met = target_met(row)
        cells[6] = {True: "[green]yes[/]", False: "[bold red]NO[/]", None: "–"}[met]
        unavailable = row.get("note", "").startswith("not available")
        table.add_row(*cells[:-1], style="red" if unavailable else None)
        if row.get("note"):
            notes.append(f"[bold]{escape(row['workload'])}[/]: {escape(row['note'])}")
    console.print(table)
    for note in notes:
        console.print(note, highlight=False)


def markdown_table(rows: Sequence[Row]) -> str:
    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for row in rows:
        lines.append("| " + " | ".join(cell(c) for c in table_cells(row)) + " |")
    return "\n".join(lines) + "\n"


def report(
    outcomes: Sequence[Outcome], quick: bool, started: float, info: dict[str, Any]
) -> dict[str, Any]:
    """The JSON document ``--json`` writes."""
    return {
        "quick": quick,
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
        "machine": info,
        # Other work on a shared machine slows every row; the load says how much there was.
        "load_avg_end": [round(x, 2) for x in os.getloadavg()],
        "elapsed_s": round(time.time() - started, 1),
        "workloads": [
            {"name": o.name, "elapsed_s": round(o.elapsed_s, 2), "error": o.error} for o in outcomes
        ],
        "rows": [dict(row, met=target_met(row)) for o in outcomes for row in o.rows],
    }
