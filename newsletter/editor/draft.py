"""draft: write or update ``issues/YYYY-MM.yaml`` from the store.

A new file gets the chosen stories, the runner-ups as alternates, and a subject and
preheader suggested from the lead story. An existing file is updated in place: every
hand edit stays (order, removals, rewritten text, pins, comments) and only new candidates
are added, as alternates. ``force`` starts over, keeping only pinned stories.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap

from newsletter.config import Config
from newsletter.deliver.merge import inert_text
from newsletter.editions import Edition
from newsletter.editor.scoring import Scorer
from newsletter.editor.select import Decision, Selection, Status, select_stories
from newsletter.editor.window import default_send_date, issue_window, read_history
from newsletter.errors import IssueFileError
from newsletter.issuefile import (
    IssueReport,
    add_alternates,
    annotate_alternates,
    dump_yaml,
    fill_snapshot,
    incomplete_stories,
    issue_to_yaml,
    line_of,
    offered_ids,
    read_issue_text,
    read_yaml,
    record_offered,
    set_send_date,
    story_ids,
    tree_send_date,
    validate_tree,
    write_text,
)
from newsletter.models import SUBJECT_MAX, Issue, NewsItem, Section, Story
from newsletter.project import Project
from newsletter.render.textfmt import labels_for, month_name
from newsletter.sanitize import fit_words, summarize
from newsletter.store import Store
from newsletter.translations import keys_of

PREHEADER_TARGET = 110
Pinned = tuple[str, int, Any]
"""A pinned story: its section title, its position there, and its YAML node."""


@dataclass
class DraftResult:
    path: Path
    selection: Selection
    created: bool
    """A new file (or one started over with force), as opposed to an updated one."""
    changed: bool
    stories: int
    alternates: int
    added: list[str] = field(default_factory=list)
    """Ids added as alternates to an existing file."""
    filled: list[str] = field(default_factory=list)
    """Ids whose snapshot was filled in from the store."""
    warnings: list[str] = field(default_factory=list)
    report: IssueReport | None = None
    unknown: list[tuple[int | str, ...]] = field(default_factory=list)
    """Where stories added by id that the store does not know are."""


def written_id(tree: Any, loc: tuple[int | str, ...]) -> str:
    node = tree
    for key in loc:
        node = node[key]
    return str(node.get("id"))


def suggest_subject(
    config: Config, month: str, lead: NewsItem | None, edition: Edition | None = None
) -> str:
    name = edition.settings.name if edition else config.newsletter.name
    when = month_name(month, edition.code if edition else "en")
    if lead is None:
        no_news = labels_for(edition.code if edition else "en")["no_news_subject"]
        return fit_words(f"{name}, {when}: {no_news}", SUBJECT_MAX)
    subject = f"{lead.title} | {name}, {when}"
    # Within what inboxes show (and what `check` warns above): the lead's title alone, cut
    # between words, when the name and month do not fit beside it.
    return subject if len(subject) <= SUBJECT_MAX else fit_words(lead.title, SUBJECT_MAX)


def alternate_note(decision: Decision | None) -> str:
    """Score, source, date, kind and why the story is a runner-up, for the comment above it."""
    if decision is None:
        return "alternate"
    item = decision.item
    # A story the selection would choose, added to a file staff already shaped.
    why = decision.reason if decision.status is Status.alternate else "new since the last draft"
    return (
        f"{decision.score.total:.2f} · {item.source} · {item.published.date()} · "
        f"{item.kind.value} · {why}"
    )


def issue_from_selection(
    config: Config, selection: Selection, edition: Edition | None = None
) -> Issue:
    """A fresh issue: the chosen stories in their sections, the runner-ups as alternates."""
    window, lead = selection.window, selection.lead or next(iter(selection.chosen()), None)
    alternates = selection.alternates[: config.draft.max_alternates]
    titled = edition.section_title if edition else str
    # Subject and preheader are personalised; suggested from story text, they must not be.
    return Issue(
        month=window.month,
        subject=inert_text(suggest_subject(config, window.month, lead, edition)),
        preheader=inert_text(summarize(lead.summary, PREHEADER_TARGET)) if lead else "",
        send_at=window.send_date,
        language=selection.language,
        sections=[
            Section(title=titled(title), stories=[Story.from_item(i) for i in items])
            for title, items in selection.sections
        ],
        alternates=[Story.from_item(i) for i in alternates],
        offered=[i.id for i in selection.chosen() + alternates],
    )


def draft(
    project: Project,
    month: str,
    *,
    send_date: date | None = None,
    since: date | None = None,
    max_stories: int | None = None,
    force: bool = False,
    edition: Edition | None = None,
    prefer: set[str] | None = None,
) -> DraftResult:
    """Draft ``month``'s issue file of ``edition`` (default: the default edition), or add
    new candidates to the one that exists. ``prefer``: see ``select_stories``."""
    config = project.config
    edition = edition or project.default_edition
    path = project.issue_path(month, edition)
    warnings: list[str] = []
    old_text, tree = _existing(path, force, need_date=send_date is None, warnings=warnings)
    send_date = send_date or _file_send_date(path, tree, force, warnings)
    send_date = send_date or default_send_date(month, config.draft.send_day)

    history = read_history(project.issues_dir, month, config.draft, edition)
    warnings += history.warnings
    window = issue_window(month, config.draft, send_date, history.previous, since)
    with Store(project.database) as store:
        selection = select_stories(
            config,
            store,
            window,
            max_stories=max_stories,
            used=history.used,
            edition=None if edition.single else edition,
            prefer=prefer,
        )
        if tree is None or force:
            pinned = _pinned(tree) if tree is not None else []
            tree = _fresh(config, selection, pinned=pinned, edition=edition)
            result = DraftResult(path, selection, True, True, 0, 0, warnings=warnings)
        else:
            result = _update(path, tree, selection, store, config, send_date, warnings)
        text = dump_yaml(tree)
        result.changed = text != old_text
        if result.changed:
            write_text(path, text)

        def known(story_id: str) -> bool:
            return store.get(story_id) is not None

        result.report = validate_tree(path, tree, known=known)
        written = tree
        if result.report.problems or result.unknown:
            # Read back from disk, so every problem is reported with its line.
            written = read_yaml(path)
            result.report = validate_tree(path, written, known=known)
    for loc in result.unknown:
        line = line_of(written, loc)
        result.warnings.append(
            f"{path}: {f'line {line}, ' if line else ''}{'.'.join(map(str, loc))}: story "
            f"{written_id(written, loc)} is not in the store, so its title and link cannot be "
            "filled in; add them by hand"
        )
    result.stories = len(story_ids(tree, "sections"))
    result.alternates = len(story_ids(tree, "alternates"))
    return result


def _existing(
    path: Path, force: bool, *, need_date: bool, warnings: list[str]
) -> tuple[str, CommentedMap | None]:
    """The issue file's text and round-trip tree; a broken file only passes with ``force``."""
    if not path.exists():
        return "", None
    tree: Any = None
    try:
        text = read_issue_text(path)
        # Starting over only needs the old file for its pins (and its send date).
        if not force or need_date or "pin:" in text:
            tree = read_yaml(path)
    except IssueFileError as exc:
        if not force:
            exc.hint = "fix the file (see `newsletter validate`), or pass --force to start over"
            raise
        warnings.append(f"{exc.message}; starting over, so no pinned stories were kept")
        return "", None
    if tree is not None and not isinstance(tree, CommentedMap):
        if not force:
            raise IssueFileError(
                f"{path}: expected a mapping with month, subject and sections",
                hint="fix the file, or pass --force to start over",
            )
        tree = None
    return text, tree


def _file_send_date(
    path: Path, tree: CommentedMap | None, force: bool, warnings: list[str]
) -> date | None:
    if tree is None:
        return None
    try:
        return tree_send_date(path, tree)
    except IssueFileError as exc:
        if not force:
            raise
        warnings.append(f"{exc.message}; using the default send date")
        return None


def _fresh(
    config: Config, selection: Selection, pinned: list[Pinned], edition: Edition
) -> CommentedMap:
    """The tree of a new issue file, with notes on the alternates and the pins kept."""
    tree = issue_to_yaml(issue_from_selection(config, selection, edition))
    alternates = selection.alternates[: config.draft.max_alternates]
    annotate_alternates(tree, [alternate_note(selection.decision(i.id)) for i in alternates])
    if pinned:
        _restore_pins(tree, pinned)
        record_offered(tree, story_ids(tree))
    if not story_ids(tree, "sections"):
        window = selection.window
        tree.yaml_set_comment_before_after_key(
            "sections",
            before=f"No stories for this issue: nothing was published {window.describe()}\n"
            "and no call or event is open on the send date. Collect again and re-run\n"
            "`newsletter draft`, or add stories by id (see `newsletter items`).",
        )
    return tree


def _update(
    path: Path,
    tree: CommentedMap,
    selection: Selection,
    store: Store,
    config: Config,
    send_date: date,
    warnings: list[str],
) -> DraftResult:
    result = DraftResult(path, selection, False, False, 0, 0, warnings=warnings)
    for loc, node in incomplete_stories(tree):
        item = store.get(str(node["id"]))
        if item is None:
            result.unknown.append(loc)
            continue
        fill_snapshot(node, Story.from_item(item))
        result.filled.append(item.id)
    set_send_date(tree, send_date)
    present = set(story_ids(tree)) | set(offered_ids(tree))
    new = [item for item in selection.ranked() if item.id not in present]
    new = new[: config.draft.max_alternates]
    add_alternates(
        tree,
        [(Story.from_item(i), alternate_note(selection.decision(i.id))) for i in new],
    )
    if new or "offered" in tree:
        # A file drafted before `offered` existed stays untouched until there is news.
        record_offered(tree, [*story_ids(tree), *(i.id for i in new)])
    result.added = [i.id for i in new]
    return result


def _pinned(tree: Any) -> list[Pinned]:
    """(section title, position, story node) of every pinned story in the old file."""
    pinned = []
    sections = tree.get("sections") if isinstance(tree, dict) else None
    for section in sections if isinstance(sections, list) else []:
        stories = section.get("stories") if isinstance(section, dict) else None
        for n, story in enumerate(stories if isinstance(stories, list) else []):
            if isinstance(story, dict) and story.get("pin") is True:
                pinned.append((str(section.get("title") or "News"), n, story))
    return pinned


def _restore_pins(tree: CommentedMap, pinned: list[Pinned]) -> None:
    """Put pinned stories back where they were, removing their fresh copies."""
    ids = {str(node.get("id")) for _, _, node in pinned}
    for key in ("sections", "alternates"):
        container = tree.get(key) or []
        if key == "alternates":
            container[:] = [s for s in container if str(s.get("id")) not in ids]
            continue
        for section in container:
            section["stories"][:] = [s for s in section["stories"] if str(s.get("id")) not in ids]
    sections = tree["sections"]
    for title, position, node in pinned:
        section = next((s for s in sections if s.get("title") == title), None)
        if section is None:
            section = CommentedMap(title=title, stories=[])
            sections.append(section)
        section["stories"].insert(min(position, len(section["stories"])), node)


def draft_editions(
    project: Project,
    month: str,
    *,
    editions: list[Edition] | None = None,
    **options: Any,
) -> list[DraftResult]:
    """Draft every edition's issue file (or those given), the default edition first: the
    others then take the versions in their language of the stories it carries first."""
    results = []
    prefer: set[str] | None = None
    for edition in editions or project.editions:
        result = draft(project, month, edition=edition, prefer=prefer, **options)
        results.append(result)
        if edition.default:
            prefer = keys_of(result.selection.chosen())
    return results


def write_draft(
    project: Project,
    month: str,
    *,
    max_stories: int | None = None,
    force: bool = False,
    send_date: date | None = None,
    edition: Edition | None = None,
) -> tuple[Path, Issue]:
    """Draft (or update) the issue file and return it as validated by ``load_issue``."""
    from newsletter.issuefile import load_issue

    result = draft(
        project, month, send_date=send_date, max_stories=max_stories, force=force,
        edition=edition,
    )  # fmt: skip
    return result.path, load_issue(result.path, resolve=False)


def score_month(config: Config, month: str, items: list[NewsItem]) -> dict[str, float]:
    """Each item's draft score for ``month``'s issue (for ``newsletter items --month``)."""
    window = issue_window(month, config.draft, default_send_date(month, config.draft.send_day))
    scorer = Scorer(config.draft, config.sources, window)
    return {item.id: scorer.score(item).total for item in items}


__all__ = [
    "DraftResult",
    "draft",
    "draft_editions",
    "issue_from_selection",
    "score_month",
    "write_draft",
]
