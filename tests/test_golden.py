"""Golden files: the sample issues' HTML and text, compared with committed output.

Regenerate after an intended change with `make golden` (pytest --update-golden) and review
the diff like any other code change.
"""

import re
from pathlib import Path

import pytest

from newsletter import merge
from newsletter.issuefile import load_issue
from newsletter.project import Project
from newsletter.render import project_environment, render_issue
from tests.conftest import REPO, assert_golden

SAMPLE_MONTHS = Project.at(REPO).months()


def strip_volatile(text: str) -> str:
    """Nothing volatile is rendered today; keep the hook for ids or dates if that changes."""
    return re.sub(r"[ \t]+$", "", text, flags=re.M)


@pytest.mark.parametrize("month", SAMPLE_MONTHS)
def test_sample_issue_matches_golden(month: str, update_golden: bool, tmp_path: Path) -> None:
    project = Project.at(REPO)
    issue = load_issue(project.issue_path(month))
    rendered = render_issue(project_environment(project), project.config, issue)
    values = merge.preview_values(project.config)
    assert_golden(
        f"{month}/email.html", strip_volatile(merge.fill(rendered.html, values)), update_golden
    )
    assert_golden(
        f"{month}/email.txt", strip_volatile(merge.fill(rendered.text, values)), update_golden
    )
