"""The provider log: each campaign step is claimed once, on SQLite and PostgreSQL."""

from __future__ import annotations

from newsletter.store.providerlog import ProviderLog, Step
from tests.pgserver import Backend


def test_a_step_is_claimed_once_and_kept_with_the_providers_id(backend: Backend) -> None:
    with ProviderLog(backend.url) as log, ProviderLog(backend.url) as other:
        assert log.claim("2020-10", "mailchimp", "campaign")
        assert not other.claim("2020-10", "mailchimp", "campaign")  # another run: refused
        assert other.step("2020-10", "mailchimp", "campaign") == Step(
            "campaign", "claimed", None, ""
        )
        log.accept("2020-10", "mailchimp", "campaign", "c0ffee", "created")
        assert log.steps("2020-10", "mailchimp") == {
            "campaign": Step("campaign", "accepted", "c0ffee", "created")
        }
        log.release("2020-10", "mailchimp", "campaign")  # accepted steps stay
        assert log.step("2020-10", "mailchimp", "campaign") is not None
        assert log.claim("2020-10", "brevo", "campaign")  # per provider and issue
        assert log.claim("2020-11", "mailchimp", "campaign")
        log.release("2020-11", "mailchimp", "campaign")
        assert log.step("2020-11", "mailchimp", "campaign") is None
