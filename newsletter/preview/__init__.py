"""preview: see an issue before it is sent.

``snapshot`` renders an issue once into everything a preview shows (the email, its dark
view, the plain-text part, the check findings, the inbox line); ``server`` serves that live
and rebuilds on every save; ``screenshots`` photographs it with headless Chromium; and
``summary`` writes the Markdown summary a pull request shows.
"""

from __future__ import annotations

from newsletter.errors import NewsletterError


class PreviewError(NewsletterError):
    """A preview could not be served or photographed."""

    exit_code = 9
