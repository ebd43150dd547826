"""Render a month: the one entry point that build, check, preview, export and the tests share.

``render_month`` loads the issue file, prepares its story images (cropped and re-encoded
for their place, see ``render.issueimages``), renders the email (HTML and text, with merge
tokens left in for export and send to fill per recipient) and, when asked, the web page.
``build_month`` writes the result into ``build/YYYY-MM/`` (the images into ``img/``) and
records it for the archive.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import jinja2

from newsletter.config import Config
from newsletter.deliver import merge
from newsletter.editions import Edition
from newsletter.issuefile import load_issue
from newsletter.models import Issue
from newsletter.project import Project
from newsletter.render import Rendered, project_environment, render_issue, render_web
from newsletter.render.issueimages import IssueImages, prepare_issue_images


@dataclass
class MonthRender:
    """One issue rendered once: the email with its merge tokens, and the web page if asked."""

    project: Project
    issue: Issue
    env: jinja2.Environment
    email: Rendered
    web: str | None = None
    images: IssueImages | None = None  # None: the images were left as the issue file has them
    edition: Edition | None = None  # None: the default edition

    @property
    def config(self) -> Config:
        return self.project.config

    @cached_property
    def preview_values(self) -> dict[str, str]:
        return merge.preview_values(self.config)

    @property
    def preview_html(self) -> str:
        """The email as a preview shows it: merge tokens filled with sample values."""
        return merge.fill(self.email.html, self.preview_values)

    @property
    def preview_text(self) -> str:
        return merge.fill(self.email.text, self.preview_values)


def render_month(
    project: Project,
    month: str,
    *,
    issue: Issue | None = None,
    strict: bool = True,
    web: bool = False,
    reload_templates: bool = False,
    images: bool = True,
    fetch_images: bool = True,
    edition: Edition | None = None,
) -> MonthRender:
    """Render the issue of ``month`` (or the ``issue`` given) with the project's templates.

    ``strict=False`` keeps going past problems in the generated MJML (``check`` reports
    them); ``reload_templates`` forgets compiled templates, so a new override is seen.
    ``images=False`` leaves the story images as the issue file has them; ``fetch_images=False``
    prepares only those available without the network (local copies and the cache).
    """
    edition = edition or project.default_edition
    if issue is None:
        issue = load_issue(project.require_issue(month, edition))
    env = project_environment(project)
    if reload_templates and env.cache is not None:
        env.cache.clear()
    prepared = prepare_issue_images(project, issue, fetch=fetch_images) if images else None
    shown = prepared.apply(issue) if prepared else issue
    locale = project.locale_dir
    email = render_issue(env, project.config, shown, strict=strict, locale_dir=locale)
    page = render_web(env, project.config, shown, locale_dir=locale) if web else None
    return MonthRender(project, issue, env, email, page, prepared, edition)


def build_month(
    project: Project, month: str, *, keep_mjml: bool = False, edition: Edition | None = None
) -> Path:
    """Render ``month`` into ``build/YYYY-MM/`` (email.html, email.txt, index.html, img/);
    an edition of several into ``build/<code>/YYYY-MM/``."""
    done = render_month(project, month, web=True, edition=edition)
    return write_month(done, keep_mjml=keep_mjml)


def write_month(done: MonthRender, *, keep_mjml: bool = False) -> Path:
    """Write a render made with ``web=True`` into ``build/YYYY-MM/`` and record it."""
    from newsletter.archive import write_entry

    project = done.project
    out = project.issue_build_dir(done.issue.month, done.edition)
    out.mkdir(parents=True, exist_ok=True)
    (out / "email.html").write_text(done.preview_html, encoding="utf-8")
    (out / "email.txt").write_text(done.preview_text, encoding="utf-8")
    (out / "index.html").write_text(done.web or "", encoding="utf-8")
    _write_images(out / "img", done.images)
    write_entry(out, done.issue, (done.edition or project.default_edition).code)
    if keep_mjml:
        (out / "email.mjml").write_text(done.email.mjml, encoding="utf-8")
    return out


def _write_images(folder: Path, images: IssueImages | None) -> None:
    """build/YYYY-MM/img/ holds exactly this render's prepared images."""
    if folder.is_dir():
        shutil.rmtree(folder)
    files = images.files() if images else {}
    if files:
        folder.mkdir(parents=True)
        for path in files.values():
            shutil.copyfile(path, folder / path.name)
