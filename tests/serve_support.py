"""A real `newsletter serve` (uvicorn) on loopback, with a real SMTP server for its mail."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import httpx

from tests.clirun import CliResult, cli
from tests.conftest import REPO
from tests.factories import approved_sample_issues, without_tables
from tests.test_send_smtp import SECRET, SmtpServer, free_port


def serve_project(
    root: Path, smtp_port: int, web_port: int, extra: str = "", database: str | None = None
) -> Path:
    """A copy of the sample project whose service runs on ``web_port``, mailing via aiosmtpd;
    its store is ``database`` (its ``[database] url``) when given, else .newsletter/store.db."""
    root.mkdir(parents=True, exist_ok=True)
    approved_sample_issues(root)
    shutil.copytree(REPO / "sources", root / "sources")
    text = without_tables((REPO / "newsletter.toml").read_text(), "smtp", "send", "database")
    if database is not None:
        text += f'\n[database]\nurl = "{database}"\n'
    (root / "newsletter.toml").write_text(
        text
        + f'\n[smtp]\nhost = "127.0.0.1"\nport = {smtp_port}\nsecurity = "none"\ntimeout = 10\n'
        + "\n[send]\nretry_delay = 0\nmax_attempts = 3\n"
        + f'\n[serve]\npublic_url = "http://127.0.0.1:{web_port}"\nport = {web_port}\n'
        + 'topics = { research = "Research news", calls = "Calls and funding" }\n'
        + extra
    )
    return root


def serve_cli(root: Path, *args: str) -> CliResult:
    """``newsletter ARGS --project ROOT`` in process, with the environment ``serve_env`` gives."""
    env: dict[str, str | None] = {k: None for k in os.environ if k.startswith("NEWSLETTER_")}
    env.update(NEWSLETTER_SECRET=SECRET)
    return cli(*args, "--project", str(root), cwd=root, env=env)


def serve_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSLETTER_")}
    env.update(NEWSLETTER_SECRET=SECRET, PYTHONUNBUFFERED="1", **extra)
    return env


@contextmanager
def running_service(
    project: Path, port: int, *args: str, env: dict[str, str] | None = None
) -> Iterator[str]:
    """``newsletter serve`` as its own process; yields its base URL once it answers."""
    log = project / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "newsletter", "serve", "--project", str(project),
             "--port", str(port), *args],
            stdout=out, stderr=subprocess.STDOUT, env=env or serve_env(),
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                if proc.poll() is not None:
                    raise AssertionError(f"serve exited early:\n{log.read_text()}")
                try:
                    if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise AssertionError(f"serve did not start:\n{log.read_text()}")
                time.sleep(0.1)
            yield base
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "the page has no CSRF field"
    return found.group(1)


def wait_for_mail(smtp: SmtpServer, count: int, timeout: float = 15) -> list[EmailMessage]:
    deadline = time.monotonic() + timeout
    while len(smtp.handler.received) < count:
        if time.monotonic() > deadline:
            raise AssertionError(f"expected {count} mail(s), got {len(smtp.handler.received)}")
        time.sleep(0.05)
    return [message_from_bytes(r.data, policy=policy.default) for r in smtp.handler.received]


def mail_to(smtp: SmtpServer, address: str, timeout: float = 15) -> EmailMessage:
    """The first mail that reached ``address`` (waiting for it)."""
    deadline = time.monotonic() + timeout
    while True:
        for received in list(smtp.handler.received):
            if received.rcpt == [address]:
                return message_from_bytes(received.data, policy=policy.default)
        if time.monotonic() > deadline:
            raise AssertionError(f"no mail reached {address}")
        time.sleep(0.05)


def confirmation_link(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    found = re.search(r"(http://\S+/confirm\?\S+)", body.get_content())
    assert found, "no confirmation link in the mail"
    return found.group(1)


__all__ = [
    "SECRET",
    "SmtpServer",
    "confirmation_link",
    "csrf_of",
    "free_port",
    "mail_to",
    "running_service",
    "serve_env",
    "serve_project",
    "wait_for_mail",
]
