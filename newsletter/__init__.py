"""newsletter: compile a monthly email newsletter from your organisation's news."""

__version__ = "0.1.0"
