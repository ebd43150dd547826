"""Golden HTML one tag per line, so that a change to the rendering reads as a short diff.

``tag_per_line`` adds a line break after every tag, comment and conditional comment and
changes nothing else; ``joined`` removes exactly those breaks again. The golden test checks
``joined(tag_per_line(html)) == html`` for every rendered page, so a stored golden file
holds the same HTML, byte for byte, as the build wrote.
"""

from __future__ import annotations

import re

# At a "<": Outlook's conditional comments are split at their own brackets, so the markup
# inside them gets one line per tag too; other comments stay whole; then any tag.
_TAG = re.compile(
    r"<!--\[if [^\]]*\]>"  # <!--[if mso]>
    r"|<!\[endif\]-->"  # <![endif]-->
    r"|<!-->"  # the end of <!--[if !mso]><!-->
    r"|<!--.*?-->"  # a comment, <!--<![endif]--> included
    r"|</?[A-Za-z!?][^>]*>",  # a tag (a bare "<" in text is not one)
    re.DOTALL,
)


def _pieces(html: str) -> list[tuple[str, bool]]:
    """``html`` cut into (text, is_tag) pieces; joined together they are ``html`` again."""
    pieces: list[tuple[str, bool]] = []
    start = 0
    while (at := html.find("<", start)) != -1:
        tag = _TAG.match(html, at)
        if tag is None:  # a "<" that opens nothing: part of the text
            pieces.append((html[start : at + 1], False))
            start = at + 1
            continue
        if at > start:
            pieces.append((html[start:at], False))
        pieces.append((tag.group(), True))
        start = tag.end()
    if start < len(html):
        pieces.append((html[start:], False))
    return pieces


def tag_per_line(html: str) -> str:
    """``html`` with a line break after every tag."""
    return "".join(text + "\n" if is_tag else text for text, is_tag in _pieces(html))


def joined(formatted: str) -> str:
    """The HTML that ``tag_per_line`` made ``formatted`` from."""
    out: list[str] = []
    skip_break = False
    for text, is_tag in _pieces(formatted):
        if skip_break:
            if not text.startswith("\n"):
                raise ValueError(f"not tag-per-line HTML: no line break before {text[:40]!r}")
            text = text[1:]
        out.append(text)
        skip_break = is_tag
    if skip_break:
        raise ValueError("not tag-per-line HTML: no line break after the last tag")
    return "".join(out)
