"""`check --links`: every link and image is requested from a real local HTTP server."""

import json
from pathlib import Path

from newsletter.checks import check_issue, link_targets
from newsletter.checks.links import check_links
from newsletter.project import Project
from tests.clirun import cli
from tests.conftest import LocalServer, Response, write_project

ISSUE = """\
month: 2020-10
subject: Links
preheader: Every link in this issue is served by the test server.
sections:
  - title: News
    stories:
      - id: a
        title: A page that exists
        url: {url}/ok
        image:
          url: {url}/ok.jpg
          alt: A photo that exists
      - id: b
        title: A page that is gone
        url: {url}/gone
"""


def routes(server: LocalServer) -> None:
    server.routes["/ok"] = Response(b"<p>ok</p>", 200, {"Content-Type": "text/html"})
    server.routes["/ok.jpg"] = Response(b"\xff\xd8", 200, {"Content-Type": "image/jpeg"})
    server.routes["/moved"] = Response(b"", 301, {"Location": "/ok"})
    server.routes["/broken"] = Response(b"oops", 500)


def test_check_links_statuses(http_server: LocalServer) -> None:
    routes(http_server)
    base = http_server.url
    urls = [f"{base}/ok", f"{base}/moved", f"{base}/gone", f"{base}/broken", "http://127.0.0.1:9/"]
    seen: list[tuple[int, int]] = []
    results = check_links(urls, timeout=5, progress=lambda d, t: seen.append((d, t)))
    by_url = {r.url: r for r in results}
    assert [r.url for r in results] == urls
    assert by_url[f"{base}/ok"].ok and by_url[f"{base}/moved"].ok
    assert by_url[f"{base}/gone"].status == 404 and "404" in by_url[f"{base}/gone"].reason
    assert by_url[f"{base}/broken"].status == 500
    assert by_url["http://127.0.0.1:9/"].status is None and by_url["http://127.0.0.1:9/"].reason
    assert seen[-1] == (5, 5)
    # The local server answers HEAD with 501, so every probe also exercised the GET fallback.
    assert any(path == "/ok" for path, _ in http_server.requests)


def project_with_links(tmp_path: Path, base: str) -> Path:
    root = write_project(tmp_path / "p", [])
    (root / "issues").mkdir()
    (root / "issues/2020-10.yaml").write_text(ISSUE.format(url=base))
    return root


def test_check_issue_with_links(tmp_path: Path, http_server: LocalServer) -> None:
    routes(http_server)
    root = project_with_links(tmp_path, http_server.url)
    without = check_issue(Project.at(root), "2020-10")
    assert not [f for f in without.findings if f.rule == "link-dead"]

    report = check_issue(Project.at(root), "2020-10", links=True)
    dead = [f for f in report.findings if f.rule == "link-dead"]
    # The footer's web, preferences and unsubscribe links point at news.example.org, which
    # does not resolve here: they count as dead too, which is what --links is for.
    assert any(f.where.startswith(f"{http_server.url}/gone") for f in dead)
    assert not any(f.where.startswith(f"{http_server.url}/ok") for f in dead)


def test_link_targets_are_unique_and_include_images() -> None:
    html = (
        '<a href="https://a.example/x">1</a><a href="https://a.example/x">2</a>'
        '<a href="mailto:x@example.org">m</a><img src="https://a.example/i.png" alt="" width="1">'
    )
    assert link_targets(html) == ["https://a.example/x", "https://a.example/i.png"]


def test_cli_check_links(tmp_path: Path, http_server: LocalServer) -> None:
    routes(http_server)
    root = project_with_links(tmp_path, http_server.url)
    result = cli("check", "2020-10", "--links", "--format", "json", cwd=root)
    assert result.returncode == 1, result.stderr
    findings = json.loads(result.stdout)["findings"]
    assert any(f["rule"] == "link-dead" and "/gone" in f["where"] for f in findings)
