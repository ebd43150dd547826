"""Header lines as RFC 5322 and RFC 2047 want them.

Non-ASCII text becomes encoded-words of at most 75 characters, each holding whole characters;
lines are folded at spaces to 78 characters where a space allows it, and never before the
first word (some parsers read such a fold back with a leading space). Python's own folder
either leaves one encoded-word of any length on one line (``max_line_length=998``) or, at 78,
encodes long URLs in unstructured headers such as List-Unsubscribe, which breaks them.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from email.utils import formataddr
from typing import TypeVar

from newsletter.errors import ExportError

LINE = 78  # RFC 5322 2.1.1: lines SHOULD be at most 78 characters, MUST be at most 998
WORD_MAX = 75  # RFC 2047 2: an encoded-word is at most 75 characters
_PREFIX_Q, _PREFIX_B, _SUFFIX = "=?utf-8?q?", "=?utf-8?b?", "?="
_ROOM = WORD_MAX - len(_PREFIX_Q) - len(_SUFFIX)
# RFC 2047 5(3): the characters a "Q" word may carry as themselves in any header, phrases too.
_Q_SAFE = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!*+-/")
T = TypeVar("T", str, bytes)


def safe_header(name: str, value: str) -> str:
    """Header values never carry CR, LF or NUL: that is how header injection starts."""
    if "\r" in value or "\n" in value or "\x00" in value:
        raise ExportError(f"refusing header {name}: the value contains CR, LF or NUL")
    return value


def _q(char: str) -> str:
    if char == " ":
        return "_"
    return "".join(chr(b) if b in _Q_SAFE else f"={b:02X}" for b in char.encode("utf-8"))


def encode_words(text: str) -> list[str]:
    """``text`` as RFC 2047 encoded-words of at most 75 characters, none splitting a character.

    "Q" keeps mostly-Latin text readable in the raw message; "B" is shorter for other scripts
    and is used when "Q" would be half as long again.
    Spaces are encoded too: the white space between two encoded-words is not part of the text.
    """
    q_pieces = [_q(c) for c in text]
    if sum(map(len, q_pieces)) * 2 <= (len(text.encode("utf-8")) + 2) // 3 * 4 * 3:
        return [_PREFIX_Q + "".join(run) + _SUFFIX for run in _runs(q_pieces, len, _ROOM)]
    return [
        _PREFIX_B + base64.b64encode(b"".join(run)).decode("ascii") + _SUFFIX
        for run in _runs([c.encode("utf-8") for c in text], len, _ROOM // 4 * 3)
    ]


def _runs(pieces: Sequence[T], size: Callable[[T], int], room: int) -> list[list[T]]:
    """``pieces`` in order, grouped greedily so no group's total size passes ``room``."""
    runs: list[list[T]] = [[]]
    used = 0
    for piece in pieces:
        if runs[-1] and used + size(piece) > room:
            runs.append([])
            used = 0
        runs[-1].append(piece)
        used += size(piece)
    return runs


def text_tokens(value: str) -> list[str]:
    """An unstructured value (Subject) as words: ASCII ones as they are, the rest encoded.

    Consecutive words that need encoding become one run, so the spaces between them survive.
    """
    tokens: list[str] = []
    run: list[str] = []
    for word in value.split(" "):
        if word.isascii() and "=?" not in word:
            if run:
                tokens += encode_words(" ".join(run))
                run = []
            tokens.append(word)
        else:
            run.append(word)
    if run:
        tokens += encode_words(" ".join(run))
    return tokens


def address_tokens(display_name: str, addr_spec: str) -> list[str]:
    """``Name <addr>``: an ASCII name quoted when it needs it, any other name encoded whole."""
    if not display_name:
        return [addr_spec]
    if display_name.isascii() and "=?" not in display_name:
        return formataddr((display_name, addr_spec)).split(" ")
    return [*encode_words(display_name), f"<{addr_spec}>"]


def fold(name: str, tokens: list[str]) -> bytes:
    """One header field from its words, folded at spaces, CRLF-terminated, 7-bit."""
    lines: list[str] = []
    line = f"{name}:"
    first = True
    for token in tokens:
        if not first and token and len(line) + 1 + len(token) > LINE:
            lines.append(line)
            line = " " + token
        else:
            line += " " + token
        first = False
    lines.append(line)
    folded = "\r\n".join(lines) + "\r\n"
    if not folded.isascii():
        raise ExportError(f"header {name}: cannot be written as 7-bit ASCII")
    return folded.encode("ascii")


def header(name: str, value: str) -> bytes:
    """One unstructured header line, RFC 2047-encoded where it is not ASCII."""
    safe_header(name, value)
    if value.isascii() and len(name) + 2 + len(value) <= LINE:
        return f"{name}: {value}\r\n".encode("ascii")
    return fold(name, text_tokens(value))


def address_header(name: str, display_name: str, addr_spec: str) -> bytes:
    safe_header(name, display_name)
    safe_header(name, addr_spec)
    if not addr_spec.isascii():
        raise ExportError(
            f"header {name}: the address {addr_spec!r} is not ASCII",
            hint="use the ASCII (punycode) form of its domain",
        )
    return fold(name, address_tokens(display_name, addr_spec))
