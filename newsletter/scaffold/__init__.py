"""``newsletter init``: a new project with a config, the default templates and issues/."""

from newsletter.scaffold.project import init_project

__all__ = ["init_project"]
