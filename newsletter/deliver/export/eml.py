"""Standard .eml files, readable by any mail client or MTA.

Without an audience: one template message (``YYYY-MM.eml``) with the non-personal links,
addressed to ``undisclosed-recipients:;``. With an audience: one message per recipient
(``YYYY-MM-0000001.eml`` ...), byte for byte what ``newsletter send --via smtp`` would deliver,
and ``index.csv`` mapping files to addresses. Every file's Date is the export's ``--date``, or
the moment of export.
"""

from __future__ import annotations

import csv
from datetime import UTC, datetime

from newsletter.deliver import merge
from newsletter.deliver.export.context import ExportContext, ExportResult
from newsletter.deliver.message import template_copy
from newsletter.errors import ExportError


def parse_date(text: str) -> datetime:
    """``--date``: ISO 8601, with a UTC offset or else in this computer's time zone."""
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ExportError(
            f"--date {text!r} is not a date and time",
            hint="write it like 2024-04-02T09:00+02:00 (ISO 8601; without an offset, local time)",
        ) from None
    return when if when.tzinfo else when.astimezone()


def export(ctx: ExportContext) -> ExportResult:
    prepared = ctx.prepared
    result = ExportResult("eml")
    date = ctx.date or datetime.now(UTC)
    if ctx.audience is None:
        values = merge.preview_values(ctx.config)
        path = ctx.out / f"{ctx.month}.eml"
        path.write_bytes(
            template_copy(
                ctx.config,
                prepared.issue,
                html=merge.fill(prepared.html, values, escape=True),
                text=merge.fill(prepared.text, values),
                date=date,
            )
        )
        result.files.append(path)
        return result
    template = prepared.message_template()
    index = ctx.out / "index.csv"
    try:
        with index.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["file", "email", "line"])
            for number, (recipient, personal) in enumerate(ctx.personals(), 1):
                name = f"{ctx.month}-{number:07d}.eml"
                (ctx.out / name).write_bytes(template.render(personal, date=date))
                writer.writerow([name, recipient.email, recipient.line])
                result.recipients += 1
    except OSError as exc:
        raise ExportError(f"{ctx.out}: cannot write the messages: {exc.strerror}") from exc
    result.files.append(index)
    ctx.notes.append(f"{result.recipients} messages; index.csv maps each file to its recipient")
    if ctx.date is None:
        ctx.notes.append(
            f"every message is dated {date:%Y-%m-%d %H:%M} UTC (now); sent hours later, it looks "
            "stale to spam filters: pass --date with the time you will send them"
        )
    return result
