"""Product photos end to end: the API and the admin pages, variants served back without metadata,
dedupe, limits, order and cover, isolation, background processing, and S3 through moto's server."""

from __future__ import annotations

import io
import re
import uuid

import pytest
from PIL import Image
from sqlalchemy import func, select

from service import create_app
from service.audit.models import AuditEntry
from service.catalog.models import Product, ProductStatus
from service.db import PLATFORM, database
from service.jobs import outbox
from service.media.models import MediaAsset, MediaAttachment
from tests.conftest import app_config
from tests.factories import build_world, login
from tests.media.imagegen import encode, exif, photo
from tests.media.s3server import create_bucket, s3_client


def jpeg_with_gps(width: int = 1200, height: int = 900, seed: int = 1) -> bytes:
    return encode(photo(width, height, seed), "JPEG", quality=85, exif=exif(gps=True))


def _upload(client, world, commune, product_id, data, token_role="editor", name="photo.jpg", **form):
    token = getattr(world, commune).tokens[token_role]
    return client.post(f"/api/v1/communes/{getattr(world, commune).slug}/products/{product_id}/images",
                       data={"file": (io.BytesIO(data), name), **form}, headers=world.auth(token),
                       content_type="multipart/form-data")


def _product(app, product_id):
    with database(app).session(PLATFORM) as session:
        return session.get(Product, product_id)


def _count(app, model):
    with database(app).session(PLATFORM) as session:
        return session.scalar(select(func.count()).select_from(model))


def test_upload_makes_variants_without_metadata_and_sets_the_cover(app, client, world):
    product_id = world.a.products["published"]
    response = _upload(client, world, "a", product_id, jpeg_with_gps(), alt_vi="Chai nước mắm")
    assert response.status_code == 201, response.json
    image = response.json
    assert (image["status"], image["position"], image["is_cover"]) == ("ready", 0, True)
    assert (image["width"], image["height"], image["alt_vi"]) == (1200, 900, "Chai nước mắm")
    assert sorted({(v["width"], v["format"]) for v in image["variants"]}) == [
        (320, "jpeg"), (320, "webp"), (800, "jpeg"), (800, "webp"), (1200, "jpeg"), (1200, "webp")]
    for variant in image["variants"]:
        served = client.get(variant["url"])
        assert served.status_code == 200
        assert "immutable" in served.headers["Cache-Control"]
        with Image.open(io.BytesIO(served.data)) as picture:
            assert picture.format == variant["format"].upper() and picture.width == variant["width"]
            assert not picture.getexif() and "exif" not in picture.info and "icc_profile" not in picture.info
    product = client.get(f"/api/v1/communes/cam-thanh/products/{product_id}").json
    assert product["cover_url"].endswith("/800.jpg")
    assert _product(app, product_id).cover_key == re.sub(r"/\d+\.jpg$", "", product["cover_url"].split("/media/")[1])


def test_the_same_photo_is_stored_once_and_a_third_product_photo_goes_last(app, client, world):
    data = jpeg_with_gps(640, 480)
    first = _upload(client, world, "a", world.a.products["published"], data).json
    again = _upload(client, world, "a", world.a.products["published"], data)
    assert again.status_code == 201 and again.json["id"] == first["id"]
    other = _upload(client, world, "a", world.a.products["cheap"], data).json
    assert other["id"] == first["id"]
    assert _count(app, MediaAsset) == 1 and _count(app, MediaAttachment) == 2
    second = _upload(client, world, "a", world.a.products["published"], jpeg_with_gps(640, 480, seed=2)).json
    assert (second["position"], second["is_cover"]) == (1, False)


@pytest.mark.parametrize(("data", "name", "code"), [
    (b"this is not a photo\n" * 20, "anh.jpg", "unsupported_image"),
    (jpeg_with_gps(400, 300)[:1500], "cut.jpg", "image_damaged"),
])
def test_bad_files_are_refused_with_a_clear_error_and_nothing_saved(app, client, world, data, name, code):
    response = _upload(client, world, "a", world.a.products["published"], data, name=name)
    assert response.status_code == 422
    assert (response.json["error"]["code"], response.json["error"]["param"]) == (code, "file")
    assert _count(app, MediaAsset) == 0 and _count(app, MediaAttachment) == 0
    assert _product(app, world.a.products["published"]).cover_key is None


def test_limits_on_bytes_and_count(database_url, tmp_path):
    app = create_app(app_config(database_url, tmp_path, MEDIA_MAX_BYTES=200_000, MEDIA_MAX_PER_OWNER=2))
    world = build_world(app)
    client = app.test_client()
    product_id = world.a.products["published"]
    large = encode(photo(1600, 1200, 3), "PNG")
    assert len(large) > 200_000
    response = _upload(client, world, "a", product_id, large, name="big.png")
    assert response.status_code in (413, 422) and response.json["error"]["code"] == "image_too_large"
    for seed in (1, 2):
        assert _upload(client, world, "a", product_id, jpeg_with_gps(320, 240, seed)).status_code == 201
    response = _upload(client, world, "a", product_id, jpeg_with_gps(320, 240, 3))
    assert response.status_code == 422 and response.json["error"]["code"] == "too_many_images"
    assert client.post(f"/api/v1/communes/cam-thanh/products/{product_id}/images", data={},
                       headers=world.auth(world.a.tokens["editor"])).status_code == 422
    database(app).engine.dispose()


def test_order_cover_alt_and_removal(app, client, world):
    product_id = world.a.products["published"]
    ids = [_upload(client, world, "a", product_id, jpeg_with_gps(400, 300, seed)).json["id"] for seed in (1, 2, 3)]
    url = f"/api/v1/communes/cam-thanh/products/{product_id}/images"
    auth = world.auth(world.a.tokens["editor"])
    response = client.patch(f"{url}/{ids[2]}", json={"position": 0, "alt_en": "A bottle"}, headers=auth)
    assert response.status_code == 200 and response.json["is_cover"] and response.json["alt_en"] == "A bottle"
    assert [image["id"] for image in client.get(url).json["data"]] == [ids[2], ids[0], ids[1]]
    cover = _product(app, product_id).cover_key
    assert cover and cover.endswith(client.get(url).json["data"][0]["variants"][0]["url"].split("/")[-2])
    assert client.delete(f"{url}/{ids[2]}", headers=auth).status_code == 204
    assert [image["id"] for image in client.get(url).json["data"]] == [ids[0], ids[1]]
    assert _product(app, product_id).cover_key != cover
    for image_id in ids[:2]:
        client.delete(f"{url}/{image_id}", headers=auth)
    assert _product(app, product_id).cover_key is None
    assert client.delete(f"{url}/{ids[0]}", headers=auth).status_code == 404


def test_another_communes_product_and_image_answer_404(app, client, world):
    mine = _upload(client, world, "a", world.a.products["published"], jpeg_with_gps(400, 300)).json["id"]
    # b's editor on a's product, through a's URL and through b's URL
    response = client.post(f"/api/v1/communes/cam-thanh/products/{world.a.products['published']}/images",
                           data={"file": (io.BytesIO(jpeg_with_gps(400, 300, 5)), "x.jpg")},
                           headers=world.auth(world.b.tokens["editor"]), content_type="multipart/form-data")
    assert response.status_code == 404
    assert _upload(client, world, "b", world.a.products["published"], jpeg_with_gps(400, 300, 6)).status_code == 404
    url = f"/api/v1/communes/nam-phuoc/products/{world.b.products['published']}/images/{mine}"
    assert client.patch(url, json={"position": 0}, headers=world.auth(world.b.tokens["editor"])).status_code == 404
    assert client.delete(url, headers=world.auth(world.b.tokens["editor"])).status_code == 404


def test_a_sellers_new_photo_goes_back_to_review_and_volunteers_are_audited(app, client, world):
    own = world.a.products["published"]
    response = _upload(client, world, "a", own, jpeg_with_gps(400, 300), token_role="seller")
    assert response.status_code == 201
    assert _product(app, own).status == ProductStatus.PENDING_REVIEW
    assisted = world.a.products["pending"]
    assert _upload(client, world, "a", assisted, jpeg_with_gps(400, 300, 2), token_role="volunteer").status_code == 201
    with database(app).session(PLATFORM) as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "product.image_added",
                                                         AuditEntry.object_id == assisted)).one()
    assert entry.actor_role == "volunteer" and entry.on_behalf_of_seller_id is not None


def test_background_processing_keeps_the_upload_until_the_variants_exist(database_url, tmp_path):
    app = create_app(app_config(database_url, tmp_path, MEDIA_PROCESSING="background", OUTBOX_DELIVERY="worker"))
    world = build_world(app)
    client = app.test_client()
    product_id = world.a.products["published"]
    response = _upload(client, world, "a", product_id, jpeg_with_gps(800, 600))
    assert response.status_code == 201 and response.json["status"] == "processing" and response.json["variants"] == []
    incoming = list((tmp_path / "media").rglob("incoming/*/*"))
    assert len(incoming) == 1  # durable before the response, outside what /media serves
    assert client.get("/media/" + str(incoming[0].relative_to(tmp_path / "media"))).status_code == 404
    page = client.get(f"/c/cam-thanh/admin/products/{product_id}/edit")  # not signed in: redirect, still fine
    assert page.status_code in (302, 303)
    with app.app_context(), database(app).session(PLATFORM) as session:
        assert outbox.drain(session).delivered == 1
    image = client.get(f"/api/v1/communes/cam-thanh/products/{product_id}/images").json["data"][0]
    assert image["status"] == "ready"
    assert {v["width"] for v in image["variants"] if not v.get("role")} == {320, 800}  # + the share image
    assert list((tmp_path / "media").rglob("incoming/*/*")) == []  # the original (with GPS) is gone
    database(app).engine.dispose()


def test_admin_pages_upload_several_photos_keep_the_good_ones_and_manage_them(app, client, world):
    product_id = world.a.products["published"]
    login(client, world.a.users["editor"])
    page = f"/c/cam-thanh/admin/products/{product_id}/edit"
    response = client.post(f"/c/cam-thanh/admin/products/{product_id}/images", data={"file": [
        (io.BytesIO(jpeg_with_gps(640, 480, 1)), "tot.jpg"), (io.BytesIO(b"not an image"), "hong.jpg"),
        (io.BytesIO(jpeg_with_gps(640, 480, 2)), "tot2.jpg")]}, content_type="multipart/form-data")
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "hong.jpg" in text and "JPEG, PNG" in text
    assert _count(app, MediaAttachment) == 2
    html = client.get(page).get_data(as_text=True)
    assert html.count('type="image/webp"') == 2 and "Ảnh bìa" in html
    ids = [int(i) for i in re.findall(r"/images/(\d+)\"", html)]
    assert len(ids) == 2
    response = client.post(f"/c/cam-thanh/admin/products/{product_id}/images/{ids[1]}", data={"op": "cover"})
    assert response.status_code == 303
    response = client.post(f"/c/cam-thanh/admin/products/{product_id}/images/{ids[0]}",
                           data={"op": "alt", "alt_vi": "Chai thủy tinh", "alt_en": "Glass bottle"})
    assert response.status_code == 303
    public = client.get(f"/c/cam-thanh/products/{_product(app, product_id).slug}?lang=en").get_data(as_text=True)
    assert 'alt="Glass bottle"' in public
    assert 'srcset="' in public and 'type="image/webp"' in public
    listing = client.get("/c/cam-thanh/products").get_data(as_text=True)
    assert "<picture>" in listing and "/320.webp 320w" in listing
    response = client.post(f"/c/cam-thanh/admin/products/{product_id}/images/{ids[0]}", data={"op": "remove"})
    assert response.status_code == 303 and _count(app, MediaAttachment) == 1


@pytest.fixture
def s3_app(database_url, tmp_path, s3_endpoint, aws_env):
    bucket = f"xaso-{uuid.uuid4().hex[:12]}"
    create_bucket(s3_client(s3_endpoint), bucket)
    app = create_app(app_config(database_url, tmp_path, STORAGE_BACKEND="s3", S3_BUCKET=bucket, S3_PREFIX="media/",
                                S3_ENDPOINT_URL=s3_endpoint, S3_PUBLIC_BASE_URL="https://cdn.xaso.test"))
    app.config["TEST_BUCKET"] = bucket
    yield app
    database(app).engine.dispose()


def test_uploads_land_in_s3_and_pages_link_the_public_base_url(s3_app, s3_endpoint):
    world = build_world(s3_app)
    client = s3_app.test_client()
    product_id = world.a.products["published"]
    image = _upload(client, world, "a", product_id, jpeg_with_gps(900, 600)).json
    bucket = s3_app.config["TEST_BUCKET"]
    listed = s3_client(s3_endpoint).list_objects_v2(Bucket=bucket)["Contents"]
    keys = {item["Key"] for item in listed}
    assert len(keys) == 7 and all(key.startswith("media/m/") for key in keys)  # 2 widths × 3 + the share image
    for variant in image["variants"]:
        assert variant["url"].startswith("https://cdn.xaso.test/media/m/")
        body = s3_client(s3_endpoint).get_object(Bucket=bucket, Key=variant["url"].split("cdn.xaso.test/")[1])
        with Image.open(io.BytesIO(body["Body"].read())) as picture:
            assert not picture.getexif() and picture.width == variant["width"]
    html = client.get(f"/c/cam-thanh/products/{_product(s3_app, product_id).slug}").get_data(as_text=True)
    assert "https://cdn.xaso.test/media/m/" in html
