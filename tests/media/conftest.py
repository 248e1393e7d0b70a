"""Media fixtures: moto's S3 server for the whole session, dummy AWS credentials per test."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.media.s3server import DUMMY_CREDENTIALS, s3_endpoint

__all__ = ["s3_endpoint"]


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Dummy credentials in boto3's usual environment; nothing read from the machine's ~/.aws."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", DUMMY_CREDENTIALS["aws_access_key_id"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", DUMMY_CREDENTIALS["aws_secret_access_key"])
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    # No instance-metadata probing if the environment ever lacked credentials.
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
