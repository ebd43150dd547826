"""An issue rendered once, with merge tokens, for export and send to personalise."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from newsletter.project import Project

if TYPE_CHECKING:
    from newsletter.config import Config
    from newsletter.deliver.message import MessageTemplate
    from newsletter.editions import Edition
    from newsletter.models import Issue


@dataclass
class Prepared:
    """An issue rendered once, with merge tokens, ready to personalise for any number of people."""

    project: Project
    issue: Issue
    html: str
    text: str
    proof: bool = False
    edition: Edition | None = None  # None: the default edition

    @property
    def edition_code(self) -> str:
        return self.edition.code if self.edition else self.project.default_edition.code

    @property
    def config(self) -> Config:
        return self.project.config

    @property
    def month(self) -> str:
        return self.issue.month

    @property
    def subject(self) -> str:
        from newsletter.deliver.message import PROOF_PREFIX

        return (PROOF_PREFIX if self.proof else "") + self.issue.subject

    def as_proof(self) -> Prepared:
        return Prepared(
            self.project, self.issue, self.html, self.text, proof=True, edition=self.edition
        )

    def message_template(self) -> MessageTemplate:
        from newsletter.deliver.message import MessageTemplate

        return MessageTemplate(
            self.config, self.issue, html=self.html, text=self.text, proof=self.proof
        )


def prepare(project: Project, month: str, edition: Edition | None = None) -> Prepared:
    """Load and render the issue (of ``edition``) once (Jinja2 + MJML); the result is filled
    per recipient."""
    from newsletter.build import render_month

    done = render_month(project, month, edition=edition)
    html, text = done.email.html, done.email.text
    serve = project.config.serve
    if serve.public_url and serve.clicks:
        html, text = _tracked(project, done.issue.month, html, text, serve.public_url)
    return Prepared(project, done.issue, html, text, edition=edition)


def _tracked(project: Project, month: str, html: str, text: str, public: str) -> tuple[str, str]:
    from newsletter.deliver.clicks import track_links
    from newsletter.store.events import EventLog
    from newsletter.store.subscribers import open_subscribers

    log = EventLog(open_subscribers(project).engine)
    keep = (public, project.config.newsletter.web_url)
    return track_links(
        month, html, text, base=public.rstrip("/"), keep=keep, register=log.register_links
    )
