"""The sign-up and preference forms: every field is hostile until it is checked here."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from email_validator import EmailNotValidError, validate_email

MAX_NAME = 100
MAX_EMAIL = 254
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")


@dataclass
class SignupForm:
    email: str = ""
    name: str = ""
    language: str = ""
    topics: list[str] = field(default_factory=list)
    consent: bool = False
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


def normalise_address(raw: str) -> str | None:
    """The address in its normal form (lower-cased), or None when it is not one."""
    value = raw.strip()
    if not value or len(value) > MAX_EMAIL or _CONTROL.search(value):
        return None
    try:
        return validate_email(value, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        return None


def clean_name(raw: str) -> str | None:
    value = raw.strip()
    if len(value) > MAX_NAME or _CONTROL.search(value):
        return None
    return value


def read_signup(
    data: Mapping[str, str],
    topics_given: Sequence[str],
    *,
    languages: Sequence[str],
    topics: Mapping[str, str],
    need_consent: bool = True,
) -> SignupForm:
    form = SignupForm(
        email=str(data.get("email", ""))[: MAX_EMAIL + 1],
        name=str(data.get("name", ""))[: MAX_NAME + 1],
        language=str(data.get("language", "") or languages[0]),
        topics=[str(t) for t in topics_given][:50],
        consent=bool(data.get("consent")),
    )
    address = normalise_address(form.email)
    if address is None:
        form.errors["email"] = "error_email"
    else:
        form.email = address
    name = clean_name(form.name)
    if name is None:
        form.errors["name"] = "error_name"
    else:
        form.name = name
    if form.language not in languages:
        form.errors["language"] = "error_language"
    if any(t not in topics for t in form.topics):
        form.errors["topics"] = "error_topics"
    if need_consent and not form.consent:
        form.errors["consent"] = "error_consent"
    return form
