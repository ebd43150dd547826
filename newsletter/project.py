"""A newsletter project on disk: where its config, store, issues and build live."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from newsletter.config import CONFIG_FILE, Config, load_config
from newsletter.errors import ProjectError, StoreError
from newsletter.models import check_month
from newsletter.store.url import DatabaseUrl, resolve


@dataclass(frozen=True)
class Project:
    root: Path

    @classmethod
    def at(cls, root: Path | str = ".") -> Project:
        return cls(Path(root).resolve())

    @cached_property
    def config(self) -> Config:
        return load_config(self.config_path)

    @property
    def config_path(self) -> Path:
        return self.root / CONFIG_FILE

    @property
    def database(self) -> DatabaseUrl:
        """Where the store lives: NEWSLETTER_DATABASE_URL, else [database] url, else SQLite."""
        return resolve(self.root, self.config.database.url)

    @property
    def store_path(self) -> Path:
        """The SQLite file of the store (``.newsletter/store.db`` unless configured)."""
        database = self.database
        if database.path is None:
            raise StoreError(
                f"{database.display}: only `newsletter db` commands use a PostgreSQL store so "
                "far; the others need SQLite",
                hint="unset NEWSLETTER_DATABASE_URL and [database] url to use .newsletter/store.db",
            )
        return database.path

    @property
    def image_cache_dir(self) -> Path:
        """Downloaded and prepared story images, kept between builds."""
        return self.root / ".newsletter" / "cache" / "images"

    @property
    def issues_dir(self) -> Path:
        return self.root / "issues"

    @property
    def templates_dir(self) -> Path:
        return self.root / "templates"

    @property
    def build_dir(self) -> Path:
        return self.root / "build"

    def issue_path(self, month: str) -> Path:
        return self.issues_dir / f"{valid_month(month)}.yaml"

    def issue_build_dir(self, month: str) -> Path:
        return self.build_dir / valid_month(month)

    def months(self) -> list[str]:
        """Months that have an issue file, oldest first."""
        if not self.issues_dir.is_dir():
            return []
        found = []
        for path in self.issues_dir.glob("*.yaml"):
            try:
                found.append(valid_month(path.stem))
            except ProjectError:
                continue
        return sorted(found)

    def require_issue(self, month: str) -> Path:
        path = self.issue_path(month)
        if not path.is_file():
            have = ", ".join(self.months()) or "none yet"
            raise ProjectError(
                f"{path}: no issue file for {month}",
                hint=f"draft it with `newsletter draft {month}` (existing issues: {have})",
            )
        return path


def valid_month(month: str) -> str:
    try:
        return check_month(month)
    except ValueError as exc:
        raise ProjectError(f"{exc}", hint="for example 2020-10") from None
