"""What a provider module works from, and the helpers every provider shares.

``ExportContext`` holds the prepared issue, the output folder and maybe an audience, and
streams recipients in batches: an export never holds more than one request's worth of
personal data. ``server_side`` rewrites merge tokens in a provider's own syntax.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any

from newsletter.deliver import merge
from newsletter.errors import ExportError

if TYPE_CHECKING:
    from newsletter.config import Config
    from newsletter.deliver.audience import AudienceReport, AudienceSource
    from newsletter.deliver.export.prepared import Prepared
    from newsletter.deliver.recipient import Recipient


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
    edition: str | None = None  # with several editions, the one exported


class ExportContext:
    """What a provider module works from: the prepared issue and, maybe, an audience."""

    def __init__(
        self,
        prepared: Prepared,
        out: Path,
        provider: str,
        audience: AudienceSource | None,
        date: datetime | None = None,
    ) -> None:
        self.prepared = prepared
        self.out = out  # where files are written: a staging folder inside --out
        self.provider = provider
        self.audience = audience
        self.date = date  # the messages' Date (eml); None: the moment of writing
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
            raise missing_setting(self.provider, key, example)
        return value


def missing_setting(provider: str, key: str, example: str) -> ExportError:
    return ExportError(
        f"newsletter.toml: providers.{key} is not set; the {provider} export needs it",
        hint=f"add it under [providers], e.g. {key} = {example}",
    )


def chunks(items: Iterator[Any], size: int) -> Iterator[list[Any]]:
    while batch := list(islice(items, size)):
        yield batch


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
