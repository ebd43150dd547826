"""Registries: the one list of what can be plugged in (source kinds, providers, transports).

A registry maps a name (what ``newsletter.toml`` or a ``--to``/``--via`` option says) to an
object that does the work behind a small Protocol. The built-in entries are named by
where they live, ``"package.module:attribute"``, and imported only when first asked for,
so listing the names (the CLI's choices, config validation) costs no imports. Anything
else registers itself with ``register``.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import import_module
from typing import Generic, TypeVar

T = TypeVar("T")


class Registry(Generic[T]):
    def __init__(self, what: str, builtin: Mapping[str, str]) -> None:
        self.what = what
        self._where = dict(builtin)
        self._loaded: dict[str, T] = {}

    def names(self) -> list[str]:
        return sorted({*self._where, *self._loaded})

    def __contains__(self, name: object) -> bool:
        return name in self._where or name in self._loaded

    def register(self, name: str, entry: T) -> T:
        """Add (or replace) ``name``; returns ``entry``, so it can end a module's definition."""
        self._loaded[name] = entry
        return entry

    def get(self, name: str) -> T:
        """The entry for ``name``; a KeyError says which names exist."""
        if name not in self._loaded:
            if name not in self._where:
                raise KeyError(f"unknown {self.what} {name!r}; choose one of: {self.choices()}")
            module, _, attribute = self._where[name].partition(":")
            self._loaded[name] = getattr(import_module(module), attribute)
        return self._loaded[name]

    def choices(self) -> str:
        return ", ".join(self.names())


# What a ``[[sources]]`` entry's ``kind`` can name (``newsletter.collect.readers.SourceKind``).
SOURCE_KINDS: Registry[object] = Registry(
    "source kind",
    {
        "feed": "newsletter.collect.readers:FEED",
        "page": "newsletter.collect.readers:PAGE",
        "wordpress": "newsletter.collect.readers:WORDPRESS",
        "folder": "newsletter.collect.readers:FOLDER",
    },
)

# What ``newsletter export --to`` can name (``newsletter.deliver.export.providers.Provider``).
PROVIDERS: Registry[object] = Registry(
    "provider",
    {
        name: f"newsletter.deliver.export.{name}:export"
        for name in (
            "brevo",
            "eml",
            "listmonk",
            "mailchimp",
            "mailgun",
            "postmark",
            "sendgrid",
            "ses",
        )
    },
)

# What ``newsletter send --via`` can name (``newsletter.deliver.send.transport.TransportFactory``).
TRANSPORTS: Registry[object] = Registry(
    "transport",
    {
        "smtp": "newsletter.deliver.send.smtp:open_transport",
        "ses": "newsletter.deliver.send.ses:open_transport",
        "sendgrid": "newsletter.deliver.send.providers:sendgrid",
        "mailgun": "newsletter.deliver.send.providers:mailgun",
        "postmark": "newsletter.deliver.send.providers:postmark",
        "brevo": "newsletter.deliver.send.providers:brevo",
        "mailchimp": "newsletter.deliver.send.providers:mailchimp",
        "listmonk": "newsletter.deliver.send.providers:listmonk",
    },
)
