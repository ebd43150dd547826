"""Who gets the issue now, and who does not and why: computed before anything is sent."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from newsletter.deliver import merge
from newsletter.deliver.export import Prepared, prepare
from newsletter.deliver.send.transport import check_via
from newsletter.errors import SendError
from newsletter.store.sendlog import SendLog, Standing, Status

if TYPE_CHECKING:
    from newsletter.deliver.audience import AudienceReport
    from newsletter.deliver.recipient import Recipient
    from newsletter.project import Project


@dataclass
class Plan:
    prepared: Prepared
    via: str
    recipients: list[Recipient]
    audience: AudienceReport
    already_sent: int = 0
    previously_failed: int = 0
    busy: int = 0  # held right now by another run that is alive
    uncertain: list[str] = field(default_factory=list)  # in doubt since an earlier run
    retake: tuple[Status, ...] = ("deferred",)

    @property
    def month(self) -> str:
        return self.prepared.month


def plan_send(
    project: Project,
    month: str,
    audience: Path | None = None,
    *,
    topic: str | None = None,
    via: str = "smtp",
    resend_uncertain: bool = False,
    retry_failed: bool = False,
) -> Plan:
    """The plan of a project with one edition (``plan_sends`` for several)."""
    plans = plan_sends(
        project, month, audience, topic=topic, via=via, resend_uncertain=resend_uncertain,
        retry_failed=retry_failed,
    )  # fmt: skip
    return plans[0]


def plan_sends(
    project: Project,
    month: str,
    audience: Path | None = None,
    *,
    topic: str | None = None,
    via: str = "smtp",
    resend_uncertain: bool = False,
    retry_failed: bool = False,
    edition: str | None = None,
) -> list[Plan]:
    """Render each edition the audience needs, read the audience (default: the confirmed
    subscribers) and the send log; nothing is sent or written.

    One plan per edition, each with the recipients who get it (``deliver.routing``); a
    project with one edition has one plan for everybody. The send log counts a month, not
    an edition: whoever got any edition of the month is already sent.
    """
    from newsletter.deliver.routing import split
    from newsletter.deliver.subscribers import open_audience

    check_via(via)
    picked = project.pick_editions(edition)
    wanted = {e.code for e in picked}
    # The issue is checked before the secret and the audience: the likelier mistake first.
    ready = {picked[0].code: prepare(project, month, picked[0])}
    merge.load_secret()  # fail now, before a prompt, when links cannot be signed
    reader = open_audience(project, audience, topic=topic, required=True)
    assert reader is not None
    recipients, report = list(reader), reader.report
    groups = split(project, recipients) or {project.default_edition.code: []}
    retake: tuple[Status, ...] = ("deferred",)
    if resend_uncertain:
        retake += ("sending",)
    if retry_failed:
        retake += ("failed",)
    with SendLog(project.database) as log:
        standing = log.standing(month)
    plans = []
    for code, people in groups.items():
        if code not in wanted:
            continue
        prepared = ready.get(code) or prepare(project, month, project.edition(code))
        merge.check_fields([prepared.html, prepared.text], report.columns, where=str(report.path))
        plans.append(_plan(prepared, via, people, report, retake, standing, retry_failed,
                           resend_uncertain))  # fmt: skip
    if not plans:
        raise SendError(
            f"--edition {edition}: nobody in the audience gets that edition",
            hint="leave out --edition, or check the audience's language column",
        )
    return plans


def _plan(
    prepared: Prepared,
    via: str,
    recipients: list[Recipient],
    report: AudienceReport,
    retake: tuple[Status, ...],
    standing: dict[str, Standing],
    retry_failed: bool,
    resend_uncertain: bool,
) -> Plan:
    plan = Plan(prepared, via, [], report, retake=retake)
    for recipient in recipients:
        match standing.get(recipient.key):
            case "sent":
                plan.already_sent += 1
            case "failed" if not retry_failed:
                plan.previously_failed += 1
            case "uncertain":
                plan.uncertain.append(recipient.email)
                if resend_uncertain:
                    plan.recipients.append(recipient)
            case "busy":
                plan.busy += 1
            case _:
                plan.recipients.append(recipient)
    return plan
