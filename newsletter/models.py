"""Validated records that flow between the stages.

The validators here are the last line of defence: whatever a source sends, a record that
exists can be put into an email. URLs are http(s), single-line fields hold no CR/LF,
datetimes carry a time zone, and HTML bodies are sanitised.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, TypeVar
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
from newsletter.sendtime import IssueStatus as IssueStatus  # the status belongs to the issue
from newsletter.sendtime import SendAt, due_at, send_day

MONTH_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
# An http(s) URL whose host part is plain ASCII and whose rest holds no space or control
# character that the check refuses: what urlsplit would accept, without its cost (listing
# or loading a large store validates every stored URL).
_PLAIN_HTTP_URL = re.compile(
    r"[Hh][Tt][Tt][Pp][Ss]?://[A-Za-z0-9._~%!$&'()*+,;=:@-]+(?:[/?#][^\r\n\t\x00 ]*)?"
)


def check_http_url(value: str) -> str:
    value = value.strip()
    if _PLAIN_HTTP_URL.fullmatch(value):
        return value
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


# Kinds a reader acts on by a deadline: an award is a call for nominations or applications.
CALL_KINDS = frozenset({Kind.call, Kind.award})


class Dated:
    """The one owner of "is this a dated call or event, and is it still open".

    Shared by ``NewsItem`` (selection) and ``Story`` (validation, layout, templates): a
    dated story goes to the calls or events list of the email, never to a card or the lead.
    """

    if TYPE_CHECKING:
        kind: Kind
        deadline: date | None
        event_date: date | None

    @property
    def is_event(self) -> bool:
        # The kind decides: news about an event that took place keeps its event date as a
        # fact and stays news (a card), it is not listed as an event to go to.
        return self.kind is Kind.event

    @property
    def is_call(self) -> bool:
        """A call or award, or any other story with a deadline (and no event of its own)."""
        return not self.is_event and (self.kind in CALL_KINDS or self.deadline is not None)

    @property
    def is_dated(self) -> bool:
        return self.is_event or self.is_call

    @property
    def due(self) -> date | None:
        """The date a reader acts by: a call's deadline, an event's day (else its deadline)."""
        if self.is_event:
            return self.event_date or self.deadline
        return self.deadline if self.is_call else None

    def lapsed(self, send_date: date) -> list[str]:
        """The date fields (``deadline``, ``event_date``) already past on ``send_date``."""
        past = []
        if self.deadline is not None and self.deadline < send_date:
            past.append("deadline")
        if self.is_event and self.event_date is not None and self.event_date < send_date:
            past.append("event_date")
        return past

    def expired_on(self, send_date: date) -> bool:
        """Too late to act on by the day the issue goes out."""
        return bool(self.lapsed(send_date))


class DatedFields(Dated):
    """The deadline rules over bare values (an issue file's story that does not validate)."""

    def __init__(self, kind: Kind, deadline: date | None, event_date: date | None) -> None:
        self.kind, self.deadline, self.event_date = kind, deadline, event_date


DatedT = TypeVar("DatedT", bound=Dated)


def lead_story(stories: Iterable[DatedT]) -> DatedT | None:
    """The story an issue opens with: its first one that is not dated.

    Dated stories go to the calls and events lists, so the draft (which puts the story it
    picks first) and the layout plan (which opens with it) both ask this.
    """
    return next((story for story in stories if not story.is_dated), None)


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


class NewsItem(Dated, BaseModel):
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
    translation_of: HttpUrl | None = Field(
        default=None,
        description="The address of the same story in another language (WordPress "
        "translation links, or translation_of in a hand-written item).",
    )

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


class Story(Dated, BaseModel):
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


SUBJECT_MAX = 78
"""Inboxes cut a subject after about this many characters: ``draft`` suggests subjects
within it, and ``validate`` and ``check`` both warn above it (``subject_warning``)."""
SUBJECT_HARD_MAX = 150
"""Longer than this is no subject line at all: the issue file is refused."""


def subject_warning(subject: str) -> str | None:
    """What ``validate`` and ``check`` say about a subject too long for an inbox."""
    if len(subject) <= SUBJECT_MAX:
        return None
    return f"subject is {len(subject)} characters; inboxes cut it after about {SUBJECT_MAX}"


class Issue(BaseModel):
    """A monthly newsletter issue: the editor's self-contained file."""

    model_config = ConfigDict(extra="forbid")

    month: Month
    subject: SingleLine = Field(min_length=1, max_length=SUBJECT_HARD_MAX)
    preheader: SingleLine = ""
    send_at: SendAt | None = None  # when it goes out: a date, or a time with its UTC offset
    status: IssueStatus = IssueStatus.draft
    approved_by: SingleLine | None = None
    approved_at: AwareDatetime | None = None
    approved_digest: str | None = Field(default=None, description="The content approved.")
    sent_at: AwareDatetime | None = None
    language: str = Field(default="en", pattern=r"^[a-zA-Z]{2,3}(?:-[A-Za-z0-9]{2,8})*$")
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

    @property
    def send_date(self) -> date | None:
        """The day it goes out (deadlines are judged on it), in its own offset when timed."""
        return send_day(self.send_at)

    def due_at(self) -> datetime | None:
        """When ``send --due`` may send it (``sendtime.due_at``)."""
        return due_at(self.send_at)

    def stories(self) -> list[Story]:
        return [story for section in self.sections for story in section.stories]

    @property
    def lead(self) -> Story | None:
        """The story the email opens with (``lead_story``)."""
        return lead_story(self.stories())

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
