"""render: Jinja2 renders MJML from the templates, mjml-python compiles it to HTML.

The plain-text part has its own template, and the same layout renders the issue's web page.
The email holds merge tokens (see ``newsletter.deliver.merge``) that export and send fill
per recipient. ``newsletter.build.render_month`` is the entry point the stages use.
"""

from newsletter.render.context import issue_context
from newsletter.render.environment import (
    make_environment,
    package_templates,
    project_environment,
    render_template,
)
from newsletter.render.layout import Layout, plan_layout
from newsletter.render.mjml import (
    HTML_TEMPLATE,
    TEXT_TEMPLATE,
    Rendered,
    compile_mjml,
    render_issue,
    render_mjml,
    render_web,
)

__all__ = [
    "HTML_TEMPLATE",
    "TEXT_TEMPLATE",
    "Layout",
    "Rendered",
    "compile_mjml",
    "issue_context",
    "make_environment",
    "package_templates",
    "plan_layout",
    "project_environment",
    "render_issue",
    "render_mjml",
    "render_template",
    "render_web",
]
