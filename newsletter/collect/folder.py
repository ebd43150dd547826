"""Hand-written items: a folder of Markdown files with YAML front matter.

For calls, events and announcements that are on no website::

    ---
    title: "Save the date: EHiN 2020"
    date: 2020-10-20            # when it was announced (a date, or a date and time in UTC)
    url: https://ehin.no/       # where readers act: the event, the call, a registration form
    kind: event                 # news, event, call or award (default: an event if it has an
                                # event_date, else worked out from the text)
    event_date: 2020-11-10      # or deadline: 2020-11-01
    kicker: Conference          # optional, like image (a URL, or url/alt/credit), summary, language
    ---
    The body, in Markdown. Raw HTML is shown as text, never run.

Every ``*.md`` file is one item, except README.md and files whose name starts with ``_``.
A file with a mistake is reported by name and key; the other files are still collected.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from newsletter.collect.dates import at_noon
from newsletter.collect.normalize import Parsed, RawItem
from newsletter.errors import CollectError, pydantic_message
from newsletter.models import Kind

MAX_FILE_BYTES = 1024 * 1024


class ImageSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str
    alt: str | None = None
    credit: str | None = None


class FrontMatter(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1)
    published: datetime | date = Field(alias="date")
    url: str = Field(min_length=1)
    kind: Kind | None = None
    deadline: date | None = None
    event_date: date | None = None
    kicker: str | None = None
    summary: str | None = None
    image: str | ImageSpec | None = None
    language: str | None = Field(default=None, pattern=r"^[a-z]{2,3}$")
    guid: str | None = None
    translation_of: str | None = Field(
        default=None, description="The url of the same item in another language."
    )


def load_folder(folder: Path, *, source: str) -> Parsed:
    if not folder.is_dir():
        raise CollectError(
            f"{source}: {folder} is not a folder",
            hint="a folder source's url is a folder of Markdown files, relative to the project",
        )
    parsed = Parsed()
    for path in sorted(folder.rglob("*.md")):
        if path.name.lower() == "readme.md" or path.name.startswith("_"):
            continue
        try:
            parsed.raw.append(read_item(path))
        except CollectError as exc:
            parsed.problems.append(exc.message)
    return parsed


def split_front_matter(text: str) -> tuple[str, str, int] | None:
    """(front matter, body, line number where the body starts), or None without one."""
    lines = text.lstrip("\ufeff").splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        return None
    for number, line in enumerate(lines[1:], 1):
        if line.strip() in ("---", "..."):
            return "".join(lines[1:number]), "".join(lines[number + 1 :]), number + 2
    return None


def read_item(path: Path) -> RawItem:
    from markdown_it import MarkdownIt
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    name = f"{path.parent.name}/{path.name}"
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise CollectError(f"{name}: larger than 1 MB; is it really one item?")
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise CollectError(f"{name}: not UTF-8 text; save it as UTF-8") from None
    except OSError as exc:
        raise CollectError(f"{name}: cannot read it: {exc.strerror}") from None
    parts = split_front_matter(text)
    if parts is None:
        raise CollectError(
            f"{name}: no front matter; start the file with a '---' line, then title, date "
            "and url, then another '---' line"
        )
    header, body, _ = parts
    try:
        data: Any = YAML(typ="safe", pure=True).load(header)
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 2}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise CollectError(f"{name}{where}: front matter is not valid YAML: {problem}") from None
    if not isinstance(data, dict):
        raise CollectError(f"{name}: front matter must be keys and values (title: …)")
    try:
        front = FrontMatter.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'][:1]) or 'front matter'}: {pydantic_message(err)}"
            for err in exc.errors()
        )
        raise CollectError(f"{name}: {problems}") from None
    published = front.published
    if isinstance(published, datetime):
        published = published if published.tzinfo else published.replace(tzinfo=UTC)
    else:
        published = at_noon(published)
    image = front.image if isinstance(front.image, ImageSpec) else None
    image_url = front.image if isinstance(front.image, str) else (image.url if image else None)
    body_html = MarkdownIt("commonmark", {"html": False}).render(body) if body.strip() else ""
    return RawItem(
        title=front.title,
        link=front.url,
        published=published,
        summary_html=front.summary or "",
        body_html=body_html,
        kicker=front.kicker,
        image_url=image_url,
        image_alt=image.alt if image else None,
        image_credit=image.credit if image else None,
        guid=front.guid or f"file:{path.name}",
        language=front.language,
        kind=front.kind,
        deadline=front.deadline,
        event_date=front.event_date,
        translation_of=front.translation_of,
    )
