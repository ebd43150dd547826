"""The web archive: ``build/index.html`` lists every built issue; ``build/feed.xml`` is its feed.

Each issue's own page (``build/YYYY-MM/index.html``) is written by ``render.build_issue``;
the archive lists the issues that have one, newest first, so after ``newsletter build all``
it lists every issue.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from newsletter.config import Config
from newsletter.issuefile import load_issue
from newsletter.models import Issue
from newsletter.project import Project
from newsletter.textfmt import labels_for, month_title, text_direction
from newsletter.theme import build_theme

ARCHIVE_TEMPLATE = "web/archive.html.j2"
ATOM_NS = "http://www.w3.org/2005/Atom"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


@dataclass(frozen=True)
class ArchiveEntry:
    issue: Issue
    url: str  # absolute, on the published site
    path: str  # relative to build/, for links inside the archive
    title: str  # "October 2020"
    published: datetime

    @property
    def month(self) -> str:
        return self.issue.month


def issue_date(issue: Issue) -> datetime:
    """When an issue counts as published: its send date, else its newest story, else month end."""
    if issue.send_date:
        return datetime.combine(issue.send_date, time(8, 0), tzinfo=UTC)
    newest = issue.updated()
    if newest:
        return newest.astimezone(UTC)
    year, month = (int(x) for x in issue.month.split("-"))
    first_of_next = date(year + month // 12, month % 12 + 1, 1)
    return datetime.combine(first_of_next - timedelta(days=1), time(8, 0), tzinfo=UTC)


def archive_entries(
    project: Project, loaded: Mapping[str, Issue] | None = None
) -> list[ArchiveEntry]:
    """Every issue with a built web page, newest first (``loaded``: issues already read)."""
    web_url = project.config.newsletter.web_url.rstrip("/")
    entries = []
    for month in project.months():
        if not (project.issue_build_dir(month) / "index.html").is_file():
            continue
        issue = (loaded or {}).get(month) or load_issue(project.issue_path(month))
        lang = issue.language or project.config.newsletter.language
        entries.append(
            ArchiveEntry(
                issue=issue,
                url=f"{web_url}/{month}/",
                path=f"{month}/",
                title=month_title(month, lang),
                published=issue_date(issue),
            )
        )
    return sorted(entries, key=lambda e: e.month, reverse=True)


def render_archive(project: Project, entries: list[ArchiveEntry]) -> str:
    from newsletter.render import _render_template, project_environment

    config = project.config
    theme = build_theme(config.brand)
    lang = config.newsletter.language
    web_url = config.newsletter.web_url.rstrip("/")
    context = {
        "newsletter": config.newsletter,
        "theme": theme,
        "light": theme.light,
        "dark": theme.dark,
        "entries": entries,
        "lang": lang,
        "dir": text_direction(lang),
        "t": labels_for(lang),
        "links": {
            "archive": f"{web_url}/",
            "feed": f"{web_url}/feed.xml",
            "subscribe": config.newsletter.subscribe_url or f"{web_url}/",
        },
    }
    return _render_template(project_environment(project), ARCHIVE_TEMPLATE, context)


def _atom(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}", attrs)
    if text is not None:
        element.text = text
    return element


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def render_feed(config: Config, entries: list[ArchiveEntry]) -> str:
    """An Atom feed (RFC 4287) of the issues; built with ElementTree so it is always well formed."""
    settings = config.newsletter
    web_url = settings.web_url.rstrip("/")
    ET.register_namespace("", ATOM_NS)
    feed = ET.Element(f"{{{ATOM_NS}}}feed", {XML_LANG: settings.language})
    _atom(feed, "id", f"{web_url}/")
    _atom(feed, "title", settings.name)
    if settings.about:
        _atom(feed, "subtitle", " ".join(settings.about.split()))
    _atom(feed, "link", rel="self", type="application/atom+xml", href=f"{web_url}/feed.xml")
    _atom(feed, "link", rel="alternate", type="text/html", href=f"{web_url}/")
    newest = max((e.published for e in entries), default=datetime(2000, 1, 1, tzinfo=UTC))
    _atom(feed, "updated", _stamp(newest))
    author = _atom(feed, "author")
    _atom(author, "name", settings.sender)
    for entry in entries:
        item = _atom(feed, "entry")
        _atom(item, "id", entry.url)
        _atom(item, "title", entry.issue.subject)
        _atom(item, "link", rel="alternate", type="text/html", href=entry.url)
        _atom(item, "published", _stamp(entry.published))
        _atom(item, "updated", _stamp(entry.published))
        summary = entry.issue.preheader or entry.title
        _atom(item, "summary", summary)
        _atom(item, "content", _entry_html(entry), type="html")
    ET.indent(feed)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(feed, encoding="unicode") + "\n"


def _entry_html(entry: ArchiveEntry) -> str:
    """The entry's content: the issue's stories as a linked list (escaped by ElementTree)."""
    from html import escape

    items = "".join(
        f'<li><a href="{escape(s.url)}">{escape(s.title)}</a></li>' for s in entry.issue.stories()
    )
    lead = f"<p>{escape(entry.issue.preheader)}</p>" if entry.issue.preheader else ""
    return f"{lead}<ul>{items}</ul>"


def build_archive(project: Project, loaded: Mapping[str, Issue] | None = None) -> list[Path]:
    """Write build/index.html and build/feed.xml for every built issue."""
    entries = archive_entries(project, loaded)
    project.build_dir.mkdir(parents=True, exist_ok=True)
    index = project.build_dir / "index.html"
    feed = project.build_dir / "feed.xml"
    index.write_text(render_archive(project, entries), encoding="utf-8")
    feed.write_text(render_feed(project.config, entries), encoding="utf-8")
    return [index, feed]
