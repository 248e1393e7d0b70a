"""Real images generated for tests and benchmarks: photos, rotated and CMYK JPEGs, transparent and
palette PNGs, a non-sRGB ICC profile, metadata worth stripping (GPS, XMP, comments) and a PNG
decompression bomb. Pure Pillow + stdlib, deterministic for a given seed."""

from __future__ import annotations

import io
import random
import struct
import zlib
from typing import Any

from PIL import Image, ImageChops, ImageDraw, ImageFilter

RED = (220, 30, 30)
GREEN = (30, 180, 60)
BLUE = (30, 60, 220)
YELLOW = (240, 220, 40)

XMP_PACKET = (
    b'<?xpacket begin="\xef\xbb\xbf" id="W5M0MpCehiHzreSzNTczkc9d"?>'
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b'<rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/" exif:GPSLatitude="10,30.0N" '
    b'exif:GPSLongitude="106,40.0E"/></rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
)
GPS_IFD = 0x8825
ORIENTATION = 0x0112


def photo(width: int, height: int, seed: int = 0) -> Image.Image:
    """A photo-like RGB image: smooth gradients, soft shapes and a fractal's structure (drawn at a
    quarter of the size, then upscaled like out-of-focus areas), sharp edges at full size and
    sensor-like noise, so codecs and resamplers work about as hard as on a real photo."""
    rng = random.Random(seed)
    small = (max(1, width // 4), max(1, height // 4))
    base = Image.merge("RGB", (Image.linear_gradient("L").resize(small), Image.radial_gradient("L").resize(small),
                               Image.linear_gradient("L").rotate(90).resize(small)))
    shapes = Image.new("RGB", small)
    draw = ImageDraw.Draw(shapes)
    for _ in range(12):
        x, y = rng.randrange(small[0]), rng.randrange(small[1])
        radius = rng.randrange(max(2, small[0] // 20), max(3, small[0] // 4))
        draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=_random_colour(rng))
    base = Image.blend(base, shapes.filter(ImageFilter.GaussianBlur(max(1, small[0] // 200))), 0.5)
    left, top = rng.uniform(-2.4, -1.8), rng.uniform(-1.3, -1.0)
    fractal = Image.effect_mandelbrot(small, (left, top, left + 3.2, top + 2.4), 60).convert("RGB")
    image = Image.blend(base, fractal, 0.2).resize((width, height), Image.Resampling.BICUBIC)
    draw = ImageDraw.Draw(image)
    for _ in range(40):  # twigs, wires, edges of things: detail a downscaler must not alias
        points = [(rng.randrange(width), rng.randrange(height)) for _ in range(3)]
        draw.line(points, fill=_random_colour(rng), width=rng.randrange(1, max(2, width // 400)))
    grain = Image.frombytes("L", (width, height), rng.randbytes(width * height)).point(lambda v: v >> 4)
    noise = Image.merge("RGB", (grain, ImageChops.offset(grain, 7, 3), ImageChops.offset(grain, 3, 11)))
    return ImageChops.add(image, noise, scale=1.0, offset=-8)


def _random_colour(rng: random.Random) -> tuple[int, int, int]:
    return rng.randrange(256), rng.randrange(256), rng.randrange(256)


def quadrants(width: int, height: int, mode: str = "RGB") -> Image.Image:
    """Four flat colours: red top-left, green top-right, blue bottom-left, yellow bottom-right."""
    image = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(image)
    half_w, half_h = width // 2, height // 2
    draw.rectangle((0, 0, half_w - 1, half_h - 1), fill=RED)
    draw.rectangle((half_w, 0, width - 1, half_h - 1), fill=GREEN)
    draw.rectangle((0, half_h, half_w - 1, height - 1), fill=BLUE)
    draw.rectangle((half_w, half_h, width - 1, height - 1), fill=YELLOW)
    return image.convert(mode)


def encode(image: Image.Image, format: str, **options: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format, **options)
    return buffer.getvalue()


def exif(orientation: int | None = None, *, gps: bool = False) -> Image.Exif:
    """EXIF as phones write it: camera make/model, optionally an orientation and GPS coordinates."""
    data = Image.Exif()
    data[0x010F] = "XaSo Phone"  # Make
    data[0x0110] = "Model 12MP"  # Model
    if orientation is not None:
        data[ORIENTATION] = orientation
    if gps:
        data[GPS_IFD] = {1: "N", 2: (10.0, 30.0, 0.0), 3: "E", 4: (106.0, 40.0, 0.0)}
    return data


def upright_to_stored(image: Image.Image, orientation: int) -> Image.Image:
    """What a camera stores for an upright scene when it tags the file with ``orientation``."""
    inverse = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
               5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_90, 7: Image.Transpose.TRANSVERSE,
               8: Image.Transpose.ROTATE_270}
    return image.transpose(inverse[orientation]) if orientation in inverse else image.copy()


def transparent_png(width: int, height: int) -> bytes:
    """RGBA: an opaque red disc on a fully transparent background, half-transparent blue band at the bottom."""
    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((width // 4, height // 4, 3 * width // 4, 3 * height // 4), fill=(*RED, 255))
    draw.rectangle((0, height - height // 8, width - 1, height - 1), fill=(*BLUE, 128))
    return encode(image, "PNG")


def palette_png(width: int, height: int, *, transparent_yellow: bool = False) -> bytes:
    """The four quadrants as a 4-colour palette image; optionally the yellow one fully transparent (tRNS)."""
    image = quadrants(width, height).quantize(colors=4)
    options: dict[str, Any] = {}
    if transparent_yellow:
        options["transparency"] = image.getpixel((width - 1, height - 1))
    return encode(image, "PNG", **options)


def grey16_png(width: int, height: int) -> bytes:
    """16-bit greyscale: a horizontal ramp from black to white over the full 0..65535 range."""
    ramp = Image.linear_gradient("L").rotate(90).resize((width, height)).convert("I")
    return encode(ramp.point(lambda value: value * 257).convert("I;16"), "PNG")


def cmyk_jpeg(width: int, height: int, **options: Any) -> bytes:
    """A CMYK JPEG as Photoshop writes them (Adobe APP14 marker, inverted channels): left half pure
    cyan, right half pure magenta + yellow (red)."""
    image = Image.new("CMYK", (width, height), (255, 0, 0, 0))
    ImageDraw.Draw(image).rectangle((width // 2, 0, width - 1, height - 1), fill=(0, 255, 255, 0))
    return encode(image, "JPEG", quality=95, **options)


def _s15(value: float) -> bytes:
    return struct.pack(">i", round(value * 65536))


def _xyz_tag(x: float, y: float, z: float) -> bytes:
    return b"XYZ \0\0\0\0" + _s15(x) + _s15(y) + _s15(z)


def _desc_tag(text: str) -> bytes:
    ascii_text = text.encode("ascii") + b"\0"
    return (b"desc\0\0\0\0" + struct.pack(">I", len(ascii_text)) + ascii_text
            + struct.pack(">II", 0, 0) + struct.pack(">HB", 0, 0) + b"\0" * 67)


def rgb_profile(description: str, red: tuple[float, float, float], green: tuple[float, float, float],
                blue: tuple[float, float, float], gamma: float) -> bytes:
    """A v2 matrix/TRC display profile (what Adobe RGB and Display P3 profiles are), built byte by
    byte: colorants are XYZ under the D50 PCS illuminant, one pure-gamma curve for all channels."""
    curve = b"curv\0\0\0\0" + struct.pack(">IH", 1, round(gamma * 256)) + b"\0\0"
    tags = [(b"desc", _desc_tag(description)), (b"cprt", b"text\0\0\0\0Generated for tests\0\0"),
            (b"wtpt", _xyz_tag(0.9642, 1.0, 0.8249)),
            (b"rXYZ", _xyz_tag(*red)), (b"gXYZ", _xyz_tag(*green)), (b"bXYZ", _xyz_tag(*blue)),
            (b"rTRC", curve), (b"gTRC", curve), (b"bTRC", curve)]
    offset = 128 + 4 + 12 * len(tags)
    table, body = b"", b""
    for signature, data in tags:
        table += signature + struct.pack(">II", offset + len(body), len(data))
        body += data + b"\0" * (-len(data) % 4)
    size = offset + len(body)
    header = (struct.pack(">I", size) + b"\0\0\0\0" + struct.pack(">I", 0x02100000) + b"mntrRGB XYZ "
              + struct.pack(">6H", 2026, 1, 1, 0, 0, 0) + b"acsp" + b"\0" * 24 + struct.pack(">I", 0)
              + _s15(0.9642) + _s15(1.0) + _s15(0.8249) + b"\0" * 48)
    assert len(header) == 128
    return header + struct.pack(">I", len(tags)) + table + body


def adobe_rgb_profile() -> bytes:
    """Adobe RGB (1998): the colorants and gamma of Adobe's own profile."""
    return rgb_profile("Adobe RGB (1998) compatible", (0.60974, 0.31111, 0.01947), (0.20528, 0.62567, 0.06087),
                       (0.14919, 0.06322, 0.74457), 563 / 256)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bomb(width: int, height: int, *, corrupt_pixels: bool = False) -> bytes:
    """A valid 1-bit PNG of ``width`` x ``height`` black pixels: a few dozen KB that would decode to
    width * height bytes in memory. ``corrupt_pixels`` damages the compressed data, so only a
    reader that never decodes it can call it anything but damaged."""
    row = b"\0" * (1 + (width + 7) // 8)
    compressor = zlib.compressobj(9)
    pixels = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    if corrupt_pixels:
        pixels = pixels[:16] + b"\xff" * 64 + pixels[80:]
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", pixels) + _png_chunk(b"IEND", b"")


def mpo_jpeg(width: int, height: int) -> bytes:
    """A multi-picture JPEG (MPF, as many Android phones write): the main image and a second frame."""
    first, second = photo(width, height, seed=1), photo(width, height, seed=2)
    return encode(first, "MPO", save_all=True, append_images=[second], quality=90)
