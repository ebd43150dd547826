"""Sending through a provider's message API (SendGrid, Mailgun, Postmark): one request per batch.

The requests are exactly those ``newsletter export`` writes for the provider: its module
builds one from a batch (``MessageIssue``). Each recipient is claimed in the send log before
the request and marked ``sending`` for exactly the time of each attempt; the answer is
recorded at once. A 429 or 5xx takes the marks back and is retried after ``Retry-After``; a
lost answer (timeout) leaves the batch uncertain, reported and never resent on its own.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol

from newsletter.deliver.export.endpoints import api_key
from newsletter.deliver.export.schedule import send_at
from newsletter.deliver.send.api import ApiClient, Lost, Refused, Retry, refusal
from newsletter.deliver.send.transport import Handover, Outgoing, TransportOptions
from newsletter.store.sendlog import Outcome

if TYPE_CHECKING:
    from datetime import datetime

    import httpx

    from newsletter.deliver.export.context import Request
    from newsletter.deliver.export.prepared import Prepared
    from newsletter.deliver.merge import Personal
    from newsletter.deliver.recipient import Recipient
    from newsletter.settings.delivery import ApiSettings


class MessageIssue(Protocol):
    """A provider module's request builder for one issue."""

    max_batch: int

    def request(self, batch: Sequence[tuple[Recipient, Personal]], number: int) -> Request: ...


Results = Callable[[Sequence[str], "httpx.Response"], dict[str, Outcome]]


def all_sent(message_id: Callable[[httpx.Response], str | None]) -> Results:
    """Every recipient of an accepted request is sent, under the request's id."""

    def results(keys: Sequence[str], response: httpx.Response) -> dict[str, Outcome]:
        mid = message_id(response)
        return {k: Outcome(k, "sent", f"HTTP {response.status_code}", mid) for k in keys}

    return results


class MessageTransport:
    """A Transport (``newsletter.deliver.send.transport``) over a provider's message API."""

    def __init__(
        self,
        name: str,
        label: str,
        prepared: Prepared,
        options: TransportOptions,
        issue: Callable[[datetime | None], MessageIssue],
        results: Results,
        auth: Callable[[str], dict[str, object]],
    ) -> None:
        self.name = name
        self.label = label
        self.prepared = prepared
        self.options = options
        self.when = None if prepared.proof else send_at(prepared.issue)
        self.issue = issue(self.when)
        self.batch_size = self.issue.max_batch
        self.results = results
        self.auth = auth
        self.client: ApiClient | None = None
        self.number = 0

    @property
    def settings(self) -> ApiSettings:
        settings: ApiSettings = getattr(self.prepared.config.providers, self.name)
        return settings

    def describe(self) -> str:
        when = f", scheduled for {self.when.isoformat()}" if self.when else ""
        return f"{self.label}'s API{when}"

    def build(self, recipient: Recipient, personal: Personal) -> Outgoing:
        return Outgoing(recipient, personal)

    def __enter__(self) -> MessageTransport:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None

    def open(self) -> None:
        """The API key (from the environment) before anything is claimed."""
        if self.client is None:
            settings = self.settings
            self.client = ApiClient(
                self.name,
                timeout=settings.timeout,
                rate=settings.rate,
                max_attempts=self.options.max_attempts,
                retry_delay=self.options.retry_delay,
                clock=self.options.clock,
                **self.auth(api_key(self.name)),  # type: ignore[arg-type]
            )

    def deliver(self, batch: Sequence[Outgoing], handover: Handover) -> list[Outcome]:
        assert self.client is not None, "open() first"
        client = self.client
        self.number += 1
        outcomes: dict[str, Outcome] = {}
        pending = list(batch)
        detail = ""
        for attempt in range(1, client.max_attempts + 1):
            ours = handover.begin(pending)
            for item in pending:
                if item not in ours:
                    key = item.recipient.key
                    outcomes[key] = Outcome(key, "skipped", "taken over by another run")
            pending = ours
            if not pending:
                break
            request = self.issue.request([(o.recipient, o.personal) for o in pending], self.number)
            keys = [o.recipient.key for o in pending]
            try:
                response = client.once(request)
            except Retry as exc:
                handover.undo(pending)
                detail = exc.detail
                client.backoff(attempt, exc.after)
                continue
            except Refused as exc:
                handover.undo(pending)
                raise refusal(self.name, "take the batch", exc, self.label) from exc
            except Lost as exc:
                outcomes.update({k: Outcome(k, "uncertain", exc.detail) for k in keys})
                pending = []
                break
            outcomes.update(self.results(keys, response))
            pending = []
            break
        for item in pending:  # 429/5xx every time: nothing was taken
            key = item.recipient.key
            outcomes[key] = Outcome(key, "deferred", f"{self.label}: {detail}")
        return [outcomes[o.recipient.key] for o in batch]
