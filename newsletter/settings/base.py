"""What every section of ``newsletter.toml`` shares: no unknown keys, checked addresses."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict

_ATOM = r"[A-Za-z0-9_!#$%&'*+\-/=?^`{|}~]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
# A plain ASCII address that email-validator accepts unchanged but for the domain's case:
# dot-atom local part, host labels of letters, digits and inner hyphens, a top-level label
# ending in a letter. Anything else (quoting, Unicode, "xn--", reserved names) goes to it.
_PLAIN_EMAIL = re.compile(
    rf"{_ATOM}(?:\.{_ATOM})*@(?:{_LABEL}\.)+(?:[A-Za-z0-9][A-Za-z0-9-]{{0,61}})?[A-Za-z]"
)
_RESERVED = ("arpa", "invalid", "local", "localhost", "onion", "test")


def _plain_email(value: str) -> str | None:
    """``value`` as email-validator would normalise it, when it is plainly valid; else None."""
    if len(value) > 254 or not _PLAIN_EMAIL.fullmatch(value):
        return None
    local, domain = value.rsplit("@", 1)
    domain = domain.lower()
    if len(local) > 64 or len(domain) > 253 or "--" in domain:
        return None
    if any(domain == name or domain.endswith("." + name) for name in _RESERVED):
        return None
    return f"{local}@{domain}"


def _check_email(value: str) -> str:
    # email-validator takes ~25 ms to import (its tables compile on import), on every
    # command that reads newsletter.toml; the addresses there are nearly always plain.
    plain = _plain_email(value)
    if plain is not None:
        return plain
    from email_validator import EmailNotValidError, validate_email

    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ValueError(str(exc)) from None


Email = Annotated[str, AfterValidator(_check_email)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")
