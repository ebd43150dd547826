"""Validated records that flow between the stages.

The validators here are the last line of defence: whatever a source sends, a record that
exists can be put into an email. URLs are http(s), single-line fields hold no CR/LF,
datetimes carry a time zone, and HTML bodies are sanitised.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    WrapValidator,
    field_validator,
)
from pydantic_core.core_schema import ValidatorFunctionWrapHandler

from newsletter.sanitize import clean_html

MONTH_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def check_http_url(value: str) -> str:
    value = value.strip()
    parts = urlsplit(value)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise ValueError(f"must be an http(s) URL, got {value[:80]!r}")
    if any(c in value for c in "\r\n\t\x00 "):
        raise ValueError("URL must not contain whitespace or control characters")
    return value


def check_single_line(value: str) -> str:
    if any(c in value for c in "\r\n\x00"):
        raise ValueError("must be a single line (no CR, LF or NUL)")
    return value.strip()


def check_month(value: str) -> str:
    if not MONTH_RE.match(value):
        raise ValueError(f"must be a month as YYYY-MM, got {value!r}")
    return value


def check_focus(value: object) -> tuple[float, float]:
    """A focal point [x, y] in an image, each from 0 (left, top) to 1 (right, bottom)."""
    if (
        isinstance(value, (list, tuple))
        and len(value) == 2
        and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
        and all(0 <= v <= 1 for v in value)
    ):
        return float(value[0]), float(value[1])
    raise ValueError(
        f"must be [x, y], each from 0 (left or top) to 1 (right or bottom), for example "
        f"[0.5, 0.3]; got {value!r}"
    )


HttpUrl = Annotated[str, AfterValidator(check_http_url)]
# Where the picture's subject is: cropping keeps it in view (default: the centre).
Focus = Annotated[tuple[float, float], BeforeValidator(check_focus)]
SingleLine = Annotated[str, AfterValidator(check_single_line)]
Month = Annotated[str, AfterValidator(check_month)]
# Validation context for records read back from the project's own store: their HTML was
# sanitised when they were written, so reading them does not pay for nh3 again.
STORED = {"stored": True}


def _safe_html(value: object, handler: ValidatorFunctionWrapHandler, info: ValidationInfo) -> str:
    text: str = handler(value)
    if info.context and info.context.get("stored"):
        return text
    return clean_html(text)


SafeHtml = Annotated[str, WrapValidator(_safe_html)]


class Kind(StrEnum):
    news = "news"
    event = "event"
    call = "call"
    award = "award"


class Image(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: HttpUrl
    alt: SingleLine = ""
    credit: SingleLine | None = None
    width: int | None = Field(default=None, gt=0)
    height: int | None = Field(default=None, gt=0)
    focus: Focus | None = None


def item_id(key: str) -> str:
    """A stable id for a story, derived from its canonical URL (or guid)."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


class NewsItem(BaseModel):
    """One story as collected from a source, normalised and safe to publish."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=64)
    source: SingleLine
    title: SingleLine = Field(min_length=1)
    kicker: SingleLine | None = None
    url: HttpUrl
    published: AwareDatetime
    updated: AwareDatetime | None = None
    summary: str = ""
    body_html: SafeHtml = ""
    image: Image | None = None
    language: str = Field(default="en", pattern=r"^[a-z]{2,3}$")
    kind: Kind = Kind.news
    deadline: date | None = None
    event_date: date | None = None
    guid: str | None = None
    sources: list[str] = Field(default_factory=list)

    @field_validator("summary")
    @classmethod
    def _summary_has_no_nul(cls, value: str) -> str:
        return value.replace("\x00", "").strip()

    @property
    def month(self) -> str:
        return self.published.strftime("%Y-%m")


class StoryOverrides(BaseModel):
    """What staff changed about a story: these win over the snapshot when the issue is built.

    The snapshot keeps what the source published, so a re-draft can tell the two apart.
    """

    model_config = ConfigDict(extra="forbid")

    title: SingleLine | None = Field(default=None, min_length=1)
    summary: str | None = None
    image: HttpUrl | None = Field(default=None, description="Another image URL for the story.")
    alt: SingleLine | None = Field(default=None, description="Alt text for the story's image.")
    cta: SingleLine | None = Field(default=None, min_length=1, description="The button text.")
    focus: Focus | None = Field(
        default=None, description="The image's focal point [x, y] (0..1) that cropping keeps."
    )


class Story(BaseModel):
    """A story as it stands in an issue file: a snapshot of the item, edited by staff.

    Templates should see ``effective()`` stories (``Issue.resolved()`` does that for a whole
    issue, and ``load_issue`` returns resolved issues), so ``title``, ``summary``, ``image``
    and ``cta`` already carry the staff's overrides.
    """

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)
    title: SingleLine = Field(min_length=1)
    url: HttpUrl
    kicker: SingleLine | None = None
    summary: str = ""
    source: SingleLine | None = None
    published: AwareDatetime | None = None
    image: Image | None = None
    kind: Kind = Kind.news
    deadline: date | None = None
    event_date: date | None = None
    language: str | None = None
    cta: SingleLine | None = None
    pin: bool = Field(default=False, description="Keep this story even when drafting over.")
    overrides: StoryOverrides | None = None

    @classmethod
    def from_item(cls, item: NewsItem) -> Story:
        return cls(
            id=item.id,
            title=item.title,
            url=item.url,
            kicker=item.kicker,
            summary=item.summary,
            source=item.source,
            published=item.published,
            image=item.image,
            kind=item.kind,
            deadline=item.deadline,
            event_date=item.event_date,
            language=item.language,
        )

    def effective(self) -> Story:
        """The story as it will be printed: overrides applied over the snapshot."""
        edit = self.overrides
        if edit is None:
            return self
        image = self.image
        if edit.image is not None:
            keep = image is not None and image.url == edit.image
            image = Image(
                url=edit.image,
                alt=edit.alt if edit.alt is not None else (image.alt if keep and image else ""),
                credit=image.credit if keep and image else None,
                focus=edit.focus or (image.focus if keep and image else None),
            )
        elif image is not None:
            changes = {"alt": edit.alt, "focus": edit.focus}
            update = {k: v for k, v in changes.items() if v is not None}
            if update:
                image = image.model_copy(update=update)
        return self.model_copy(
            update={
                "title": edit.title or self.title,
                "summary": self.summary if edit.summary is None else edit.summary.strip(),
                "image": image,
                "cta": edit.cta or self.cta,
                "overrides": None,
            }
        )


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: SingleLine = Field(min_length=1)
    stories: list[Story] = Field(default_factory=list)


class Issue(BaseModel):
    """A monthly newsletter issue: the editor's self-contained file."""

    model_config = ConfigDict(extra="forbid")

    month: Month
    subject: SingleLine = Field(min_length=1, max_length=150)
    preheader: SingleLine = ""
    send_date: date | None = None
    language: str = Field(default="en", pattern=r"^[a-z]{2,3}$")
    intro: str = ""
    sections: list[Section] = Field(default_factory=list)
    alternates: list[Story] = Field(default_factory=list)
    offered: list[str] = Field(
        default_factory=list, description="Ids the draft has suggested before; not again."
    )

    @field_validator("intro")
    @classmethod
    def _intro_strip(cls, value: str) -> str:
        return value.strip()

    def stories(self) -> list[Story]:
        return [story for section in self.sections for story in section.stories]

    @property
    def lead(self) -> Story | None:
        stories = self.stories()
        return stories[0] if stories else None

    def resolved(self) -> Issue:
        """A copy ready to render: every story with its overrides applied."""
        sections = [
            section.model_copy(update={"stories": [s.effective() for s in section.stories]})
            for section in self.sections
        ]
        return self.model_copy(update={"sections": sections})

    def updated(self) -> datetime | None:
        dates = [s.published for s in self.stories() if s.published]
        return max(dates) if dates else None
