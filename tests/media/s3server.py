"""moto's standalone S3 server for tests: the real S3 wire protocol over HTTP on a loopback port.

Nothing of ours is patched: boto3 talks HTTP to this server exactly as it would to S3 or MinIO.
Use the ``s3_endpoint`` fixture (session-scoped, see tests/media/conftest.py) or, outside pytest,
``with running_s3_server() as endpoint_url: ...``.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

DUMMY_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
REGION = "ap-southeast-1"


@contextmanager
def running_s3_server(host: str = "127.0.0.1") -> Iterator[str]:
    """Start moto on a free port (port 0: the OS picks one, no race) and yield its endpoint URL."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address=host, port=0, verbose=False)
    server.start()
    try:
        bound_host, port = server.get_host_and_port()
        _wait_until_listening(bound_host, port)
        yield f"http://{bound_host}:{port}"
    finally:
        server.stop()


def _wait_until_listening(host: str, port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, port), timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def s3_client(endpoint_url: str, region: str = REGION) -> Any:
    """A boto3 client for arranging and inspecting the test bucket (dummy credentials)."""
    import boto3
    from botocore.config import Config

    config = Config(signature_version="s3v4", s3={"addressing_style": "path"})
    return boto3.session.Session().client(
        "s3", endpoint_url=endpoint_url, region_name=region, config=config, **DUMMY_CREDENTIALS
    )


def create_bucket(client: Any, name: str, region: str = REGION) -> None:
    client.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region})


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    with running_s3_server() as endpoint_url:
        yield endpoint_url
