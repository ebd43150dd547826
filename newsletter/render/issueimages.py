"""The image step of a render: every story image the layout shows, prepared for its place.

``prepare_issue_images`` finds each picture the email shows (the lead's, the cards'), gets
its bytes once (``imagefetch``), crops and re-encodes it for its slot (``images``) and keeps
the result in ``.newsletter/cache/images/out/``, named after the story, the slot and a digest
of everything that went into it. ``IssueImages.apply`` points the issue's stories at the
prepared files, published beside the web version under ``[newsletter] web_url``
(``build/YYYY-MM/img/``). An image that fails keeps its original address and is reported.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from newsletter.models import Issue, Story
from newsletter.project import Project
from newsletter.render.context import image_slots
from newsletter.render.imagefetch import ImageSource
from newsletter.render.images import PIPELINE_VERSION, ImageProblem, Slot, prepare_image
from newsletter.render.layout import plan_layout
from newsletter.render.theme import build_theme

WORKERS = 4


@dataclass(frozen=True)
class PreparedImage:
    story_id: str
    slot: str
    source_url: str
    url: str  # where subscribers load it: web_url/YYYY-MM/img/NAME
    path: Path  # the prepared file in the cache
    width: int
    height: int
    size: int  # bytes

    @property
    def name(self) -> str:
        return self.path.name


@dataclass(frozen=True)
class ImageFailure:
    story_id: str
    title: str
    url: str
    reason: str


@dataclass
class IssueImages:
    prepared: dict[str, PreparedImage] = field(default_factory=dict)  # story id ->
    failures: list[ImageFailure] = field(default_factory=list)
    hotlinked: list[str] = field(default_factory=list)  # [images] prepare = false

    @property
    def total_bytes(self) -> int:
        return sum(p.size for p in self.prepared.values())

    def files(self) -> dict[str, Path]:
        """Public URL -> prepared file, for writing build/YYYY-MM/img/ and for previews."""
        return {p.url: p.path for p in self.prepared.values()}

    def apply(self, issue: Issue) -> Issue:
        """The resolved issue with each prepared story pointing at its prepared image."""
        issue = issue.resolved()
        if not self.prepared:
            return issue
        sections = [
            section.model_copy(update={"stories": [self._story(s) for s in section.stories]})
            for section in issue.sections
        ]
        return issue.model_copy(update={"sections": sections})

    def _story(self, story: Story) -> Story:
        done = self.prepared.get(story.id)
        if done is None or story.image is None:
            return story
        image = story.image.model_copy(
            update={"url": done.url, "width": done.width, "height": done.height}
        )
        return story.model_copy(update={"image": image})


def shown_images(issue: Issue, slots: dict[str, Slot]) -> list[tuple[Story, Slot]]:
    """The stories whose picture the layout shows, each with its slot (lead first)."""
    layout = plan_layout(issue.resolved())
    shown = []
    if layout.lead is not None and layout.lead.image is not None:
        shown.append((layout.lead, slots["lead"]))
    for section in layout.sections:
        shown += [(s, slots["card"]) for s in section.stories if s.image is not None]
    return shown


def prepare_issue_images(project: Project, issue: Issue, *, fetch: bool = True) -> IssueImages:
    """Prepare every image ``issue`` shows; ``fetch=False`` uses no network (copies, cache)."""
    config = project.config
    settings = config.newsletter
    slots = image_slots(build_theme(config.brand))
    result = IssueImages()
    wanted = shown_images(issue, slots)
    if not config.images.prepare:
        result.hotlinked = [s.image.url for s, _ in wanted if s.image]
        return result
    base = f"{settings.web_url.rstrip('/')}/{issue.month}/img/"
    out_dir = project.image_cache_dir / "out"
    with ImageSource(project.root, project.image_cache_dir, config.images, fetch=fetch) as source:

        def one(pair: tuple[Story, Slot]) -> PreparedImage | ImageFailure:
            story, slot = pair
            assert story.image is not None
            try:
                return _prepare(source, story, slot, out_dir, base, project)
            except ImageProblem as exc:
                return ImageFailure(story.id, story.title, story.image.url, str(exc))

        workers = min(WORKERS, len(wanted)) or 1
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for done in pool.map(one, wanted):
                if isinstance(done, ImageFailure):
                    result.failures.append(done)
                else:
                    result.prepared[done.story_id] = done
    return result


def _prepare(
    source: ImageSource, story: Story, slot: Slot, out_dir: Path, base: str, project: Project
) -> PreparedImage:
    image = story.image
    assert image is not None
    data = source.get(image.url)
    settings = project.config.images
    inputs = [PIPELINE_VERSION, hashlib.sha256(data).hexdigest(), slot.name, slot.width]
    inputs += [slot.ratio, image.focus, image.credit, settings.max_megapixels]
    recipe = json.dumps(inputs)
    digest = hashlib.sha256(recipe.encode()).hexdigest()[:12]
    note = out_dir / f"{digest}.json"
    if note.is_file():
        known = json.loads(note.read_text("utf-8"))
        path = out_dir / known["name"]
        if path.is_file():
            return PreparedImage(
                story.id, slot.name, image.url, base + path.name, path,
                known["width"], known["height"], path.stat().st_size,
            )  # fmt: skip
    encoded = prepare_image(
        data,
        slot,
        focus=image.focus,
        credit=image.credit,
        max_pixels=int(settings.max_megapixels * 1_000_000),
    )
    safe_id = re.sub(r"[^A-Za-z0-9_-]+", "-", story.id)[:40]
    name = f"{safe_id}-{slot.name}-{digest}.{encoded.extension}"
    path = out_dir / name
    _write(path, encoded.data)
    _write(note, json.dumps({"name": name, "width": encoded.width, "height": encoded.height}))
    return PreparedImage(
        story.id, slot.name, image.url, base + name, path,
        encoded.width, encoded.height, len(encoded.data),
    )  # fmt: skip


def _write(path: Path, content: bytes | str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = content.encode("utf-8") if isinstance(content, str) else content
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".part-")
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    os.replace(tmp, path)
