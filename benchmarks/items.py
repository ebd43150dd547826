"""Listing the store: ``newsletter items --format json`` over 10,000 and 100,000 stored items.

Setup (not timed): a SQLite store of 100,000 realistic items (the select workload's
generator; 10,000 for the small size), written through ``Store.write_source`` as collect
writes them.

Ours: a cold ``newsletter items --format json`` process, its output to a file. Baseline: what
a user who knows the store is one SQLite file would write instead of asking the tool: a
plain ``sqlite3`` query of the stored JSON records, newest first, and ``json.dump(...,
indent=2)`` of the list (the same bytes; the workload checks that they are). The two take
turns (A B A B), each a fresh byte-compiled process.

Targets (the benchmarks issue's): our peak memory under 100 MB and flat from 10k to 100k
items (a streaming writer), and our time at most 1.1x the baseline's.
"""

from __future__ import annotations

import hashlib
import statistics
import sys
import tempfile
from pathlib import Path

from benchmarks.harness import Row, interleaved_runs, make_row, repeats

# Two store sizes, so that memory can be seen to stay flat (--set items.LARGE=... to change).
SMALL, LARGE = 10_000, 100_000
SMALL_QUICK, LARGE_QUICK = 1_000, 5_000
MAX_MB = 100.0
MAX_RATIO = 1.1  # our time over the baseline's
TARGET = "<= 1.1x the baseline's time; memory < 100 MB, flat"
REPEAT_FULL = 3

# The baseline: one query, the list built in memory, the standard library's JSON writer.
BASELINE = """
import json, sqlite3, sys
con = sqlite3.connect(sys.argv[1])
rows = con.execute(
    "SELECT data, first_seen, last_seen FROM items ORDER BY published DESC, id"
)
records = []
for data, first_seen, last_seen in rows:
    record = json.loads(data)
    record["first_seen"], record["last_seen"] = first_seen, last_seen
    records.append(record)
with open(sys.argv[2], "w", encoding="utf-8") as out:
    out.write(json.dumps(records, indent=2, ensure_ascii=False) + "\\n")
"""


def fill(root: Path, count: int) -> Path:
    """A project whose store holds ``count`` items; returns the store's file."""
    from benchmarks.select import make_items
    from newsletter.models import NewsItem
    from newsletter.project import Project
    from newsletter.store import Store

    root.mkdir(parents=True)
    (root / "newsletter.toml").write_text(
        '[newsletter]\nname = "Benchmark News"\nfrom_email = "news@example.org"\n'
        'postal_address = "Example Org, Street 1, 0001 Oslo, Norway"\n'
        'web_url = "https://news.example.org"\n'
        'unsubscribe_url = "https://news.example.org/unsubscribe"\n'
    )
    items = [i for i in make_items(count) if isinstance(i, NewsItem)]
    database = Project.at(root).database
    with Store(database) as store:
        for chunk in range(0, len(items), 5000):
            store.write_source("Benchmark", items[chunk : chunk + 5000])
    return Project.at(root).store_path


def newsletter_cmd(*args: str) -> list[str]:
    script = Path(sys.executable).parent / "newsletter"
    return [str(script), *args] if script.exists() else [sys.executable, "-m", "newsletter", *args]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def measure_size(tmp: Path, count: int, repeat: int) -> dict[str, float | bool]:
    root = tmp / f"p{count}"
    database = fill(root, count)
    ours_out, base_out = tmp / f"ours{count}.json", tmp / f"base{count}.json"
    # The harness's processes write their output to a file; a shell redirect does the same.
    ours_cmd = ["/bin/sh", "-c", 'exec "$@" > "$0"', str(ours_out),
                *newsletter_cmd("items", "--format", "json", "--project", str(root))]  # fmt: skip
    base_cmd = [sys.executable, "-c", BASELINE, str(database), str(base_out)]
    runs = interleaved_runs({"ours": ours_cmd, "base": base_cmd}, repeat)
    same = digest(ours_out) == digest(base_out)
    return {
        "ours_s": statistics.median(r.seconds for r in runs["ours"]),
        "base_s": statistics.median(r.seconds for r in runs["base"]),
        "ours_cpu": statistics.median(r.cpu_seconds for r in runs["ours"]),
        "base_cpu": statistics.median(r.cpu_seconds for r in runs["base"]),
        "ours_mb": max(r.peak_mb for r in runs["ours"]),
        "base_mb": max(r.peak_mb for r in runs["base"]),
        "mb_out": ours_out.stat().st_size / 1e6,
        "same": same,
    }


def run(quick: bool) -> list[Row]:
    sizes = (SMALL_QUICK, LARGE_QUICK) if quick else (SMALL, LARGE)
    repeat = repeats(quick) if quick else REPEAT_FULL
    with tempfile.TemporaryDirectory(prefix="bench-items-") as tmp:
        measured = {count: measure_size(Path(tmp), count, repeat) for count in sizes}
    small, large = (measured[s] for s in sizes)
    small_mb, large_mb = float(small["ours_mb"]), float(large["ours_mb"])
    flat = large_mb <= max(small_mb * 1.2, small_mb + 10)
    rows = []
    for count, m in measured.items():
        ours_s, base_s = float(m["ours_s"]), float(m["base_s"])
        within = ours_s <= MAX_RATIO * base_s
        memory_ok = float(m["ours_mb"]) < MAX_MB and (count != sizes[-1] or flat)
        note = (
            f"{m['mb_out']:.0f} MB of JSON; CPU {float(m['ours_cpu']):.2f} s vs "
            f"{float(m['base_cpu']):.2f} s; baseline peak {float(m['base_mb']):.0f} MB; "
            f"output {'byte-identical' if m['same'] else 'DIFFERS from the baseline'}"
        )
        if count == sizes[-1]:
            note += (
                f"; our peak {small_mb:.0f} MB at {sizes[0]:,} items, "
                f"{large_mb:.0f} MB at {count:,} ({'flat' if flat else 'NOT flat'})"
            )
        rows.append(
            make_row(
                f"items --format json ({count:,} items)",
                ours_s,
                base_s,
                TARGET,
                peak_mb=round(float(m["ours_mb"]), 1),
                note=note,
                met=within and memory_ok and bool(m["same"]),
                vs="sqlite3 + json.dump: the script a user would write against the store file",
            )
        )
    return rows
