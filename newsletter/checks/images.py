"""Rules on the email's images: where they are loaded from, and how much they weigh."""

from __future__ import annotations

from typing import TYPE_CHECKING

from selectolax.lexbor import LexborHTMLParser

from newsletter.checks.report import CheckReport, Level

if TYPE_CHECKING:
    from newsletter.render.issueimages import IssueImages
    from newsletter.settings.images import ImageSettings

# One image heavier than this slows the email down on a phone connection.
IMAGE_MAX_BYTES = 200 * 1024


def check_image_sources(report: CheckReport, tree: LexborHTMLParser) -> None:
    """``http://`` images: blocked as mixed content by webmail, and open to tampering."""
    seen: set[str] = set()
    for img in tree.css("img"):
        src = (img.attributes.get("src") or "").strip()
        if src.lower().startswith("http://") and src not in seen:
            seen.add(src)
            report.add(
                Level.warning, "image-http",
                "image loaded over http://: webmail clients may block it or show a warning; "
                "use an https:// address",
                src,
            )  # fmt: skip


def check_image_weight(report: CheckReport, images: IssueImages, settings: ImageSettings) -> None:
    """The issue's prepared images against ``[images] budget_kb``, and what could not be
    prepared (those are sent as their source publishes them: full size, uncropped)."""
    report.image_bytes = images.total_bytes
    report.image_budget = budget = settings.budget_kb * 1024
    if images.total_bytes > budget:
        report.add(
            Level.warning, "image-weight",
            f"the images weigh {images.total_bytes / 1024:.0f} KB together, over the budget of "
            f"{settings.budget_kb} KB ([images] budget_kb): the email loads slowly on phones",
        )  # fmt: skip
    for image in images.prepared.values():
        if image.size > IMAGE_MAX_BYTES:
            report.add(
                Level.warning, "image-weight",
                f"this image weighs {image.size / 1024:.0f} KB; keep each under "
                f"{IMAGE_MAX_BYTES // 1024} KB",
                image.url,
            )  # fmt: skip
    for failed in images.failures:
        report.add(
            Level.warning, "image",
            f"the image of “{failed.title}” could not be prepared ({failed.reason}); the email "
            "links the original, at full size and uncropped",
            failed.url,
        )  # fmt: skip
    if images.hotlinked:
        report.add(
            Level.info, "image",
            f"{len(images.hotlinked)} image(s) are linked where their sources publish them "
            "([images] prepare = false): their weight is not known",
        )  # fmt: skip
