"""Golden files: the sample issues' HTML, text and web page, compared with committed output.

Besides this project's own issues, tests/golden/issues/ holds a full 12-story issue (lead,
cards with and without images, calls, events) rendered with this project's settings.
Regenerate after an intended change with `make golden` (pytest --update-golden) and review
the diff like any other code change. The HTML files hold one tag per line (tests/goldenfmt.py)
so that the diff is readable; apart from those line breaks they are what the build wrote.
"""

import re
from pathlib import Path

import pytest

from newsletter.build import render_month
from newsletter.issuefile import load_issue
from newsletter.project import Project
from tests.conftest import GOLDEN, REPO, assert_golden
from tests.goldenfmt import joined, tag_per_line

SAMPLE_MONTHS = Project.at(REPO).months()
EXTRA_ISSUES = sorted((GOLDEN / "issues").glob("*.yaml"))
CASES = [(m, REPO / "issues" / f"{m}.yaml") for m in SAMPLE_MONTHS] + [
    (f"issues/{p.stem}", p) for p in EXTRA_ISSUES
]


def strip_volatile(text: str) -> str:
    """Nothing volatile is rendered today; keep the hook for ids or dates if that changes."""
    return re.sub(r"[ \t]+$", "", text, flags=re.M)


@pytest.mark.parametrize(("name", "path"), CASES, ids=[c[0] for c in CASES])
def test_issue_matches_golden(name: str, path: Path, update_golden: bool) -> None:
    project = Project.at(REPO)
    issue = load_issue(path)
    # Images from local copies only: the output never depends on the network.
    done = render_month(project, issue.month, issue=issue, web=True, fetch_images=False)
    for filename, content in (
        ("email.html", done.preview_html),
        ("email.txt", done.preview_text),
        ("index.html", done.web or ""),
    ):
        content = strip_volatile(content)
        if filename.endswith(".html"):
            stored = tag_per_line(content)
            assert joined(stored) == content, "the golden form must keep every byte"
            content = stored
        assert_golden(f"{name}/{filename}", content, update_golden)


def test_golden_cases_exist() -> None:
    assert SAMPLE_MONTHS, "this project has no sample issues"
    assert EXTRA_ISSUES, "tests/golden/issues/ has no issue files"
