"""build: Jinja2 renders MJML from the templates, mjml-python compiles it to HTML.

The plain-text part has its own template, and the same layout renders the issue's web page.
Rendering happens once per issue; the email holds merge tokens (see ``newsletter.merge``)
that export and send fill per recipient. Text helpers (filters, labels) are in
``newsletter.textfmt``; the web archive and feed are in ``newsletter.archive``.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import jinja2
import jinja2.bccache
import jinja2.ext
from markupsafe import Markup

from newsletter import merge
from newsletter.config import Config
from newsletter.errors import RenderError
from newsletter.mjml_lint import MjmlProblem, lint_mjml, where_in_templates
from newsletter.models import Issue, Kind, Story
from newsletter.project import Project
from newsletter.textfmt import (
    FILTERS,
    labels_for,
    markdown_filter,
    month_title,
    text_direction,
    wrap_filter,
)
from newsletter.theme import build_theme

__all__ = [
    "HTML_TEMPLATE",
    "TEXT_TEMPLATE",
    "Layout",
    "Rendered",
    "build_issue",
    "compile_mjml",
    "issue_context",
    "make_environment",
    "markdown_filter",
    "package_templates",
    "plan_layout",
    "project_environment",
    "render_issue",
    "render_web",
    "wrap_filter",
]

HTML_TEMPLATE = "email.mjml.j2"
TEXT_TEMPLATE = "email.txt.j2"
# Card images take this share of the width; the text column the rest.
IMAGE_COLUMN_PERCENT = 36
# Keeps clients from pulling body text into the inbox preview after a short preheader.
PREHEADER_FILLER = Markup("&#847;&zwnj;&nbsp;" * 40)


def package_templates() -> Path:
    """The default templates shipped inside the package."""
    return Path(str(files("newsletter") / "templates"))


@dataclass
class Rendered:
    mjml: str
    html: str
    text: str
    problems: list[MjmlProblem] = field(default_factory=list)


@dataclass
class LayoutSection:
    title: str
    stories: list[Story]


@dataclass
class Layout:
    """The issue's stories sorted into the places of the layout."""

    lead: Story | None = None
    sections: list[LayoutSection] = field(default_factory=list)
    calls: list[Story] = field(default_factory=list)
    events: list[Story] = field(default_factory=list)
    # The editor's section title when every call (or event) came from one such section.
    calls_title: str | None = None
    events_title: str | None = None

    @property
    def empty(self) -> bool:
        return not (self.lead or self.sections or self.calls or self.events)


def is_event(story: Story) -> bool:
    return story.kind is Kind.event or (
        story.event_date is not None and story.kind not in (Kind.call, Kind.award)
    )


def is_call(story: Story) -> bool:
    return not is_event(story) and (
        story.kind in (Kind.call, Kind.award) or story.deadline is not None
    )


def plan_layout(issue: Issue) -> Layout:
    """Lead = the first news story; calls and events leave their sections for dated lists."""
    layout = Layout()
    call_sections: set[str] = set()
    event_sections: set[str] = set()
    for section in issue.sections:
        cards = []
        for story in section.stories:
            if is_event(story):
                layout.events.append(story)
                event_sections.add(section.title)
            elif is_call(story):
                layout.calls.append(story)
                call_sections.add(section.title)
            elif layout.lead is None:
                layout.lead = story
            else:
                cards.append(story)
        if cards:
            layout.sections.append(LayoutSection(section.title, cards))
    titles = {s.title for s in layout.sections}
    if len(call_sections) == 1 and not call_sections & (titles | event_sections):
        layout.calls_title = call_sections.pop()
    if len(event_sections) == 1 and not event_sections & (titles | call_sections):
        layout.events_title = event_sections.pop()
    # Soonest first; undated ones (an open call) at the end, in the editor's order.
    layout.calls.sort(key=lambda s: (s.deadline is None, s.deadline or datetime.min.date()))
    layout.events.sort(key=lambda s: (s.event_date is None, s.event_date or datetime.min.date()))
    return layout


class _QuietBytecodeCache(jinja2.FileSystemBytecodeCache):
    """Compiled templates on disk, for faster cold starts; a read-only folder only costs time."""

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        with contextlib.suppress(OSError):
            super().dump_bytecode(bucket)


def make_environment(
    template_dirs: list[Path], *, cache_dir: Path | None = None
) -> jinja2.Environment:
    bytecode_cache = None
    if cache_dir is not None:
        try:
            cache_dir.mkdir(parents=True, exist_ok=True)
            bytecode_cache = _QuietBytecodeCache(str(cache_dir))
        except OSError:
            pass
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(d) for d in template_dirs]),
        autoescape=jinja2.select_autoescape(
            enabled_extensions=("mjml", "html", "xml", "mjml.j2", "html.j2", "xml.j2"),
            default_for_string=True,
        ),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        bytecode_cache=bytecode_cache,
    )
    env.filters.update(FILTERS)
    return env


@lru_cache(maxsize=16)
def _cached_environment(dirs: tuple[Path, ...], cache_dir: Path) -> jinja2.Environment:
    # Compiled templates live in the environment; the loader still notices edited files.
    return make_environment(list(dirs), cache_dir=cache_dir)


def project_environment(project: Project) -> jinja2.Environment:
    """Project templates first, then the package defaults for anything not overridden."""
    dirs = [project.templates_dir] if project.templates_dir.is_dir() else []
    cache = project.root / ".newsletter" / "cache" / "templates"
    return _cached_environment((*dirs, package_templates()), cache)


def issue_context(config: Config, issue: Issue, *, web: bool = False) -> dict[str, Any]:
    issue = issue.resolved()  # staff overrides (title, summary, image, alt, cta) win
    settings = config.newsletter
    web_url = settings.web_url.rstrip("/")
    theme = build_theme(config.brand)
    lang = issue.language or settings.language
    return {
        "config": config,
        "newsletter": settings,
        "brand": config.brand,
        "theme": theme,
        "light": theme.light,
        "dark": theme.dark,
        "issue": issue,
        "layout": plan_layout(issue),
        "web": web,
        "lang": lang,
        "dir": text_direction(lang),
        "t": labels_for(lang),
        "utm_params": config.utm.params(issue.month),
        "links": {
            "web_version": f"{web_url}/{issue.month}/",
            "archive": f"{web_url}/",
            "feed": f"{web_url}/feed.xml",
            "subscribe": settings.subscribe_url or f"{web_url}/",
            "unsubscribe": merge.token("unsubscribe_url"),
            "preferences": settings.preferences_url or merge.token("unsubscribe_url"),
        },
        "month_name": month_title(issue.month, lang),
        "preheader_filler": PREHEADER_FILLER if issue.preheader else "",
        "image_column_percent": IMAGE_COLUMN_PERCENT,
        "card_image_width": theme.width * IMAGE_COLUMN_PERCENT // 100 - 24,
    }


def _render_template(env: jinja2.Environment, name: str, context: dict[str, Any]) -> str:
    try:
        return env.get_template(name).render(context)
    except jinja2.TemplateSyntaxError as exc:
        raise RenderError(
            f"{exc.filename or exc.name}:{exc.lineno}: template syntax error: {exc.message}",
            hint="fix the template, or delete it to use the default one",
        ) from exc
    except jinja2.TemplateNotFound as exc:
        raise RenderError(
            f"template not found: {exc.name}",
            hint="restore it, or delete the project's copy to use the default one",
        ) from exc
    except jinja2.UndefinedError as exc:
        where = _template_line(exc) or name
        raise RenderError(f"{where}: {exc.message}", hint="check the variable names") from exc
    except jinja2.TemplateError as exc:
        where = _template_line(exc) or name
        raise RenderError(f"{where}: template error: {exc}") from exc
    except (TypeError, ValueError, AttributeError, KeyError, IndexError, ArithmeticError) as exc:
        # A custom template doing something impossible (a filter on the wrong value...).
        where = _template_line(exc) or name
        raise RenderError(f"{where}: {type(exc).__name__}: {exc}") from exc


def _template_line(exc: BaseException) -> str | None:
    """The innermost template frame of a Jinja runtime error, as "file:line"."""
    found = None
    tb = exc.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        if code.co_filename.endswith(".j2") or "<template>" in code.co_filename:
            found = f"{_display_path(code.co_filename)}:{tb.tb_lineno}"
        tb = tb.tb_next
    return found


_INLINE_STYLE_RE = re.compile(
    r"<mj-style\s+inline\s*=\s*[\"']inline[\"']\s*>(.*?)</mj-style\s*>", re.S | re.I
)
_POSITION_RE = re.compile(r"position (\d+)")


def split_inline_css(mjml: str) -> tuple[str, str]:
    """``mj-style inline`` blocks removed from the MJML, and their CSS joined."""
    blocks: list[str] = []

    def take(match: re.Match[str]) -> str:
        blocks.append(match.group(1))
        return ""

    return _INLINE_STYLE_RE.sub(take, mjml), "\n".join(blocks)


# HTML-content components whose markup the ``mj-style inline`` CSS applies to.
_CONTENT_RE = re.compile(r"(<mj-(text|table)\b[^>]*(?<!/)>)(.*?)(</mj-\2\s*>)", re.S | re.I)
_SPLIT = "<!--newsletter:split-->"
_HOLE = "\x00"


@lru_cache(maxsize=1)
def _inliner() -> Any:
    import css_inline

    return css_inline.CSSInliner(load_remote_stylesheets=False)


def inline_css(mjml: str, css: str) -> str:
    """Inline ``css`` into the HTML inside every mj-text and mj-table of ``mjml``.

    The contents are inlined together, in one css-inline call, before MJML compiles them:
    MJML's own markup is left exactly as it generates it, and only our HTML is parsed.
    """
    if not css.strip() or _HOLE in mjml:
        return mjml
    bodies: list[str] = []

    def take(match: re.Match[str]) -> str:
        bodies.append(match.group(3))
        return match.group(1) + _HOLE + match.group(4)

    skeleton = _CONTENT_RE.sub(take, mjml)
    if not bodies:
        return mjml
    try:
        inlined = str(_inliner().inline_fragment(_SPLIT.join(bodies), css))
    except ValueError as exc:  # css_inline.InlineError is a ValueError
        raise RenderError(f"inlining the mj-style inline CSS failed: {exc}") from exc
    pieces = inlined.split(_SPLIT)
    if len(pieces) != len(bodies):
        raise RenderError(
            "the HTML inside an mj-text or mj-table is not well nested, so its CSS could "
            "not be inlined",
            hint="close every tag you open inside mj-text; inspect it with `build --mjml`",
        )
    holes = skeleton.split(_HOLE)
    return "".join(part for pair in zip(holes, [*pieces, ""], strict=True) for part in pair)


def compile_mjml(source: str, *, template: str = HTML_TEMPLATE) -> str:
    from mjml import mjml2html

    try:
        return str(mjml2html(source, disable_comments=True))
    except ValueError as exc:
        message = str(exc)
        where = template
        if match := _POSITION_RE.search(message):
            line = source.count("\n", 0, int(match.group(1))) + 1
            snippet = source.splitlines()[line - 1].strip()[:80] if source else ""
            where = f"{template} (generated MJML line {line}: {snippet})"
        raise RenderError(
            f"{where}: MJML error: {message}",
            hint="inspect the generated MJML with `newsletter build MONTH --mjml`",
        ) from exc


class _LineMarkers(jinja2.ext.Extension):
    """Puts ``<!--@tpl file:line-->`` before each template line that starts an MJML tag.

    Used only to explain a problem (a second render after one was found), so a position in
    the generated MJML can be traced back to a template line.
    """

    def preprocess(self, source: str, name: str | None, filename: str | None = None) -> str:
        if not (name or "").endswith(".mjml.j2"):
            return source
        label = (_display_path(filename) if filename else name or "?").replace("--", "- -")
        lines = source.split("\n")
        in_attributes = False  # MRML allows no comments among <mj-attributes> children
        for number, line in enumerate(lines, 1):
            stripped = line.lstrip()
            if stripped.startswith("</mj-attributes"):
                in_attributes = False
            elif stripped.startswith(("<mj-", "</mj-")) and not in_attributes:
                lines[number - 1] = f"<!--@tpl {label}:{number}-->{line}"
            if stripped.startswith("<mj-attributes") and not stripped.rstrip().endswith("/>"):
                in_attributes = True
        return "\n".join(lines)


@lru_cache(maxsize=8)
def _marked_environment_for(dirs: tuple[str, ...]) -> jinja2.Environment:
    env = make_environment([Path(d) for d in dirs])
    env.add_extension(_LineMarkers)
    return env


def _marked_render(env: jinja2.Environment, context: dict[str, Any]) -> str | None:
    """The MJML again, with template line markers; None when that is not possible."""
    if not isinstance(env.loader, jinja2.FileSystemLoader):
        return None
    marked_env = _marked_environment_for(tuple(str(p) for p in env.loader.searchpath))
    try:
        return _render_template(marked_env, HTML_TEMPLATE, context)
    except RenderError:
        return None


def _locate(
    env: jinja2.Environment, context: dict[str, Any], problems: list[MjmlProblem]
) -> list[MjmlProblem]:
    marked = _marked_render(env, context)
    if marked is None:
        return problems
    located = lint_mjml(marked)
    if [(p.rule, p.message) for p in located] != [(p.rule, p.message) for p in problems]:
        return problems
    return [replace(p, where=q.where) for p, q in zip(problems, located, strict=True)]


def _display_path(filename: str) -> str:
    """A template's path relative to the current folder when it is inside it."""
    path = Path(filename)
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return filename


def render_mjml(
    env: jinja2.Environment, config: Config, issue: Issue, *, web: bool = False
) -> tuple[str, list[MjmlProblem]]:
    """The generated MJML, and what our own check of it found (with template lines)."""
    return _mjml(env, issue_context(config, issue, web=web))


def _mjml(env: jinja2.Environment, context: dict[str, Any]) -> tuple[str, list[MjmlProblem]]:
    mjml = _render_template(env, HTML_TEMPLATE, context)
    problems = lint_mjml(mjml)
    return mjml, _locate(env, context, problems) if problems else problems


def _html_from_mjml(
    env: jinja2.Environment,
    context: dict[str, Any],
    mjml: str,
    problems: list[MjmlProblem],
    strict: bool,
) -> str:
    if strict and problems:
        listed = "\n  ".join(str(p) for p in problems[:10])
        more = f"\n  … and {len(problems) - 10} more" if len(problems) > 10 else ""
        raise RenderError(
            f"the generated MJML has {len(problems)} problem(s):\n  {listed}{more}",
            hint="fix the template; `newsletter check MONTH` lists every problem",
        )
    body, css = split_inline_css(mjml)
    try:
        return compile_mjml(inline_css(body, css))
    except RenderError as exc:
        where = _mjml_error_template_line(env, context)
        if where:
            exc.message = f"{where}: {exc.message}"
        raise


def _mjml_error_template_line(env: jinja2.Environment, context: dict[str, Any]) -> str | None:
    """The template line nearest before where mjml-python stopped, from a marked render."""
    from mjml import mjml2html

    marked = _marked_render(env, context)
    if marked is None:
        return None
    body, _ = split_inline_css(marked)
    try:
        mjml2html(body, disable_comments=True)
    except ValueError as exc:
        if match := _POSITION_RE.search(str(exc)):
            return where_in_templates(body, int(match.group(1)))
    return None


def render_issue(
    env: jinja2.Environment, config: Config, issue: Issue, *, strict: bool = True
) -> Rendered:
    """The email's MJML, HTML and plain text; ``strict`` raises on MJML problems."""
    context = issue_context(config, issue)
    mjml, problems = _mjml(env, context)
    html = _html_from_mjml(env, context, mjml, problems, strict)
    text = _render_template(env, TEXT_TEMPLATE, context)
    return Rendered(mjml=mjml, html=html, text=text, problems=problems)


def render_web(env: jinja2.Environment, config: Config, issue: Issue) -> str:
    """The issue's web page: the same layout, without personal links or preheader."""
    context = issue_context(config, issue, web=True)
    mjml, problems = _mjml(env, context)
    return _html_from_mjml(env, context, mjml, problems, strict=True)


def build_issue(project: Project, issue: Issue, *, keep_mjml: bool = False) -> Path:
    """Render an issue into ``build/YYYY-MM/`` (email.html, email.txt, index.html)."""
    from newsletter.archive import write_entry

    config = project.config
    env = project_environment(project)
    rendered = render_issue(env, config, issue)
    web_html = render_web(env, config, issue)
    preview = merge.preview_values(config)
    out = project.issue_build_dir(issue.month)
    out.mkdir(parents=True, exist_ok=True)
    (out / "email.html").write_text(merge.fill(rendered.html, preview), encoding="utf-8")
    (out / "email.txt").write_text(merge.fill(rendered.text, preview), encoding="utf-8")
    (out / "index.html").write_text(web_html, encoding="utf-8")
    write_entry(out, issue, config.newsletter.language)
    if keep_mjml:
        (out / "email.mjml").write_text(rendered.mjml, encoding="utf-8")
    return out
