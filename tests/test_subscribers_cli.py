"""newsletter subscribers: import with consent, one person's data, erase, the audience (on
SQLite and on PostgreSQL)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from newsletter.project import Project
from newsletter.store.suppression import SuppressionList
from tests.clirun import cli
from tests.conftest import write_project

MAILCHIMP = (
    "Email Address;First Name;Last Name;CONFIRM_TIME\n"
    "ann@example.org;Ann;Berg;2024-02-01 10:00:00\n"
    "bob@example.org;Bob;;\n"  # no recorded consent: not imported
    "not-an-address;X;;2024-02-01 10:00:00\n"
    "Cy@Example.org;Cy;Dahl;2024-02-02 11:00:00\n"
)


@pytest.mark.usefixtures("backend")
def test_import_a_semicolon_mailchimp_export_with_consent(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", [])
    path = tmp_path / "members.csv"
    path.write_text(MAILCHIMP, encoding="utf-8")
    result = cli("subscribers", "import", str(path), cwd=root)
    assert result.returncode == 3, result.stderr  # some rows were not imported
    assert "2 added, 0 updated, 2 not imported" in result.stdout
    assert f"{path}:3: 'bob@example.org': no consent recorded" in result.stdout
    assert f"{path}:4: 'not-an-address'" in result.stdout
    listed = cli("subscribers", "list", "--json", cwd=root)
    people = {json.loads(line)["email"]: json.loads(line) for line in listed.stdout.splitlines()}
    assert set(people) == {"ann@example.org", "cy@example.org"}
    assert people["ann@example.org"]["name"] == "Ann Berg"
    assert people["ann@example.org"]["status"] == "confirmed"
    exported = json.loads(cli("subscribers", "export", "ann@example.org", cwd=root).stdout)
    [record] = exported["consent_history"]
    assert record["method"] == "import"
    assert record["details"] == {"file": "members.csv", "line": 2, "consent": "2024-02-01 10:00:00"}


@pytest.mark.usefixtures("backend")
def test_a_file_without_a_consent_column_imports_nobody(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", [])
    path = tmp_path / "plain.csv"
    path.write_text("email,name\nann@example.org,Ann\n", encoding="utf-8")
    result = cli("subscribers", "import", str(path), cwd=root)
    assert result.returncode != 0 and "no consent column" in result.stderr
    assert cli("subscribers", "list", "--json", cwd=root).stdout == ""


@pytest.mark.usefixtures("backend")
def test_erase_keeps_only_a_hash_and_the_address_stays_suppressed(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", [])
    added = cli("subscribers", "add", "dee@example.org", "--note", "signed up at the fair",
                cwd=root)  # fmt: skip
    assert added.returncode == 0, added.stderr
    erased = cli("subscribers", "erase", "dee@example.org", "--yes", cwd=root)
    assert erased.returncode == 0, erased.stderr
    assert cli("subscribers", "export", "dee@example.org", cwd=root).returncode != 0
    project = Project.at(root)
    with SuppressionList(project.database) as suppressions:
        entries = suppressions.entries()
        assert [e.reason for e in entries] == ["erased"]
        assert "dee@example.org" not in entries[0].email  # only the hash is kept
        assert "DEE@example.org" in suppressions.emails()  # and it still matches
