"""Storage: one behaviour suite over LocalStorage and S3Storage (moto's standalone server, real
HTTP), then what only one backend has (atomic files, presigned and public URLs, object headers),
the choice from app config and the ``/media`` route."""

from __future__ import annotations

import io
import json
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from botocore.exceptions import ClientError
from flask import Flask
from PIL import Image

from service import create_app
from service.config import load_config
from service.core.web import media_bp
from service.db import database
from service.media.storage import (
    PUBLIC_CACHE_CONTROL,
    InvalidMediaKey,
    LocalStorage,
    S3Storage,
    Storage,
    get_storage,
)
from tests.conftest import app_config
from tests.media.s3server import REGION, create_bucket, s3_client

KEY = "cam-thanh/products/p1/800.webp"


def webp_bytes(color: str = "red", size: tuple[int, int] = (40, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "WEBP")
    return buffer.getvalue()


def jpeg_bytes(color: str = "green") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), color).save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


@dataclass
class Anonymous:
    status: int
    body: bytes
    headers: dict[str, str]  # names lower-cased

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass
class Backend:
    """A storage plus how a stranger on the internet would fetch from it."""

    name: str
    storage: Storage
    fetch: Callable[[str], Anonymous]  # anonymous GET of a URL that ``url()`` or a guess produced
    private_location: Callable[[str], str]  # where a private object's bytes really sit


def _local_backend(root: Path) -> Backend:
    # The real /media blueprint on a bare app: the storage suite needs no database.
    web = Flask(__name__)
    web.config["MEDIA_ROOT"] = str(root)
    web.register_blueprint(media_bp)
    client = web.test_client()

    def fetch(url: str) -> Anonymous:
        response = client.get(url)
        return Anonymous(response.status_code, response.get_data(), {k.lower(): v for k, v in response.headers.items()})

    return Backend("local", LocalStorage(root), fetch, lambda key: f"/media/.private/{key}")


def _s3_backend(endpoint: str, bucket: str, prefix: str = "media/") -> Backend:
    storage = S3Storage(
        bucket=bucket, prefix=prefix, region=REGION, endpoint_url=endpoint, public_base_url=None, presign_seconds=600
    )

    def fetch(url: str) -> Anonymous:
        response = requests.get(url, timeout=10)
        return Anonymous(response.status_code, response.content, {k.lower(): v for k, v in response.headers.items()})

    return Backend("s3", storage, fetch, lambda key: f"{endpoint}/{bucket}/{prefix}private/{key}")


@pytest.fixture
def bucket(s3_endpoint: str) -> str:
    name = f"xaso-test-{uuid.uuid4().hex[:12]}"
    create_bucket(s3_client(s3_endpoint), name)
    return name


@pytest.fixture(params=["local", "s3"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    if request.param == "local":
        return _local_backend(tmp_path / "media")
    request.getfixturevalue("aws_env")  # S3Storage builds its own client from boto3's usual environment
    return _s3_backend(request.getfixturevalue("s3_endpoint"), request.getfixturevalue("bucket"))


# --- the same behaviour on both backends ------------------------------------------------------------


def test_put_get_exists_delete_round_trip(backend: Backend) -> None:
    storage, data = backend.storage, webp_bytes()
    assert not storage.exists(KEY)

    storage.put(KEY, data, "image/webp")

    assert storage.exists(KEY)
    assert storage.get(KEY) == data
    storage.delete(KEY)
    assert not storage.exists(KEY)
    with pytest.raises(KeyError):
        storage.get(KEY)
    storage.delete(KEY)  # deleting what is gone is fine


def test_put_replaces_the_previous_bytes(backend: Backend) -> None:
    backend.storage.put(KEY, webp_bytes("red"), "image/webp")
    backend.storage.put(KEY, webp_bytes("blue"), "image/webp")
    assert backend.storage.get(KEY) == webp_bytes("blue")


def test_public_object_downloads_anonymously_from_its_url(backend: Backend) -> None:
    data = webp_bytes()
    backend.storage.put(KEY, data, "image/webp")

    response = backend.fetch(backend.storage.url(KEY))

    assert response.status == 200
    assert response.body == data
    assert response.header("Content-Type") == "image/webp"
    assert response.header("Cache-Control") == PUBLIC_CACHE_CONTROL


def test_private_object_is_kept_but_never_public(backend: Backend) -> None:
    original = jpeg_bytes()
    key = "cam-thanh/originals/p1.jpg"
    backend.storage.put(key, original, "image/jpeg", public=False)

    assert backend.storage.exists(key)
    assert backend.storage.get(key) == original
    # Neither the URL a page would link to nor the real location answers a stranger.
    assert backend.fetch(backend.storage.url(key)).status in {403, 404}
    assert backend.fetch(backend.private_location(key)).status in {403, 404}

    backend.storage.delete(key)
    assert not backend.storage.exists(key)


def test_storing_a_key_as_private_withdraws_its_public_copy(backend: Backend) -> None:
    backend.storage.put(KEY, webp_bytes("red"), "image/webp")
    backend.storage.put(KEY, webp_bytes("blue"), "image/webp", public=False)

    assert backend.fetch(backend.storage.url(KEY)).status in {403, 404}
    assert backend.storage.get(KEY) == webp_bytes("blue")


BAD_KEYS = [
    "",
    "../secret.txt",
    "cam-thanh/../../secret.txt",
    "..",
    "/etc/passwd",
    "a//b.webp",
    "a/b/",
    ".private/cam-thanh/originals/p1.jpg",
    "cam-thanh/.tmp-abc.part",
    "private/cam-thanh/p1.jpg",
    "a\\..\\b.webp",
    "ảnh.jpg",
    "a b.webp",
    "a?b.webp",
    "x" * 513,
]


@pytest.mark.parametrize("key", BAD_KEYS)
def test_bad_keys_are_refused_by_every_operation(backend: Backend, key: str) -> None:
    storage = backend.storage
    operations: list[Callable[[], Any]] = [
        lambda: storage.put(key, b"x", "image/webp"),
        lambda: storage.put(key, b"x", "image/webp", public=False),
        lambda: storage.get(key),
        lambda: storage.exists(key),
        lambda: storage.delete(key),
        lambda: storage.url(key),
    ]
    for operation in operations:
        with pytest.raises(InvalidMediaKey) as caught:
            operation()
        assert caught.value.status == 422
        assert caught.value.code == "invalid_media_key"


# --- local files --------------------------------------------------------------------------------------


def _all_files(root: Path) -> set[str]:
    return {str(path.relative_to(root)) for path in root.rglob("*") if path.is_file()}


def test_local_layout_modes_and_no_leftover_temp_files(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    for width in (320, 800, 1600):
        storage.put(f"cam-thanh/p1/{width}.webp", webp_bytes(size=(width // 10, 10)), "image/webp")
    storage.put("cam-thanh/p1/original.jpg", jpeg_bytes(), "image/jpeg", public=False)

    assert _all_files(tmp_path) == {
        "cam-thanh/p1/320.webp",
        "cam-thanh/p1/800.webp",
        "cam-thanh/p1/1600.webp",
        ".private/cam-thanh/p1/original.jpg",
    }
    assert (tmp_path / "cam-thanh/p1/800.webp").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / ".private/cam-thanh/p1/original.jpg").stat().st_mode & 0o777 == 0o600
    assert storage.url("cam-thanh/p1/800.webp") == "/media/cam-thanh/p1/800.webp"


def test_local_failed_write_keeps_the_old_file_and_no_temp_file(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    storage.put(KEY, webp_bytes("red"), "image/webp")

    with pytest.raises(TypeError):
        storage.put(KEY, "not bytes", "image/webp")  # type: ignore[arg-type]  # fails while writing

    # The rename fails after the whole temp file was written: a folder stands where the file would go.
    (tmp_path / "cam-thanh/products/p2.webp").mkdir(parents=True)
    with pytest.raises(IsADirectoryError):
        storage.put("cam-thanh/products/p2.webp", webp_bytes("blue"), "image/webp")

    assert storage.get(KEY) == webp_bytes("red")
    assert _all_files(tmp_path) == {KEY}


def test_local_get_of_a_folder_is_missing(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    storage.put(KEY, webp_bytes(), "image/webp")
    assert not storage.exists("cam-thanh/products")
    with pytest.raises(KeyError):
        storage.get("cam-thanh/products")


# --- S3 ----------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("aws_env")
def test_s3_stores_content_type_and_cache_control(s3_endpoint: str, bucket: str) -> None:
    storage = S3Storage(bucket, "media/", REGION, s3_endpoint, None, 3600)
    storage.put(KEY, webp_bytes(), "image/webp")
    storage.put("cam-thanh/originals/p1.jpg", jpeg_bytes(), "image/jpeg", public=False)

    client = s3_client(s3_endpoint)
    public = client.head_object(Bucket=bucket, Key=f"media/{KEY}")
    assert public["ContentType"] == "image/webp"
    assert public["CacheControl"] == "public, max-age=31536000, immutable"
    private = client.head_object(Bucket=bucket, Key="media/private/cam-thanh/originals/p1.jpg")
    assert private["ContentType"] == "image/jpeg"
    assert "CacheControl" not in private
    listed = {item["Key"] for item in client.list_objects_v2(Bucket=bucket)["Contents"]}
    assert listed == {f"media/{KEY}", "media/private/cam-thanh/originals/p1.jpg"}


@pytest.mark.usefixtures("aws_env")
def test_s3_presigned_url_downloads_the_bytes_and_expires_as_configured(s3_endpoint: str, bucket: str) -> None:
    storage = S3Storage(bucket, "media", REGION, s3_endpoint, "", 900)
    data = webp_bytes("purple")
    storage.put(KEY, data, "image/webp")

    url = storage.url(KEY)

    assert url.startswith(f"{s3_endpoint}/{bucket}/media/{KEY}?")
    assert "X-Amz-Algorithm=AWS4-HMAC-SHA256" in url  # signature v4
    assert "X-Amz-Expires=900" in url
    signed = requests.get(url, timeout=10)
    assert signed.status_code == 200
    assert signed.content == data
    # The same object without the signature is refused: the bucket is not public.
    assert requests.get(url.split("?")[0], timeout=10).status_code == 403


def test_s3_public_base_url_form() -> None:
    client = s3_client("http://127.0.0.1:9")  # never called: a public base URL needs no signing
    storage = S3Storage("media-bucket", "xaso/", REGION, None, "https://cdn.xaso.vn/", 3600, client=client)
    assert storage.url(KEY) == f"https://cdn.xaso.vn/xaso/{KEY}"
    assert S3Storage("b", "", REGION, None, "https://cdn.xaso.vn", 3600, client=client).url(KEY) == (
        f"https://cdn.xaso.vn/{KEY}"
    )


@pytest.mark.usefixtures("aws_env")
def test_s3_public_base_url_serves_public_objects_and_not_the_private_area(s3_endpoint: str, bucket: str) -> None:
    # The bucket as an operator would set it up: anonymous reads of the communes' folders only.
    s3_client(s3_endpoint).put_bucket_policy(Bucket=bucket, Policy=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                       "Resource": f"arn:aws:s3:::{bucket}/media/cam-thanh/*"}],
    }))
    storage = S3Storage(bucket, "media/", REGION, s3_endpoint, f"{s3_endpoint}/{bucket}", 3600)
    data, original = webp_bytes(), jpeg_bytes()
    storage.put(KEY, data, "image/webp")
    storage.put("cam-thanh/originals/p1.jpg", original, "image/jpeg", public=False)

    assert storage.url(KEY) == f"{s3_endpoint}/{bucket}/media/{KEY}"
    public = requests.get(storage.url(KEY), timeout=10)
    assert public.status_code == 200
    assert public.content == data
    assert public.headers["Cache-Control"] == PUBLIC_CACHE_CONTROL
    assert public.headers["Content-Type"] == "image/webp"

    assert requests.get(storage.url("cam-thanh/originals/p1.jpg"), timeout=10).status_code in {403, 404}
    hidden = f"{s3_endpoint}/{bucket}/media/private/cam-thanh/originals/p1.jpg"
    assert requests.get(hidden, timeout=10).status_code == 403
    assert storage.get("cam-thanh/originals/p1.jpg") == original


@pytest.mark.usefixtures("aws_env")
def test_s3_errors_other_than_missing_are_not_hidden(s3_endpoint: str) -> None:
    storage = S3Storage("no-such-bucket-xaso", "", REGION, s3_endpoint, None, 3600)
    with pytest.raises(ClientError) as caught:
        storage.get(KEY)
    assert caught.value.response["Error"]["Code"] == "NoSuchBucket"


# --- choice from the app's config ----------------------------------------------------------------------


def test_config_reads_s3_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XASO_INSTANCE_PATH", str(tmp_path))
    for name in ("S3_BUCKET", "S3_PREFIX", "S3_REGION", "S3_ENDPOINT_URL", "S3_PUBLIC_BASE_URL", "S3_PRESIGN_SECONDS"):
        monkeypatch.delenv(name, raising=False)
    defaults = load_config({"SECRET_KEY": "x"})
    assert defaults["S3_BUCKET"] == ""
    assert defaults["S3_REGION"] == "ap-southeast-1"
    assert defaults["S3_PRESIGN_SECONDS"] == 3600

    monkeypatch.setenv("S3_BUCKET", "xaso-media")
    monkeypatch.setenv("S3_PRESIGN_SECONDS", "120")
    monkeypatch.setenv("S3_PUBLIC_BASE_URL", "https://cdn.xaso.vn")
    configured = load_config({"SECRET_KEY": "x"})
    assert configured["S3_BUCKET"] == "xaso-media"
    assert configured["S3_PRESIGN_SECONDS"] == 120
    assert configured["S3_PUBLIC_BASE_URL"] == "https://cdn.xaso.vn"


def test_get_storage_defaults_to_local_files_and_is_built_once(app: Flask) -> None:
    with app.app_context():
        storage = get_storage()
        assert isinstance(storage, LocalStorage)
        assert storage.root == Path(app.config["MEDIA_ROOT"])
        assert get_storage() is storage
        assert app.extensions["xaso_storage"] is storage


@pytest.fixture
def s3_app(database_url: str, tmp_path: Path, s3_endpoint: str, bucket: str, aws_env: None) -> Iterator[Flask]:
    application = create_app(app_config(
        database_url, tmp_path, STORAGE_BACKEND="s3", S3_BUCKET=bucket, S3_PREFIX="media/",
        S3_REGION=REGION, S3_ENDPOINT_URL=s3_endpoint, S3_PUBLIC_BASE_URL="", S3_PRESIGN_SECONDS=300,
    ))
    yield application
    database(application).engine.dispose()


def test_get_storage_builds_s3_from_config(s3_app: Flask, s3_endpoint: str, bucket: str) -> None:
    data = webp_bytes()
    with s3_app.app_context():
        storage = get_storage()
        assert isinstance(storage, S3Storage)
        assert get_storage() is storage
        storage.put(KEY, data, "image/webp")
        url = storage.url(KEY)
    assert "X-Amz-Expires=300" in url
    assert requests.get(url, timeout=10).content == data
    stored = s3_client(s3_endpoint).get_object(Bucket=bucket, Key=f"media/{KEY}")
    assert stored["Body"].read() == data


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"STORAGE_BACKEND": "s3", "S3_BUCKET": ""}, "S3_BUCKET"),
        ({"STORAGE_BACKEND": "ftp"}, "STORAGE_BACKEND"),
    ],
)
def test_get_storage_refuses_incomplete_config(app: Flask, overrides: dict[str, str], message: str) -> None:
    app.config.update(overrides)
    with app.app_context(), pytest.raises(RuntimeError, match=message):
        get_storage()
    assert "xaso_storage" not in app.extensions


# --- the /media route ------------------------------------------------------------------------------------


def test_media_route_serves_public_files_with_immutable_cache(app: Flask) -> None:
    storage = LocalStorage(app.config["MEDIA_ROOT"])
    webp, jpeg = webp_bytes(), jpeg_bytes()
    storage.put(KEY, webp, "image/webp")
    storage.put("cam-thanh/products/p1/800.jpg", jpeg, "image/jpeg")
    client = app.test_client()

    response = client.get(storage.url(KEY))
    assert response.status_code == 200
    assert response.get_data() == webp
    assert response.mimetype == "image/webp"
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert client.get("/media/cam-thanh/products/p1/800.jpg").mimetype == "image/jpeg"

    etag = response.headers["ETag"]
    revalidated = client.get(storage.url(KEY), headers={"If-None-Match": etag})
    assert revalidated.status_code == 304
    assert revalidated.get_data() == b""


def test_media_route_unknown_extension_is_opaque_bytes(app: Flask) -> None:
    LocalStorage(app.config["MEDIA_ROOT"]).put("cam-thanh/page.html", b"<script>alert(1)</script>", "text/html")
    response = app.test_client().get("/media/cam-thanh/page.html")
    assert response.status_code == 200
    assert response.mimetype == "application/octet-stream"


@pytest.mark.parametrize(
    "path",
    [
        "/media/cam-thanh/products/none.webp",
        "/media/cam-thanh/products",  # a folder
        "/media/.private/cam-thanh/originals/p1.jpg",
        "/media/cam-thanh/originals/p1.jpg",
        "/media/../secret.txt",
        "/media/..%2Fsecret.txt",
        "/media/cam-thanh/%2e%2e/%2e%2e/secret.txt",
        "/media/%2Fetc%2Fpasswd",
        "/media//etc/passwd",
    ],
)
def test_media_route_404s_missing_private_and_traversal(app: Flask, tmp_path: Path, path: str) -> None:
    media_root = Path(app.config["MEDIA_ROOT"])
    assert media_root.parent == tmp_path
    (tmp_path / "secret.txt").write_text("TOP-SECRET-CONTENT")
    storage = LocalStorage(media_root)
    storage.put(KEY, webp_bytes(), "image/webp")
    storage.put("cam-thanh/originals/p1.jpg", jpeg_bytes(), "image/jpeg", public=False)

    # Werkzeug answers doubled slashes with a redirect to the merged path; that one must 404 too.
    response = app.test_client().get(path, follow_redirects=True)

    assert response.status_code == 404
    assert b"TOP-SECRET-CONTENT" not in response.get_data()
    assert response.request.path.startswith("/media/")
    assert os.path.exists(media_root / ".private/cam-thanh/originals/p1.jpg")
