"""build: Jinja2 renders MJML from the templates, mjml-python compiles it to HTML.

The plain-text part has its own template. Rendering happens once per issue; the output
holds merge tokens (see ``newsletter.merge``) that export and send fill per recipient.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from newsletter import merge
from newsletter.config import Config
from newsletter.errors import RenderError
from newsletter.models import Issue
from newsletter.project import Project

HTML_TEMPLATE = "email.mjml.j2"
TEXT_TEMPLATE = "email.txt.j2"


def package_templates() -> Path:
    """The default templates shipped inside the package."""
    return Path(str(files("newsletter") / "templates"))


@dataclass
class Rendered:
    mjml: str
    html: str
    text: str


@lru_cache(maxsize=1)
def _markdown() -> Any:
    from markdown_it import MarkdownIt

    # Raw HTML in Markdown is disabled: intros are staff prose, not markup.
    return MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": True})


def markdown_filter(text: str) -> Markup:
    return Markup(_markdown().render(text or ""))


def wrap_filter(text: str, width: int = 78, indent: str = "") -> str:
    """Wrap prose paragraph by paragraph, keeping blank lines between them."""
    paragraphs = re.split(r"\n\s*\n", (text or "").strip())
    return "\n\n".join(
        textwrap.fill(
            " ".join(p.split()),
            width=width,
            initial_indent=indent,
            subsequent_indent=indent,
            break_long_words=False,
            break_on_hyphens=False,
        )
        for p in paragraphs
        if p.strip()
    )


def date_filter(value: date | datetime | None, fmt: str = "%-d %B %Y") -> str:
    return value.strftime(fmt) if value else ""


def make_environment(template_dirs: list[Path]) -> jinja2.Environment:
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
    )
    env.filters.update(markdown=markdown_filter, wrap=wrap_filter, date=date_filter)
    return env


def project_environment(project: Project) -> jinja2.Environment:
    """Project templates first, then the package defaults for anything not overridden."""
    dirs = [project.templates_dir] if project.templates_dir.is_dir() else []
    return make_environment([*dirs, package_templates()])


def issue_context(config: Config, issue: Issue) -> dict[str, Any]:
    web_url = config.newsletter.web_url.rstrip("/")
    return {
        "config": config,
        "newsletter": config.newsletter,
        "brand": config.brand,
        "issue": issue,
        "lang": issue.language or config.newsletter.language,
        "links": {
            "web_version": f"{web_url}/{issue.month}/",
            "archive": f"{web_url}/",
            "unsubscribe": merge.token("unsubscribe_url"),
            "preferences": config.newsletter.preferences_url or merge.token("unsubscribe_url"),
        },
        "month_name": datetime.strptime(issue.month, "%Y-%m").strftime("%B %Y"),
    }


def _render_template(env: jinja2.Environment, name: str, context: dict[str, Any]) -> str:
    try:
        return env.get_template(name).render(context)
    except jinja2.TemplateSyntaxError as exc:
        raise RenderError(
            f"{exc.filename or exc.name}:{exc.lineno}: template syntax error: {exc.message}"
        ) from exc
    except jinja2.TemplateNotFound as exc:
        raise RenderError(f"template not found: {exc.name}") from exc
    except jinja2.UndefinedError as exc:
        raise RenderError(f"{name}: {exc.message}", hint="check the variable names") from exc


def compile_mjml(source: str, *, template: str = HTML_TEMPLATE) -> str:
    from mjml import mjml2html

    try:
        return str(mjml2html(source, disable_comments=True))
    except ValueError as exc:
        raise RenderError(
            f"{template}: MJML error: {exc}",
            hint="inspect the generated MJML with `newsletter build MONTH --mjml`",
        ) from exc


def render_issue(env: jinja2.Environment, config: Config, issue: Issue) -> Rendered:
    context = issue_context(config, issue)
    mjml = _render_template(env, HTML_TEMPLATE, context)
    html = compile_mjml(mjml)
    text = _render_template(env, TEXT_TEMPLATE, context)
    return Rendered(mjml=mjml, html=html, text=text)


def build_issue(project: Project, issue: Issue, *, keep_mjml: bool = False) -> Path:
    """Render an issue into ``build/YYYY-MM/`` and return that folder."""
    config = project.config
    rendered = render_issue(project_environment(project), config, issue)
    preview = merge.preview_values(config)
    out = project.issue_build_dir(issue.month)
    out.mkdir(parents=True, exist_ok=True)
    (out / "email.html").write_text(merge.fill(rendered.html, preview), encoding="utf-8")
    (out / "email.txt").write_text(merge.fill(rendered.text, preview), encoding="utf-8")
    if keep_mjml:
        (out / "email.mjml").write_text(rendered.mjml, encoding="utf-8")
    return out
