"""MJML: inline the ``mj-style inline`` CSS, compile with mjml-python, trace errors to templates."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
import jinja2.ext

from newsletter.config import Config
from newsletter.errors import RenderError
from newsletter.models import Issue
from newsletter.render.context import issue_context
from newsletter.render.environment import display_path, make_environment, render_template
from newsletter.render.lint import MjmlProblem, lint_mjml, where_in_templates
from newsletter.render.transforms import apply_transforms

HTML_TEMPLATE = "email.mjml.j2"
TEXT_TEMPLATE = "email.txt.j2"


@dataclass
class Rendered:
    mjml: str
    html: str
    text: str
    problems: list[MjmlProblem] = field(default_factory=list)


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
        label = (display_path(filename) if filename else name or "?").replace("--", "- -")
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
        return render_template(marked_env, HTML_TEMPLATE, context)
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


def render_mjml(
    env: jinja2.Environment,
    config: Config,
    issue: Issue,
    *,
    web: bool = False,
    locale_dir: Path | None = None,
) -> tuple[str, list[MjmlProblem]]:
    """The generated MJML, and what our own check of it found (with template lines)."""
    return _mjml(env, issue_context(config, issue, web=web, locale_dir=locale_dir))


def _mjml(env: jinja2.Environment, context: dict[str, Any]) -> tuple[str, list[MjmlProblem]]:
    mjml = render_template(env, HTML_TEMPLATE, context)
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
    env: jinja2.Environment,
    config: Config,
    issue: Issue,
    *,
    strict: bool = True,
    locale_dir: Path | None = None,
) -> Rendered:
    """The email's MJML, HTML and plain text; ``strict`` raises on MJML problems."""
    context = issue_context(config, issue, locale_dir=locale_dir)
    mjml, problems = _mjml(env, context)
    html = apply_transforms(_html_from_mjml(env, context, mjml, problems, strict))
    text = render_template(env, TEXT_TEMPLATE, context)
    return Rendered(mjml=mjml, html=html, text=text, problems=problems)


def render_web(
    env: jinja2.Environment, config: Config, issue: Issue, *, locale_dir: Path | None = None
) -> str:
    """The issue's web page: the same layout, without personal links or preheader; it
    names its versions in the other editions' languages (``hreflang``)."""
    context = issue_context(config, issue, web=True, locale_dir=locale_dir)
    mjml, problems = _mjml(env, context)
    page = apply_transforms(_html_from_mjml(env, context, mjml, problems, strict=True), web=True)
    return add_alternates(
        page, context["lang"], context["links"]["web_version"], context["alternates"]
    )


def add_alternates(page: str, lang: str, here: str, alternates: list[dict[str, str]]) -> str:
    """``<link rel="alternate" hreflang>`` in the head for each other-language version."""
    if not alternates or "</head>" not in page:
        return page
    from html import escape

    links = [f'<link rel="alternate" hreflang="{escape(lang)}" href="{escape(here)}">']
    links += [
        f'<link rel="alternate" hreflang="{escape(a["lang"])}" href="{escape(a["href"])}">'
        for a in alternates
    ]
    return page.replace("</head>", "\n".join(links) + "\n</head>", 1)
