"""The subscriber service end to end: real uvicorn on loopback, real httpx, real aiosmtpd; the
shared service runs on SQLite and then on PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from newsletter.deliver.merge import unsubscribe_token
from newsletter.project import Project
from newsletter.store.subscribers import open_subscribers
from newsletter.tokens import Purpose, Tokens
from tests.clirun import CliResult
from tests.pgserver import Backend
from tests.serve_support import (
    SECRET,
    SmtpServer,
    confirmation_link,
    csrf_of,
    free_port,
    mail_to,
    running_service,
    serve_cli,
    serve_project,
)


@pytest.fixture(scope="module")
def smtp(module_backend: Backend) -> Iterator[SmtpServer]:
    """The shared service's mail server (one per backend, so each run sees only its mail)."""
    with SmtpServer() as server:
        yield server


@pytest.fixture(scope="module")
def lone_smtp() -> Iterator[SmtpServer]:
    """The mail server of the tests that start a service of their own."""
    with SmtpServer() as server:
        yield server


@pytest.fixture(scope="module")
def service(
    tmp_path_factory: pytest.TempPathFactory, smtp: SmtpServer, module_backend: Backend
) -> Iterator[tuple[str, Path]]:
    """A service many tests share, on SQLite and then on PostgreSQL; the per-address limit
    is tested on a service of its own."""
    port = free_port()
    root = serve_project(
        tmp_path_factory.mktemp("serve") / "p", smtp.port, port,
        extra="signups_per_ip = 1000\n", database=module_backend.url,
    )  # fmt: skip
    with running_service(root, port) as base:
        yield base, root


def subscribers(root: Path, topic: str | None = None) -> list[dict[str, object]]:
    subs = open_subscribers(Project.at(root))
    try:
        return [s.public() for s in subs.iter(topic=topic)]
    finally:
        subs.engine.dispose()


def cli_list(root: Path, *args: str) -> list[dict[str, object]]:
    out = serve_cli(root, "subscribers", "list", "--json", *args)
    assert out.returncode == 0, out.stderr
    return [json.loads(line) for line in out.stdout.splitlines()]


def status_of(root: Path, email: str) -> str | None:
    for sub in subscribers(root):
        if sub["email"] == email:
            return str(sub["status"])
    return None


def sign_up(client: httpx.Client, email: str, **fields: str) -> httpx.Response:
    page = client.get("/subscribe")
    assert page.status_code == 200
    data = {"csrf": csrf_of(page.text), "email": email, "consent": "yes", **fields}
    return client.post("/subscribe", data=data)


def confirm(client: httpx.Client, link: str) -> httpx.Response:
    page = client.get(link)
    assert page.status_code == 200, page.text
    return client.post(link, data={"csrf": csrf_of(page.text)})


def test_sign_up_confirm_and_one_click_unsubscribe(
    service: tuple[str, Path], smtp: SmtpServer
) -> None:
    base, root = service
    with httpx.Client(base_url=base) as client:
        answer = sign_up(client, "Ada@Example.org", name="Ada Lovelace", topics="research")
        assert answer.status_code == 303 and answer.headers["location"].startswith(
            "/subscribe/check"
        )
        assert status_of(root, "ada@example.org") == "pending"
        mail = mail_to(smtp, "ada@example.org")
        assert mail["To"].addresses[0].addr_spec == "ada@example.org"
        assert "Confirm" in str(mail["Subject"])
        html = mail.get_body(("html",))
        assert html is not None and "#6b1f57" in html.get_content()  # the project's brand
        link = confirmation_link(mail)
        # Following the link only shows a button; pressing it confirms.
        assert client.get(link).status_code == 200
        assert status_of(root, "ada@example.org") == "pending"
        done = confirm(client, link)
        assert done.status_code == 200 and "subscribed" in done.text
        assert status_of(root, "ada@example.org") == "confirmed"
        # The same link again: refused, nothing changes.
        again = confirm(client, link)
        assert again.status_code == 410

    token = unsubscribe_token(SECRET.encode(), "ada@example.org")
    url = f"{base}/unsubscribe?token={token}"
    # Link scanners GET the URL: a page, and no change.
    page = httpx.get(url)
    assert page.status_code == 200 and "<form" in page.text
    assert status_of(root, "ada@example.org") == "confirmed"
    # RFC 8058 one-click: unsubscribed at once, 200, no page, no cookie needed.
    answer = httpx.post(url, data={"List-Unsubscribe": "One-Click"})
    assert answer.status_code == 200 and answer.content == b""
    assert status_of(root, "ada@example.org") == "unsubscribed"
    history = serve_cli(root, "subscribers", "export", "ada@example.org")
    assert history.returncode == 0, history.stderr
    actions = [e["action"] for e in json.loads(history.stdout)["consent_history"]]
    assert actions == ["subscribe-requested", "confirmed", "unsubscribed"]
    first = json.loads(history.stdout)["consent_history"][0]
    assert first["ip"] == "127.0.0.1" and "unsubscribe" in first["form_text"]


def test_the_answer_never_tells_whether_an_address_is_known(
    service: tuple[str, Path], smtp: SmtpServer
) -> None:
    base, _ = service
    with httpx.Client(base_url=base) as client:
        known = sign_up(client, "known@example.org")
        again = sign_up(client, "known@example.org")
        new = sign_up(client, "never-seen@example.org")
    for answer in (again, new):
        assert answer.status_code == known.status_code
        assert answer.headers["location"] == known.headers["location"]
    check = httpx.get(base + known.headers["location"])
    assert check.status_code == 200 and "inbox" in check.text


def test_one_confirmation_mail_per_address_per_hour(
    service: tuple[str, Path], smtp: SmtpServer
) -> None:
    base, _ = service
    with httpx.Client(base_url=base) as client:
        sign_up(client, "hourly@example.org")
        mail_to(smtp, "hourly@example.org")
        sign_up(client, "hourly@example.org")
        sign_up(client, "HOURLY@example.org")
        # The decision to mail is taken before answering: once a later sign-up's mail is
        # here, any mail the repeats would have caused would be here too.
        sign_up(client, "sentinel@example.org")
        mail_to(smtp, "sentinel@example.org")
    mails = [r for r in smtp.handler.received if r.rcpt == ["hourly@example.org"]]
    assert len(mails) == 1


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"email": "not an address"}, "valid email"),
        ({"email": "a@b.c\r\nBcc: x@example.org"}, "valid email"),
        ({"email": "x" * 300 + "@example.org"}, "valid email"),
        ({"email": "ok1@example.org", "name": "Eve\r\nBcc: x@example.org"}, "one line"),
        ({"email": "ok2@example.org", "name": "N" * 500}, "100 characters"),
        ({"email": "ok3@example.org", "language": "xx"}, "editions"),
        ({"email": "ok4@example.org", "topics": "nope"}, "from the list"),
        ({"email": "ok5@example.org", "consent": ""}, "Tick the box"),
    ],
)
def test_bad_input_gets_a_clear_answer_and_stores_nothing(
    service: tuple[str, Path], fields: dict[str, str], problem: str
) -> None:
    base, root = service
    with httpx.Client(base_url=base) as client:
        page = client.get("/subscribe")
        data = {"csrf": csrf_of(page.text), "consent": "yes", **fields}
        answer = client.post("/subscribe", data=data)
    assert answer.status_code == 422
    assert problem in answer.text and 'role="alert"' in answer.text
    stored = {s["email"] for s in subscribers(root)}
    assert not {f"ok{i}@example.org" for i in range(1, 6)} & stored


def test_forged_tampered_and_cross_purpose_tokens_are_refused(service: tuple[str, Path]) -> None:
    base, root = service
    tokens = Tokens(SECRET.encode())
    other = Tokens(b"another-secret-0123456789")
    good_unsub = unsubscribe_token(SECRET.encode(), "victim@example.org")
    forged = [
        unsubscribe_token(b"another-secret-0123456789", "victim@example.org"),
        good_unsub[:-2] + ("AA" if not good_unsub.endswith("AA") else "BB"),
        tokens.sign(Purpose.preferences, {"e": "victim@example.org"}),  # wrong purpose
        "",
        "v1." + "A" * 5000,
    ]
    for token in forged:
        answer = httpx.post(
            f"{base}/unsubscribe", params={"token": token}, data={"List-Unsubscribe": "One-Click"}
        )
        assert answer.status_code in (400, 413), token
    for token in (
        tokens.sign(Purpose.csrf, {"e": "victim@example.org", "n": "x"}),  # wrong purpose
        other.sign(Purpose.confirm, {"e": "victim@example.org", "n": "x"}),  # wrong key
        tokens.sign(Purpose.confirm, {"e": "victim@example.org"})[:-3] + "abc",  # tampered
    ):
        assert httpx.get(f"{base}/confirm", params={"token": token}).status_code == 400
    for token in (
        tokens.sign(Purpose.confirm, {"e": "victim@example.org"}),  # wrong purpose
        good_unsub,  # an unsubscribe token is not a preferences token
    ):
        assert httpx.get(f"{base}/preferences", params={"token": token}).status_code == 400
    assert status_of(root, "victim@example.org") is None


def test_preferences_change_language_and_topics(
    service: tuple[str, Path], smtp: SmtpServer
) -> None:
    base, root = service
    with httpx.Client(base_url=base) as client:
        sign_up(client, "prefs@example.org", topics="research")
        link = confirmation_link(mail_to(smtp, "prefs@example.org"))
        confirmed = confirm(client, link)
        prefs_link = next(
            a for a in confirmed.text.split('"') if a.startswith("http") and "/preferences" in a
        )
        page = client.get(prefs_link)
        assert page.status_code == 200 and 'value="research" checked' in page.text
        saved = client.post(
            prefs_link,
            data={"csrf": csrf_of(page.text), "language": "en", "topics": ["calls"], "name": "P"},
        )
        assert saved.status_code == 200 and 'role="status"' in saved.text
        without_csrf = client.post(prefs_link, data={"language": "en", "topics": ["research"]})
        assert without_csrf.status_code == 403
    sub = next(s for s in subscribers(root) if s["email"] == "prefs@example.org")
    assert sub["topics"] == ["calls"] and sub["name"] == "P"
    assert [s["email"] for s in cli_list(root, "--topic", "calls")] == ["prefs@example.org"]


def test_forms_need_the_csrf_token_or_an_allowed_origin(service: tuple[str, Path]) -> None:
    base, _ = service
    data = {"email": "csrf@example.org", "consent": "yes"}
    assert httpx.post(f"{base}/subscribe", data=data).status_code == 403
    evil = httpx.post(f"{base}/subscribe", data=data, headers={"origin": "https://evil.example"})
    assert evil.status_code == 403


def test_honeypot_answers_like_success_and_stores_nothing(service: tuple[str, Path]) -> None:
    base, root = service
    with httpx.Client(base_url=base) as client:
        answer = sign_up(client, "bot@example.org", website="http://spam.example")
    assert answer.status_code == 303
    assert status_of(root, "bot@example.org") is None


def test_an_unconfigured_or_unknown_provider_is_not_there(service: tuple[str, Path]) -> None:
    base, _ = service  # its project configures no [webhooks]
    for provider in ("ses", "sendgrid", "mailgun", "postmark", "brevo", "nope"):
        assert httpx.post(f"{base}/webhooks/{provider}", content=b"[]").status_code == 404


def test_security_headers(service: tuple[str, Path]) -> None:
    base, _ = service
    page = httpx.get(f"{base}/subscribe")
    headers = page.headers
    assert "default-src 'none'" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["x-content-type-options"] == "nosniff"
    assert "server" not in headers
    cookie = headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    assert httpx.post(f"{base}/subscribe", content=b"x" * 100_000).status_code == 413


def test_a_sign_up_storm_from_one_address_is_slowed(tmp_path: Path, lone_smtp: SmtpServer) -> None:
    port = free_port()
    root = serve_project(tmp_path / "p", lone_smtp.port, port, extra="signups_per_ip = 3\n")
    with running_service(root, port) as base, httpx.Client(base_url=base) as client:
        answers = [sign_up(client, f"storm{i}@example.org").status_code for i in range(6)]
    assert answers[:3] == [303, 303, 303] and answers[3:] == [429, 429, 429]
    assert len(subscribers(root)) == 3


def test_the_trusted_proxy_gives_the_client_address(tmp_path: Path, lone_smtp: SmtpServer) -> None:
    port = free_port()
    root = serve_project(tmp_path / "p", lone_smtp.port, port)
    with running_service(root, port) as base, httpx.Client(base_url=base) as client:
        page = client.get("/subscribe")
        client.post(
            "/subscribe",
            data={"csrf": csrf_of(page.text), "email": "proxied@example.org", "consent": "yes"},
            headers={"x-forwarded-for": "203.0.113.9", "x-forwarded-proto": "https"},
        )
    out = serve_cli(root, "subscribers", "export", "proxied@example.org")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["consent_history"][0]["ip"] == "203.0.113.9"


def test_expired_confirmation_links_are_refused() -> None:
    now = [1_000_000.0]
    tokens = Tokens(SECRET.encode(), clock=lambda: now[0])
    token = tokens.sign(Purpose.confirm, {"e": "late@example.org", "n": "abc"})
    assert tokens.verify(Purpose.confirm, token).ok
    now[0] += 8 * 24 * 3600
    verified = tokens.verify(Purpose.confirm, token)
    assert not verified.ok and verified.problem is not None and verified.problem.value == "expired"


def test_links_from_the_confirmation_mail_carry_the_edition(
    service: tuple[str, Path], smtp: SmtpServer
) -> None:
    base, _ = service
    with httpx.Client(base_url=base) as client:
        sign_up(client, "lang@example.org")
        link = confirmation_link(mail_to(smtp, "lang@example.org"))
    query = parse_qs(urlsplit(link).query)
    assert query["lang"] == ["en"] and query["token"]


def send_issue(root: Path, month: str) -> CliResult:
    return serve_cli(root, "send", month, "--yes")


def test_sample_project_sign_up_confirm_send_and_unsubscribe(tmp_path: Path) -> None:
    """The README's five commands: the service on its defaults (SQLite), then a send."""
    port = free_port()
    with SmtpServer() as smtp:
        root = serve_project(tmp_path / "p", smtp.port, port)
        with running_service(root, port) as base, httpx.Client(base_url=base) as client:
            for who in ("reader1@example.org", "reader2@example.org"):
                sign_up(client, who, name=who.split("@")[0])
                confirm(client, confirmation_link(mail_to(smtp, who)))
            smtp.handler.received.clear()

            sent = send_issue(root, "2020-10")
            assert sent.returncode == 0, sent.stdout + sent.stderr
            assert sorted(r.rcpt[0] for r in smtp.handler.received) == [
                "reader1@example.org",
                "reader2@example.org",
            ]
            issue = next(
                r.message for r in smtp.handler.received if r.rcpt == ["reader1@example.org"]
            )
            header = str(issue["List-Unsubscribe"])
            one_click = header.split("<", 1)[1].split(">", 1)[0]
            assert one_click.startswith(f"{base}/unsubscribe?token=")
            assert issue["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
            html = issue.get_body(("html",))
            assert html is not None
            body = html.get_content()
            prefs = next(
                part.split('"', 1)[0].replace("&amp;", "&")
                for part in body.split('href="')[1:]
                if part.startswith(f"{base}/preferences")
            )
            assert client.get(prefs).status_code == 200  # the footer's preference centre works
            built = serve_cli(root, "build", "2020-10")
            assert built.returncode == 0, built.stderr
            assert f'href="{base}/subscribe"' in (root / "build" / "index.html").read_text()

            assert client.post(one_click, data={"List-Unsubscribe": "One-Click"}).status_code == 200
            smtp.handler.received.clear()
            again = send_issue(root, "2024-03")
            assert again.returncode == 0, again.stdout + again.stderr
            assert [r.rcpt[0] for r in smtp.handler.received] == ["reader2@example.org"]
            # The same issue again reaches nobody: everyone has it.
            smtp.handler.received.clear()
            assert send_issue(root, "2024-03").returncode == 0
            assert smtp.handler.received == []


def test_the_embeddable_form_posts_from_an_allowed_site(
    tmp_path: Path, lone_smtp: SmtpServer
) -> None:
    port = free_port()
    root = serve_project(
        tmp_path / "p",
        lone_smtp.port,
        port,
        extra='allowed_origins = ["https://oslocancercluster.no"]\n',
    )
    with running_service(root, port) as base:
        snippet = httpx.get(f"{base}/subscribe/form.html")
        assert snippet.status_code == 200 and snippet.headers["content-type"].startswith(
            "text/plain"
        )
        assert (
            f'action="{base}/subscribe?lang=en"' in snippet.text
            and 'name="csrf"' not in snippet.text
        )
        data = {"email": "embedded@example.org", "consent": "yes", "language": "en"}
        ok = httpx.post(
            f"{base}/subscribe", data=data, headers={"origin": "https://oslocancercluster.no"}
        )
        assert ok.status_code == 303
        assert status_of(root, "embedded@example.org") == "pending"
        mail_to(lone_smtp, "embedded@example.org")
