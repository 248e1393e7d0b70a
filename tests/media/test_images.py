"""The Pillow pipeline on real generated images (pure: no database, no app)."""

from __future__ import annotations

import io
import math
import time
import warnings
from typing import Any

import pytest
from PIL import Image, ImageChops, ImageStat, PngImagePlugin

from service.core.errors import Invalid
from service.media.images import FORMATS, ImageRejected, Probe, Variant, probe, process
from tests.media import imagegen

MAX_PIXELS = 40_000_000
MAX_BYTES = 20_000_000
TOLERANCE = 40  # per channel, for flat colours after lossy re-encoding


def _decode(variant: Variant) -> Image.Image:
    image = Image.open(io.BytesIO(variant.data))
    image.load()
    return image


def _close(pixel: Any, expected: tuple[int, ...], tolerance: int = TOLERANCE) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, expected, strict=False))


def _rejected(call: Any, code: str) -> ImageRejected:
    with pytest.raises(ImageRejected) as caught:
        call()
    assert caught.value.code == code
    assert isinstance(caught.value, Invalid)
    assert caught.value.message.endswith(".")
    return caught.value


def _psnr(a: Image.Image, b: Image.Image) -> float:
    squares = ImageStat.Stat(ImageChops.difference(a.convert("RGB"), b.convert("RGB"))).sum2
    mse = sum(squares) / (3 * a.width * a.height)
    return 99.0 if mse == 0 else 10 * math.log10(255**2 / mse)


# -- probe: what is accepted, what is refused ---------------------------------------------------


@pytest.mark.parametrize(("format", "options"), [("JPEG", {"quality": 90}), ("PNG", {}), ("WEBP", {"quality": 80})])
def test_probe_reads_format_and_stored_size(format: str, options: dict[str, Any]) -> None:
    data = imagegen.encode(imagegen.photo(120, 90), format, **options)
    assert probe(data, max_bytes=MAX_BYTES, max_pixels=MAX_PIXELS) == Probe(format, 120, 90)


def test_probe_reports_the_stored_size_of_a_rotated_jpeg() -> None:
    stored = imagegen.upright_to_stored(imagegen.quadrants(300, 200), 6)
    data = imagegen.encode(stored, "JPEG", exif=imagegen.exif(6))
    assert probe(data, max_bytes=MAX_BYTES, max_pixels=MAX_PIXELS) == Probe("JPEG", 200, 300)


def test_multi_picture_jpeg_from_a_phone_is_a_jpeg() -> None:
    data = imagegen.mpo_jpeg(400, 300)
    assert Image.open(io.BytesIO(data)).format == "MPO"  # what Pillow calls it
    assert probe(data, max_bytes=MAX_BYTES, max_pixels=MAX_PIXELS) == Probe("JPEG", 400, 300)
    processed = process(data, widths=(320,), max_pixels=MAX_PIXELS)
    assert [(v.width, v.height, v.format) for v in processed.variants] == [(320, 240, "webp"), (320, 240, "jpeg")]


@pytest.mark.parametrize("data", [
    b"Just a shopping list saved as photo.jpg\nnuoc mam, buoi, gao\n",
    b"",
    b"<html><body>not an image</body></html>",
], ids=["text", "empty", "html"])
def test_text_named_jpg_is_not_an_image(data: bytes) -> None:
    _rejected(lambda: probe(data, max_bytes=MAX_BYTES, max_pixels=MAX_PIXELS), "unsupported_image")
    _rejected(lambda: process(data, max_pixels=MAX_PIXELS), "unsupported_image")


@pytest.mark.parametrize("format", ["GIF", "BMP", "TIFF"])
def test_real_images_in_other_formats_are_unsupported(format: str) -> None:
    data = imagegen.encode(imagegen.quadrants(40, 30), format)
    error = _rejected(lambda: probe(data, max_bytes=MAX_BYTES, max_pixels=MAX_PIXELS), "unsupported_image")
    assert "JPEG, PNG or WebP" in error.message


@pytest.mark.parametrize("format", ["JPEG", "PNG", "WEBP"])
@pytest.mark.parametrize("keep", [0.5, 0.9], ids=["half", "most"])
def test_truncated_images_are_damaged(format: str, keep: float) -> None:
    whole = imagegen.encode(imagegen.photo(400, 300), format)
    data = whole[: int(len(whole) * keep)]
    _rejected(lambda: probe(data, max_bytes=MAX_BYTES, max_pixels=MAX_PIXELS), "image_damaged")
    _rejected(lambda: process(data, max_pixels=MAX_PIXELS), "image_damaged")


def test_jpeg_missing_only_its_end_marker_is_damaged() -> None:
    whole = imagegen.encode(imagegen.photo(400, 300), "JPEG")
    _rejected(lambda: probe(whole[:-2], max_bytes=MAX_BYTES, max_pixels=MAX_PIXELS), "image_damaged")


def test_header_cut_short_is_damaged_not_unsupported() -> None:
    whole = imagegen.encode(imagegen.photo(400, 300), "PNG")
    _rejected(lambda: probe(whole[:20], max_bytes=MAX_BYTES, max_pixels=MAX_PIXELS), "image_damaged")


def test_too_many_bytes_is_413() -> None:
    data = imagegen.encode(imagegen.photo(200, 150), "JPEG")
    assert probe(data, max_bytes=len(data), max_pixels=MAX_PIXELS).format == "JPEG"
    error = _rejected(lambda: probe(data, max_bytes=len(data) - 1, max_pixels=MAX_PIXELS), "image_too_large")
    assert error.status == 413
    assert "MB" in error.message


@pytest.fixture(scope="module")
def bomb() -> bytes:
    return imagegen.png_bomb(20_000, 20_000)


def test_decompression_bomb_is_refused_from_its_header(bomb: bytes) -> None:
    assert len(bomb) < 100_000  # 400 megapixels in a few dozen KB
    start = time.perf_counter()
    error = _rejected(lambda: probe(bomb, max_bytes=MAX_BYTES, max_pixels=MAX_PIXELS), "image_too_many_pixels")
    _rejected(lambda: process(bomb, max_pixels=MAX_PIXELS), "image_too_many_pixels")
    assert time.perf_counter() - start < 1  # decoding 400 MB of pixels would take far longer
    assert error.status == 422


def test_pixel_limit_is_checked_before_any_decoding() -> None:
    # Within Pillow's own limit but over ours, with broken pixel data: a reader that decoded
    # anything would call it damaged.
    data = imagegen.png_bomb(8_000, 6_000, corrupt_pixels=True)
    error = _rejected(lambda: probe(data, max_bytes=MAX_BYTES, max_pixels=MAX_PIXELS), "image_too_many_pixels")
    assert "8000 x 6000" in error.message
    _rejected(lambda: process(data, max_pixels=MAX_PIXELS), "image_too_many_pixels")


def test_pillows_own_bomb_error_is_a_rejection_too(bomb: bytes) -> None:
    # Our limit set above Pillow's: its DecompressionBombError must not escape as a crash.
    _rejected(lambda: probe(bomb, max_bytes=MAX_BYTES, max_pixels=10**10), "image_too_many_pixels")


def test_pillows_bomb_warning_turned_error_is_a_rejection_too() -> None:
    data = imagegen.png_bomb(10_000, 10_000, corrupt_pixels=True)  # between Pillow's warning and error limits
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        _rejected(lambda: probe(data, max_bytes=MAX_BYTES, max_pixels=10**10), "image_too_many_pixels")


def test_rejection_codes_are_distinct() -> None:
    errors = [
        _rejected(lambda: probe(b"text", max_bytes=MAX_BYTES, max_pixels=MAX_PIXELS), "unsupported_image"),
        _rejected(lambda: probe(b"x" * 10, max_bytes=5, max_pixels=MAX_PIXELS), "image_too_large"),
        _rejected(lambda: probe(imagegen.png_bomb(8_000, 8_000), max_bytes=MAX_BYTES, max_pixels=MAX_PIXELS),
                  "image_too_many_pixels"),
        _rejected(lambda: probe(imagegen.encode(imagegen.photo(64, 64), "JPEG")[:400], max_bytes=MAX_BYTES,
                                max_pixels=MAX_PIXELS), "image_damaged"),
    ]
    assert len({error.code for error in errors}) == 4
    assert len({error.message for error in errors}) == 4


# -- process: variants ------------------------------------------------------------------------------


def test_variants_have_the_expected_sizes_order_and_formats() -> None:
    source = imagegen.photo(1000, 750, seed=3)
    processed = process(imagegen.encode(source, "JPEG", quality=92), max_pixels=MAX_PIXELS)
    assert (processed.width, processed.height, processed.has_alpha) == (1000, 750, False)
    assert [(v.width, v.height, v.format, v.content_type) for v in processed.variants] == [
        (320, 240, "webp", "image/webp"), (320, 240, "jpeg", "image/jpeg"),
        (800, 600, "webp", "image/webp"), (800, 600, "jpeg", "image/jpeg"),
        (1000, 750, "webp", "image/webp"), (1000, 750, "jpeg", "image/jpeg"),
    ]
    for variant in processed.variants:
        image = _decode(variant)
        assert FORMATS[str(image.format)] == variant.content_type
        assert image.size == (variant.width, variant.height)
        assert image.mode == "RGB"
        # The same picture (an unrelated one scores ~10 dB); lossy codecs smooth the sensor noise away.
        assert _psnr(image, source.resize(image.size, Image.Resampling.LANCZOS)) > 25
        if variant.format == "jpeg":
            assert image.info.get("progressive")


def test_a_12_megapixel_jpeg_is_decoded_at_reduced_scale_and_still_sharp() -> None:
    source = imagegen.photo(4000, 3000, seed=4)
    processed = process(imagegen.encode(source, "JPEG", quality=90), max_pixels=MAX_PIXELS)
    assert [(v.width, v.height) for v in processed.variants[::2]] == [(320, 240), (800, 600), (1600, 1200)]
    largest = _decode(processed.variants[-1])
    reference = source.resize((1600, 1200), Image.Resampling.LANCZOS)
    assert _psnr(largest, reference) > 28


def test_small_images_are_never_upscaled() -> None:
    processed = process(imagegen.encode(imagegen.photo(200, 150), "PNG"), max_pixels=MAX_PIXELS)
    assert [(v.width, v.height, v.format) for v in processed.variants] == [(200, 150, "webp"), (200, 150, "jpeg")]


def test_widths_wider_than_the_image_collapse_into_one() -> None:
    processed = process(imagegen.encode(imagegen.photo(900, 300), "PNG"), max_pixels=MAX_PIXELS)
    assert [v.width for v in processed.variants] == [320, 320, 800, 800, 900, 900]
    assert [v.height for v in processed.variants] == [107, 107, 267, 267, 300, 300]


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize("size", [(300, 200), (2400, 1600)], ids=["small", "drafted"])
def test_exif_orientation_is_applied_to_the_pixels(orientation: int, size: tuple[int, int]) -> None:
    upright = imagegen.quadrants(*size)
    stored = imagegen.upright_to_stored(upright, orientation)
    data = imagegen.encode(stored, "JPEG", quality=92, exif=imagegen.exif(orientation))
    processed = process(data, widths=(320, 800), max_pixels=MAX_PIXELS)
    assert (processed.width, processed.height) == size
    for variant in processed.variants:
        image = _decode(variant).convert("RGB")
        assert image.width == variant.width > image.height  # landscape again, whatever was stored
        w, h = image.size
        assert _close(image.getpixel((w // 8, h // 8)), imagegen.RED)
        assert _close(image.getpixel((w - w // 8, h // 8)), imagegen.GREEN)
        assert _close(image.getpixel((w // 8, h - h // 8)), imagegen.BLUE)
        assert _close(image.getpixel((w - w // 8, h - h // 8)), imagegen.YELLOW)


def test_orientation_in_png_and_webp_exif_is_applied_too() -> None:
    stored = imagegen.upright_to_stored(imagegen.quadrants(300, 200), 8)
    for format in ("PNG", "WEBP"):
        data = imagegen.encode(stored, format, exif=imagegen.exif(8))
        processed = process(data, max_pixels=MAX_PIXELS)
        assert (processed.width, processed.height) == (300, 200)
        image = _decode(processed.variants[0]).convert("RGB")
        assert image.size == (300, 200)
        assert _close(image.getpixel((30, 20)), imagegen.RED)


def test_cmyk_jpeg_from_photoshop_comes_out_in_the_right_colours() -> None:
    data = imagegen.cmyk_jpeg(200, 100)
    source = Image.open(io.BytesIO(data))
    assert source.mode == "CMYK" and source.info.get("adobe")  # Adobe marker: inverted channels on disk
    processed = process(data, max_pixels=MAX_PIXELS)
    for variant in processed.variants:
        image = _decode(variant).convert("RGB")
        assert image.mode == "RGB"
        assert _close(image.getpixel((30, 50)), (0, 255, 255))  # cyan
        assert _close(image.getpixel((170, 50)), (255, 0, 0))  # red


def test_transparency_is_kept_in_webp_and_flattened_on_white_in_jpeg() -> None:
    processed = process(imagegen.transparent_png(400, 300), widths=(320, 800), max_pixels=MAX_PIXELS)
    assert processed.has_alpha
    assert [(v.width, v.format) for v in processed.variants] == [(320, "webp"), (320, "jpeg"), (400, "webp"),
                                                                 (400, "jpeg")]
    for variant in processed.variants:
        image = _decode(variant)
        w, h = image.size
        centre, corner, band = (w // 2, h // 2), (3, 3), (w // 2, h - 3)
        if variant.format == "webp":
            assert image.mode == "RGBA"
            assert image.getpixel(corner)[3] == 0
            assert _close(image.getpixel(centre), (*imagegen.RED, 255))
            assert abs(image.getpixel(band)[3] - 128) <= 8
        else:
            assert image.mode == "RGB"
            assert _close(image.getpixel(corner), (255, 255, 255), 3)
            assert _close(image.getpixel(centre), imagegen.RED)
            assert _close(image.getpixel(band), (142, 157, 237))  # half blue over white


def test_opaque_alpha_channel_is_no_transparency() -> None:
    data = imagegen.encode(imagegen.photo(120, 90).convert("RGBA"), "PNG")
    processed = process(data, max_pixels=MAX_PIXELS)
    assert not processed.has_alpha
    assert _decode(processed.variants[0]).mode == "RGB"


@pytest.mark.parametrize("transparent_yellow", [False, True])
def test_palette_png(transparent_yellow: bool) -> None:
    data = imagegen.palette_png(200, 100, transparent_yellow=transparent_yellow)
    assert Image.open(io.BytesIO(data)).mode == "P"
    processed = process(data, max_pixels=MAX_PIXELS)
    assert processed.has_alpha == transparent_yellow
    webp, jpeg = (_decode(variant) for variant in processed.variants)
    assert _close(webp.getpixel((50, 25)), imagegen.RED) and _close(jpeg.getpixel((50, 25)), imagegen.RED)
    assert _close(webp.getpixel((150, 25)), imagegen.GREEN) and _close(jpeg.getpixel((150, 25)), imagegen.GREEN)
    if transparent_yellow:
        assert webp.getpixel((150, 75))[3] == 0
        assert _close(jpeg.getpixel((150, 75)), (255, 255, 255), 3)
    else:
        assert _close(jpeg.getpixel((150, 75)), imagegen.YELLOW)


def test_16_bit_greyscale_is_scaled_not_clipped() -> None:
    data = imagegen.grey16_png(256, 64)
    assert Image.open(io.BytesIO(data)).mode.startswith("I")
    for variant in process(data, max_pixels=MAX_PIXELS).variants:
        image = _decode(variant).convert("L")
        assert image.getpixel((2, 32)) < 20
        assert 110 < image.getpixel((128, 32)) < 146
        assert image.getpixel((253, 32)) > 235


@pytest.mark.parametrize("mode", ["L", "1"])
def test_greyscale_and_bilevel(mode: str) -> None:
    source = imagegen.quadrants(200, 100, mode)
    data = imagegen.encode(source, "JPEG" if mode == "L" else "PNG")
    for variant in process(data, max_pixels=MAX_PIXELS).variants:
        image = _decode(variant).convert("L")
        assert abs(image.getpixel((50, 25)) - source.convert("L").getpixel((50, 25))) <= 10


# -- colour: everything ends up sRGB --------------------------------------------------------------


def _adobe_rgb_to_srgb(rgb: tuple[int, int, int]) -> tuple[int, ...]:
    """Independent reference: Adobe RGB (1998) -> XYZ (D65) -> sRGB with the published matrices."""
    linear = [(value / 255) ** (563 / 256) for value in rgb]
    to_xyz = [(0.5767309, 0.1855540, 0.1881852), (0.2973769, 0.6273491, 0.0752741),
              (0.0270343, 0.0706872, 0.9911085)]
    to_srgb = [(3.2404542, -1.5371385, -0.4985314), (-0.9692660, 1.8760108, 0.0415560),
               (0.0556434, -0.2040259, 1.0572252)]
    xyz = [sum(m * v for m, v in zip(row, linear, strict=True)) for row in to_xyz]
    srgb = [min(1.0, max(0.0, sum(m * v for m, v in zip(row, xyz, strict=True)))) for row in to_srgb]
    encoded = [12.92 * v if v <= 0.0031308 else 1.055 * v ** (1 / 2.4) - 0.055 for v in srgb]
    return tuple(round(v * 255) for v in encoded)


@pytest.mark.parametrize("format", ["PNG", "JPEG", "WEBP"])
@pytest.mark.parametrize("colour", [(90, 150, 200), (200, 100, 50), (128, 128, 128)])
def test_adobe_rgb_pixels_are_converted_to_srgb(format: str, colour: tuple[int, int, int]) -> None:
    expected = _adobe_rgb_to_srgb(colour)
    data = imagegen.encode(Image.new("RGB", (64, 48), colour), format, icc_profile=imagegen.adobe_rgb_profile(),
                           **({"quality": 95} if format != "PNG" else {}))
    for variant in process(data, max_pixels=MAX_PIXELS).variants:
        assert _close(_decode(variant).getpixel((32, 24)), expected, 4)
    if colour == (90, 150, 200):
        assert expected == (36, 151, 203)  # visibly different from the numbers stored in the file


@pytest.mark.parametrize("profile", [
    b"not an ICC profile at all",
    imagegen.adobe_rgb_profile()[:200],
], ids=["garbage", "cut-short"])
def test_broken_profiles_are_ignored(profile: bytes) -> None:
    data = imagegen.encode(Image.new("RGB", (64, 48), (90, 150, 200)), "PNG", icc_profile=profile)
    for variant in process(data, max_pixels=MAX_PIXELS).variants:
        assert _close(_decode(variant).getpixel((32, 24)), (90, 150, 200), 4)


def test_a_profile_for_another_colour_space_is_ignored() -> None:
    from PIL import ImageCms

    lab = ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB")).tobytes()
    data = imagegen.encode(Image.new("RGB", (64, 48), (90, 150, 200)), "PNG", icc_profile=lab)
    for variant in process(data, max_pixels=MAX_PIXELS).variants:
        assert _close(_decode(variant).getpixel((32, 24)), (90, 150, 200), 4)


def test_srgb_tagged_and_untagged_pixels_are_unchanged() -> None:
    from PIL import ImageCms

    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    for options in ({}, {"icc_profile": srgb}):
        data = imagegen.encode(Image.new("RGB", (64, 48), (90, 150, 200)), "PNG", **options)
        for variant in process(data, max_pixels=MAX_PIXELS).variants:
            assert _close(_decode(variant).getpixel((32, 24)), (90, 150, 200), 4)


# -- privacy: no metadata survives ----------------------------------------------------------------


def _with_metadata(format: str, icc: bytes) -> bytes:
    image = imagegen.photo(400, 300)
    exif = imagegen.exif(1, gps=True)
    if format == "PNG":
        info = PngImagePlugin.PngInfo()
        info.add_itxt("XML:com.adobe.xmp", imagegen.XMP_PACKET.decode())
        info.add_text("Comment", "secret place behind the pagoda")
        return imagegen.encode(image, "PNG", pnginfo=info, exif=exif, icc_profile=icc)
    options: dict[str, Any] = {"exif": exif, "icc_profile": icc, "xmp": imagegen.XMP_PACKET}
    if format == "JPEG":
        options["comment"] = b"secret place behind the pagoda"
    return imagegen.encode(image, format, **options)


@pytest.mark.parametrize("format", ["JPEG", "PNG", "WEBP"])
@pytest.mark.parametrize("profile", ["adobe-rgb", "srgb"])  # with and without a colour transform
def test_all_metadata_is_stripped_from_every_output(format: str, profile: str) -> None:
    from PIL import ImageCms

    icc = (imagegen.adobe_rgb_profile() if profile == "adobe-rgb"
           else ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    data = _with_metadata(format, icc)
    source = Image.open(io.BytesIO(data))
    source.load()
    assert source.getexif().get_ifd(imagegen.GPS_IFD), "the input must carry GPS for this test to mean anything"
    assert source.info.get("icc_profile") and source.info.get("xmp")
    processed = process(data, max_pixels=MAX_PIXELS)
    assert len(processed.variants) == 4
    for variant in processed.variants:
        image = _decode(variant)
        assert not image.getexif()
        assert "icc_profile" not in image.info
        assert "xmp" not in image.info
        assert "comment" not in image.info and "Comment" not in image.info
        for marker in (b"Exif\0\0", b"XaSo Phone", b"ns.adobe.com", b"ICC_PROFILE", b"ICCP", b"XMP ", b"secret"):
            assert marker not in variant.data

