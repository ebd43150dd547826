"""The web archive: ``build/index.html`` lists every sent issue; ``build/feed.xml`` is its feed.

Each issue's own page (``build/YYYY-MM/index.html``) is written by ``build.build_month``;
the archive lists the issues that have one and were sent (``status: sent``), newest first,
so after ``newsletter build all`` it lists every sent issue. ``drafts=True`` (``build
--drafts``, for previews) lists the drafts and approved issues too, each marked; the feed
never carries them, so a preview build published by mistake announces nothing unsent.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from newsletter.config import Config
from newsletter.editions import Edition, project_editions
from newsletter.i18n import gettext_callables, language_name, messages, text_direction
from newsletter.issuefile import load_issue
from newsletter.models import Issue, IssueStatus
from newsletter.project import Project
from newsletter.render.textfmt import month_title
from newsletter.render.theme import build_theme

ARCHIVE_TEMPLATE = "web/archive.html.j2"
ATOM_NS = "http://www.w3.org/2005/Atom"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


META_FILE = "issue.json"


@dataclass(frozen=True)
class ArchiveEntry:
    """What the archive and the feed show of one built issue (kept in build/YYYY-MM/issue.json)."""

    month: str
    subject: str
    preheader: str
    language: str
    published: datetime
    stories: tuple[tuple[str, str], ...]  # (title, url)
    status: str = IssueStatus.sent.value

    @classmethod
    def from_issue(cls, issue: Issue, language: str) -> ArchiveEntry:
        return cls(
            month=issue.month,
            subject=issue.subject,
            preheader=issue.preheader,
            language=issue.language or language,
            published=issue_date(issue),
            stories=tuple((s.title, s.url) for s in issue.resolved().stories()),
            status=issue.status.value,
        )

    @property
    def draft(self) -> bool:
        """Not sent yet (a draft or approved): listed only by a preview build."""
        return self.status != IssueStatus.sent.value

    @property
    def path(self) -> str:
        """The issue's page relative to build/, for links inside the archive."""
        return f"{self.month}/"

    @property
    def title(self) -> str:
        """ "October 2020", in the issue's language."""
        return month_title(self.month, self.language)

    def url(self, web_url: str) -> str:
        return f"{web_url.rstrip('/')}/{self.month}/"

    def to_json(self) -> str:
        data = {**asdict(self), "published": self.published.isoformat()}
        return json.dumps(data, ensure_ascii=False, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> ArchiveEntry:
        data = json.loads(text)
        return cls(
            month=str(data["month"]),
            subject=str(data["subject"]),
            preheader=str(data["preheader"]),
            language=str(data["language"]),
            published=datetime.fromisoformat(data["published"]),
            stories=tuple((str(t), str(u)) for t, u in data["stories"]),
            status=str(IssueStatus(data["status"])),
        )


def issue_date(issue: Issue) -> datetime:
    """When an issue counts as published: when it was sent, else its send time or date, else
    its newest story, else month end."""
    if issue.sent_at:
        return issue.sent_at.astimezone(UTC)
    if isinstance(issue.send_at, datetime):
        return issue.send_at.astimezone(UTC)
    if issue.send_date:
        return datetime.combine(issue.send_date, time(8, 0), tzinfo=UTC)
    newest = issue.updated()
    if newest:
        return newest.astimezone(UTC)
    year, month = (int(x) for x in issue.month.split("-"))
    first_of_next = date(year + month // 12, month % 12 + 1, 1)
    return datetime.combine(first_of_next - timedelta(days=1), time(8, 0), tzinfo=UTC)


def write_entry(out: Path, issue: Issue, language: str) -> None:
    """Record what the archive needs next to the built issue, so it never re-reads YAML."""
    (out / META_FILE).write_text(ArchiveEntry.from_issue(issue, language).to_json(), "utf-8")


def archive_entries(
    project: Project, edition: Edition | None = None, *, drafts: bool = False
) -> list[ArchiveEntry]:
    """Every sent issue of ``edition`` (default: the default one) with a built web page,
    newest first (``drafts``: the unsent too)."""
    edition = edition or project.default_edition
    entries = []
    for month in project.months(edition):
        folder = project.issue_build_dir(month, edition)
        if not (folder / "index.html").is_file():
            continue
        try:
            entry = ArchiveEntry.from_json((folder / META_FILE).read_text("utf-8"))
        except (OSError, ValueError, KeyError, TypeError):
            # Built by an older version, or damaged: read the issue file instead.
            issue = load_issue(project.issue_path(month, edition))
            entry = ArchiveEntry.from_issue(issue, edition.code)
        if drafts or not entry.draft:
            entries.append(entry)
    return sorted(entries, key=lambda e: e.month, reverse=True)


def render_archive(
    project: Project, entries: list[ArchiveEntry], edition: Edition | None = None
) -> str:
    """An edition's archive page; it links the other editions' archives (``hreflang``)."""
    from newsletter.render import project_environment, render_template

    config = project.config
    edition = edition or project.default_edition
    theme = build_theme(config.brand)
    lang = edition.code
    web_url = config.newsletter.web_url.rstrip("/")
    here = f"{web_url}/{edition.web_prefix}"
    words = messages(lang, project.locale_dir)
    context = {
        "newsletter": edition.settings,
        "theme": theme,
        "light": theme.light,
        "dark": theme.dark,
        "entries": entries,
        "lang": lang,
        "dir": text_direction(lang),
        "t": words.labels,
        **gettext_callables(words),
        "alternates": [
            {"lang": e.code, "name": language_name(e.code), "href": f"{web_url}/{e.web_prefix}"}
            for e in project.editions
            if e is not edition
        ],
        "links": {
            "archive": here,
            "feed": f"{here}feed.xml",
            "subscribe": config.list_links().subscribe,
        },
    }
    return render_template(project_environment(project), ARCHIVE_TEMPLATE, context)


def _atom(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}", attrs)
    if text is not None:
        element.text = text
    return element


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def render_feed(config: Config, entries: list[ArchiveEntry], edition: Edition | None = None) -> str:
    """An Atom feed (RFC 4287) of an edition's issues; built with ElementTree so it is
    always well formed."""
    edition = edition or project_editions(config)[0]
    settings = edition.settings
    web_url = settings.web_url.rstrip("/") + (
        "/" + edition.web_prefix.rstrip("/") if edition.web_prefix else ""
    )
    ET.register_namespace("", ATOM_NS)
    feed = ET.Element(f"{{{ATOM_NS}}}feed", {XML_LANG: edition.code})
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
        _atom(item, "id", entry.url(web_url))
        _atom(item, "title", entry.subject)
        _atom(item, "link", rel="alternate", type="text/html", href=entry.url(web_url))
        _atom(item, "published", _stamp(entry.published))
        _atom(item, "updated", _stamp(entry.published))
        _atom(item, "summary", entry.preheader or entry.title)
        _atom(item, "content", _entry_html(entry), type="html")
    ET.indent(feed)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(feed, encoding="unicode") + "\n"


def _entry_html(entry: ArchiveEntry) -> str:
    """The entry's content: the issue's stories as a linked list (escaped by ElementTree)."""
    from html import escape

    items = "".join(
        f'<li><a href="{escape(url)}">{escape(title)}</a></li>' for title, url in entry.stories
    )
    lead = f"<p>{escape(entry.preheader)}</p>" if entry.preheader else ""
    return f"{lead}<ul>{items}</ul>"


def build_archive(project: Project, *, drafts: bool = False) -> list[Path]:
    """Write each edition's archive page and feed, for every built issue that was sent:
    build/index.html and build/feed.xml, or build/<code>/index.html and feed.xml per
    edition (build/index.html then is the default edition's, linking below build/<code>/).
    ``drafts`` lists the others on the page too, marked (never in the feed)."""
    written = []
    for edition in project.editions:
        entries = archive_entries(project, edition, drafts=drafts)
        folder = project.edition_build_dir(edition)
        folder.mkdir(parents=True, exist_ok=True)
        index, feed = folder / "index.html", folder / "feed.xml"
        index.write_text(render_archive(project, entries, edition), encoding="utf-8")
        sent = [entry for entry in entries if not entry.draft]
        feed.write_text(render_feed(project.config, sent, edition), encoding="utf-8")
        written += [index, feed]
    if not project.default_edition.single:
        # The site's front page: the default edition's archive, one level up.
        top = project.build_dir / "index.html"
        page = (project.edition_build_dir() / "index.html").read_text("utf-8")
        top.write_text(_rebase(page, project.default_edition.web_prefix), encoding="utf-8")
        written.insert(0, top)
    return written


def _rebase(page: str, prefix: str) -> str:
    """An archive page's relative links, for the same page one folder up."""
    import re

    return re.sub(r'href="(?![a-z]+:|/|#)([^"]*)"', lambda m: f'href="{prefix}{m.group(1)}"', page)
