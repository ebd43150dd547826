"""Checking one issue: render it as ``build`` does, then run every rule on the result.

The email's HTML and text, the generated MJML, the theme's contrast, the issue file's
subject and preheader and the prepared images' weight are checked; the rules on compiled
HTML are in ``html``, those on text and placeholders in ``text``, on images in ``images``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from selectolax.lexbor import LexborHTMLParser

from newsletter.checks.edition import check_story_languages, check_translations
from newsletter.checks.html import Expectations, check_html
from newsletter.checks.images import check_image_weight
from newsletter.checks.message import check_exported
from newsletter.checks.report import CheckReport, Finding, Level
from newsletter.checks.text import check_story_text, check_text
from newsletter.errors import RenderError
from newsletter.issuefile import load_issue
from newsletter.models import subject_warning
from newsletter.project import Project

if TYPE_CHECKING:
    from newsletter.config import Config
    from newsletter.editions import Edition
    from newsletter.models import Issue
    from newsletter.render import Rendered
    from newsletter.render.issueimages import IssueImages
    from newsletter.render.lint import MjmlProblem
    from newsletter.render.theme import Theme


PREHEADER_MAX = 110


def check_mjml(report: CheckReport, problems: Iterable[MjmlProblem]) -> None:
    for problem in problems:
        level = Level.warning if problem.rule == "mjml-nesting" else Level.error
        where = problem.where or f"generated MJML line {problem.line}"
        report.add(level, problem.rule, problem.message, where)


def check_theme(report: CheckReport, theme: Theme) -> None:
    """Contrast of every colour pair the templates use (WCAG relative luminance)."""
    from newsletter.render.theme import contrast_pairs

    for pair in contrast_pairs(theme):
        if pair.ok:
            continue
        # Forced inversion is only approximated, so it warns; our own palettes must pass.
        level = Level.warning if pair.scheme == "inverted" else Level.error
        where = "newsletter.toml [brand]"
        scheme = "when a client inverts colours" if pair.scheme == "inverted" else pair.scheme
        report.add(
            level, "contrast",
            f"{pair.name} ({scheme}): {pair.foreground} on {pair.background} is "
            f"{pair.ratio:.2f}:1, below {pair.minimum}:1",
            where,
        )  # fmt: skip


def check_issue_file(report: CheckReport, issue: Issue) -> None:
    too_long = subject_warning(issue.subject)
    if too_long:
        report.add(Level.warning, "subject", too_long)
    if len(issue.preheader) > PREHEADER_MAX:
        report.add(
            Level.warning, "preheader",
            f"preheader is {len(issue.preheader)} characters; keep it under {PREHEADER_MAX}",
        )  # fmt: skip
    check_story_text(report, issue)


def check_rendered(
    config: Config, issue: Issue, rendered: Rendered, images: IssueImages | None = None
) -> CheckReport:
    """Every rule on an issue that has been rendered already (``render_issue(strict=False)``),
    and on its prepared images when there are any."""
    from newsletter.deliver import merge
    from newsletter.render import issue_context
    from newsletter.render.theme import build_theme

    report = CheckReport(issue.month)
    check_mjml(report, rendered.problems)
    values = merge.preview_values(config)
    links = issue_context(config, issue)["links"]
    untracked = tuple(
        merge.fill(links[k], values) for k in ("unsubscribe", "preferences", "web_version")
    )
    expect = Expectations(
        unsubscribe_url=merge.fill(links["unsubscribe"], values),
        untracked_urls=untracked,
        preheader=issue.preheader,
    )
    if rendered.html:
        check_html(report, merge.fill(rendered.html, values), expect)
        check_exported(report, config, issue, rendered.html, rendered.text)
    check_text(report, merge.fill(rendered.text, values), expect.unsubscribe_url)
    check_theme(report, build_theme(config.brand))
    check_issue_file(report, issue)
    if images is not None:
        check_image_weight(report, images, config.images)
    return report


def check_issue(
    project: Project,
    month: str,
    *,
    links: bool = False,
    progress: Callable[[int, int], None] | None = None,
    edition: Edition | None = None,
) -> CheckReport:
    """Render the issue for ``month`` (of ``edition``, default: the default one) as
    ``build`` would, and check it.

    ``links`` also requests every link and image (``progress(done, total)`` reports on it).
    A template or MJML error becomes a "render" finding rather than an exception.
    """
    from newsletter.build import render_month
    from newsletter.render import project_environment, render_mjml
    from newsletter.render.theme import build_theme

    edition = edition or project.default_edition
    issue = load_issue(project.require_issue(month, edition))
    config = project.config
    try:
        done = render_month(project, month, issue=issue, strict=False, edition=edition)
    except RenderError as exc:
        env = project_environment(project)
        report = CheckReport(issue.month)
        with contextlib.suppress(RenderError):  # a template error leaves no MJML to check
            check_mjml(report, render_mjml(env, config, issue)[1])
        report.findings.insert(0, Finding(Level.error, "render", exc.message, exc.hint or ""))
        check_theme(report, build_theme(config.brand))
        check_issue_file(report, issue)
        return report
    report = check_rendered(config, issue, done.email, done.images)
    if not edition.single:
        report.edition = edition.code
        check_story_languages(report, issue, edition)
        check_translations(report, project, done.env, edition)
    if links:
        from newsletter.checks.links import check_links

        for result in check_links(link_targets(done.preview_html), progress=progress):
            if not result.ok:
                report.add(Level.error, "link-dead", result.reason, result.url)
    return report


def link_targets(html: str) -> list[str]:
    """Every distinct http(s) link and image address in the HTML, in document order."""
    tree = LexborHTMLParser(html)
    urls = [a.attributes.get("href") or "" for a in tree.css("a")]
    urls += [img.attributes.get("src") or "" for img in tree.css("img")]
    return list(dict.fromkeys(u for u in urls if u.startswith(("http://", "https://"))))
