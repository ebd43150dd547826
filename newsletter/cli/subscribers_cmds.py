"""newsletter subscribers list|add|import|export|remove|erase."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from newsletter.cli.app import ProjectOpt, app, console, open_project

subscribers_app = typer.Typer(
    help="The subscriber list: who gets the newsletter, and the proof of their consent.",
    no_args_is_help=True,
)
app.add_typer(subscribers_app, name="subscribers")
AddressArg = Annotated[str, typer.Argument(help="The subscriber's email address.")]


def _open(project: Path):  # type: ignore[no-untyped-def]
    from newsletter.store.subscribers import open_subscribers

    proj = open_project(project)
    return proj, open_subscribers(proj)


@subscribers_app.command("list")
def list_(
    project: ProjectOpt = Path("."),
    status: Annotated[str | None, typer.Option(help="Only this status.")] = None,
    topic: Annotated[str | None, typer.Option(help="Only subscribers of this topic.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """List subscribers. Example: newsletter subscribers list --status confirmed"""
    from rich.table import Table

    from newsletter.errors import ProjectError
    from newsletter.store.subscribers import Status

    _, subs = _open(project)
    try:
        wanted = Status(status) if status else None
    except ValueError:
        raise ProjectError(
            f"unknown status {status!r}", hint=f"one of: {', '.join(s.value for s in Status)}"
        ) from None
    rows = list(subs.iter(status=wanted, topic=topic))
    if as_json:
        for sub in rows:
            typer.echo(json.dumps(sub.public(), ensure_ascii=False))
        return
    table = Table("email", "name", "edition", "topics", "status", "since")
    for sub in rows:
        table.add_row(
            sub.email, sub.name, sub.language, ", ".join(sub.topics), sub.status.value,
            (sub.confirmed_at or sub.created_at).date().isoformat(),
        )  # fmt: skip
    console.print(table)
    console.print(f"{len(rows)} subscriber(s)")


@subscribers_app.command()
def add(
    email: AddressArg,
    project: ProjectOpt = Path("."),
    name: Annotated[str, typer.Option(help="Their name.")] = "",
    language: Annotated[str | None, typer.Option(help="Their edition.")] = None,
    topic: Annotated[list[str] | None, typer.Option(help="A topic (repeat for more).")] = None,
    note: Annotated[
        str, typer.Option(help="How they gave consent, kept as proof (e.g. 'paper form').")
    ] = "",
) -> None:
    """Add a confirmed subscriber whose consent you hold.

    Example: newsletter subscribers add ann@example.org --name Ann --note "signed up at the fair"
    """
    from datetime import UTC, datetime

    from newsletter.deliver.audience import check_address
    from newsletter.errors import ProjectError
    from newsletter.store.subscribers import Consent, Method, Status

    proj, subs = _open(project)
    try:
        address = check_address(email.strip())
    except ValueError as exc:
        raise ProjectError(f"{email!r} is not an email address: {exc}") from None
    if not note:
        raise ProjectError(
            "say how this person gave consent", hint='add --note "how and when they agreed"'
        )
    if any(ch in name for ch in "\r\n"):
        raise ProjectError("the name must be on one line")
    found, created = subs.add(
        address,
        name=name,
        language=language or proj.config.newsletter.language,
        topics=topic or [],
        status=Status.confirmed,
        consent=Consent(Method.admin, None, None, {"note": note}),
        now=datetime.now(UTC),
    )
    console.print(f"{'Added' if created else 'Updated'} {found.email} ({found.status.value}).")


@subscribers_app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="A CSV file with email and consent columns.")],
    project: ProjectOpt = Path("."),
    consent_column: Annotated[
        str | None, typer.Option(help="The column that records consent.")
    ] = None,
) -> None:
    """Import subscribers from a CSV (comma or semicolon; Mailchimp's export works).

    Example: newsletter subscribers import members.csv --consent-column consent
    """
    from newsletter.deliver.subscribers import import_csv

    proj, subs = _open(project)
    report = import_csv(
        subs, file, language=proj.config.newsletter.language, consent_column=consent_column
    )
    for rejection in report.rejected:
        console.print(f"  {file}:{rejection.line}: {rejection.value!r}: {rejection.reason}")
    console.print(
        f"Imported {file}: {report.added} added, {report.updated} updated, "
        f"{len(report.rejected)} not imported."
    )
    if report.rejected:
        raise typer.Exit(3)


@subscribers_app.command()
def export(email: AddressArg, project: ProjectOpt = Path(".")) -> None:
    """Everything stored about one person, as JSON (a GDPR access request).

    Example: newsletter subscribers export ann@example.org > ann.json
    """
    from newsletter.deliver.subscribers import person_data
    from newsletter.errors import ProjectError

    _, subs = _open(project)
    data = person_data(subs, email)
    if data is None:
        raise ProjectError(f"no subscriber {email!r}")
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))


@subscribers_app.command()
def remove(email: AddressArg, project: ProjectOpt = Path(".")) -> None:
    """Unsubscribe someone (kept on record, and on the suppression list).

    Example: newsletter subscribers remove ann@example.org
    """
    from datetime import UTC, datetime

    from newsletter.errors import ProjectError
    from newsletter.store.subscribers import Consent, Method, Status
    from newsletter.store.suppression import SuppressionList

    proj, subs = _open(project)
    found = subs.set_status(
        email, Status.unsubscribed, consent=Consent(Method.admin), now=datetime.now(UTC)
    )
    if found is None:
        raise ProjectError(f"no subscriber {email!r}")
    with SuppressionList(proj.database) as suppressions:
        suppressions.add([(0, found.email)], "unsubscribed", source="admin")
    console.print(f"Unsubscribed {found.email}.")


@subscribers_app.command()
def erase(
    email: AddressArg,
    project: ProjectOpt = Path("."),
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask.")] = False,
) -> None:
    """Forget a person (GDPR erasure): only a hash stays, so they are never mailed again.

    Example: newsletter subscribers erase ann@example.org --yes
    """
    from newsletter.store.suppression import SuppressionList, erased_key

    proj, subs = _open(project)
    if not yes:
        typer.confirm(f"Erase everything stored about {email}?", abort=True)
    gone = subs.erase(email)
    with SuppressionList(proj.database) as suppressions:
        suppressions.remove([email])
        suppressions.add_hashed(erased_key(email), source="erased")
    console.print(f"Erased {email}" + ("" if gone else " (no subscriber row; hash kept)") + ".")
