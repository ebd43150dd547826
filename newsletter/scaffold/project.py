"""``newsletter init``: a new project with a config, the default templates and issues/."""

from __future__ import annotations

import shutil
from importlib.resources import files
from pathlib import Path

from newsletter.errors import ProjectError
from newsletter.render import package_templates

GITIGNORE = ".newsletter/\nbuild/\n"


def init_project(directory: Path, *, force: bool = False) -> list[Path]:
    if directory.exists() and any(directory.iterdir()) and not force:
        raise ProjectError(
            f"{directory}: folder is not empty", hint="choose a new folder, or pass --force"
        )
    directory.mkdir(parents=True, exist_ok=True)
    config = directory / "newsletter.toml"
    created = []
    if not config.exists():
        config.write_text((files("newsletter.scaffold") / "newsletter.toml").read_text("utf-8"))
        created.append(config)
    templates = directory / "templates"
    shutil.copytree(package_templates(), templates, dirs_exist_ok=True)
    created.append(templates)
    for folder in ("issues", "sources"):
        (directory / folder).mkdir(exist_ok=True)
        created.append(directory / folder)
    gitignore = directory / ".gitignore"
    if not gitignore.exists():
        gitignore.write_text(GITIGNORE)
        created.append(gitignore)
    return created
