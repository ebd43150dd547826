"""The ASGI application for uvicorn's workers: ``newsletter.serve.asgi:app`` (a factory).

``newsletter serve`` sets NEWSLETTER_PROJECT to the project folder before uvicorn imports it.
"""

from __future__ import annotations

import os

from starlette.types import ASGIApp

from newsletter.project import Project
from newsletter.serve.app import build_service, create_app

PROJECT_ENV = "NEWSLETTER_PROJECT"


def app() -> ASGIApp:
    project = Project.at(os.environ.get(PROJECT_ENV, "."))
    return create_app(build_service(project))
