"""Post-render transforms: small, ordered fixes to the HTML that mjml-python produces.

Each transform is a function over the compiled HTML, registered with the outputs it applies
to (the email, the web page or both) and run in registration order by ``apply_transforms``.
They work on the markup MJML generates, whose shape is known, so a few targeted patterns are
enough and the rest of the document is left byte for byte as it was.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import Flag, auto

Transform = Callable[[str], str]


class Output(Flag):
    email = auto()
    web = auto()
    both = email | web


@dataclass(frozen=True)
class Registered:
    name: str
    outputs: Output
    apply: Transform


TRANSFORMS: list[Registered] = []


def transform(name: str, outputs: Output = Output.both) -> Callable[[Transform], Transform]:
    def register(function: Transform) -> Transform:
        TRANSFORMS.append(Registered(name, outputs, function))
        return function

    return register


def apply_transforms(html: str, *, web: bool = False) -> str:
    output = Output.web if web else Output.email
    for each in TRANSFORMS:
        if output in each.outputs:
            html = each.apply(html)
    return html


_IMG_AUTO_HEIGHT = re.compile(r'(<img\b[^>]*?)\s+height="auto"', re.I)
_TD_VERTICAL_ALIGN = re.compile(r'(<td\b[^>]*?)\s+vertical-align="[^"]*"', re.I)


@transform("img-height-auto")
def drop_auto_height(html: str) -> str:
    """``<img height="auto">`` is invalid HTML (height is a number); the inline style keeps it."""
    return _IMG_AUTO_HEIGHT.sub(r"\1", html)


@transform("td-vertical-align")
def drop_vertical_align_attribute(html: str) -> str:
    """``vertical-align`` is no attribute of ``<td>``; MJML also sets it in the style."""
    return _TD_VERTICAL_ALIGN.sub(r"\1", html)


# A link whose only content is one image: the image link of a card or the lead.
_IMAGE_LINK = re.compile(r"<a\b(?P<attrs>[^>]*)>(?P<img>\s*<img\b[^>]*>\s*)</a>", re.I)
_HREF = re.compile(r'\bhref="([^"]*)"', re.I)
_TEXT_LINK = re.compile(r'<a\b[^>]*\bhref="([^"]*)"[^>]*>(?!\s*<img\b[^>]*>\s*</a>)', re.I)


@transform("hide-image-links")
def hide_duplicate_image_links(html: str) -> str:
    """Hide an image link from screen readers and the keyboard when a text link goes there too.

    Otherwise the photo's alt text names the link ("Kjetil Taskén, Åslaug Helland and …"),
    and each story is announced once more. The picture stays clickable for everyone.
    """
    text_targets = {m.group(1) for m in _TEXT_LINK.finditer(html)}

    def hide(match: re.Match[str]) -> str:
        attrs = match.group("attrs")
        href = _HREF.search(attrs)
        if href is None or href.group(1) not in text_targets or "aria-hidden" in attrs:
            return match.group(0)
        return f'<a{attrs} aria-hidden="true" tabindex="-1">{match.group("img")}</a>'

    return _IMAGE_LINK.sub(hide, html)


_ROLEDESCRIPTION = re.compile(r'\s+aria-roledescription="email"', re.I)
_BODY_OPEN = re.compile(r"<body\b[^>]*>", re.I)
_BODY_CLOSE = re.compile(r"</body\s*>", re.I)


@transform("web-landmarks", Output.web)
def web_landmarks(html: str) -> str:
    """The web page is a page, not an email: a ``<main>`` landmark, no "email" role name."""
    html = _ROLEDESCRIPTION.sub("", html, count=1)
    opened = _BODY_OPEN.search(html)
    closed = _BODY_CLOSE.search(html, opened.end()) if opened else None
    if opened is None or closed is None or "<main" in html:
        return html
    return (
        html[: opened.end()]
        + "<main>"
        + html[opened.end() : closed.start()]
        + "</main>"
        + html[closed.start() :]
    )
