from pathlib import Path

from newsletter.collect import collect
from newsletter.project import Project
from newsletter.store import Store
from tests.conftest import FIXTURES, LocalServer, write_project


def test_feed_over_http_is_collected_and_cleaned(tmp_path: Path, http_server: LocalServer) -> None:
    root = write_project(
        tmp_path,
        [{"name": "News", "kind": "feed", "url": f"{http_server.url}/feeds/mixed-months.xml"}],
    )
    project = Project.at(root)
    with Store(project.store_path) as store:
        report = collect(project, store)
        assert not report.failed
        items = {i.title: i for i in store.items()}
    # the javascript: link is dropped, the others arrive
    assert len(items) == 4
    trial = items["Immunotherapy trial enrols its first patient"]
    assert trial.url == "https://news.example.org/2020/10/20/trial-first-patient/"  # utm_* removed
    assert "script" not in trial.body_html and "javascript" not in trial.body_html
    assert trial.image is not None and trial.image.url.endswith("trial.jpg")
    assert trial.published.isoformat() == "2020-10-20T08:30:00+00:00"
    hostile = next(i for i in items.values() if "mentors" in i.title)
    assert "<" not in hostile.title and "alert" not in hostile.title
    assert "{{ 7*7 }}" in hostile.title  # literal text, never evaluated


def test_local_file_source(tmp_path: Path) -> None:
    root = write_project(
        tmp_path,
        [{"name": "News", "kind": "feed", "url": str(FIXTURES / "feeds/mixed-months.xml")}],
    )
    project = Project.at(root)
    with Store(project.store_path) as store:
        report = collect(project, store)
        assert report.sources[0].new == 4
        report = collect(project, store)
        assert report.sources[0].unchanged == 4 and store.count() == 4


def test_unreachable_source_is_reported_and_others_land(
    tmp_path: Path, http_server: LocalServer
) -> None:
    root = write_project(
        tmp_path,
        [
            {"name": "Gone", "kind": "feed", "url": "http://127.0.0.1:9/feed.xml"},
            {"name": "Missing", "kind": "feed", "url": f"{http_server.url}/nope.xml"},
            {"name": "Good", "kind": "feed", "url": f"{http_server.url}/feeds/mixed-months.xml"},
        ],
    )
    project = Project.at(root)
    with Store(project.store_path) as store:
        report = collect(project, store)
        assert store.count() == 4
    failed = {s.name: s.error for s in report.failed}
    assert set(failed) == {"Gone", "Missing"}
    assert failed["Missing"] and "404" in failed["Missing"]
