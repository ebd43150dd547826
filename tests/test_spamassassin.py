"""SpamAssassin scores every exported message at 0.5 or below: template and per-recipient.

Runs Debian's ``spamassassin -L`` (local rules only: no DNS blocklists, no network), whose
package ships its rules in /usr/share/spamassassin, so no ``sa-update`` is needed.
scripts/install-test-deps installs it; without it, the test is skipped and says why.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from newsletter.deliver.export import export_issue
from tests.test_exported_message import AUDIENCE, NORWEGIAN, SECRET, make_project

SPAMASSASSIN = shutil.which("spamassassin")
THRESHOLD = 0.5
SEPARATOR = b"From MAILER-DAEMON Thu Jan  1 00:00:00 1970"
MESSAGE_ID = re.compile(r"^Message-ID: (<[^>]+>)", re.M | re.I)
STATUS = re.compile(r"^X-Spam-Status: (?:Yes|No), score=(-?\d+(?:\.\d+)?)(.*?)(?=^\S)", re.M | re.S)

pytestmark = pytest.mark.skipif(
    SPAMASSASSIN is None,
    reason="spamassassin is not installed: scripts/install-test-deps installs Debian's package",
)


def scores(messages: list[bytes], home: Path) -> list[tuple[float, str]]:
    """SpamAssassin's score for each message and the rules that fired, in one run over an mbox.

    It scores an mbox's messages in an order of its own, so each result is matched to its
    message by Message-ID.
    """
    assert SPAMASSASSIN
    ids = [MESSAGE_ID.search(m.decode("ascii", "replace")) for m in messages]
    assert all(ids) and len({i.group(1) for i in ids if i}) == len(messages)
    mbox = b"".join(
        SEPARATOR + b"\n" + re.sub(rb"(?m)^(>*From )", rb">\1", message) + b"\n"
        for message in messages
    )
    done = subprocess.run(
        [SPAMASSASSIN, "-L", "-t", "--mbox"],
        input=mbox,
        capture_output=True,
        env={"HOME": str(home), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
        timeout=300,
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    results = {}
    for chunk in done.stdout.decode("utf-8", "replace").split(SEPARATOR.decode() + "\n"):
        status, message_id = STATUS.search(chunk), MESSAGE_ID.search(chunk)
        if status and message_id:
            rules = " ".join(status.group(2).split())
            results[message_id.group(1)] = (float(status.group(1)), rules)
    assert len(results) == len(messages), done.stdout[:2000]
    return [results[i.group(1)] for i in ids if i]


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    mp = pytest.MonkeyPatch()
    mp.setenv("NEWSLETTER_SECRET", SECRET)
    base = tmp_path_factory.mktemp("sa")
    project = make_project(base / "p")
    files = []
    for month in ("2020-10", "2024-03"):
        export_issue(project, month, "eml", base / month / "template")
        export_issue(project, month, "eml", base / month / "personal", AUDIENCE)
        files.append(base / month / "template" / f"{month}.eml")
        files += sorted((base / month / "personal").glob(f"{month}-*.eml"))[:2]
    norwegian = make_project(base / "nb", subject=NORWEGIAN)  # a subject in encoded-words
    export_issue(norwegian, "2020-10", "eml", base / "nb" / "out", AUDIENCE)
    files.append(base / "nb" / "out" / "2020-10-0000003.eml")  # not a recipient above
    mp.undo()
    return files


def test_every_exported_message_scores_low(exported: list[Path], tmp_path: Path) -> None:
    """Also checks the score is read right: the template as it was before it had a To:."""
    assert len(exported) == 7
    template = exported[0].read_bytes()
    without_to = template.replace(b"To: undisclosed-recipients:;\r\n", b"", 1)
    without_to = without_to.replace(b"Message-ID: <", b"Message-ID: <before.", 1)
    assert without_to.count(b"<before.") == 1 and b"undisclosed" not in without_to
    *results, before = scores([p.read_bytes() for p in exported] + [without_to], tmp_path)
    for path, (points, rules) in zip(exported, results, strict=True):
        assert points <= THRESHOLD, f"{path.name}: {points} ({rules})"
    points, rules = before
    assert points > THRESHOLD and "MISSING_HEADERS" in rules, rules  # the rules are loaded
