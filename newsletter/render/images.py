"""Story images made to fit their place in the layout (Pillow).

Each place an image can take (a ``Slot``: the lead's wide picture, a card's smaller one) has
an aspect ratio and the widest it is shown at. ``prepare_image`` decodes the source (refusing
decompression bombs), turns it upright, converts it to sRGB, crops it to the slot's ratio
around the centre or the editor's focal point, scales it to twice the width it is shown at
(for sharp high-density screens, never enlarged), and encodes it as a progressive JPEG, or a
PNG when it has transparency. Nothing of the source's metadata is kept but the credit, which
goes into the file's copyright field.
"""

from __future__ import annotations

import io
import re
import unicodedata
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import Image

# Pillow is imported where images are processed: every command imports this module (for the
# layout's slots), and most never touch a picture.

# Bumped when the processing changes, so prepared files get new names and caches refresh.
PIPELINE_VERSION = "1"
JPEG_QUALITY = 80
FORMATS = frozenset({"JPEG", "MPO", "PNG", "WEBP", "GIF"})
EXIF_COPYRIGHT = 0x8298
# On phones a card's image fills the column: up to the 480 px breakpoint less the padding.
PHONE_COLUMN = 480 - 48


class ImageProblem(Exception):
    """Why one image could not be used: shown to the editor, the build goes on."""


@dataclass(frozen=True)
class Slot:
    name: str
    width: int  # the widest it is shown at, in CSS pixels
    ratio: tuple[int, int]

    @property
    def pixel_width(self) -> int:
        return self.width * 2


def layout_slots(content_width: int, card_width: int) -> dict[str, Slot]:
    return {
        "lead": Slot("lead", content_width, (16, 9)),
        "card": Slot("card", max(card_width, PHONE_COLUMN), (3, 2)),
    }


@dataclass(frozen=True)
class Encoded:
    data: bytes
    extension: str  # "jpg" or "png"
    width: int
    height: int


def prepare_image(
    source: bytes,
    slot: Slot,
    *,
    focus: tuple[float, float] | None = None,
    credit: str | None = None,
    max_pixels: int = 50_000_000,
    quality: int = JPEG_QUALITY,
) -> Encoded:
    """``source`` cropped, scaled and re-encoded for ``slot``; ImageProblem if it cannot be."""
    from PIL import Image

    image = _open(source, max_pixels)
    image = _upright_srgb(image)
    image = crop_to_ratio(image, slot.ratio, focus or (0.5, 0.5))
    if image.width > slot.pixel_width:
        height = round(image.height * slot.pixel_width / image.width)
        image = image.resize((slot.pixel_width, height), Image.Resampling.LANCZOS, reducing_gap=3)
    return _encode(image, credit, quality)


def _open(source: bytes, max_pixels: int) -> Image.Image:
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(source))
            if image.format not in FORMATS:
                raise ImageProblem(f"{image.format or 'this'} images are not supported")
            pixels = image.width * image.height
            if pixels > max_pixels:
                raise ImageProblem(
                    f"{image.width} × {image.height} pixels is over the limit of "
                    f"{max_pixels / 1e6:g} megapixels ([images] max_megapixels): "
                    "a decompression bomb, or far larger than an email needs"
                )
            if getattr(image, "n_frames", 1) > 1:
                image.seek(0)  # an animated GIF or WebP: its first frame
            image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        # Pillow's own guard, which fires before ours for very large pictures.
        found = re.search(r"\((\d+) pixels\)", str(exc))
        size = f"{int(found.group(1)) / 1e6:.0f} megapixels" if found else "the picture"
        raise ImageProblem(
            f"{size} is over the limit of {max_pixels / 1e6:g} megapixels "
            "([images] max_megapixels): a decompression bomb, or far larger than an email needs"
        ) from None
    except UnidentifiedImageError:
        raise ImageProblem("not an image Pillow can read") from None
    except (OSError, SyntaxError, ValueError) as exc:  # truncated or corrupt data
        raise ImageProblem(f"the image data is damaged: {exc}") from None
    return image


def _upright_srgb(image: Image.Image) -> Image.Image:
    from PIL import ImageCms, ImageOps

    image = ImageOps.exif_transpose(image) or image
    profile = image.info.get("icc_profile")
    if image.mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    elif image.mode not in ("RGB", "RGBA"):
        image = image.convert("RGBA" if "A" in image.mode else "RGB")
    if profile:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
            converted = ImageCms.profileToProfile(
                image, source, ImageCms.createProfile("sRGB"), outputMode=image.mode
            )
            if converted is not None:
                image = converted
        except (ImageCms.PyCMSError, OSError):
            pass  # a broken profile: the pixels as they are are the best guess
    image.info.clear()
    return image


def crop_to_ratio(
    image: Image.Image, ratio: tuple[int, int], focus: tuple[float, float]
) -> Image.Image:
    """The largest ``ratio`` rectangle of ``image`` that centres on ``focus`` as far as it can."""
    width, height = image.size
    want = ratio[0] / ratio[1]
    if abs(width / height - want) < 0.01:
        return image
    if width / height > want:  # too wide: keep the full height
        crop_w, crop_h = round(height * want), height
    else:  # too tall
        crop_w, crop_h = width, round(width / want)
    left = _place(focus[0] * width, crop_w, width)
    top = _place(focus[1] * height, crop_h, height)
    return image.crop((left, top, left + crop_w, top + crop_h))


def _place(centre: float, size: int, total: int) -> int:
    return max(0, min(total - size, round(centre - size / 2)))


def has_transparency(image: Image.Image) -> bool:
    if image.mode != "RGBA":
        return False
    low = image.getchannel("A").getextrema()[0]
    return isinstance(low, (int, float)) and low < 255


def credit_xmp(credit: str) -> bytes:
    """An XMP packet that holds only the credit (photoshop:Credit and dc:rights)."""
    # What xml.sax.saxutils.escape does; importing it loads urllib.request on every build.
    text = credit.replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;")
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/">'
        f"<photoshop:Credit>{text}</photoshop:Credit><dc:rights><rdf:Alt>"
        f'<rdf:li xml:lang="x-default">{text}</rdf:li></rdf:Alt></dc:rights>'
        '</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="r"?>'
    ).encode()


def _ascii(text: str) -> str:
    for letter, plain in (("ø", "o"), ("Ø", "O"), ("æ", "ae"), ("Æ", "AE")):
        text = text.replace(letter, plain)
    decomposed = unicodedata.normalize("NFKD", text)
    return decomposed.encode("ascii", "ignore").decode("ascii")


def _encode(image: Image.Image, credit: str | None, quality: int) -> Encoded:
    from PIL import Image
    from PIL.PngImagePlugin import PngInfo

    out = io.BytesIO()
    if has_transparency(image):
        info = PngInfo()
        if credit:
            info.add_itxt("Copyright", credit)
        image.save(out, "PNG", optimize=True, pnginfo=info)
        extension = "png"
    else:
        options: dict[str, object] = {}
        if credit:
            exif = Image.Exif()
            exif[EXIF_COPYRIGHT] = _ascii(credit)  # EXIF text is ASCII; XMP keeps "Å"
            options["exif"] = exif.tobytes()
            options["xmp"] = credit_xmp(credit)
        image.convert("RGB").save(
            out, "JPEG", quality=quality, progressive=True, optimize=True, **options
        )
        extension = "jpg"
    return Encoded(out.getvalue(), extension, image.width, image.height)
