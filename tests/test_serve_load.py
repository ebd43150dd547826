"""Load on the subscriber service: 2 uvicorn workers sharing one PostgreSQL database.

200 concurrent sign-ups, then 200 concurrent one-click unsubscribes, and a burst of sign-ups
for one address: no error, no lost write, no duplicate subscriber. The throughput is printed
(and kept in benchmarks/README.md); nothing here asserts a speed.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from pathlib import Path

import httpx
import pytest

from newsletter.deliver.merge import unsubscribe_token
from newsletter.project import Project
from newsletter.store.subscribers import open_subscribers
from tests.pgserver import Backend
from tests.serve_support import (
    SECRET,
    SmtpServer,
    csrf_of,
    free_port,
    running_service,
    serve_env,
    serve_project,
)

COUNT = 200
pytestmark = pytest.mark.postgresql
# One TLS context for every visitor's client: httpx otherwise loads the CA store for each of
# the 200 (28 ms a client), which stalls the loop.
TLS = ssl.create_default_context()
# Each request on its own connection: on a busy machine a visitor's POST could be sent on the
# GET's kept-alive connection just as the server's 5 s keep-alive timeout closed it, and httpx
# does not resend a POST (a browser would). The test is about the service, not that race.
FRESH = httpx.Limits(max_keepalive_connections=0)


async def sign_up(base: str, email: str) -> int:
    async with httpx.AsyncClient(base_url=base, timeout=60, verify=TLS, limits=FRESH) as client:
        page = await client.get("/subscribe")
        answer = await client.post(
            "/subscribe", data={"csrf": csrf_of(page.text), "email": email, "consent": "yes"}
        )
        return answer.status_code


async def one_click(client: httpx.AsyncClient, email: str) -> int:
    token = unsubscribe_token(SECRET.encode(), email)
    answer = await client.post(
        "/unsubscribe", params={"token": token}, data={"List-Unsubscribe": "One-Click"}
    )
    return answer.status_code


def test_concurrent_sign_ups_and_unsubscribes_on_two_workers(
    tmp_path: Path, pg_backend: Backend, capsys: pytest.CaptureFixture[str]
) -> None:
    addresses = [f"load{i:03d}@example.org" for i in range(COUNT)]
    with SmtpServer() as smtp:
        port = free_port()
        root = serve_project(tmp_path / "p", smtp.port, port, extra="signups_per_ip = 100000\n")
        from tests.clirun import cli

        assert cli("db", "upgrade", cwd=root).returncode == 0
        env = serve_env(**pg_backend.env)
        with running_service(root, port, "--workers", "2", env=env) as base:

            async def scenario() -> tuple[list[int], list[int], list[int], float, float]:
                started = time.monotonic()
                signed = await asyncio.gather(*(sign_up(base, a) for a in addresses))
                signing = time.monotonic() - started
                same = await asyncio.gather(*(sign_up(base, "same@example.org") for _ in range(20)))
                started = time.monotonic()
                limits = httpx.Limits(max_connections=COUNT, max_keepalive_connections=0)
                async with httpx.AsyncClient(
                    base_url=base, timeout=60, limits=limits, verify=TLS
                ) as client:
                    left = await asyncio.gather(*(one_click(client, a) for a in addresses))
                leaving = time.monotonic() - started
                return signed, same, left, signing, leaving

            signed, same, left, signing, leaving = asyncio.run(scenario())
    assert set(signed) == {303} and set(same) == {303} and set(left) == {200}
    subscribers = open_subscribers(Project.at(root))
    try:
        found = list(subscribers.iter())
        assert len(found) == COUNT + 1 and len({s.email for s in found}) == COUNT + 1
        statuses = {s.email: s.status.value for s in found}
        assert all(statuses[a] == "unsubscribed" for a in addresses)
        assert statuses["same@example.org"] == "pending"
        histories = [len(subscribers.history(a)) for a in addresses[:20]]
        assert histories == [2] * 20  # the sign-up and the unsubscribe, each recorded once
    finally:
        subscribers.engine.dispose()
    with capsys.disabled():
        # Two requests per sign-up (the form, then the post).
        print(
            f"\nserve on PostgreSQL, 2 workers: {2 * COUNT / signing:.0f} sign-up requests/s, "
            f"{COUNT / leaving:.0f} one-click unsubscribes/s"
        )
