"""The subscriber service's state: the database, tokens and transport each handler uses."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from urllib.parse import urlencode

from newsletter.config import Config
from newsletter.deliver.feedback import Feedback
from newsletter.project import Project
from newsletter.serve.mailer import Deliver, smtp_deliver
from newsletter.serve.security import RateLimiter
from newsletter.serve.webhooks import Context
from newsletter.signing import load_secret
from newsletter.store.events import EventLog
from newsletter.store.subscribers import Subscribers
from newsletter.tokens import Tokens

SIGNUP_WINDOW = 600.0  # seconds over which [serve] signups_per_ip counts


def now_utc() -> datetime:
    return datetime.now(UTC)


@dataclass
class Service:
    """Everything a request handler needs, built once per process."""

    project: Project
    subscribers: Subscribers
    events: EventLog
    tokens: Tokens
    deliver: Deliver
    suppress: Callable[[str, str], None]
    lift: Callable[[str], None]
    clock: Callable[[], datetime] = now_utc
    signup_limiter: RateLimiter = field(default_factory=lambda: RateLimiter(10, SIGNUP_WINDOW))

    @cached_property
    def feedback(self) -> Feedback:
        return Feedback(self.events, self.subscribers, self.suppress, self.config.bounces)

    @cached_property
    def webhooks(self) -> Context:
        from newsletter.serve.fetch import https_fetch

        return Context(self.config.webhooks, os.environ, self.events, https_fetch)

    @property
    def config(self) -> Config:
        return self.project.config

    @property
    def base_url(self) -> str:
        public = self.config.serve.public_url
        return (public or f"http://{self.config.serve.host}:{self.config.serve.port}").rstrip("/")

    @property
    def languages(self) -> list[str]:
        return list(self.config.newsletter.edition_languages)

    def url(self, path: str, **params: str) -> str:
        """An absolute link, for emails; pages link relatively (see ``local``)."""
        return self.base_url + local(path, **params)


def local(path: str, **params: str) -> str:
    return path + (f"?{urlencode(params)}" if params else "")


def build_service(project: Project, *, deliver: Deliver | None = None) -> Service:
    """The service over the project's database, secret and transport."""
    from newsletter.store.subscribers import open_subscribers
    from newsletter.store.suppression import SuppressionList

    secret = load_secret()
    suppressions = SuppressionList(project.database)  # one engine for the process's life

    def suppress(email: str, reason: str) -> None:
        suppressions.add([(0, email)], reason, source="serve")

    def lift(email: str) -> None:
        # A new, proven consent lifts an unsubscribe, never a bounce or a complaint.
        suppressions.remove([email], reason="unsubscribed")

    config = project.config
    subscribers = open_subscribers(project)
    return Service(
        project=project,
        subscribers=subscribers,
        events=EventLog(subscribers.engine),
        tokens=Tokens(secret),
        deliver=deliver or smtp_deliver(config),
        suppress=suppress,
        lift=lift,
        signup_limiter=RateLimiter(config.serve.signups_per_ip, SIGNUP_WINDOW),
    )
