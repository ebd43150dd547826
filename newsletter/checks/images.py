"""Rules on the email's images: where they are loaded from, and how much they weigh."""

from __future__ import annotations

from selectolax.lexbor import LexborHTMLParser

from newsletter.checks.report import CheckReport, Level


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
