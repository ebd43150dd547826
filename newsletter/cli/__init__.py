"""The thin command-line layer: each command loads the project, calls a stage, prints."""

from newsletter.cli.app import app
from newsletter.cli.main import INTERNAL_ERROR, main

__all__ = ["INTERNAL_ERROR", "app", "main"]
