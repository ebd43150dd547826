"""The live preview, through a real HTTP client: pages, the reload channel, broken edits."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from newsletter.preview import PreviewError
from newsletter.preview.server import PreviewServer

MONTH = "2020-10"


class EventStream:
    """A reader of the server-sent events at /events."""

    def __init__(self, url: str) -> None:
        self.client = httpx.Client(timeout=httpx.Timeout(30.0))
        self.context = self.client.stream("GET", url + "events")
        self.response = self.context.__enter__()
        self.lines = self.response.iter_lines()

    def next(self) -> tuple[str, str]:
        """The next event's (type, data), skipping keep-alive comments."""
        event, data = "message", ""
        for line in self.lines:
            if line.startswith("event:"):
                event = line.partition(":")[2].strip()
            elif line.startswith("data:"):
                data = line.partition(":")[2].strip()
            elif line == "" and data:
                return event, data
        raise AssertionError("the event stream ended")

    def close(self) -> None:
        self.context.__exit__(None, None, None)
        self.client.close()


@pytest.fixture
def server(sample_project: Path) -> Iterator[PreviewServer]:
    (sample_project / "templates").mkdir()  # project templates override the package's
    with PreviewServer(sample_project, MONTH, port=0) as preview:
        yield preview


@pytest.fixture
def events(server: PreviewServer) -> Iterator[EventStream]:
    stream = EventStream(server.url)
    assert stream.next() == ("hello", str(server.state.build.version))
    yield stream
    stream.close()


def issue_file(server: PreviewServer) -> Path:
    return server.project.issue_path(MONTH)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def subject_of(server: PreviewServer) -> str:
    match = re.search(r"^subject: (.*)$", issue_file(server).read_text(), re.MULTILINE)
    assert match
    return match.group(1).strip("'\"")


def test_the_page_shows_both_widths_dark_mode_text_and_checks(server: PreviewServer) -> None:
    assert server.httpd.server_address[0] == "127.0.0.1"
    page = httpx.get(server.url)
    assert page.status_code == 200
    subject = subject_of(server)
    assert subject in page.text
    assert 'width="600"' in page.text and 'width="375"' in page.text
    assert 'src="/email-dark.html' in page.text and "Plain-text part" in page.text
    assert 'new EventSource("/events")' in page.text

    email = httpx.get(server.url + "email.html").text
    assert f"<title>{subject}</title>" in email.replace("&#39;", "'")
    dark = httpx.get(server.url + "email-dark.html").text
    assert '<meta name="color-scheme" content="dark">' in dark
    text = httpx.get(server.url + "email.txt")
    assert text.headers["content-type"].startswith("text/plain")
    assert "Unsubscribe" in text.text

    report = json.loads(httpx.get(server.url + "check.json").text)
    assert report["month"] == MONTH and report["html_bytes"] > 0
    for finding in report["findings"]:  # every finding is listed on the page
        assert finding["rule"] in page.text

    assert httpx.get(server.url + "nothing-here").status_code == 404
    # Another host name (DNS rebinding) cannot read the preview.
    assert httpx.get(server.url, headers={"Host": "attacker.example"}).status_code == 403


def test_saving_the_issue_reloads_the_page(server: PreviewServer, events: EventStream) -> None:
    edit(issue_file(server), f"subject: {subject_of(server)}", "subject: A brand new subject")
    kind, version = events.next()
    assert kind == "reload" and int(version) == server.state.build.version
    page = httpx.get(server.url).text
    assert "A brand new subject" in page and "does not build" not in page
    assert "<title>A brand new subject</title>" in httpx.get(server.url + "email.html").text


def test_a_broken_edit_shows_the_error_and_the_server_keeps_running(
    server: PreviewServer, events: EventStream
) -> None:
    path = issue_file(server)
    good = path.read_text()
    subject = subject_of(server)
    path.write_text(good.replace("\nsections:", "\nsections: [\n", 1))
    assert events.next()[0] == "reload"
    page = httpx.get(server.url)
    assert page.status_code == 200
    assert "This issue does not build" in page.text
    assert re.search(r"2020-10\.yaml:\d+: malformed YAML", page.text)
    assert subject in page.text  # the last good preview stays on the page, under the error
    assert httpx.get(server.url + "email.html").status_code == 200

    path.write_text(good.replace(f"subject: {subject}", "subject: ''", 1))
    assert events.next()[0] == "reload"
    text = httpx.get(server.url).text
    assert "This issue does not build" in text and "subject" in text

    path.write_text(good)
    assert events.next()[0] == "reload"
    assert "This issue does not build" not in httpx.get(server.url).text


def test_templates_and_settings_rebuild_too(server: PreviewServer, events: EventStream) -> None:
    template = server.project.templates_dir / "email.txt.j2"
    template.write_text("{% if %}broken\n")
    assert events.next()[0] == "reload"
    page = httpx.get(server.url).text
    assert "This issue does not build" in page and "email.txt.j2" in page

    template.unlink()
    assert events.next()[0] == "reload"
    assert "This issue does not build" not in httpx.get(server.url).text

    config = server.project.config_path
    config.write_text(config.read_text().replace('name = "', 'name = "Renamed: ', 1))
    assert events.next()[0] == "reload"
    assert "Renamed: " in httpx.get(server.url + "email.html").text


def test_a_page_that_missed_a_rebuild_learns_the_new_version(server: PreviewServer) -> None:
    before = server.state.build.version
    server.rebuild()
    stream = EventStream(server.url)
    try:
        assert stream.next() == ("hello", str(before + 1))  # the page compares and reloads
    finally:
        stream.close()


def test_a_busy_port_is_a_clear_error(server: PreviewServer) -> None:
    with pytest.raises(PreviewError, match=f"port {server.port} .* already in use"):
        PreviewServer(server.project.root, MONTH, port=server.port)


@pytest.mark.parametrize("moment", ["while it starts", "while it serves"])
def test_the_command_serves_until_interrupted(sample_project: Path, moment: str) -> None:
    """Ctrl+C stops the preview cleanly whenever it comes, even before the wait for it."""
    # If it ever hangs, SIGABRT makes faulthandler print every thread's stack.
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONFAULTHANDLER": "1", "COLUMNS": "200"}
    process = subprocess.Popen(
        [sys.executable, "-m", "newsletter", "preview", MONTH, "--port", "0"],
        cwd=sample_project, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        url = None
        for line in process.stdout:
            if moment == "while it starts" and f"built {MONTH}" in line:
                break  # the first build is done; the server is not serving yet
            found = re.search(r"http://127\.0\.0\.1:\d+/", line)
            if found:
                url = found.group(0)
                break
        if moment == "while it serves":
            assert url, process.stderr.read() if process.stderr else ""
            assert httpx.get(url).status_code == 200
        process.send_signal(signal.SIGINT)
        try:
            out, err = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGABRT)
            out, err = process.communicate(timeout=30)
            pytest.fail(f"no exit within 30 s of Ctrl+C; its threads:\n{err}")
        assert process.returncode == 0, err
        assert "Stopped." in out and "Traceback" not in err
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
