"""preview: see an issue before it is sent.

``snapshot`` renders an issue once into everything a preview shows (the email, its dark
view, the plain-text part, the check findings, the inbox line); ``server`` serves that live
and rebuilds on every save; ``screenshots`` photographs it with headless Chromium; and
``summary`` writes the Markdown summary a pull request shows.
"""

from newsletter.errors import PreviewError

__all__ = ["PreviewError"]
