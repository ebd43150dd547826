"""What every section of ``newsletter.toml`` shares: no unknown keys, checked addresses."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict


def _check_email(value: str) -> str:
    from email_validator import EmailNotValidError, validate_email

    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ValueError(str(exc)) from None


Email = Annotated[str, AfterValidator(_check_email)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")
