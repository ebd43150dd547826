"""The whole pipeline through `python -m newsletter` in real separate processes.

Most CLI tests run the command line in process (tests/clirun.py); these check that the
installed entry point, exit codes and tracebacks behave the same in a process of its own.
"""

import email
from email import policy
from pathlib import Path

from ruamel.yaml import YAML

from tests.clirun import cli_process as cli
from tests.conftest import LocalServer


def test_init_collect_draft_build_export(tmp_path: Path, http_server: LocalServer) -> None:
    project = tmp_path / "x"
    assert cli("init", str(project), cwd=tmp_path).returncode == 0
    config = project / "newsletter.toml"
    config.write_text(
        config.read_text().replace(
            "https://example.org/feed/", f"{http_server.url}/feeds/mixed-months.xml"
        )
    )
    for args in (["collect"], ["draft", "2020-10"], ["build", "2020-10"],
                 ["export", "2020-10", "--to", "eml", "--out", "out"]):  # fmt: skip
        result = cli(*args, cwd=project)
        assert result.returncode == 0, (args, result.stdout, result.stderr)

    issue = YAML(typ="safe").load((project / "issues/2020-10.yaml").read_text())
    stories = [s for section in issue["sections"] for s in section["stories"]]
    assert {str(s["published"])[:7] for s in stories} == {"2020-10"}
    assert len(stories) == 2

    html = (project / "build/2020-10/email.html").read_text()
    assert len(html.encode()) < 102 * 1024
    assert "Immunotherapy trial enrols its first patient" in html
    assert "<script" not in html.lower() and "{{ 7*7 }}" in html
    text = (project / "build/2020-10/email.txt").read_text()
    assert "Immunotherapy trial enrols its first patient" in text
    assert "https://news.example.org/2020/10/20/trial-first-patient/" in text

    with (project / "out/2020-10.eml").open("rb") as fh:
        msg = email.message_from_binary_file(fh, policy=policy.default)
    assert msg.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
    for header in ("Subject", "From", "Date", "Message-ID"):
        assert msg[header], header
    assert not str(msg["Subject"]).startswith(" ")


def test_bad_input_gives_one_clear_message(tmp_path: Path) -> None:
    result = cli("build", "2020-10", cwd=tmp_path)
    assert result.returncode == 2
    assert "newsletter.toml: not found" in result.stderr
    assert "Traceback" not in result.stderr

    (tmp_path / "newsletter.toml").write_text("[newsletter]\nname = 1\n")
    result = cli("collect", cwd=tmp_path)
    assert result.returncode == 2 and "newsletter.name" in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_month_and_bad_issue_file(tmp_path: Path) -> None:
    project = tmp_path / "x"
    cli("init", str(project), cwd=tmp_path)
    result = cli("build", "2020-10", cwd=project)
    assert result.returncode == 2 and "no issue file for 2020-10" in result.stderr
    result = cli("build", "2020-13", cwd=project)
    assert result.returncode == 2 and "YYYY-MM" in result.stderr
    (project / "issues/2020-10.yaml").write_text("month: 2020-10\nsubject: Hi\nsections: 3\n")
    result = cli("build", "2020-10", cwd=project)
    assert result.returncode == 5
    assert "2020-10.yaml" in result.stderr and "line 3, sections" in result.stderr
    assert "Traceback" not in result.stderr
    result = cli("--debug", "build", "2020-10", cwd=project)
    assert "Traceback" in result.stderr


def test_an_in_process_run_prints_what_a_real_process_prints(tmp_path: Path) -> None:
    from tests.clirun import cli as in_process

    project = tmp_path / "x"
    cli("init", str(project), cwd=tmp_path)
    runs = [["send", "2020-10", "--rate", "fast"], ["nosuchcommand"], ["build", "--help"]]
    for args in runs:
        assert in_process(*args, cwd=project) == cli(*args, cwd=project), args
