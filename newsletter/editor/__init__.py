"""The editor's desk: choose a month's stories and keep the issue file in shape.

``window`` decides which stories an issue may hold, ``scoring`` ranks them, ``select``
picks and arranges them, and ``draft`` writes or updates ``issues/YYYY-MM.yaml``.
"""

from newsletter.editor.draft import (
    DraftResult,
    draft,
    draft_editions,
    issue_from_selection,
    score_month,
    suggest_subject,
    write_draft,
)
from newsletter.editor.scoring import Score, Scorer
from newsletter.editor.select import Decision, Selection, Status, candidates, select_stories
from newsletter.editor.window import (
    Window,
    default_send_date,
    issue_window,
    month_window,
    read_history,
)

__all__ = [
    "Decision",
    "DraftResult",
    "Score",
    "Scorer",
    "Selection",
    "Status",
    "Window",
    "candidates",
    "default_send_date",
    "draft",
    "draft_editions",
    "issue_from_selection",
    "issue_window",
    "month_window",
    "read_history",
    "score_month",
    "select_stories",
    "suggest_subject",
    "write_draft",
]
