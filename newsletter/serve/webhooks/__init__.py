"""Provider event intake: one module per provider, each verifying before it parses."""

from newsletter.serve.webhooks import brevo, mailgun, postmark, sendgrid, ses  # noqa: F401
from newsletter.serve.webhooks.base import PROVIDERS, Context, Incoming, Refused

__all__ = ["PROVIDERS", "Context", "Incoming", "Refused"]
