"""Theme: the brand's colours resolved into light and dark palettes, and their contrast.

Contrast follows WCAG 2.x: relative luminance of sRGB colours, ratio (L1 + 0.05) / (L2 + 0.05).
The dark palette is what clients that honour ``prefers-color-scheme`` show; the *inverted*
palette approximates what Gmail and Outlook on Windows do instead (they ignore the media query
and flip light colours to dark themselves), so the theme can be checked against both.
"""

from __future__ import annotations

import colorsys
import re
from dataclasses import dataclass, fields
from functools import lru_cache

from newsletter.config import Brand

AA_NORMAL = 4.5
AA_LARGE = 3.0
# WCAG 1.4.11: a button's shape needs 3:1 against the colour around it.
NON_TEXT = 3.0

_HEX = re.compile(r"^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")

# Fixed dark surfaces: near-black but not #000, which Outlook and Gmail leave alone when they
# invert, and which keeps a visible step between the page and the cards.
DARK_BACKGROUND = "#121416"
DARK_SURFACE = "#1d2024"
DARK_TEXT = "#e8eaed"
DARK_MUTED = "#aeb5bd"


def parse_hex(colour: str) -> tuple[int, int, int]:
    match = _HEX.match(colour.strip())
    if not match:
        raise ValueError(f"not a hex colour: {colour!r}")
    digits = match.group(1)
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    return int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16)


def to_hex(rgb: tuple[float, float, float]) -> str:
    return "#" + "".join(f"{max(0, min(255, round(c))):02x}" for c in rgb)


def _linear(channel: int) -> float:
    c = channel / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


@lru_cache(maxsize=512)
def relative_luminance(colour: str) -> float:
    """WCAG relative luminance of a hex colour, from 0 (black) to 1 (white)."""
    r, g, b = parse_hex(colour)
    return 0.2126 * _linear(r) + 0.7152 * _linear(g) + 0.0722 * _linear(b)


def contrast_ratio(foreground: str, background: str) -> float:
    """WCAG contrast ratio between two hex colours, from 1 to 21."""
    a, b = relative_luminance(foreground), relative_luminance(background)
    lighter, darker = max(a, b), min(a, b)
    return (lighter + 0.05) / (darker + 0.05)


def _hls(colour: str) -> tuple[float, float, float]:
    r, g, b = parse_hex(colour)
    return colorsys.rgb_to_hls(r / 255, g / 255, b / 255)


def _from_hls(h: float, lightness: float, s: float) -> str:
    r, g, b = colorsys.hls_to_rgb(h, max(0.0, min(1.0, lightness)), s)
    return to_hex((r * 255, g * 255, b * 255))


def invert_lightness(colour: str) -> str:
    """A colour with its HSL lightness flipped: roughly what a client's forced dark mode does."""
    h, lightness, s = _hls(colour)
    return _from_hls(h, 1 - lightness, s)


def readable_on(colour: str, background: str, minimum: float = AA_NORMAL) -> str:
    """``colour`` lightened or darkened (keeping its hue) until it reads on ``background``."""
    if contrast_ratio(colour, background) >= minimum:
        return colour
    h, lightness, s = _hls(colour)
    step = 0.02 if relative_luminance(background) < 0.18 else -0.02
    while 0 <= lightness <= 1:
        lightness += step
        candidate = _from_hls(h, lightness, s)
        if contrast_ratio(candidate, background) >= minimum:
            return candidate
    return "#ffffff" if step > 0 else "#000000"


@dataclass(frozen=True)
class Palette:
    background: str
    surface: str
    text: str
    muted: str
    link: str
    heading: str
    header_background: str
    header_text: str
    button_background: str
    button_text: str
    divider: str
    placeholder: str  # behind images, so a missing image still shows a tidy box

    def inverted(self) -> Palette:
        return Palette(**{f.name: invert_lightness(getattr(self, f.name)) for f in fields(self)})


@dataclass(frozen=True)
class Theme:
    light: Palette
    dark: Palette
    font_family: str
    heading_font_family: str
    width: int
    logo_url: str | None
    logo_alt: str
    logo_width: int

    @property
    def content_width(self) -> int:
        """The width of text and images inside the 24 px side padding."""
        return self.width - 48


def _mix(a: str, b: str, weight: float) -> str:
    """``weight`` of ``a`` mixed with the rest of ``b`` (sRGB, good enough for tints)."""
    (r1, g1, b1), (r2, g2, b2) = parse_hex(a), parse_hex(b)
    rest = 1 - weight
    return to_hex((r1 * weight + r2 * rest, g1 * weight + g2 * rest, b1 * weight + b2 * rest))


def _best_text(background: str, *candidates: str) -> str:
    """The first candidate that reads on ``background``, else the one with most contrast."""
    for colour in candidates:
        if contrast_ratio(colour, background) >= AA_NORMAL:
            return colour
    return max(candidates, key=lambda c: contrast_ratio(c, background))


def build_theme(brand: Brand) -> Theme:
    """The resolved theme; cached, since every render needs it and brands rarely change."""
    return _build_theme(tuple(brand.model_dump().items()))


@lru_cache(maxsize=32)
def _build_theme(fields: tuple[tuple[str, object], ...]) -> Theme:
    brand = Brand.model_validate(dict(fields))
    link = brand.link_color or brand.primary_color
    light = Palette(
        background=brand.background_color,
        surface=brand.surface_color,
        text=brand.text_color,
        muted=brand.muted_color,
        link=link,
        heading=brand.text_color,
        header_background=brand.primary_color,
        header_text=brand.header_text_color,
        button_background=brand.primary_color,
        button_text=brand.button_text_color,
        divider=_mix(brand.muted_color, brand.surface_color, 0.25),
        placeholder=_mix(brand.primary_color, brand.surface_color, 0.08),
    )
    surface = brand.dark_surface_color or DARK_SURFACE
    text = brand.dark_text_color or DARK_TEXT
    # A dark brand colour disappears on a dark card: lighten the button until its shape
    # shows, then pick the button text that reads on it.
    button = readable_on(brand.primary_color, surface, NON_TEXT)
    button_text = _best_text(button, brand.button_text_color, DARK_BACKGROUND)
    dark = Palette(
        background=brand.dark_background_color or DARK_BACKGROUND,
        surface=surface,
        text=text,
        muted=brand.dark_muted_color or DARK_MUTED,
        link=brand.dark_link_color or readable_on(link, surface),
        heading=text,
        # The brand colour stays the brand colour; only text around it adapts.
        header_background=brand.primary_color,
        header_text=brand.header_text_color,
        button_background=button,
        button_text=button_text,
        divider=_mix(DARK_MUTED, surface, 0.25),
        placeholder=_mix(brand.primary_color, surface, 0.25),
    )
    return Theme(
        light=light,
        dark=dark,
        font_family=brand.font_family,
        heading_font_family=brand.heading_font_family or brand.font_family,
        width=brand.width,
        logo_url=brand.logo_url,
        logo_alt=brand.logo_alt,
        logo_width=brand.logo_width,
    )


@dataclass(frozen=True)
class ContrastPair:
    scheme: str  # light, dark, inverted
    name: str
    foreground: str
    background: str
    minimum: float

    @property
    def ratio(self) -> float:
        return contrast_ratio(self.foreground, self.background)

    @property
    def ok(self) -> bool:
        return self.ratio >= self.minimum


def _pairs(scheme: str, p: Palette) -> list[ContrastPair]:
    return [
        ContrastPair(scheme, "body text on cards", p.text, p.surface, AA_NORMAL),
        ContrastPair(scheme, "secondary text on cards", p.muted, p.surface, AA_NORMAL),
        ContrastPair(scheme, "links on cards", p.link, p.surface, AA_NORMAL),
        ContrastPair(scheme, "footer text and links", p.muted, p.background, AA_NORMAL),
        ContrastPair(scheme, "button text", p.button_text, p.button_background, AA_NORMAL),
        ContrastPair(
            scheme, "button shape against cards", p.button_background, p.surface, NON_TEXT
        ),
        ContrastPair(scheme, "header text", p.header_text, p.header_background, AA_NORMAL),
    ]


def contrast_pairs(theme: Theme) -> list[ContrastPair]:
    """Every text/background pairing the templates use, in light, dark and inverted schemes."""
    return [
        *_pairs("light", theme.light),
        *_pairs("dark", theme.dark),
        *_pairs("inverted", theme.light.inverted()),
    ]
