"""A newsletter project on disk: where its config, store, issues and build live."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from newsletter.config import CONFIG_FILE, Config, load_config
from newsletter.editions import Edition, edition_for, pick, project_editions
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

    @cached_property
    def editions(self) -> list[Edition]:
        """The editions, the default first (one, with the historical file names, unless
        ``[newsletter] editions`` lists several)."""
        return project_editions(self.config)

    @property
    def default_edition(self) -> Edition:
        return self.editions[0]

    def edition(self, code: str | None) -> Edition:
        """The edition of ``code`` (a language; None: the default edition)."""
        return edition_for(self.editions, code)

    def pick_editions(self, code: str | None) -> list[Edition]:
        """Every edition, or only the one ``--edition CODE`` names."""
        return pick(self.editions, code)

    @property
    def locale_dir(self) -> Path:
        """The project's own message catalogs (``locale/<code>.po``), over the shipped ones."""
        return self.root / "locale"

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

    def issue_path(self, month: str, edition: Edition | None = None) -> Path:
        edition = edition or self.default_edition
        return self.issues_dir / edition.issue_file(valid_month(month))

    def edition_build_dir(self, edition: Edition | None = None) -> Path:
        """Where an edition's web site is built: build/, or build/<code>/ with several."""
        edition = edition or self.default_edition
        return self.build_dir / edition.web_prefix if edition.web_prefix else self.build_dir

    def issue_build_dir(self, month: str, edition: Edition | None = None) -> Path:
        return self.edition_build_dir(edition) / valid_month(month)

    def months(self, edition: Edition | None = None) -> list[str]:
        """Months that have an issue file (of ``edition``, else of any edition), oldest first."""
        if not self.issues_dir.is_dir():
            return []
        wanted = [edition] if edition else self.editions
        found = set()
        for path in self.issues_dir.glob("*.yaml"):
            month = path.name.split(".")[0]
            try:
                valid_month(month)
            except ProjectError:
                continue
            if any(path.name == e.issue_file(month) for e in wanted):
                found.add(month)
        return sorted(found)

    def require_issue(self, month: str, edition: Edition | None = None) -> Path:
        path = self.issue_path(month, edition)
        if not path.is_file():
            have = ", ".join(self.months(edition)) or "none yet"
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
