"""Per-recipient merge tokens.

An issue is rendered once with neutral tokens such as ``%%unsubscribe_url%%``; exports and
sends then fill them per recipient (or translate them to a provider's own merge syntax),
so MJML is never compiled per recipient.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from newsletter.config import Config

FIELDS = ("unsubscribe_url",)
_TOKEN_RE = re.compile(r"%%([a-z_]+)%%")


def token(name: str) -> str:
    if name not in FIELDS:
        raise KeyError(name)
    return f"%%{name}%%"


def fill(template: str, values: Mapping[str, str]) -> str:
    """Replace every known token; unknown ones are left for ``check`` to report."""
    return _TOKEN_RE.sub(lambda m: values.get(m.group(1), m.group(0)), template)


def preview_values(config: Config) -> dict[str, str]:
    """Values for a non-personal copy: the build output and the web version."""
    return {"unsubscribe_url": config.newsletter.unsubscribe_url}
