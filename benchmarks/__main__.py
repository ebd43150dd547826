"""python -m benchmarks [--quick] [--only NAME] [--json FILE] [--markdown FILE]."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from benchmarks.harness import (
    WORKLOADS,
    Outcome,
    compile_bytecode,
    machine,
    markdown_table,
    parse_setting,
    print_table,
    report,
    run_workload,
    target_met,
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Time newsletter's workloads against their baselines, each in a fresh "
        "process, and print one table. Example: python -m benchmarks --quick --only startup",
    )
    parser.add_argument(
        "--quick", action="store_true", help="Small sizes and fewer repeats (a smoke test)."
    )
    parser.add_argument(
        "--only",
        action="append",
        metavar="NAME",
        help=f"Run only this workload (repeatable; one of {', '.join(WORKLOADS)}).",
    )
    parser.add_argument("--json", type=Path, metavar="FILE", help="Also write the results here.")
    parser.add_argument(
        "--markdown", type=Path, metavar="FILE", help="Also write a Markdown table here."
    )
    parser.add_argument(
        "--timeout", type=float, metavar="SECONDS", help="Stop a workload after this long."
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="MODULE.NAME=VALUE",
        help="Override a workload's (or the harness's) constant, e.g. collect.FEEDS=50 or "
        "harness.REPEAT_FULL=11 (repeatable).",
    )
    parser.add_argument(
        "--verbose", "-v", action="store_true", help="Show the workloads' own output as they run."
    )
    args = parser.parse_args(argv)
    names = [n for item in args.only or [] for n in item.split(",") if n]
    unknown = [n for n in names if n not in WORKLOADS]
    if unknown:
        parser.error(f"unknown workload {', '.join(unknown)}; choose from {', '.join(WORKLOADS)}")
    args.names = [n for n in WORKLOADS if n in names] if names else list(WORKLOADS)
    try:
        args.settings = [parse_setting(text) for text in args.set]
    except ValueError as exc:
        parser.error(str(exc))
    strangers = sorted({m for m, _, _ in args.settings} - {"harness", *WORKLOADS})
    if strangers:
        parser.error(f"--set: unknown module {', '.join(strangers)}")
    return args


def main(argv: list[str] | None = None) -> int:
    from rich.console import Console

    args = parse_args(argv)
    console = Console(stderr=True)
    started = time.time()
    info = machine()
    console.print(
        f"[dim]{info['cpu']}, {info['cores']} cores, {info['memory_gb']} GB, "
        f"Python {info['python']}, load {info['load_avg']}[/]"
    )
    # As installed: every module byte-compiled, whatever PYTHONDONTWRITEBYTECODE says here.
    with console.status("Byte-compiling the project and its libraries…"):
        compile_bytecode()
    outcomes: list[Outcome] = []
    for name in args.names:
        with console.status(f"Running {name}{' (quick)' if args.quick else ''}…"):
            outcome = run_workload(
                name, args.quick, timeout=args.timeout, verbose=args.verbose, settings=args.settings
            )
        outcomes.append(outcome)
        status = f"[red]not available: {outcome.error}[/]" if outcome.error else "done"
        console.print(f"{name}: {status} in {outcome.elapsed_s:.1f} s", highlight=False)
        if outcome.error and outcome.log.strip():
            tail = "\n".join(outcome.log.strip().splitlines()[-15:])
            console.print(tail, style="dim", highlight=False, markup=False)

    rows = [row for o in outcomes for row in o.rows]
    mode = "quick" if args.quick else "full"
    print_table(rows, title=f"newsletter benchmarks ({mode}, {time.time() - started:.0f} s)")
    document = report(outcomes, args.quick, started, info)
    console.print(
        f"[dim]load average at the start {info['load_avg']}, at the end "
        f"{document['load_avg_end']}[/]"
    )
    if args.json:
        args.json.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
        console.print(f"Wrote {args.json}")
    if args.markdown:
        args.markdown.write_text(markdown_table(rows))
        console.print(f"Wrote {args.markdown}")
    missed = [row["workload"] for row in rows if target_met(row) is False]
    if missed:
        console.print(f"[yellow]Targets missed: {', '.join(missed)}[/] (see benchmarks/README.md)")
    # A broken workload fails the run (CI's smoke test); a missed target does not.
    return 1 if any(o.error for o in outcomes) else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted; the running workload was stopped", file=sys.stderr)
        sys.exit(130)
