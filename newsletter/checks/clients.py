"""Client support: which HTML and CSS features of the email Gmail, Outlook for Windows, Apple
Mail and Yahoo do not support, from caniemail.com's data (``checks/data/caniemail.json``,
refreshed with ``scripts/update-caniemail-data``; it carries its own date).

Features are found the way the npm package ``caniemail`` finds them: CSS properties, values,
functions, units and at-rules in ``<style>`` blocks and ``style`` attributes; elements,
attributes and image formats in the markup. Each finding is a note (``info``): a feature can be
unsupported on purpose, with a fallback (rounded corners are square in Outlook), so the list
is for reading, not for failing a build. Features that lose content or layout are warnings.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

from selectolax.lexbor import LexborHTMLParser

from newsletter.checks.report import CheckReport, Level

# family.platform -> how a reader would name it
CLIENT_NAMES = {
    "gmail": "Gmail",
    "outlook": "Outlook for Windows",
    "apple-mail": "Apple Mail",
    "yahoo": "Yahoo",
}
# Unsupported here, these lose something readers need (not just a rounded corner).
SERIOUS = frozenset(
    {
        "css-display-flex", "css-display-grid", "css-position", "css-left-right-top-bottom",
        "css-background-image", "html-svg", "image-svg", "image-webp", "image-avif",
        "css-at-import", "html-form", "html-video", "html-audio", "css-variables",
    }
)  # fmt: skip
# Titles that name several properties (as the npm package maps them).
_PROPERTY_GROUPS = {
    "left, right, top, bottom": ["left", "right", "top", "bottom"],
    "gap, column-gap, row-gap": ["gap", "column-gap", "row-gap"],
    "color-scheme CSS property": ["color-scheme"],
    "block-size & inline-size": ["block-size", "inline-size"],
    "border-inline & border-block": ["border-inline", "border-block"],
    "border-inline & border-block individual logical properties": [
        "border-block-end", "border-block-start", "border-inline-end", "border-inline-start",
    ],
    "border-inline & border-block longhand properties": [
        "border-block-color", "border-block-style", "border-block-width",
        "border-inline-color", "border-inline-style", "border-inline-width",
    ],
    "border-radius logical properties": [
        "border-end-end-radius", "border-end-start-radius",
        "border-start-end-radius", "border-start-start-radius",
    ],
    "css column properties": [
        "column-count", "column-fill", "column-gap", "column-rule", "column-rule-color",
        "column-rule-style", "column-rule-width", "column-span", "column-width", "columns",
    ],
    "grid-template-* properties": [
        "grid-template", "grid-template-areas", "grid-template-columns", "grid-template-rows",
    ],
    "margin-block-start & margin-block-end": ["margin-block-end", "margin-block-start"],
    "margin-inline & margin-block": ["margin-block", "margin-inline"],
    "margin-inline-start & margin-inline-end": ["margin-inline-end", "margin-inline-start"],
    "padding-block-start & padding-block-end": ["padding-block-end", "padding-block-start"],
    "padding-inline & padding-block": ["padding-block", "padding-inline"],
    "padding-inline-start & padding-inline-end": ["padding-inline-end", "padding-inline-start"],
}  # fmt: skip
# Titles that name property values.
_VALUE_GROUPS = {
    "fit-content, min-content, max-content": ["fit-content", "max-content", "min-content"],
    "system-ui, ui-serif, ui-sans-serif, ui-rounded, ui-monospace": [
        "system-ui", "ui-monospace", "ui-rounded", "ui-sans-serif", "ui-serif",
    ],
}  # fmt: skip
_PROPERTY_NAME = re.compile(r"^[a-z-]+$")
_PAIR = re.compile(r"^([a-z-]+):\s*([a-z-]+)$")
_FUNCTION = re.compile(r"([a-z-]+)\(\)")
_ELEMENT = re.compile(r"<(\w+)>")
_ELEMENT_ATTRIBUTE = re.compile(r'^<(\w+) (\w+)="(\w+)"> element$')
_SEMANTIC = ("article", "aside", "details", "figcaption", "figure", "footer", "header",
             "main", "mark", "nav", "section", "summary", "time")  # fmt: skip
_FORMATS = {
    "jpg": "image-jpg", "jpeg": "image-jpg", "png": "image-png", "gif": "image-gif",
    "webp": "image-webp", "svg": "image-svg", "avif": "image-avif", "bmp": "image-bmp",
    "tif": "image-tiff", "tiff": "image-tiff", "heic": "image-heif", "ico": "image-ico",
}  # fmt: skip


@dataclass(frozen=True)
class Feature:
    slug: str
    title: str
    url: str
    stats: dict[str, str]
    notes: dict[str, str]

    def unsupported(self) -> dict[str, list[str]]:
        """family -> platforms whose latest test says "no"."""
        out: dict[str, list[str]] = defaultdict(list)
        for client, status in self.stats.items():
            if status.startswith("n"):
                family, platform = client.split(".", 1)
                out[family].append(platform)
        return dict(out)


@dataclass
class SupportData:
    source: str
    date: str
    platforms: dict[str, str]
    features: dict[str, Feature]
    families: dict[str, list[str]] = field(default_factory=dict)  # family -> platforms
    properties: dict[str, list[str]] = field(default_factory=dict)  # name -> slugs
    pairs: dict[tuple[str, str], str] = field(default_factory=dict)
    functions: dict[str, str] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)
    keywords: dict[str, str] = field(default_factory=dict)
    values: dict[str, str] = field(default_factory=dict)
    at_rules: dict[str, str] = field(default_factory=dict)
    media_features: dict[str, str] = field(default_factory=dict)
    pseudo: dict[str, str] = field(default_factory=dict)
    elements: dict[str, str] = field(default_factory=dict)
    element_attributes: dict[tuple[str, str, str], str] = field(default_factory=dict)
    attributes: dict[str, str] = field(default_factory=dict)


@lru_cache(maxsize=1)
def support_data() -> SupportData:
    raw: dict[str, Any] = json.loads(
        resources.files("newsletter.checks").joinpath("data/caniemail.json").read_text("utf-8")
    )
    data = SupportData(
        source=raw["source"],
        date=raw["last_update_date"][:10],
        platforms=raw["platforms"],
        features={},
    )
    for item in raw["features"]:
        feature = Feature(item["slug"], item["title"], item["url"], item["stats"], item["notes"])
        data.features[feature.slug] = feature
        for client in feature.stats:
            family, platform = client.split(".", 1)
            if platform not in data.families.setdefault(family, []):
                data.families[family].append(platform)
        _index(data, feature, item["category"])
    return data


def _index(data: SupportData, feature: Feature, category: str) -> None:
    title, slug = feature.title, feature.slug
    if category == "css":
        if title in _VALUE_GROUPS:
            for value in _VALUE_GROUPS[title]:
                data.values[value] = slug
        elif title.startswith("@media ("):
            for name in re.findall(r"\(([a-z-]+)", title):
                data.media_features[name] = slug
        elif title.startswith("@"):
            data.at_rules[title[1:]] = slug
        elif title.startswith(":"):
            data.pseudo[title.split()[0].removesuffix("()")] = slug
        elif title.endswith(" unit"):
            data.units[title.removesuffix(" unit")] = slug
        elif title.endswith(" keyword"):
            data.keywords[title.removesuffix(" keyword")] = slug
        elif title.startswith("CSS Variables"):
            data.functions["var"] = slug
        elif match := _PAIR.match(title):
            data.pairs[(match.group(1), match.group(2))] = slug
        elif functions := _FUNCTION.findall(title):
            for function in functions:
                data.functions[function] = slug
        else:
            name = title.removesuffix(" shorthand").removesuffix(" property").strip()
            names = _PROPERTY_GROUPS.get(title) or ([name] if _PROPERTY_NAME.match(name) else [])
            for each in names:
                data.properties.setdefault(each, []).append(slug)
    elif category == "html":
        if match := _ELEMENT_ATTRIBUTE.match(title):
            data.element_attributes[(match.group(1), match.group(2), match.group(3))] = slug
        elif title.endswith(" attribute"):
            data.attributes[title.removesuffix(" attribute")] = slug
        elif title == "srcset and sizes attributes":
            data.attributes["srcset"] = data.attributes["sizes"] = slug
        elif title == "HTML5 semantics":
            for tag in _SEMANTIC:
                data.elements[tag] = slug
        elif title == "<h1> to <h6> elements":
            for level in range(1, 7):
                data.elements[f"h{level}"] = slug
        elif title == "Embedded <svg> image":
            data.elements["svg"] = slug
        elif title == "address":
            data.elements["address"] = slug
        else:
            for tag in _ELEMENT.findall(title):
                data.elements[tag] = slug


# --- finding features in the email ------------------------------------------------------------

_COMMENT = re.compile(r"/\*.*?\*/", re.S)
_AT_RULE = re.compile(r"@([a-z-]+)([^{;]*)")
_BLOCK = re.compile(r"([^{}]*)\{([^{}]*)\}")
_DECLARATION = re.compile(r"([a-zA-Z-]+)\s*:\s*([^;]+)")


def _declarations(css: str) -> list[tuple[str, str]]:
    return [(m.group(1).lower(), m.group(2).strip().lower()) for m in _DECLARATION.finditer(css)]


@lru_cache(maxsize=8192)
def declaration_slugs(name: str, value: str) -> tuple[str, ...]:
    """The features one CSS declaration uses.

    An email's inlined styles repeat the same few hundred declarations thousands of times,
    and the live preview checks every save: each declaration is looked up once.
    """
    data = support_data()
    slugs: list[str | None] = []
    for prefix, found in data.properties.items():
        if name == prefix or name.startswith(prefix + "-"):
            slugs.extend(found)
    if name.startswith("--"):
        slugs.append(data.functions.get("var"))
    plain = value.replace("!important", "").strip()
    slugs.append(data.pairs.get((name, plain)))
    for keyword, slug in data.values.items():
        if re.search(rf"(^|[\s,]){keyword}([\s,]|$)", plain):
            slugs.append(slug)
    for keyword, slug in data.keywords.items():
        if keyword in value:
            slugs.append(slug)
    for function in re.findall(r"([a-z-]+)\(", value):
        slugs.append(data.functions.get(function))
    for unit, slug in data.units.items():
        if unit == "initial":
            if re.search(r"\binitial\b", value):
                slugs.append(slug)
        elif re.search(rf"\d{re.escape(unit)}(?![a-z])", value):
            slugs.append(slug)
    return tuple(dict.fromkeys(s for s in slugs if s))


class _Found:
    """Slugs found, each with the first place it was seen."""

    def __init__(self, data: SupportData) -> None:
        self.data = data
        self.where: dict[str, str] = {}

    def add(self, slug: str | None, where: str) -> None:
        if slug and slug not in self.where:
            self.where[slug] = where

    def declaration(self, name: str, value: str, where: str) -> None:
        for slug in declaration_slugs(name, value):
            self.add(slug, where)

    def stylesheet(self, css: str) -> None:
        css = _COMMENT.sub("", css)
        for match in _AT_RULE.finditer(css):
            rule, query = match.group(1).lower(), match.group(2)
            self.add(self.data.at_rules.get(rule), f"@{rule}{query.rstrip()}")
            if rule == "media":
                for name in re.findall(r"\(\s*([a-z-]+)", query):
                    self.add(self.data.media_features.get(name), f"@media {query.strip()}")
        for match in _BLOCK.finditer(css):
            selector = " ".join(match.group(1).split()).lstrip("}").strip()
            if selector.startswith("@"):
                continue
            for pseudo, slug in self.data.pseudo.items():
                if pseudo in selector:
                    self.add(slug, selector)
            for name, value in _declarations(match.group(2)):
                self.declaration(name, value, f"{selector} {{ {name}: {value} }}")


def find_features(tree: LexborHTMLParser) -> dict[str, str]:
    """slug -> an example of where the email uses the feature."""
    data = support_data()
    found = _Found(data)
    for style in tree.css("style"):
        found.stylesheet(style.text() or "")
    for node in tree.root.traverse() if tree.root is not None else []:
        tag = node.tag or ""
        if tag.startswith("-"):
            continue
        found.add(data.elements.get(tag), f"<{tag}>")
        for name, value in node.attributes.items():
            value = value or ""
            found.add(data.attributes.get(name), f'<{tag} {name}="{value[:40]}">')
            found.add(data.element_attributes.get((tag, name, value.lower())), f"<{tag}>")
            if name == "style":
                for prop, val in _declarations(value):
                    found.declaration(prop, val, f'<{tag} style="{prop}: {val}">')
        if tag == "img":
            src = (node.attributes.get("src") or "").split("?", 1)[0]
            extension = src.rsplit(".", 1)[-1].lower() if "." in src.rsplit("/", 1)[-1] else ""
            found.add(_FORMATS.get(extension), src)
            if src.startswith("data:"):
                found.add("image-base64", "data: URI")
        if tag == "a" and (node.attributes.get("href") or "").startswith("#"):
            found.add("html-anchor-links", '<a href="#…">')
        if tag == "meta" and node.attributes.get("name") == "color-scheme":
            found.add("html-meta-color-scheme", '<meta name="color-scheme">')
    return found.where


def describe(data: SupportData, missing: dict[str, list[str]]) -> str:
    """ "Gmail (iOS, Android), Outlook for Windows": a family alone when all its platforms."""
    parts = []
    for family, name in CLIENT_NAMES.items():
        platforms = missing.get(family)
        if not platforms:
            continue
        if len(platforms) == len(data.families.get(family, [])) or family == "outlook":
            parts.append(name)
        else:
            parts.append(f"{name} ({', '.join(data.platforms.get(p, p) for p in platforms)})")
    return ", ".join(parts)


def check_client_support(report: CheckReport, tree: LexborHTMLParser) -> None:
    data = support_data()
    for slug, where in sorted(find_features(tree).items()):
        feature = data.features[slug]
        missing = feature.unsupported()
        if not missing:
            continue
        level = Level.warning if slug in SERIOUS else Level.info
        report.add(
            level, "client-support",
            f"{feature.title}: not supported in {describe(data, missing)}; {feature.url}",
            where,
        )  # fmt: skip
