"""Message catalogs: every word the email, the web pages and the service pages show.

The catalogs are gettext ``.po`` files read with Babel: ``newsletter/locale/<code>.po`` ship
English and Norwegian Bokmål, and a project's own ``locale/<code>.po`` adds or overrides
entries. Each entry's ``msgctxt`` is the key templates use (``t.read_more``) and its
``msgid`` the English text, so an entry a catalog lacks falls back to English. Dates and
month names come from Babel's CLDR data in the catalog's pattern (``date_format``).
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.dates import format_date as babel_format_date
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from newsletter.errors import ConfigError

# Norwegian is one detected language; Bokmål's catalog also serves "no" and Nynorsk until a
# project ships its own nn.po.
FALLBACKS = {"no": "nb", "nn": "nb"}
RTL_LANGUAGES = frozenset({"ar", "arc", "dv", "fa", "he", "ks", "ku", "ps", "sd", "ug", "ur", "yi"})


def package_locale() -> Path:
    return Path(str(files("newsletter") / "locale"))


def primary(code: str) -> str:
    """The language subtag of a BCP 47 tag: "nb" for "nb-NO"."""
    return code.replace("_", "-").split("-")[0].lower()


def catalog_names(code: str) -> list[str]:
    """The catalog files that may speak ``code``, most specific first."""
    tag = code.replace("_", "-")
    names = [tag, primary(tag)]
    if primary(tag) in FALLBACKS:
        names.append(FALLBACKS[primary(tag)])
    return list(dict.fromkeys(names))


def _read(path: Path) -> Catalog:
    try:
        with path.open("rb") as handle:
            return read_po(handle, locale=None, abort_invalid=True)
    except Exception as exc:  # Babel raises PoFileError, ValueError... on a broken file
        raise ConfigError(f"{path}: not a readable message catalog: {exc}") from exc


def _translations(catalog: Catalog) -> Translations:
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer)


@dataclass(frozen=True)
class Entry:
    key: str
    english: str
    plural: str | None = None


@lru_cache(maxsize=1)
def source_entries() -> dict[str, Entry]:
    """Every key with its English text, from the shipped English catalog."""
    entries: dict[str, Entry] = {}
    for message in _read(package_locale() / "en.po"):
        if not message.id or not message.context:
            continue
        if isinstance(message.id, tuple | list):
            entries[message.context] = Entry(message.context, message.id[0], message.id[1])
        else:
            entries[message.context] = Entry(message.context, message.id)
    return entries


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def catalog_files(code: str, project_locale: Path | None = None) -> list[Path]:
    """The .po files read for ``code``: the shipped one, then the project's (which wins)."""
    found = []
    for folder in (package_locale(), project_locale):
        if folder is None:
            continue
        for name in catalog_names(code):
            if (folder / f"{name}.po").is_file():
                found.append(folder / f"{name}.po")
                break
    return found


def messages(code: str, project_locale: Path | None = None) -> Messages:
    files_ = catalog_files(code, project_locale)
    return _messages(code, tuple((p, _mtime(p)) for p in files_))


@lru_cache(maxsize=32)
def _messages(code: str, sources: tuple[tuple[Path, float], ...]) -> Messages:
    translations: NullTranslations = NullTranslations()
    catalogs = []
    for path, _ in sources:
        catalog = _read(path)
        catalogs.append(catalog)
        more = _translations(catalog)
        if isinstance(translations, Translations):
            translations.merge(more)
        else:
            translations = more
    translated = set()
    for catalog in catalogs:
        for message in catalog:
            if message.context and message.string and any(message.string):
                translated.add(message.context)
    return Messages(code, translations, frozenset(translated))


class Messages:
    """One language's words: ``gettext`` and friends for Jinja's i18n extension, and ``labels``."""

    def __init__(self, code: str, translations: NullTranslations, translated: frozenset[str]):
        self.code = code
        self.translations = translations
        self.translated = translated  # keys with a translation in this language's catalogs
        self.locale = babel_locale(code)

    def text(self, key: str) -> str:
        entry = source_entries().get(key)
        english = entry.english if entry else key
        return str(self.translations.pgettext(key, english))

    def count(self, number: int, key: str) -> str:
        entry = source_entries().get(key)
        one, other = (entry.english, entry.plural or entry.english) if entry else (key, key)
        return f"{number} {self.translations.npgettext(key, one, other, number)}"

    def gettext(self, message: str) -> str:
        return self.translations.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.translations.ngettext(singular, plural, n)

    def pgettext(self, context: str, message: str) -> str:
        return str(self.translations.pgettext(context, message))

    def npgettext(self, context: str, singular: str, plural: str, n: int) -> str:
        return str(self.translations.npgettext(context, singular, plural, n))

    @property
    def labels(self) -> Labels:
        return Labels(self)

    def format_date(self, value: date | datetime | None, style: str = "") -> str:
        if value is None:
            return ""
        if isinstance(value, datetime):
            value = value.date()
        if style == "month_short":
            return babel_format_date(value, "LLL", locale=self.locale).rstrip(".")
        return babel_format_date(value, self.text("date_format"), locale=self.locale)

    def month(self, month: str, *, title: bool = False) -> str:
        """ "October 2020" for "2020-10" ("oktober 2020"; "Oktober 2020" as a title)."""
        year, number = (int(x) for x in month.split("-"))
        name = babel_format_date(
            date(year, number, 1), self.text("month_format"), locale=self.locale
        )
        return f"{name[0].upper()}{name[1:]}" if title and name else name


class Labels(Mapping[str, str]):
    """``t`` in the templates: ``t.read_more``, ``t["read_more"]``, ``t.count(3, "story")``."""

    def __init__(self, messages: Messages) -> None:
        self._messages = messages

    def __getitem__(self, key: str) -> str:
        if key not in source_entries():
            raise KeyError(key)
        return self._messages.text(key)

    def __getattr__(self, key: str) -> str:
        if key.startswith("_"):
            raise AttributeError(key)
        try:
            return self[key]
        except KeyError:
            raise AttributeError(f"no label {key!r} in the message catalogs") from None

    def __iter__(self) -> Iterator[str]:
        return iter(source_entries())

    def __len__(self) -> int:
        return len(source_entries())

    def count(self, number: int, noun: str) -> str:
        """ "1 story", "3 stories", with the catalog's plural forms."""
        return self._messages.count(number, f"{noun}_count")

    def date(self, value: date | datetime | None, style: str = "") -> str:
        return self._messages.format_date(value, style)

    @property
    def messages(self) -> Messages:
        return self._messages


@lru_cache(maxsize=32)
def babel_locale(code: str) -> Locale:
    for name in catalog_names(code):
        try:
            return Locale.parse(name, sep="-")
        except (UnknownLocaleError, ValueError):
            continue
    return Locale.parse("en")


def known_locale(code: str) -> bool:
    try:
        Locale.parse(code.replace("_", "-"), sep="-")
    except (UnknownLocaleError, ValueError):
        return False
    return True


def gettext_callables(words: Messages) -> dict[str, Any]:
    """What Jinja's i18n extension calls (``{{ _("...") }}``, ``{% trans %}``), per render."""
    return {
        "gettext": words.gettext,
        "ngettext": words.ngettext,
        "pgettext": words.pgettext,
        "npgettext": words.npgettext,
    }


def language_name(code: str) -> str:
    """The language's name in itself ("English", "Norsk bokmål"), for a language switch."""
    name = babel_locale(code).display_name or code
    return f"{name[0].upper()}{name[1:]}"


def text_direction(lang: str) -> str:
    return "rtl" if primary(lang) in RTL_LANGUAGES else "ltr"
