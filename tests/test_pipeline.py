"""The library runs the pipeline: run_month, and items read from the store in one query."""

from __future__ import annotations

import json
import re
from pathlib import Path

from newsletter.collect import CollectReport
from newsletter.pipeline import run_month
from newsletter.project import Project
from newsletter.store import Store
from tests.clirun import cli


def test_run_month_collects_drafts_once_and_builds(sample_project: Path) -> None:
    project = Project.at(sample_project)
    project.issue_path("2020-10").unlink()
    seen: list[str] = []
    reports: list[CollectReport] = []
    first = run_month(project, "2020-10", on_start=seen.append, on_collected=reports.append)
    assert sorted(seen) == sorted(s.name for s in project.config.sources)
    assert reports == [first.collected] and not first.collected.failed
    assert first.drafted and first.issue_path == project.issue_path("2020-10")
    assert first.stories == len(first.built.issue.stories()) >= 4
    assert first.out == project.issue_build_dir("2020-10")
    assert (first.out / "email.html").read_text(encoding="utf-8") == first.built.preview_html
    assert [p.name for p in first.archive] == ["index.html", "feed.xml"]

    # Editors' changes to the issue file are kept: a second run builds it as it is.
    path = project.issue_path("2020-10")
    edited = re.sub(r"(?m)^subject: .*$", "subject: Edited by hand", path.read_text("utf-8"))
    path.write_text(edited, encoding="utf-8")
    again = run_month(project, "2020-10")
    assert not again.drafted and path.read_text(encoding="utf-8") == edited
    assert again.built.issue.subject == "Edited by hand"


def test_a_failing_source_does_not_stop_the_run(sample_project: Path) -> None:
    config = sample_project / "newsletter.toml"
    config.write_text(
        config.read_text()
        + '\n[[sources]]\nname = "Gone"\nkind = "feed"\nurl = "sources/no-such-feed.xml"\n'
    )
    result = run_month(Project.at(sample_project), "2020-10")
    assert [s.name for s in result.collected.failed] == ["Gone"]
    assert (result.out / "email.html").exists()

    shown = cli("run", "2020-10", cwd=sample_project)
    assert shown.returncode == 0, shown.stderr
    assert "Some sources failed; continuing with what was collected." in shown.stdout
    assert "Keeping the existing issue file" in shown.stdout


def test_items_json_is_one_query_read_as_it_goes(sample_project: Path) -> None:
    project = Project.at(sample_project)
    run_month(project, "2020-10")
    with Store(project.store_path) as store:
        from sqlalchemy import event

        statements: list[str] = []

        def seen(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
            statements.append(statement)

        event.listen(store.engine, "before_cursor_execute", seen)
        stored = store.iter_stored()
        first = next(stored)
        rest = list(stored)
        event.remove(store.engine, "before_cursor_execute", seen)
        assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 1
        assert store.seen(first.item.id) == (first.first_seen, first.last_seen)
        count = store.count()
    assert len(rest) + 1 == count > 10

    shown = cli("items", "--format", "json", cwd=sample_project)
    assert shown.returncode == 0, shown.stderr
    records = json.loads(shown.stdout)
    assert len(records) == count and records[0]["id"] == first.item.id
    assert records[0]["first_seen"] == first.first_seen.isoformat()
    # Written a record at a time, yet exactly what one json.dumps of the list gives.
    assert shown.stdout == json.dumps(records, indent=2, ensure_ascii=False) + "\n"
    nothing = cli("items", "--format", "json", "--search", "no story says this", cwd=sample_project)
    assert nothing.stdout == "[]\n"
