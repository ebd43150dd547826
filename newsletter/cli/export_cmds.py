"""newsletter export (and what `send` shares with it: the audience options and report)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from newsletter.cli.app import MonthArg, ProjectOpt, app, console, open_project
from newsletter.cli.show import print_rejections, show
from newsletter.registry import PROVIDERS

if TYPE_CHECKING:
    from newsletter.deliver.audience import AudienceReport
    from newsletter.deliver.export import ExportResult
    from newsletter.project import Project


# Typer offers an Enum's members as the choices; the members come from the registries, so
# a registered provider is a choice with no second list of names.
if TYPE_CHECKING:
    Provider = str
else:
    Provider = StrEnum("Provider", [(name, name) for name in PROVIDERS.names()])


AudienceOpt = Annotated[
    Path | None,
    typer.Option(
        "--audience",
        "-a",
        help="CSV of recipients: an email column, optional name, language and custom fields "
        "(default: the confirmed subscribers).",
        dir_okay=False,
    ),
]
EditionOpt = Annotated[
    str | None,
    typer.Option("--edition", "-e", metavar="CODE", help="Only this edition's recipients."),
]
TopicOpt = Annotated[
    str | None, typer.Option("--topic", help="Only the confirmed subscribers of this topic.")
]


def print_audience(report: AudienceReport) -> None:
    print_rejections(report.rejected, f"{len(report.rejected)} row(s) of {report.path} left out")
    console.print(
        f"Audience {report.path}: [bold]{report.accepted}[/] recipient(s); left out "
        f"{report.count('invalid')} invalid, {report.count('duplicate')} duplicate, "
        f"{report.count('suppressed')} suppressed."
    )


@app.command()
def export(
    month: MonthArg,
    to: Annotated[Provider, typer.Option("--to", help="The mail provider.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write the export to.")],
    audience: AudienceOpt = None,
    topic: TopicOpt = None,
    date: Annotated[
        str | None,
        typer.Option(
            "--date",
            metavar="WHEN",
            help="eml: the Date of every message, e.g. 2024-04-02T09:00+02:00 (default: now). "
            "Give the time they will be sent: spam filters distrust a Date hours old.",
        ),
    ] = None,
    edition: EditionOpt = None,
    project: ProjectOpt = Path("."),
) -> None:
    """Export an issue for a mail provider: one JSON file per API request, plus manifest.json.

    With several editions, OUT/<code>/ holds each edition's export with the recipients who
    get it (their language, else the default edition).

    The recipients are --audience FILE, else the confirmed subscribers (--topic narrows
    them). eml writes one .eml per recipient, or one template message when there are none.
    sendgrid, ses, mailgun and postmark need recipients; mailchimp, brevo and listmonk send
    to their own lists (recipients are imported there first).

    Example: newsletter export 2020-10 --to sendgrid --audience subscribers.csv --out out/
    """
    from newsletter.deliver.export import export_editions
    from newsletter.deliver.export.eml import parse_date
    from newsletter.errors import ApprovalError
    from newsletter.issuefile.status import require_approved

    provider = str(to)
    when = parse_date(date) if date is not None else None
    proj = open_project(project)
    results = export_editions(
        proj, month, provider, out, audience, topic=topic, date=when, edition=edition
    )
    several = not proj.default_edition.single
    codes = _exported_editions(proj, results)
    for code in codes:  # each edition's file is approved on its own
        try:
            require_approved(proj.require_issue(month, proj.edition(code)))
        except ApprovalError as exc:  # exported files are uploaded by hand: say so, do not refuse
            console.print(f"[yellow]Not approved:[/] {show(exc.message)}")
    if results[0].audience is not None:
        print_audience(results[0].audience)
    for result, each in zip(results, codes, strict=True):
        where = f"{out}/{each}/" if several else f"{out}/"
        if provider == "eml":
            for path in result.files:
                console.print(f"Wrote {path}")
        else:
            console.print(f"Wrote {result.requests} request file(s) to {where}")
        if result.recipients:
            which = f" get the {each} edition" if several else ""
            console.print(f"{result.recipients} recipient(s) in {provider}'s requests{which}.")
        for note in result.notes:
            console.print(f"[dim]note:[/] {show(note)}")
        if result.manifest:
            console.print(f"Manifest: {result.manifest}")


def _exported_editions(proj: Project, results: list[ExportResult]) -> list[str]:
    return [r.edition or proj.default_edition.code for r in results]
