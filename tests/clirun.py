"""Run the `newsletter` command line: in this process (fast) or as a real separate process.

Most CLI tests use ``cli``: it calls the real entry point, ``newsletter.cli.main``, with
Click's test isolation (its own stdin, stdout, stderr and environment) in the project's
folder, and gives back what a process would have: exit code, stdout and stderr. Keep
``cli_process`` for what needs a process of its own: signals, kills, the installed wheel and
a few end-to-end runs of ``python -m newsletter``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import traceback
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner

REPO = Path(__file__).resolve().parent.parent
# Wide enough that Rich tables and messages print each row on one line.
COLUMNS = 200


@dataclass(frozen=True)
class CliResult:
    returncode: int
    stdout: str
    stderr: str


def _exit_code(code: object) -> int:
    """The exit status a process has after ``sys.exit(code)``."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def cli(
    *args: str,
    cwd: Path,
    input: str | None = None,
    env: Mapping[str, str | None] | None = None,
    columns: int = COLUMNS,
) -> CliResult:
    """``newsletter ARGS`` run in this process, in ``cwd``, as a fresh process would run it.

    ``env`` sets variables for the run; a value of None unsets one.
    """
    from newsletter.cli import main
    from newsletter.cli.app import console, err_console, state

    consoles = (console, err_console)
    saved = [(c._width, c._color_system) for c in consoles]
    old_cwd = os.getcwd()
    runner = CliRunner()
    with runner.isolation(input=input, env={"COLUMNS": str(columns), **(env or {})}) as streams:
        # Rich settles width and colours when a console is made, at import, maybe on a
        # terminal; a process started by a test prints plainly to a pipe.
        for c in consoles:
            c.width = columns
            c._color_system = None
        state["debug"] = False
        os.chdir(cwd)
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = _exit_code(exc.code)
        except Exception:
            # What an uncaught exception does to a process (`--debug` lets them through).
            traceback.print_exc()
            code = 1
        finally:
            os.chdir(old_cwd)
            for c, (width, colours) in zip(consoles, saved, strict=True):
                c._width, c._color_system = width, colours
            sys.stdout.flush()
            sys.stderr.flush()
        out, err = streams[0].getvalue(), streams[1].getvalue()
    return CliResult(code, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"))


def process_env(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for a real ``python -m newsletter``: this checkout, wide tables."""
    return {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": str(COLUMNS), **(env or {})}


def cli_process(
    *args: str,
    cwd: Path,
    input: str | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 120,
) -> CliResult:
    """``python -m newsletter ARGS`` as a real separate process."""
    done = subprocess.run(
        [sys.executable, "-m", "newsletter", *args],
        cwd=cwd, input=input, capture_output=True, text=True, env=process_env(env),
        timeout=timeout,
    )  # fmt: skip
    return CliResult(done.returncode, done.stdout, done.stderr)


def cli_popen(*args: str, cwd: Path, env: Mapping[str, str] | None = None) -> subprocess.Popen[str]:
    """``python -m newsletter ARGS`` started in the background, its output piped."""
    return subprocess.Popen(
        [sys.executable, "-m", "newsletter", *args],
        cwd=cwd, env=process_env(env), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
