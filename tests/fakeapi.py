"""A provider's API as a local fake: a Starlette app under uvicorn in a thread, on loopback.

Each fake (tests/fake_messages.py, tests/fake_campaigns.py) checks every request the way
the provider documents it (authentication, required and unknown fields, limits) and answers
with the provider's own error status. ``faults`` queues misbehaviour for the next requests:

- ``429`` / ``500``: refuse before looking at the request (nothing is taken);
- ``"timeout"``: take the request, then hang past the client's timeout (the answer is lost);
- ``"kill"``: take the request, then call ``on_kill`` (the test SIGKILLs the sender) and
  hang, so the sender dies between the provider's acceptance and its own record.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any, Self

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.test_send_smtp import free_port

Handler = Callable[[Request], Awaitable[Response]]
HANG = 4.0  # seconds a "timeout" answer waits; the tests' client timeout is far shorter


def json_error(status: int, body: Any, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers=headers)


class FakeApi:
    name = "fake"

    def __init__(self) -> None:
        self.port = free_port()
        self.faults: list[int | str | None] = []
        self.calls: Counter[str] = Counter()  # accepted requests, by route name
        self.attempts = 0  # every request that reached the fake
        self.on_kill: Callable[[], None] = lambda: None
        self.retry_after = "2"
        self.app = Starlette(routes=self.routes())
        config = uvicorn.Config(
            self.app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off",
            timeout_graceful_shutdown=1,
        )  # fmt: skip
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def fail_after(self, requests: int, fault: int | str) -> None:
        """Answer the next ``requests`` requests normally, then the one after with ``fault``."""
        self.faults = [None] * requests + [fault]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def routes(self) -> list[Route]:
        raise NotImplementedError

    def authorized(self, request: Request) -> Response | None:
        """None when the request's credentials are right, else the provider's refusal."""
        raise NotImplementedError

    def route(self, path: str, name: str, handler: Handler, method: str = "POST") -> Route:
        async def endpoint(request: Request) -> Response:
            self.attempts += 1
            refusal = self.authorized(request)
            if refusal is not None:
                return refusal
            fault = self.faults.pop(0) if self.faults else None
            if fault == 429:
                return json_error(429, {"message": "too many requests"},
                                  {"Retry-After": self.retry_after})  # fmt: skip
            if fault == 500:
                return json_error(500, {"message": "internal error"})
            response = await handler(request)
            if response.status_code < 300:
                self.calls[name] += 1
                if fault == "kill":
                    self.on_kill()
                if fault in ("timeout", "kill"):
                    await asyncio.sleep(HANG)
            return response

        return Route(path, endpoint, methods=[method], name=name)

    def __enter__(self) -> Self:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError(f"the fake {self.name} API did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def check_fields(body: Any, required: set[str], allowed: set[str], where: str) -> list[str]:
    """Problems with ``body``'s keys: the missing required ones and any unknown one."""
    if not isinstance(body, dict):
        return [f"{where} must be an object"]
    keys = set(body)
    problems = [f"{where}.{k} is required" for k in sorted(required - keys)]
    problems += [f"{where}.{k} is not a field" for k in sorted(keys - allowed)]
    return problems
