"""Builders for the models and projects that many test files need.

Each gives a valid object with plain defaults, so that a test spells out only what it is
about: ``news_item("Call: seed funding", kind=Kind.call, deadline=date(2024, 4, 4))``.
"""

from __future__ import annotations

import json
import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from newsletter.issuefile.status import record_approval, record_sent
from newsletter.models import Image, Issue, NewsItem, Section, Story, item_id
from newsletter.project import Project
from newsletter.store import Store
from tests.conftest import CONFIG_TEMPLATE, REPO, write_project

# --- stories ----------------------------------------------------------------------------------


def news_item(
    title: str, published: str = "2020-10-05T09:00:00", source: str = "Cluster", **fields: Any
) -> NewsItem:
    """A collected story; its URL (and so its id) comes from the title, times are UTC."""
    url = f"https://example.org/{title.lower().replace(' ', '-')}"
    when = datetime.fromisoformat(published)
    data: dict[str, Any] = {
        "id": item_id(url),
        "source": source,
        "title": title,
        "url": url,
        "published": when if when.tzinfo else when.replace(tzinfo=UTC),
        "summary": f"About {title.lower()}.",
    }
    data.update(fields)
    return NewsItem.model_validate(data)


def image(width: int | None = 800) -> Image:
    return Image(url="https://example.org/photo.jpg", alt="A photo", width=width)


def story(**fields: Any) -> Story:
    """A story as an issue file holds it."""
    data: dict[str, Any] = {
        "id": "1",
        "title": "Title",
        "url": "https://example.org/a",
        "published": datetime(2020, 10, 5, tzinfo=UTC),
    }
    data.update(fields)
    return Story.model_validate(data)


def issue_of(
    *stories: Story, month: str = "2020-10", subject: str = "S", section: str = "News",
    **fields: Any,
) -> Issue:  # fmt: skip
    """An issue with these stories in one section."""
    return Issue(
        month=month, subject=subject, sections=[Section(title=section, stories=list(stories))],
        **fields,
    )  # fmt: skip


def store_items(project: Project, *items: NewsItem) -> None:
    """Put stories in the project's store, as if collected."""
    with Store(project.store_path) as db:
        db.write_source("tests", items)  # one batch; no HTTP validators


# --- projects ---------------------------------------------------------------------------------

DRAFT_SOURCES = [
    {"name": "Cluster", "kind": "feed", "url": "cluster.xml"},
    {"name": "Institute", "kind": "page", "url": "institute.html"},
]


def draft_project(
    root: Path, draft: str = "", sources: list[dict[str, str]] = DRAFT_SOURCES
) -> Project:
    """A project to draft from: two sources and these ``[draft]`` settings (raw TOML)."""
    write_project(root, sources)
    config = root / "newsletter.toml"
    config.write_text(config.read_text() + "\n[draft]\n" + draft)
    return Project.at(root)


def collect_project(root: Path, sources: str, extra: str = "") -> Project:
    """A project whose newsletter.toml has these [[sources]] (raw TOML) and extra tables."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "newsletter.toml").write_text(CONFIG_TEMPLATE.format(sources=sources) + extra)
    return Project.at(root)


def source(name: str, kind: str, url: str, **more: object) -> str:
    """One [[sources]] entry as TOML; a dict value becomes an inline table."""
    lines = [f"[[sources]]\nname = {json.dumps(name)}\nkind = {json.dumps(kind)}"]
    lines.append(f"url = {json.dumps(url)}")
    for key, value in more.items():
        if isinstance(value, dict):
            table = ", ".join(f"{k} = {json.dumps(v)}" for k, v in value.items())
            lines.append(f"{key} = {{ {table} }}")
        else:
            lines.append(f"{key} = {json.dumps(value)}")
    return "\n".join(lines) + "\n"


def without_tables(text: str, *names: str) -> str:
    """newsletter.toml without the given [tables], so that a test can set its own."""
    out, skip = [], False
    for line in text.splitlines(keepends=True):
        if line.startswith("["):
            match = re.match(r"\[([\w.]+)\]", line)
            skip = match is not None and match.group(1) in names
        if not skip:
            out.append(line)
    return "".join(out)


APPROVED_AT = datetime(2020, 11, 2, 13, 0, tzinfo=UTC)


def approve(root: Path, *months: str, by: str = "Test Editor") -> None:
    """Approve these issues (default: all) as `newsletter approve` records it, without
    running check first (the committed issues pass it; tests stay fast)."""
    paths = [root / "issues" / f"{m}.yaml" for m in months] or sorted(
        (root / "issues").glob("*.yaml")
    )
    for path in paths:
        record_approval(path, by, APPROVED_AT)


def mark_sent(root: Path, *months: str) -> None:
    """Approve these issues and record them sent, as a complete `newsletter send` does."""
    approve(root, *months)
    for month in months:
        record_sent(root / "issues" / f"{month}.yaml", APPROVED_AT + timedelta(days=1))


def approved_sample_issues(root: Path) -> None:
    """This repository's issues copied to ``root/issues``, approved afresh (not yet sent)."""
    shutil.copytree(REPO / "issues", root / "issues")
    approve(root)


def send_project(
    root: Path, port: int, extra: str = "", *, connections: int | None = None
) -> Project:
    """A copy of this repository's project that sends to 127.0.0.1:``port`` without waiting
    (over ``connections`` SMTP connections; the default of [smtp] when None); its issues are
    approved and not yet sent."""
    root.mkdir(parents=True)
    approved_sample_issues(root)
    text = without_tables((REPO / "newsletter.toml").read_text(), "smtp", "send")
    lanes = f"connections = {connections}\n" if connections else ""
    (root / "newsletter.toml").write_text(
        text + f'\n[smtp]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\ntimeout = 10\n'
        f"{lanes}\n[send]\nretry_delay = 0\nmax_attempts = 3\n{extra}"
    )
    return Project.at(root)


def audience(path: Path, addresses: list[str]) -> Path:
    """An audience CSV with these addresses, each with a name."""
    path.write_text("email,name\n" + "".join(f"{a},Reader {i}\n" for i, a in enumerate(addresses)))
    return path
