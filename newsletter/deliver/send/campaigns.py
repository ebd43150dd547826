"""Sending through a campaign API (Brevo, Mailchimp, listmonk): one campaign per issue.

The provider sends to its own list, so the steps are: import the audience into the list (in
the provider's batch size), create the campaign, set its content (Mailchimp), and start it
(send now, or schedule at the issue's ``send_at``). The requests are those the export writes
(the provider module's ``CampaignIssue``).

What must never happen twice is a step, so every step is claimed in the provider log
(``newsletter.store.providerlog``) before its request and recorded with the provider's id
after it; a rerun skips what was accepted and reuses the campaign id. A campaign whose
creation was left in doubt (a crash, a lost answer) is looked for at the provider before
anything is created: found, it is used; not found, it certainly was not made. A start left in
doubt is reported and never repeated: the campaign may be going out. Imports and content are
safe to repeat (the provider keeps one contact per address; a PUT replaces the content).
The recipients are claimed in the send log as one batch, marked ``sending`` for the start
request only, and recorded ``sent`` under the campaign's id when it is accepted.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Protocol

from newsletter.deliver.export.endpoints import api_key
from newsletter.deliver.export.schedule import send_at
from newsletter.deliver.send.api import ApiClient, Lost
from newsletter.deliver.send.transport import Handover, Outgoing, TransportOptions
from newsletter.errors import SendError
from newsletter.store.providerlog import ProviderLog
from newsletter.store.sendlog import Outcome

if TYPE_CHECKING:
    from datetime import datetime

    import httpx

    from newsletter.deliver.export.context import Request
    from newsletter.deliver.export.prepared import Prepared
    from newsletter.deliver.merge import Personal
    from newsletter.deliver.recipient import Recipient
    from newsletter.settings.delivery import ApiSettings

EVERYONE = 10**9  # the whole audience is one batch: the campaign goes to all at once
IMPORT_POLLS = 60  # how often to ask whether an import has finished, IMPORT_WAIT apart
IMPORT_WAIT = 5.0


class CampaignIssue(Protocol):
    """A campaign provider module's request builder for one issue."""

    name: str

    def imports(self, recipients: Iterator[Recipient]) -> Iterator[Request]: ...

    def create(self, when: datetime | None = None) -> Request: ...

    def content(self, campaign: str) -> Request | None: ...

    def start(self, campaign: str, when: datetime | None) -> Request: ...

    def created(self, response: httpx.Response) -> str: ...

    def import_status(self, response: httpx.Response) -> Request | None:
        """From an import's answer, a request asking whether it has finished (None: the
        provider imports before it answers)."""
        ...

    def import_finished(self, response: httpx.Response) -> bool:
        """Whether the answer to ``import_status`` says the import is done (raises SendError
        when it failed)."""
        ...

    def lookup(self) -> Request:
        """A request for the provider's campaigns, to find this issue's after a lost answer."""
        ...

    def found(self, response: httpx.Response) -> str | None:
        """This issue's campaign id in the answer to ``lookup``, if it is there."""
        ...


def import_key(recipients: Sequence[Recipient]) -> str:
    digest = hashlib.sha256("\n".join(sorted(r.key for r in recipients)).encode()).hexdigest()
    return f"import-{digest[:20]}"


class CampaignTransport:
    """A Transport (``newsletter.deliver.send.transport``) over a provider's campaign API."""

    batch_size = EVERYONE

    def __init__(
        self,
        label: str,
        prepared: Prepared,
        options: TransportOptions,
        issue: CampaignIssue,
        auth: Callable[[str], dict[str, object]],
        *,
        create_scheduled: bool = False,
    ) -> None:
        if prepared.proof:
            raise SendError(
                f"{label} sends a campaign to its whole list, so it takes no --test-to proof",
                hint=f"send the proof with --via smtp, or use {label}'s own test send",
            )
        self.name = issue.name
        self.label = label
        self.prepared = prepared
        self.options = options
        self.issue = issue
        self.auth = auth
        self.when = send_at(prepared.issue)
        self.create_scheduled = create_scheduled  # listmonk: send_at goes in with the campaign
        self.client: ApiClient | None = None
        self.log: ProviderLog | None = None

    @property
    def month(self) -> str:
        return self.prepared.month

    def describe(self) -> str:
        when = f", scheduled for {self.when.isoformat()}" if self.when else ""
        return f"{self.label}'s campaign API{when}"

    def build(self, recipient: Recipient, personal: Personal) -> Outgoing:
        return Outgoing(recipient, personal)

    def __enter__(self) -> CampaignTransport:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None
        if self.log is not None:
            self.log.close()
            self.log = None

    def open(self) -> None:
        if self.client is None:
            settings: ApiSettings = getattr(self.prepared.config.providers, self.name)
            self.client = ApiClient(
                self.name,
                timeout=settings.timeout,
                rate=settings.rate,
                max_attempts=self.options.max_attempts,
                retry_delay=self.options.retry_delay,
                clock=self.options.clock,
                **self.auth(api_key(self.name)),  # type: ignore[arg-type]
            )
        if self.log is None:
            self.log = ProviderLog(self.prepared.project.database)

    # -- steps ----------------------------------------------------------------------------------

    def _step(
        self,
        key: str,
        request: Request,
        doing: str,
        *,
        repeatable: bool,
        ident: Callable[[httpx.Response], str] | None = None,
    ) -> httpx.Response | None:
        """Make the request once and record it with the provider's id (``ident``); None
        when an earlier run's was accepted (its id is in the log)."""
        assert self.client is not None and self.log is not None
        log = self.log
        found = log.step(self.month, self.name, key)
        if found is not None and found.state == "accepted":
            return None
        if found is not None and not repeatable:
            raise SendError(
                f"{self.label}: an earlier run may have managed to {doing} for {self.month} "
                "(its answer never arrived), so it is not done again",
                hint=f"look in {self.label}: finish or delete the campaign there; nothing "
                "else was sent twice",
            )
        if found is None and not log.claim(self.month, self.name, key, doing):
            raise SendError(f"{self.label}: another run is about to {doing} for {self.month}")
        try:
            response = self.client.call(request, doing)
        except Lost as exc:
            if repeatable:
                log.release(self.month, self.name, key)
            raise SendError(
                f"{self.label}: cannot tell whether it did {doing}: {exc.detail}",
                hint="run the same command again; an uncertain step is reported, not repeated",
            ) from exc
        except SendError:
            log.release(self.month, self.name, key)  # refused: nothing was made
            raise
        made = ident(response) if ident is not None else None
        log.accept(self.month, self.name, key, made, f"HTTP {response.status_code}")
        return response

    def campaign_id(self) -> str:
        assert self.log is not None and self.client is not None
        step = self.log.step(self.month, self.name, "campaign")
        if step is not None and step.state == "claimed":
            # An earlier run's create may have worked: ask the provider before making one.
            found = self.issue.found(self.client.call(self.issue.lookup(), "list campaigns"))
            if found is not None:
                self.log.accept(self.month, self.name, "campaign", found,
                                "found after a lost answer")  # fmt: skip
                return found
            self.log.release(self.month, self.name, "campaign")  # certainly not made
        when = self.when if self.create_scheduled else None
        made = self._step("campaign", self.issue.create(when), "create the campaign",
                          repeatable=False, ident=self.issue.created)  # fmt: skip
        if made is None:
            step = self.log.step(self.month, self.name, "campaign")
            assert step is not None and step.provider_id
            return step.provider_id
        return self.issue.created(made)

    def _wait_for_import(self, key: str, status: Request) -> None:
        """Until the provider has imported the batch: a campaign started before would miss
        those recipients (Brevo and listmonk import in the background)."""
        assert self.client is not None and self.log is not None
        for poll in range(IMPORT_POLLS):
            if self.issue.import_finished(self.client.call(status, "ask about the import")):
                return
            if poll + 1 < IMPORT_POLLS:
                self.options.clock.sleep(IMPORT_WAIT)
        self.log.release(self.month, self.name, key)  # imported again (harmlessly) next run
        raise SendError(
            f"{self.label} is still importing the audience after {IMPORT_POLLS} questions",
            hint="run the same command again in a few minutes; nothing was sent",
        )

    def deliver(self, batch: Sequence[Outgoing], handover: Handover) -> list[Outcome]:
        assert self.log is not None
        everyone = [o.recipient for o in batch]
        remaining = everyone
        running: list[tuple[str, Request]] = []
        for request in self.issue.imports(iter(everyone)):  # batch by batch, in order
            chunk, remaining = remaining[: request.recipients], remaining[request.recipients :]
            key = import_key(chunk)
            answer = self._step(key, request, "import the audience", repeatable=True)
            status = self.issue.import_status(answer) if answer is not None else None
            if status is not None:
                running.append((key, status))
        for key, status in running:
            self._wait_for_import(key, status)
        campaign = self.campaign_id()
        content = self.issue.content(campaign)
        if content is not None:
            self._step("content", content, "set the campaign's content", repeatable=True)
        started = self.log.step(self.month, self.name, "start")
        if started is not None and started.state == "claimed":
            raise SendError(
                f"{self.label}: an earlier run may have started the campaign {campaign} for "
                f"{self.month} (its answer never arrived), so it is not started again",
                hint=f"look in {self.label}: the campaign is either going out or a draft "
                "you can start there",
            )
        if started is not None:
            # Started by an earlier run, before these recipients were in the list.
            detail = f"the {self.label} campaign {campaign} was started before they were added"
            return [Outcome(o.recipient.key, "failed", detail) for o in batch]
        return self._start(campaign, batch, handover)

    def _start(self, campaign: str, batch: Sequence[Outgoing], handover: Handover) -> list[Outcome]:
        ours = handover.begin(batch)
        outcomes = {
            o.recipient.key: Outcome(o.recipient.key, "skipped", "taken over by another run")
            for o in batch
        }
        if not ours:
            return list(outcomes.values())
        try:
            self._step("start", self.issue.start(campaign, self.when), "start the campaign",
                       repeatable=False)  # fmt: skip
        except SendError as exc:
            assert self.log is not None
            if self.log.step(self.month, self.name, "start") is not None:
                # The answer was lost: the campaign may be going out.
                for o in ours:
                    outcomes[o.recipient.key] = Outcome(o.recipient.key, "uncertain", exc.message)
                return [outcomes[o.recipient.key] for o in batch]
            handover.undo(ours)
            raise
        detail = "scheduled" if self.when else "started"
        for o in ours:
            outcomes[o.recipient.key] = Outcome(o.recipient.key, "sent", detail, campaign)
        return [outcomes[o.recipient.key] for o in batch]
