"""Where media bytes live, behind one interface chosen by ``STORAGE_BACKEND``.

A key is a relative, slash-separated name such as ``cam-thanh/products/ab12/800.webp``. It
names one object, which is either *public* (linked from pages) or *private* (kept for the
service only, e.g. an upload's original): ``get``, ``exists`` and ``delete`` find it in either
area; storing a key as private removes any public copy, so nothing private stays reachable.

- ``LocalStorage(root)``: files under MEDIA_ROOT, written atomically; ``url`` is ``/media/<key>``
  (the app serves it with long cache headers); private objects live under ``<root>/.private/``,
  which the ``/media`` route never serves.
- ``S3Storage``: through boto3 (signature v4). ``url`` is ``<public_base_url>/<prefix><key>``
  when a public base URL (CDN or bucket website) is set, else a presigned GET URL. Public
  objects get ``Cache-Control: public, max-age=31536000, immutable``; private ones live under
  ``<prefix>private/``, so the bucket policy or CDN can grant anonymous reads on ``<prefix>*``
  except ``<prefix>private/*``. No object ACLs are sent: buckets created since 2023 refuse them.
- ``get_storage()``: the app's storage from its config, built once and kept in
  ``app.extensions["xaso_storage"]``; AWS credentials come from boto3's usual places
  (environment, shared files, instance role).
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from flask import current_app

from service.core.errors import Invalid

PUBLIC_CACHE_CONTROL = "public, max-age=31536000, immutable"
LOCAL_PRIVATE_DIR = ".private"
S3_PRIVATE_DIR = "private"
EXTENSION_KEY = "xaso_storage"
MAX_KEY_LENGTH = 512

_KEY_CHARS = re.compile(r"[A-Za-z0-9._/-]+")


class Storage(Protocol):
    def put(self, key: str, data: bytes, content_type: str, *, public: bool = True) -> None: ...

    def get(self, key: str) -> bytes:
        """The object's bytes; raises KeyError when missing."""
        ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None:
        """Remove the object; a missing one is fine."""
        ...

    def url(self, key: str) -> str:
        """What a page links to (meaningful for public objects)."""
        ...


class InvalidMediaKey(Invalid, ValueError):
    code = "invalid_media_key"


def validate_key(key: str) -> str:
    """Refuse anything that could leave the storage root or reach the private area.

    Only ``[A-Za-z0-9._/-]``, relative, no empty segments, no segment starting with a dot
    (``..``, ``.private``, our temp files) and not under ``private/`` (the S3 private area).
    """
    if not key or len(key) > MAX_KEY_LENGTH:
        raise InvalidMediaKey(f"Media key must be 1 to {MAX_KEY_LENGTH} characters.", param="key")
    if not _KEY_CHARS.fullmatch(key):
        raise InvalidMediaKey("Media key may only use letters, digits, '.', '_', '-' and '/'.", param="key")
    segments = key.split("/")
    if any(segment == "" for segment in segments):
        raise InvalidMediaKey("Media key must be relative, without empty segments.", param="key")
    if any(segment.startswith(".") for segment in segments):
        raise InvalidMediaKey("Media key segments may not start with '.'.", param="key")
    if segments[0] == S3_PRIVATE_DIR:
        raise InvalidMediaKey(f"Media keys under '{S3_PRIVATE_DIR}/' are reserved.", param="key")
    return key


class LocalStorage:
    """Files under ``root``; public ones at ``root/<key>``, private ones at ``root/.private/<key>``."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def public_path(self, key: str) -> Path:
        return self.root / validate_key(key)

    def private_path(self, key: str) -> Path:
        return self.root / LOCAL_PRIVATE_DIR / validate_key(key)

    def put(self, key: str, data: bytes, content_type: str, *, public: bool = True) -> None:
        if public:
            _write_atomically(self.public_path(key), data, mode=0o644)
        else:
            _write_atomically(self.private_path(key), data, mode=0o600)
            self.public_path(key).unlink(missing_ok=True)

    def get(self, key: str) -> bytes:
        for path in (self.public_path(key), self.private_path(key)):
            try:
                return path.read_bytes()
            except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
                continue
        raise KeyError(key)

    def exists(self, key: str) -> bool:
        return self.public_path(key).is_file() or self.private_path(key).is_file()

    def delete(self, key: str) -> None:
        for path in (self.public_path(key), self.private_path(key)):
            with contextlib.suppress(FileNotFoundError, IsADirectoryError, NotADirectoryError):
                path.unlink()

    def url(self, key: str) -> str:
        return "/media/" + validate_key(key)


def _write_atomically(target: Path, data: bytes, *, mode: int) -> None:
    """Temp file in the same folder, fsync, then rename: readers see the old file or the whole new one."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as temp:
            temp.write(data)
            temp.flush()
            os.fchmod(temp.fileno(), mode)
            os.fsync(temp.fileno())
        os.replace(temp_name, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp_name)
        raise
    _fsync_directory(target.parent)


def _fsync_directory(directory: Path) -> None:
    # The rename itself is only durable once the folder entry is flushed (uploads must survive a crash).
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some filesystems refuse fsync on folders; the data itself is already synced
    finally:
        os.close(fd)


class S3Storage:
    """An S3 (or S3-compatible: MinIO, R2, Spaces) bucket, through boto3."""

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        region: str = "ap-southeast-1",
        endpoint_url: str | None = None,
        public_base_url: str | None = None,
        presign_seconds: int = 3600,
        client: Any = None,
    ) -> None:
        self.bucket = bucket
        self.prefix = _normalize_prefix(prefix)
        self.public_base_url = (public_base_url or "").rstrip("/")
        self.presign_seconds = int(presign_seconds)
        self.client = client if client is not None else _make_client(region, endpoint_url or None)

    def object_key(self, key: str, *, public: bool = True) -> str:
        validate_key(key)
        return self.prefix + key if public else f"{self.prefix}{S3_PRIVATE_DIR}/{key}"

    def put(self, key: str, data: bytes, content_type: str, *, public: bool = True) -> None:
        extra = {"CacheControl": PUBLIC_CACHE_CONTROL} if public else {}
        self.client.put_object(
            Bucket=self.bucket, Key=self.object_key(key, public=public), Body=data, ContentType=content_type, **extra
        )
        if not public:
            self.client.delete_object(Bucket=self.bucket, Key=self.object_key(key))

    def get(self, key: str) -> bytes:
        for public in (True, False):
            try:
                response = self.client.get_object(Bucket=self.bucket, Key=self.object_key(key, public=public))
            except Exception as error:
                if _is_missing(error):
                    continue
                raise
            body: bytes = response["Body"].read()
            return body
        raise KeyError(key)

    def exists(self, key: str) -> bool:
        # A 403 here (credentials without s3:ListBucket) is a misconfiguration: let it raise, never guess.
        for public in (True, False):
            try:
                self.client.head_object(Bucket=self.bucket, Key=self.object_key(key, public=public))
            except Exception as error:
                if _is_missing(error):
                    continue
                raise
            return True
        return False

    def delete(self, key: str) -> None:
        for public in (True, False):
            self.client.delete_object(Bucket=self.bucket, Key=self.object_key(key, public=public))

    def url(self, key: str) -> str:
        object_key = self.object_key(key)
        if self.public_base_url:
            return f"{self.public_base_url}/{object_key}"
        url: str = self.client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": object_key}, ExpiresIn=self.presign_seconds
        )
        return url


def _normalize_prefix(prefix: str) -> str:
    prefix = (prefix or "").strip("/")
    return prefix + "/" if prefix else ""


def _make_client(region: str, endpoint_url: str | None) -> Any:
    import boto3
    from botocore.config import Config

    # Custom endpoints (MinIO, moto, most S3-compatible services) expect path-style addressing;
    # AWS itself is moving off it.
    addressing_style = "path" if endpoint_url else "virtual"
    config = Config(
        signature_version="s3v4",
        s3={"addressing_style": addressing_style},
        retries={"max_attempts": 3, "mode": "standard"},
        connect_timeout=5,
        read_timeout=30,
    )
    # A session of its own: boto3's default session is not safe to share between threads.
    return boto3.session.Session().client("s3", region_name=region, endpoint_url=endpoint_url, config=config)


def _is_missing(error: Exception) -> bool:
    from botocore.exceptions import ClientError

    if not isinstance(error, ClientError):
        return False
    code = str(error.response.get("Error", {}).get("Code", ""))
    return code in {"NoSuchKey", "404", "NotFound"}


def build_storage(config: Mapping[str, Any]) -> Storage:
    backend = str(config.get("STORAGE_BACKEND") or "local").strip().lower()
    if backend == "local":
        return LocalStorage(config["MEDIA_ROOT"])
    if backend == "s3":
        bucket = config.get("S3_BUCKET") or ""
        if not bucket:
            raise RuntimeError("STORAGE_BACKEND=s3 needs S3_BUCKET: set it to the bucket that holds the media.")
        return S3Storage(
            bucket=bucket,
            prefix=config.get("S3_PREFIX") or "",
            region=config.get("S3_REGION") or "ap-southeast-1",
            endpoint_url=config.get("S3_ENDPOINT_URL") or None,
            public_base_url=config.get("S3_PUBLIC_BASE_URL") or None,
            presign_seconds=int(config.get("S3_PRESIGN_SECONDS") or 3600),
        )
    raise RuntimeError(f"Unknown STORAGE_BACKEND {backend!r}: use 'local' or 's3'.")


def get_storage() -> Storage:
    storage: Storage | None = current_app.extensions.get(EXTENSION_KEY)
    if storage is None:
        storage = build_storage(current_app.config)
        current_app.extensions[EXTENSION_KEY] = storage
    return storage
