"""Selection: drafting one issue from a store of 100,000 items.

Setup (not timed): a project with eight sources and the sample's section rules, a store of
100,000 items spread over ten years (news, calls with deadlines, events, awards; English and
Norwegian; with and without images), and the five issues before the drafted month, drafted
for real so their stories count as used.

Timed: ``newsletter.editor.draft`` of a new issue file for June 2024: window, history of
earlier issues, candidates from the store's date index, exclusions, scores, caps, sections,
and writing the file. Baseline: what a competent engineer would write by hand against the
store: one SQL query of the window (published from the look-back's start to the window's end,
through the date index), each record validated, open calls kept from the look-back, earlier
issues' stories and other languages excluded, scored with the same scorer, the top N taken.
It writes no file and places no story in a section, so it does a little less than ours; a
ratio near 1 is the honest expectation. Target: under 1 s. Quick mode stores 20,000 items.

On PostgreSQL (``NEWSLETTER_DATABASE_URL`` names an empty, upgraded database) both sides read
it; the baseline's query goes through SQLAlchemy Core, which speaks both backends.

Run it through the harness (``python -m benchmarks --only select``); run directly as a
script, this file would shadow the standard library's ``select`` module.
"""

from __future__ import annotations

import random
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from benchmarks.harness import Row, interleaved_calls, make_row, repeats, traced_peak_mb

TARGET = "< 1 s"
ITEMS = 100_000
# Quick mode stores fewer items: filling the store is the slow part, and the drafting time
# depends on the items in the window (found through the date index), not on the total.
ITEMS_QUICK = 20_000
MONTH = "2024-06"
SEND = date(2024, 7, 3)
SOURCES = [
    ("Oslo Cancer Cluster", 1.0), ("Institute for Cancer Research", 1.2),
    ("Cancer Registry", 0.8), ("Radium Hospital", 1.0), ("Innovation Park", 0.7),
    ("Member news", 0.6), ("Research Council", 0.9), ("University of Oslo", 1.0),
]  # fmt: skip
WORDS = [
    "cancer", "research", "precision", "medicine", "immunotherapy", "clinical", "trial",
    "patients", "tumour", "cells", "study", "funding", "innovation", "hospital", "genome",
    "treatment", "biobank", "screening", "data", "molecular", "therapy", "oncology", "grant",
    "partnership", "launch", "award", "seminar", "members", "results", "researchers",
]  # fmt: skip
CONFIG = """\
[newsletter]
name = "Benchmark News"
from_email = "news@example.org"
postal_address = "Example Org, Street 1, 0001 Oslo, Norway"
web_url = "https://news.example.org"
unsubscribe_url = "https://news.example.org/unsubscribe"

[draft]
max_stories = 8
max_per_source = 3
max_per_section = 4
section_order = ["Research news", "From the cluster", "Calls & deadlines", "Events", "News"]

[draft.keywords]
"precision medicine" = 0.3
"clinical trial" = 0.2

[[draft.sections]]
title = "Calls & deadlines"
kinds = ["call"]
order = "deadline"

[[draft.sections]]
title = "Calls & deadlines"
has_deadline = true

[[draft.sections]]
title = "Events"
kinds = ["event"]
order = "deadline"

[[draft.sections]]
title = "Research news"
sources = ["Institute for Cancer Research", "University of Oslo"]

[[draft.sections]]
title = "From the cluster"
sources = ["Oslo Cancer Cluster"]
"""


def make_items(count: int, seed: int = 7) -> list[object]:
    """``count`` realistic items from 2015 to 2024, deterministic for a given seed."""
    from newsletter.models import Image, Kind, NewsItem

    rng = random.Random(seed)
    start = datetime(2015, 1, 1, tzinfo=UTC)
    span = (datetime(2025, 1, 1, tzinfo=UTC) - start).total_seconds()
    kinds = [Kind.news, Kind.call, Kind.event, Kind.award]
    items: list[object] = []
    for n in range(count):
        published = start + timedelta(seconds=rng.random() * span)
        kind = rng.choices(kinds, weights=[78, 10, 7, 5])[0]
        words = rng.choices(WORDS, k=rng.randint(30, 60))
        paragraphs = [" ".join(rng.choices(WORDS, k=rng.randint(40, 90))) for _ in range(6)]
        deadline = event_date = None
        if kind is Kind.call or (kind is Kind.award and rng.random() < 0.5):
            deadline = (published + timedelta(days=rng.randint(5, 60))).date()
        if kind is Kind.event:
            event_date = (published + timedelta(days=rng.randint(3, 45))).date()
        photo = f"https://example.org/img/{n}.jpg"
        items.append(
            NewsItem(
                id=f"bench{n:07d}",
                source=SOURCES[n % len(SOURCES)][0],
                title=" ".join(words[: rng.randint(5, 11)]).capitalize() + f" ({n})",
                url=f"https://example.org/{published:%Y/%m/%d}/story-{n}/",
                published=published,
                summary=" ".join(words).capitalize() + ".",
                body_html="".join(f"<p>{p}.</p>" for p in paragraphs[: rng.randint(2, 6)]),
                image=Image(url=photo, alt="A photo", width=800) if rng.random() < 0.6 else None,
                language="nb" if rng.random() < 0.15 else "en",
                kind=kind,
                deadline=deadline,
                event_date=event_date,
            )
        )
    return items


def setup(root: Path, count: int) -> object:
    """A project with ``count`` stored items and five earlier issues; returns the Project."""
    from newsletter.editor import draft
    from newsletter.models import NewsItem
    from newsletter.project import Project
    from newsletter.store import Store

    (root / "newsletter.toml").write_text(
        CONFIG + "".join(
            f'\n[[sources]]\nname = "{name}"\nkind = "feed"\nurl = "https://example.org/{n}"\n'
            f"weight = {weight}\n"
            for n, (name, weight) in enumerate(SOURCES)
        )
    )  # fmt: skip
    items = [i for i in make_items(count) if isinstance(i, NewsItem)]
    with Store(Project.at(root).database) as store:
        for chunk in range(0, len(items), 5000):
            store.write_source("Benchmark", items[chunk : chunk + 5000])
    project = Project.at(root)
    for month in ("2024-01", "2024-02", "2024-03", "2024-04", "2024-05"):
        year, mon = (int(p) for p in month.split("-"))
        draft(project, month, send_date=date(year, mon + 1, 3))
    return project


def windowed_draft(project: object) -> list[object]:
    """The baseline: one windowed SQL query, then filter and rank in Python."""
    from sqlalchemy import create_engine, select

    from newsletter.editor import Scorer, issue_window, read_history
    from newsletter.editor.select import exclusion, is_open_call
    from newsletter.models import STORED, NewsItem
    from newsletter.project import Project
    from newsletter.store.schema import items

    assert isinstance(project, Project)
    config = project.config
    history = read_history(project.issues_dir, MONTH, config.draft)
    window = issue_window(MONTH, config.draft, SEND, history.previous)
    # Stored times are UTC ISO strings, so they compare as text.
    low, high = (t.astimezone(UTC).isoformat() for t in (window.lookback_start, window.end))
    query = select(items.c.data).where(items.c.published >= low, items.c.published < high)
    engine = create_engine(project.database.sqlalchemy_url())
    try:
        with engine.connect() as conn:
            rows = conn.execute(query).scalars().all()
    finally:
        engine.dispose()
    pool = [NewsItem.model_validate_json(data, context=STORED) for data in rows]
    pool = [i for i in pool if i.published >= window.start or is_open_call(i)]
    edition = project.default_edition
    pool = [i for i in pool if not exclusion(i, window, edition, history.used)]
    scorer = Scorer(config.draft, config.sources, window)
    pool.sort(key=lambda i: -scorer.score(i).total)
    return list(pool[: config.draft.max_stories])


def run(quick: bool) -> Row:
    from newsletter.editor import draft
    from newsletter.project import Project

    count = ITEMS_QUICK if quick else ITEMS
    with tempfile.TemporaryDirectory(prefix="bench-select-") as tmp:
        project = setup(Path(tmp), count)
        assert isinstance(project, Project)

        def ours() -> object:
            project.issue_path(MONTH).unlink(missing_ok=True)  # a new draft each time
            return draft(project, MONTH, send_date=SEND)

        medians = interleaved_calls(
            {"ours": ours, "baseline": lambda: windowed_draft(project)}, repeats(quick)
        )
        ours_s, baseline_s = medians["ours"], medians["baseline"]
        result, peak = traced_peak_mb(ours)
        stories = getattr(result, "stories", 0)
        candidates = len(getattr(getattr(result, "selection", None), "decisions", []))
    return make_row(
        f"select (draft 1 issue, {count:,} items)",
        ours_s,
        baseline_s,
        TARGET,
        peak_mb=round(peak, 1),
        note=f"{candidates} candidates in the window, {stories} stories chosen, 5 earlier "
        f"issues, on {project.database.backend}; ours also places the stories in sections and "
        "writes the issue file",
        vs="one windowed SQL query, filtered and scored in Python: what an engineer would "
        "write against the store",
    )
