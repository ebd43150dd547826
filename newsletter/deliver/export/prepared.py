"""An issue rendered once, with merge tokens, for export and send to personalise."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from newsletter.project import Project

if TYPE_CHECKING:
    from newsletter.config import Config
    from newsletter.deliver.message import MessageTemplate
    from newsletter.models import Issue


@dataclass
class Prepared:
    """An issue rendered once, with merge tokens, ready to personalise for any number of people."""

    project: Project
    issue: Issue
    html: str
    text: str
    proof: bool = False

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
        return Prepared(self.project, self.issue, self.html, self.text, proof=True)

    def message_template(self) -> MessageTemplate:
        from newsletter.deliver.message import MessageTemplate

        return MessageTemplate(
            self.config, self.issue, html=self.html, text=self.text, proof=self.proof
        )


def prepare(project: Project, month: str) -> Prepared:
    """Load and render the issue once (Jinja2 + MJML); the result is filled per recipient."""
    from newsletter.build import render_month

    done = render_month(project, month)
    return Prepared(project, done.issue, done.email.html, done.email.text)
