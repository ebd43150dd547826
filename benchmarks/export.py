"""Personalised export: one complete MIME message per recipient, as ``send`` and
``export --to eml`` write them.

Ours: the issue is rendered once (Jinja2 + MJML); each recipient then costs a signed
unsubscribe link, a Message-ID and ``MessageTemplate.render``, which splices their values
into the pre-encoded (quoted-printable) message. Recipients are generated one at a time and
each message is dropped after its bytes are counted, so memory must not grow with the
audience.

Baseline: what a competent engineer would write with the standard library: the issue
rendered once, then per recipient the merge values filled into the HTML and text and an
``EmailMessage`` built and serialised (``email.message``, as ``deliver.message`` builds one).
It is timed on a sample and extrapolated per message.

Targets: at least 20,000 messages/s per core (CPU time of this single-threaded process), time
linear in the audience, and peak memory flat from 100,000 to 1,000,000 recipients.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator
from functools import partial
from typing import TYPE_CHECKING

from benchmarks.harness import ROOT, Row, make_row, peak_rss_mb, repeats, traced_peak_mb

if TYPE_CHECKING:
    from newsletter.deliver.audience import Recipient
    from newsletter.project import Project

MONTH = "2020-10"
SECRET = b"benchmark-secret-not-for-mail"
TARGET_RATE = 20_000
TARGET = ">= 20k msgs/s per core, flat memory"
NAMES = ["Ann Berg", "Åse Øvrebø", 'Eve "the tester" Lund', "", "Dr. Ola Nordmann, PhD"]
CITIES = ["Oslo", "Tromsø", "Bergen", ""]
# Audience sizes (--quick runs the first two) and the baseline's sample; `python -m benchmarks
# --set export.MEDIUM=2000` and the like shrink them for a smoke test.
SMALL = 10_000
MEDIUM = 100_000
LARGE = 1_000_000
BASELINE_SAMPLE_QUICK = 50
BASELINE_SAMPLE_FULL = 500
WARMUP = 200


def recipients(count: int) -> Iterator[Recipient]:
    from newsletter.deliver.audience import Recipient

    for i in range(count):
        yield Recipient(
            email=f"reader{i:07d}@example.org",
            name=NAMES[i % len(NAMES)],
            language=("en", "nb")[i % 2],
            fields={"city": CITIES[i % len(CITIES)]},
            line=i + 2,
        )


def _project() -> Project:
    from newsletter.project import Project

    return Project.at(ROOT)


def ours(count: int) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds, bytes) to write ``count`` personal messages."""
    from newsletter.deliver.export import prepare
    from newsletter.deliver.merge import Personalizer

    project = _project()
    wall, cpu = time.perf_counter(), time.process_time()
    prepared = prepare(project, MONTH)  # the one render, counted
    template = prepared.message_template()
    personal = Personalizer(project.config, MONTH, SECRET).personal
    render = template.render
    size = 0
    for recipient in recipients(count):
        size += len(render(personal(recipient)))
    return time.perf_counter() - wall, time.process_time() - cpu, size


def baseline_per_message(sample: int) -> float:
    """Seconds per message when the issue is rendered once and every recipient gets their own
    filled-in copy as a standard-library EmailMessage."""
    from newsletter.deliver import merge
    from newsletter.deliver.message import build_message
    from newsletter.issuefile import load_issue
    from newsletter.render import project_environment, render_issue

    project = _project()
    personalizer = merge.Personalizer(project.config, MONTH, SECRET)
    issue = load_issue(project.require_issue(MONTH))
    people = list(recipients(sample))
    env = project_environment(project)
    rendered = render_issue(env, project.config, issue)
    start = time.process_time()
    for recipient in people:
        values = personalizer.personal(recipient).values
        msg = build_message(
            project.config,
            issue,
            html=merge.fill(rendered.html, values, escape=True),
            text=merge.fill(rendered.text, values),
            to=recipient.email,
            unsubscribe_url=values["unsubscribe_url"],
        )
        msg.as_bytes()
    return (time.process_time() - start) / sample


def run(quick: bool) -> list[Row]:
    sizes = [SMALL, MEDIUM] if quick else [SMALL, MEDIUM, LARGE]
    sample = BASELINE_SAMPLE_QUICK if quick else BASELINE_SAMPLE_FULL
    ours(WARMUP)  # warm imports and caches outside the timings
    measured = {}
    for size in sizes:
        if size == sizes[0]:
            runs = [ours(size) for _ in range(repeats(quick))]
            wall = statistics.median(r[0] for r in runs)
            cpu = statistics.median(r[1] for r in runs)
            size_bytes = runs[0][2]
        else:
            wall, cpu, size_bytes = ours(size)  # one run: the sizes themselves are the repeats
        measured[size] = (wall, cpu, size_bytes, peak_rss_mb())
    # Python allocations during a run (tracemalloc): per call, so sizes can be compared.
    traced = {size: traced_peak_mb(partial(ours, size))[1] for size in sizes[:1]}
    per_message = baseline_per_message(sample)

    rows = []
    rates = {size: size / m[1] for size, m in measured.items()}
    peaks = {size: m[3] for size, m in measured.items()}
    base = sizes[-2]  # memory must not grow between the two largest audiences
    growth = peaks[sizes[-1]] - peaks[base]
    flat = growth <= max(10.0, 0.1 * peaks[base])
    linear = min(rates.values()) >= 0.7 * max(rates.values())
    for size, (wall, cpu, size_bytes, peak) in measured.items():
        note = (
            f"{size:,} messages ({size_bytes / size / 1024:.1f} KB each): {rates[size]:,.0f} "
            f"msgs/s per core (CPU time), {size / wall:,.0f} msgs/s wall; EmailMessage per "
            f"recipient {1 / per_message:,.0f} msgs/s (sample of {sample}, extrapolated)"
        )
        if size in traced:
            note += f"; Python allocations peak {traced[size]:.1f} MB"
        if size == sizes[-1]:
            note += (
                f"; peak RSS grew {growth:+.1f} MB from {base:,} to {size:,} recipients "
                f"({'flat' if flat else 'NOT flat'}), throughput "
                f"{'linear' if linear else 'NOT linear'}"
            )
        met = rates[size] >= TARGET_RATE and (size != sizes[-1] or (flat and linear))
        rows.append(
            make_row(
                f"export: personalised messages, {size:,} recipients",
                cpu,
                per_message * size,
                TARGET,
                peak_mb=round(peak, 1),
                note=note,
                met=met,
                vs="render once, then an email.message.EmailMessage per recipient: the "
                "standard library's way",
            )
        )
    return rows
