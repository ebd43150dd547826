"""Which edition each recipient gets: their language (the audience's ``language`` column, a
subscriber's edition), else the default edition. A project with one edition sends it to all.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from newsletter.deliver.audience import AudienceReport, AudienceSource
    from newsletter.deliver.recipient import Recipient
    from newsletter.editions import Edition
    from newsletter.project import Project


def edition_of(project: Project, recipient: Recipient) -> Edition:
    return project.edition(recipient.language or None)


def split(project: Project, recipients: Iterable[Recipient]) -> dict[str, list[Recipient]]:
    """Recipients by edition code, in the editions' order (editions nobody gets are absent)."""
    groups: dict[str, list[Recipient]] = {e.code: [] for e in project.editions}
    for recipient in recipients:
        groups[edition_of(project, recipient).code].append(recipient)
    return {code: people for code, people in groups.items() if people}


def count(project: Project, source: AudienceSource) -> Counter[str]:
    """How many recipients each edition has (one pass over the audience)."""
    return Counter(edition_of(project, r).code for r in source)


class EditionAudience:
    """An audience seen through one edition: only the recipients who get it.

    The whole audience is read again for each edition, so the report (rows left out, and
    why) is kept as the first full pass left it.
    """

    def __init__(self, source: AudienceSource, project: Project, edition: Edition) -> None:
        self.source = source
        self.project = project
        self.edition = edition
        self.report: AudienceReport = source.report

    @property
    def columns(self) -> list[str]:
        return self.source.columns

    def __iter__(self) -> Iterator[Recipient]:
        report = self.source.report
        accepted, rejected = report.accepted, len(report.rejected)
        try:
            for recipient in self.source:
                if edition_of(self.project, recipient) is self.edition:
                    yield recipient
        finally:
            report.accepted = accepted
            del report.rejected[rejected:]
