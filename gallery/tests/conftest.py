"""Fixtures of the gallery's tests: moto's S3 server and a bucket in it used as the storage."""

import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from testing.s3 import S3_CREDENTIALS, S3_REGION, s3_server_start


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server, url = s3_server_start(tmp_path_factory.mktemp("s3") / "moto.log")
    yield url
    server.stop()


@pytest.fixture
def s3_bucket(s3_endpoint: str, settings: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    """A new, empty bucket that this test process and the processes it starts store images in.

    The environment reaches worker processes started after this fixture, which then take the
    settings' S3 branch themselves; this process has its settings switched here.
    """
    bucket = f"rollerai-{uuid.uuid4().hex[:16]}"
    environment = {
        **S3_CREDENTIALS,
        "AWS_STORAGE_BUCKET_NAME": bucket,
        "AWS_S3_ENDPOINT_URL": s3_endpoint,
        "AWS_S3_REGION_NAME": S3_REGION,
    }
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    settings.AWS_STORAGE_BUCKET_NAME = bucket
    settings.AWS_S3_ENDPOINT_URL = s3_endpoint
    settings.AWS_S3_REGION_NAME = S3_REGION
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "storages.backends.s3.S3Storage"},
    }
    s3_client(s3_endpoint).create_bucket(Bucket=bucket)
    return bucket


def s3_client(endpoint: str) -> object:
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=S3_REGION,
        aws_access_key_id=S3_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=S3_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )


@pytest.fixture
def s3(s3_endpoint: str) -> object:
    """A client to look into the bucket directly, as an operator would."""
    return s3_client(s3_endpoint)
