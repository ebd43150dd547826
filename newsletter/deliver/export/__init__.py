"""export: turn a built issue (plus an audience) into what a mail provider takes.

The issue is rendered once (``prepare``). Each provider module turns it into the API
requests that provider documents, using its own field names and batch limits; they are
written as one JSON file per request, in order, plus ``manifest.json`` that says which
endpoint each file goes to and which audience rows were left out and why.

Recipients are streamed in batches: an export never holds more than one request's worth of
personal data, so audiences of any size fit in memory.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any

from newsletter.deliver import merge
from newsletter.errors import ExportError
from newsletter.project import Project

if TYPE_CHECKING:
    from newsletter.config import Config
    from newsletter.deliver.audience import AudienceReport, AudienceSource, Recipient
    from newsletter.deliver.message import MessageTemplate
    from newsletter.models import Issue

PROVIDERS = ("brevo", "eml", "listmonk", "mailchimp", "mailgun", "postmark", "sendgrid", "ses")
MANIFEST = "manifest.json"


@dataclass
class Prepared:
    """An issue rendered once, with merge tokens, ready to personalise for any number of people."""

    project: Project
    issue: Issue
    html: str
    text: str
    proof: bool = False

    @property
    def config(self) -> Config:
        return self.project.config

    @property
    def month(self) -> str:
        return self.issue.month

    @property
    def subject(self) -> str:
        from newsletter.deliver.message import PROOF_PREFIX

        return (PROOF_PREFIX if self.proof else "") + self.issue.subject

    def as_proof(self) -> Prepared:
        return Prepared(self.project, self.issue, self.html, self.text, proof=True)

    def message_template(self) -> MessageTemplate:
        from newsletter.deliver.message import MessageTemplate

        return MessageTemplate(
            self.config, self.issue, html=self.html, text=self.text, proof=self.proof
        )


def prepare(project: Project, month: str) -> Prepared:
    """Load and render the issue once (Jinja2 + MJML); the result is filled per recipient."""
    from newsletter.build import render_month

    done = render_month(project, month)
    return Prepared(project, done.issue, done.email.html, done.email.text)


@dataclass
class Request:
    """One API request: written as ``NNNN-name.json`` (the body) and listed in the manifest."""

    name: str
    method: str
    url: str
    body: Any
    recipients: int = 0
    content_type: str = "application/json"
    # For multipart requests: form field -> (file name, content) written next to the JSON.
    attachments: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    note: str | None = None


@dataclass
class ExportResult:
    provider: str
    files: list[Path] = field(default_factory=list)
    recipients: int = 0
    requests: int = 0
    audience: AudienceReport | None = None
    manifest: Path | None = None
    notes: list[str] = field(default_factory=list)


class ExportContext:
    """What a provider module works from: the prepared issue and, maybe, an audience."""

    def __init__(
        self, prepared: Prepared, out: Path, provider: str, audience: AudienceSource | None
    ) -> None:
        self.prepared = prepared
        self.out = out
        self.provider = provider
        self.audience = audience
        self.notes: list[str] = []
        self.manifest_requests: list[dict[str, Any]] = []

    @property
    def config(self) -> Config:
        return self.prepared.config

    @property
    def month(self) -> str:
        return self.prepared.month

    @cached_property
    def personalizer(self) -> merge.Personalizer:
        return merge.Personalizer(self.config, self.month, merge.load_secret())

    def require_audience(self) -> AudienceSource:
        if self.audience is None:
            raise ExportError(
                f"{self.provider}: this provider sends to the addresses in each request, "
                "so the export needs an audience",
                hint=f"add --audience FILE.csv (columns: email, name, ...); "
                f"example: newsletter export {self.month} --to {self.provider} "
                "--audience subscribers.csv --out out/",
            )
        return self.audience

    def recipients(self) -> Iterator[Recipient]:
        return iter(self.require_audience())

    def personals(self) -> Iterator[tuple[Recipient, merge.Personal]]:
        audience = self.require_audience()  # before the secret: the likelier mistake first
        personalizer = self.personalizer
        for recipient in audience:
            yield recipient, personalizer.personal(recipient)

    def batches(self, size: int) -> Iterator[list[tuple[Recipient, merge.Personal]]]:
        return chunks(self.personals(), size)

    def setting(self, value: Any, key: str, example: str) -> Any:
        """A required ``[providers]`` setting, or a clear error naming the key."""
        if value in (None, [], ""):
            raise ExportError(
                f"newsletter.toml: providers.{key} is not set; the {self.provider} export needs it",
                hint=f"add it under [providers], e.g. {key} = {example}",
            )
        return value


def chunks(items: Iterator[Any], size: int) -> Iterator[list[Any]]:
    while batch := list(islice(items, size)):
        yield batch


# --- server-side merging ---------------------------------------------------------------------


@dataclass
class Merged:
    """The issue with merge tokens rewritten in a provider's own syntax."""

    text: str
    html: str
    text_fields: list[str]
    html_fields: list[str]

    def data(self, personal: merge.Personal) -> dict[str, str]:
        return personal.provider_values(self.text_fields, self.html_fields)


def server_side(
    prepared: Prepared,
    provider: str,
    tag: Callable[[str, bool], str],
    *,
    protect: Callable[[str, bool], str] | None = None,
    forbidden: Sequence[str] = (),
) -> Merged:
    """Rewrite ``%%field%%`` tokens with ``tag(field, is_html)``.

    ``protect`` neutralises the provider's own syntax already present in the content (a story
    that quotes ``{{ … }}``); ``forbidden`` lists strings that cannot be escaped and would be
    misread as merge tags, so the export stops with an error instead.
    """
    text, html = prepared.text, prepared.html
    text_fields, html_fields = merge.fields_in(text), merge.fields_in(html)
    for part, content, fields, is_html in (
        ("text", text, text_fields, False),
        ("HTML", html, html_fields, True),
    ):
        bare = merge.translate(content, lambda _: "\x00")
        for needle in [*forbidden, *(tag(name, is_html) for name in fields)]:
            if needle in bare:
                raise ExportError(
                    f"{provider}: the issue's {part} part contains {needle!r}, which "
                    f"{provider} would read as a merge tag",
                    hint="reword that text in the issue file and build again",
                )
    if protect:
        text, html = protect(text, False), protect(html, True)
    return Merged(
        text=merge.translate(text, lambda name: tag(name, False)),
        html=merge.translate(html, lambda name: tag(name, True)),
        text_fields=text_fields,
        html_fields=html_fields,
    )


def sender(config: Config) -> tuple[str, str]:
    """(display name, address) of the sender."""
    return config.newsletter.sender, config.newsletter.from_email


def common_headers(config: Config) -> dict[str, str]:
    """Headers every copy carries; the provider adds Date and Message-ID itself."""
    from newsletter.deliver.message import list_id

    web = config.newsletter.web_url.rstrip("/")
    return {
        "List-Id": list_id(config),
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "List-Archive": f"<{web}/>",
    }


# --- the entry point -------------------------------------------------------------------------


def providers() -> list[str]:
    return list(PROVIDERS)


def _module(provider: str) -> Any:
    import importlib

    return importlib.import_module(f"newsletter.deliver.export.{provider}")


def export_issue(
    project: Project,
    month: str,
    provider: str,
    out: Path,
    audience: Path | None = None,
    *,
    topic: str | None = None,
) -> ExportResult:
    """Write ``provider``'s requests (or .eml files) for ``month`` into ``out``."""
    if provider not in PROVIDERS:
        raise ExportError(
            f"unknown provider {provider!r}", hint=f"choose one of: {', '.join(PROVIDERS)}"
        )
    prepared = prepare(project, month)  # validates the issue before anything is written
    from newsletter.deliver.subscribers import open_audience

    reader = open_audience(project, audience, topic=topic, required=False)
    if reader is not None:
        where = str(reader.report.path)
        merge.check_fields([prepared.html, prepared.text], reader.columns, where=where)
    else:
        merge.check_fields([prepared.html, prepared.text], [], where=f"issue {month}")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(f"{out}: cannot create the output folder: {exc.strerror}") from exc
    ctx = ExportContext(prepared, out, provider, reader)
    module = _module(provider)
    if hasattr(module, "write"):
        result: ExportResult = module.write(ctx)
    else:
        result = write_requests(ctx, module.requests(ctx))
    result.audience = reader.report if reader else None
    result.notes = ctx.notes
    result.manifest = write_manifest(ctx, result)
    return result


def write_requests(ctx: ExportContext, requests: Iterator[Request]) -> ExportResult:
    result = ExportResult(ctx.provider)
    entries = []
    for number, request in enumerate(requests, 1):
        stem = f"{number:04d}-{request.name}"
        path = ctx.out / f"{stem}.json"
        _write_json(path, request.body)
        result.files.append(path)
        entry: dict[str, Any] = {
            "file": path.name,
            "method": request.method,
            "url": request.url,
            "content_type": request.content_type,
            "recipients": request.recipients,
        }
        if request.attachments:
            entry["form"] = {}
            for form_field, (filename, content) in request.attachments.items():
                extra = ctx.out / f"{stem}-{filename}"
                extra.write_bytes(content)
                result.files.append(extra)
                entry["form"][form_field] = extra.name
        if request.note:
            entry["note"] = request.note
        entries.append(entry)
        result.recipients += request.recipients
    result.requests = len(entries)
    ctx.manifest_requests = entries
    return result


def _write_json(path: Path, body: Any) -> None:
    try:
        with path.open("w", encoding="utf-8") as fh:
            json.dump(body, fh, ensure_ascii=False, indent=1)
            fh.write("\n")
    except OSError as exc:
        raise ExportError(f"{path}: cannot write: {exc.strerror}") from exc


def write_manifest(ctx: ExportContext, result: ExportResult) -> Path:
    prepared = ctx.prepared
    manifest: dict[str, Any] = {
        "provider": ctx.provider,
        "issue": prepared.month,
        "subject": prepared.subject,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "recipients": result.recipients,
        "requests": ctx.manifest_requests,
        "notes": ctx.notes,
    }
    if ctx.audience is not None:
        manifest["audience"] = ctx.audience.report.as_dict()
    path = ctx.out / MANIFEST
    _write_json(path, manifest)
    return path
