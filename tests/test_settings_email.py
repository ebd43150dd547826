"""The plain-address shortcut of the config's Email check agrees with email-validator."""

from __future__ import annotations

import random
import string

import pytest
from email_validator import EmailNotValidError, validate_email

from newsletter.settings.base import _check_email, _plain_email

ATEXT = string.ascii_letters + string.digits + "_!#$%&'*+-/=?^`{|}~."
LABEL = string.ascii_letters + string.digits + "-"


def reference(value: str) -> str | None:
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError:
        return None


def test_every_address_the_shortcut_takes_is_one_email_validator_takes_alike() -> None:
    rng = random.Random(19)
    taken = 0
    for _ in range(4000):
        local = "".join(rng.choice(ATEXT) for _ in range(rng.randint(1, 70)))
        labels = [
            "".join(rng.choice(LABEL) for _ in range(rng.randint(1, 8)))
            for _ in range(rng.randint(1, 4))
        ]
        value = local + "@" + ".".join(labels)
        fast = _plain_email(value)
        if fast is not None:
            taken += 1
            assert fast == reference(value), value
    assert taken > 1000  # the shortcut is exercised, not just skipped


@pytest.mark.parametrize(
    "value",
    ["news@Example.ORG", "a.b+c@x.co", "ann@x.test", "ann@localhost", "ann@mail.x.arpa",
     "ann@xn--bcher-kva.de", "ab@cd--ef.org", "ann@x.123", "blåbær@example.org",
     '"quoted"@example.org', "a..b@example.org", "ann@example", "a@" + "b" * 64 + ".org"],
)  # fmt: skip
def test_the_check_answers_as_email_validator_does(value: str) -> None:
    expected = reference(value)
    if expected is None:
        with pytest.raises(ValueError):
            _check_email(value)
    else:
        assert _check_email(value) == expected
