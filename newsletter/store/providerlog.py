"""The provider log: campaign-level steps of API sends, each done at most once per issue.

Campaign providers (Brevo, Mailchimp, listmonk) send one campaign to a list; what must
never happen twice is not one recipient's message (``sendlog``) but a step: creating the
campaign, starting it. Each step is ``claim``-ed (committed) before its request and
``accept``-ed with the provider's id after it. A step found ``claimed`` by a later run is
*uncertain*: the request may have reached the provider, so it is reported, never repeated.
Steps that are safe to repeat (a contact import, setting content) are ``release``-d when
their request certainly failed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from sqlalchemy import delete, select, update

from newsletter.store.db import Database, Target, insert
from newsletter.store.schema import provider_batches

State = Literal["claimed", "accepted"]
LOCK = "provider_batches"


@dataclass(frozen=True)
class Step:
    batch: str
    state: State
    provider_id: str | None = None
    detail: str | None = None


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class ProviderLog(Database):
    def __init__(self, target: Target, *, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        super().__init__(target, durable=True, what="the send log")

    def steps(self, issue: str, provider: str) -> dict[str, Step]:
        table = provider_batches.c
        query = select(table.batch, table.state, table.provider_id, table.detail).where(
            table.issue == issue, table.provider == provider
        )
        with self.read("read the provider log") as conn:
            return {b: Step(b, s, p, d) for b, s, p, d in conn.execute(query)}

    def step(self, issue: str, provider: str, batch: str) -> Step | None:
        return self.steps(issue, provider).get(batch)

    def claim(self, issue: str, provider: str, batch: str, detail: str = "") -> bool:
        """Record that ``batch``'s request is about to be made; False when a row exists
        already (another run made or is making it)."""
        with self.transaction("claim a provider step in the send log", lock=LOCK) as conn:
            stmt = insert(conn, provider_batches).on_conflict_do_nothing()
            # RETURNING, not rowcount: a skipped insert's rowcount differs between drivers.
            made = conn.execute(
                stmt.values(issue=issue, provider=provider, batch=batch, state="claimed",
                            detail=detail, updated=_now())
                .returning(provider_batches.c.batch)
            ).first()  # fmt: skip
        return made is not None

    def accept(self, issue: str, provider: str, batch: str, provider_id: str | None,
               detail: str = "") -> None:  # fmt: skip
        """The provider accepted ``batch`` (and named it ``provider_id``)."""
        table = provider_batches.c
        with self.transaction("record a provider's answer in the send log", lock=LOCK) as conn:
            conn.execute(
                update(provider_batches)
                .where(table.issue == issue, table.provider == provider, table.batch == batch)
                .values(state="accepted", provider_id=provider_id, detail=detail,
                        updated=_now())
            )  # fmt: skip

    def release(self, issue: str, provider: str, batch: str) -> None:
        """The request certainly did not take effect: the step may be made again."""
        table = provider_batches.c
        with self.transaction("release a provider step in the send log", lock=LOCK) as conn:
            conn.execute(
                delete(provider_batches).where(
                    table.issue == issue, table.provider == provider, table.batch == batch,
                    table.state == "claimed",
                )
            )  # fmt: skip
