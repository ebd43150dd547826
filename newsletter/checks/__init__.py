"""check: what would hurt subscribers, found in a built issue before anyone sends it.

``check_issue(project, month)`` renders the issue (as ``build`` does) and runs every rule on
the email's HTML and text, the generated MJML, the theme and the issue file. Each finding is
an error (something will break for readers or providers: exit code 1) or a warning. The
rules live in ``checks.html`` (compiled HTML), ``checks.text`` (placeholders, plain text) and
``checks.message`` (the exported message: headers, encoded-words, List-* headers).
"""

from newsletter.checks.html import (
    ALT_MAX,
    GMAIL_CLIP_BYTES,
    HTML_BUDGET_BYTES,
    STYLE_BLOCK_BYTES,
    TAP_TARGET_PX,
    Expectations,
    check_html,
    check_url,
    nested_at_rule,
)
from newsletter.checks.issue import (
    PREHEADER_MAX,
    check_issue,
    check_issue_file,
    check_mjml,
    check_rendered,
    check_theme,
    link_targets,
)
from newsletter.checks.message import check_exported, check_message
from newsletter.checks.report import CheckReport, Finding, Level
from newsletter.checks.text import (
    TEXT_WIDTH,
    check_placeholders,
    check_story_text,
    check_text,
)
from newsletter.models import SUBJECT_MAX  # the one limit; validate warns above it too

__all__ = [
    "ALT_MAX",
    "GMAIL_CLIP_BYTES",
    "HTML_BUDGET_BYTES",
    "PREHEADER_MAX",
    "STYLE_BLOCK_BYTES",
    "SUBJECT_MAX",
    "TAP_TARGET_PX",
    "TEXT_WIDTH",
    "CheckReport",
    "Expectations",
    "Finding",
    "Level",
    "check_exported",
    "check_html",
    "check_issue",
    "check_issue_file",
    "check_message",
    "check_mjml",
    "check_placeholders",
    "check_rendered",
    "check_story_text",
    "check_text",
    "check_theme",
    "check_url",
    "link_targets",
    "nested_at_rule",
]
