"""The 1200 x 630 share image (og:image): made for new uploads, upright and cropped, kept out of srcsets;
photos uploaded before it existed fall back to their widest JPEG."""

from __future__ import annotations

import io

from PIL import Image

from service.db import PLATFORM, Scope, database, get_session, set_scope
from service.media import services as media
from service.media.images import SHARE_QUALITY, SHARE_SIZE, process
from service.media.models import MediaAsset
from service.media.storage import get_storage
from service.media.web import share_image, share_image_url
from tests.feeds.helpers import PHOTOS
from tests.media.imagegen import encode, exif, photo, transparent_png, upright_to_stored

MAX_PIXELS = 40_000_000


def _decode(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def test_process_makes_a_cover_cropped_share_jpeg():
    processed = process(encode(photo(2000, 1500, seed=3), "JPEG"), max_pixels=MAX_PIXELS)
    share = processed.share
    assert share is not None
    assert (share.width, share.height, share.format, share.content_type) == (1200, 630, "jpeg", "image/jpeg")
    image = _decode(share.data)
    assert (image.format, image.size, image.mode) == ("JPEG", SHARE_SIZE, "RGB")
    assert not image.getexif() and "icc_profile" not in image.info
    assert SHARE_QUALITY == 85
    # the share image is not one of the widths
    assert all(variant.height != 630 for variant in processed.variants)


def test_share_image_is_upright_and_cropped_from_the_middle():
    # A portrait photo stored sideways (EXIF 6): red top half, blue bottom half once upright.
    upright = Image.new("RGB", (600, 900), (0, 0, 255))
    upright.paste((255, 0, 0), (0, 0, 600, 450))
    stored = upright_to_stored(upright, 6)
    processed = process(encode(stored, "JPEG", exif=exif(6), quality=95), max_pixels=MAX_PIXELS)
    assert processed.share is not None
    image = _decode(processed.share.data).convert("RGB")
    assert image.size == SHARE_SIZE  # small photos are enlarged to cover
    top = image.getpixel((600, 40))
    bottom = image.getpixel((600, 590))
    assert isinstance(top, tuple) and isinstance(bottom, tuple)
    assert top[0] > 200 and top[2] < 60  # red above the middle
    assert bottom[2] > 200 and bottom[0] < 60  # blue below


def test_transparent_png_share_is_flattened_on_white():
    processed = process(transparent_png(800, 800), max_pixels=MAX_PIXELS)
    assert processed.share is not None
    assert _decode(processed.share.data).mode == "RGB"


def test_process_can_skip_the_share_image():
    assert process(encode(photo(400, 300), "JPEG"), max_pixels=MAX_PIXELS, share=False).share is None


def _upload(app, commune, data: bytes) -> int:
    with app.app_context():
        session = database(app).session(Scope(commune.id))
        asset = media.upload(session, get_storage(), PHOTOS, data, "p.jpg")
        session.commit()
        asset_id = asset.id
        session.close()
    return asset_id


def test_upload_records_the_share_variant_outside_the_srcset(app, world):
    asset_id = _upload(app, world.a, encode(photo(1800, 1200, seed=7), "JPEG"))
    with app.test_request_context("/"):
        set_scope(get_session(), PLATFORM)  # what a page's request has: a scoped session
        session = database(app).session(PLATFORM)
        asset = session.get(MediaAsset, asset_id)
        assert asset is not None
        shares = [variant for variant in asset.variants if variant.get("role") == media.SHARE_ROLE]
        assert len(shares) == 1
        share = shares[0]
        assert (share["format"], share["width"], share["height"]) == ("jpeg", 1200, 630)
        assert share["key"] == media.share_key(asset.key) and share["key"].endswith("/share-1200x630.jpg")
        stored = get_storage().get(share["key"])
        assert _decode(stored).size == (1200, 630) and share["bytes"] == len(stored)

        picture = media.picture(get_storage(), asset)
        assert picture is not None
        assert share["key"] not in picture.srcset("jpeg") + picture.srcset("webp")
        assert [source.width for source in picture.jpeg] == [320, 800, 1600]
        assert picture.src(1200).endswith("/1600.jpg")

        found = share_image(asset.key)
        assert found is not None
        assert (found.width, found.height) == (1200, 630)
        assert found.url == app.config["PUBLIC_BASE_URL"] + get_storage().url(share["key"])
        session.close()


def test_old_assets_without_a_share_variant_fall_back_to_the_widest_jpeg(app, world):
    asset_id = _upload(app, world.a, encode(photo(1000, 700, seed=9), "JPEG"))
    with app.test_request_context("/"):
        set_scope(get_session(), PLATFORM)  # what a page's request has: a scoped session
        session = database(app).session(PLATFORM)
        asset = session.get(MediaAsset, asset_id)
        assert asset is not None
        asset.variants = [v for v in asset.variants if v.get("role") != media.SHARE_ROLE]  # as made before
        session.commit()
        found = share_image(asset.key)
        assert found is not None
        assert (found.width, found.height) == (1000, 700)
        assert found.url.endswith("/1000.jpg") and found.url.startswith(app.config["PUBLIC_BASE_URL"])
        assert share_image_url(asset.key) == found.url
        session.close()
    with app.test_request_context("/"):
        set_scope(get_session(), PLATFORM)
        legacy = share_image("covers/ct.jpg")  # a single file from before the pipeline: its own URL, no size
        assert legacy is not None and legacy.width is None and legacy.url.startswith("http")
        assert share_image(None) is None and share_image_url("") is None
