"""Standard .eml files, readable by any mail client or MTA.

Without an audience: one template message (``YYYY-MM.eml``) with the non-personal links.
With an audience: one message per recipient (``YYYY-MM-0000001.eml`` ...), byte for byte what
``newsletter send --via smtp`` would deliver, and ``index.csv`` mapping files to addresses.
"""

from __future__ import annotations

import csv

from newsletter.deliver import merge
from newsletter.deliver.export.context import ExportContext, ExportResult
from newsletter.deliver.message import build_message
from newsletter.errors import ExportError


def export(ctx: ExportContext) -> ExportResult:
    prepared = ctx.prepared
    result = ExportResult("eml")
    if ctx.audience is None:
        values = merge.preview_values(ctx.config)
        msg = build_message(
            ctx.config,
            prepared.issue,
            html=merge.fill(prepared.html, values, escape=True),
            text=merge.fill(prepared.text, values),
        )
        path = ctx.out / f"{ctx.month}.eml"
        path.write_bytes(msg.as_bytes())
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
                (ctx.out / name).write_bytes(template.render(personal))
                writer.writerow([name, recipient.email, recipient.line])
                result.recipients += 1
    except OSError as exc:
        raise ExportError(f"{ctx.out}: cannot write the messages: {exc.strerror}") from exc
    result.files.append(index)
    ctx.notes.append(f"{result.recipients} messages; index.csv maps each file to its recipient")
    return result
