"""Who gets the issue now, and who does not and why: computed before anything is sent."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from newsletter.deliver import merge
from newsletter.deliver.export import Prepared, prepare
from newsletter.deliver.send.transport import check_via
from newsletter.store.sendlog import SendLog, Status

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
    """Render the issue, read the audience (default: the confirmed subscribers) and the send
    log; nothing is sent or written."""
    from newsletter.deliver.subscribers import open_audience

    check_via(via)
    prepared = prepare(project, month)
    merge.load_secret()  # fail now, before a prompt, when links cannot be signed
    reader = open_audience(project, audience, topic=topic, required=True)
    assert reader is not None
    recipients, report = list(reader), reader.report
    merge.check_fields([prepared.html, prepared.text], report.columns, where=str(report.path))
    retake: tuple[Status, ...] = ("deferred",)
    if resend_uncertain:
        retake += ("sending",)
    if retry_failed:
        retake += ("failed",)
    with SendLog(project.database) as log:
        standing = log.standing(month)
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
