"""Images in S3 (moto's server on loopback): the worker process stores the PNG and the WebP
thumbnail in the bucket, privately; the image view hands out a short-lived presigned URL, only
after it has checked who is asking (the owner, or anyone once shared), that downloads the same
bytes over HTTP; deleting removes the objects."""

import io
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.test import Client
from PIL import Image

from gallery.tests.factories import generation_make
from generation.models import DiffusionModel, Generation
from testing.api import generation_submitted
from testing.processes import RunningProcess, gpu_worker_start
from testing.waiting import generation_wait


@pytest.fixture
def s3_worker(
    s3_bucket: str,
    transactional_db: None,
    tiny_model: DiffusionModel,
    tiny_model_folder: Path,
    tmp_path: Path,
) -> Iterator[RunningProcess]:
    """A worker process started after the bucket's variables are set, so it stores in S3."""
    worker = gpu_worker_start(tmp_path / "worker.log")
    yield worker
    worker.stop()


def _http_get(url: str) -> tuple[bytes, Any]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read(), response.headers


def _presigned(response: Any, *, endpoint: str, bucket: str, key: str) -> str:
    assert response.status_code == 302
    location = response["Location"]
    url = urlsplit(location)
    query = parse_qs(url.query)
    assert f"{url.scheme}://{url.netloc}" == endpoint
    assert url.path == f"/{bucket}/{key}"
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert query["X-Amz-Expires"] == [str(settings.AWS_QUERYSTRING_EXPIRE)]
    assert settings.AWS_QUERYSTRING_EXPIRE == 300
    signed_at = time.mktime(time.strptime(query["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ"))
    assert abs(signed_at - time.mktime(time.gmtime())) < 60
    assert query["X-Amz-Signature"][0]
    assert response["Cache-Control"] == "private, max-age=150"
    return location


@pytest.fixture
def in_bucket(s3_bucket: str, user: Any, tiny_model: DiffusionModel) -> Generation:
    """Alice's generation with its image in the bucket, as the worker leaves it (the test
    below checks what the worker stores; the others check who may read it)."""
    return generation_make(user=user, model=tiny_model, prompt="a lighthouse at dawn")


def _stored(s3: Any, bucket: str, key: str) -> bytes:
    return bytes(s3.get_object(Bucket=bucket, Key=key)["Body"].read())


def test_the_worker_stores_the_png_and_thumbnail_privately_with_type_and_cache_headers(
    s3_worker: RunningProcess, s3_bucket: str, s3: Any, alice_client: Client
) -> None:
    generation_id = generation_submitted(alice_client, width=128, height=96)
    generation = generation_wait(generation_id, "succeeded", "failed", timeout=120)
    assert generation.status == "succeeded", generation.error

    # The bucket holds both, under keys that name the generation and its run, never its owner.
    stem = f"generations/{generation_id}/{generation.run_token}-0"
    png_key, webp_key = f"{stem}.png", f"{stem}.webp"
    listed = s3.list_objects_v2(Bucket=s3_bucket)["Contents"]
    assert sorted(item["Key"] for item in listed) == [png_key, webp_key]
    png_head = s3.head_object(Bucket=s3_bucket, Key=png_key)
    webp_head = s3.head_object(Bucket=s3_bucket, Key=webp_key)
    assert png_head["ContentType"] == "image/png"
    assert webp_head["ContentType"] == "image/webp"
    assert (
        png_head["CacheControl"]
        == webp_head["CacheControl"]
        == ("private, max-age=86400, immutable")
    )
    stored_webp = _stored(s3, s3_bucket, webp_key)
    assert Image.open(io.BytesIO(_stored(s3, s3_bucket, png_key))).size == (128, 96)
    assert Image.open(io.BytesIO(stored_webp)).format == "WEBP"
    assert len(stored_webp) < 10_000
    # Private objects: the bucket itself does not serve them to anyone.
    acl = s3.get_object_acl(Bucket=s3_bucket, Key=png_key)
    assert [grant["Permission"] for grant in acl["Grants"]] == ["FULL_CONTROL"]


def test_nobody_but_the_owner_gets_a_presigned_url(
    in_bucket: Generation, bob_client: Client, client: Client
) -> None:
    # The check comes first, and the answer is the same as for nothing.
    for outsider in (bob_client, client):
        for url in (f"/images/{in_bucket.id}/0.png", f"/images/{in_bucket.id}/0.webp"):
            refused = outsider.get(url)
            assert refused.status_code == 404
            assert not refused.has_header("Location")
            assert b"X-Amz" not in refused.content


def test_the_owner_downloads_the_stored_bytes_through_presigned_urls(
    in_bucket: Generation, s3_bucket: str, s3_endpoint: str, s3: Any, alice_client: Client
) -> None:
    png_key = f"generations/{in_bucket.id}/0.png"
    webp_key = f"generations/{in_bucket.id}/0.webp"
    stored_png = _stored(s3, s3_bucket, png_key)

    # The owner's detail page shows the image through the view, which redirects to S3.
    detail = alice_client.get(f"/gallery/{in_bucket.id}/").content.decode()
    assert f'<img src="/images/{in_bucket.id}/0.png"' in detail
    image_url = _presigned(
        alice_client.get(f"/images/{in_bucket.id}/0.png"),
        endpoint=s3_endpoint,
        bucket=s3_bucket,
        key=png_key,
    )
    body, _ = _http_get(image_url)
    assert body == stored_png
    thumbnail_url = _presigned(
        alice_client.get(f"/images/{in_bucket.id}/0.webp"),
        endpoint=s3_endpoint,
        bucket=s3_bucket,
        key=webp_key,
    )
    assert _http_get(thumbnail_url)[0] == _stored(s3, s3_bucket, webp_key)
    download_url = _presigned(
        alice_client.get(f"/images/{in_bucket.id}/0.png?download=1"),
        endpoint=s3_endpoint,
        bucket=s3_bucket,
        key=png_key,
    )
    body, headers = _http_get(download_url)
    assert body == stored_png
    assert headers["Content-Disposition"] == (
        f'attachment; filename="rollerai-a-lighthouse-at-dawn-{in_bucket.seed}.png"'
    )


def test_a_shared_image_gets_anyone_a_presigned_url_until_it_is_private_again(
    in_bucket: Generation,
    s3_bucket: str,
    s3_endpoint: str,
    s3: Any,
    alice_client: Client,
    client: Client,
) -> None:
    png_key = f"generations/{in_bucket.id}/0.png"
    alice_client.post(f"/gallery/{in_bucket.id}/visibility/", {"public": "1"})

    public_url = _presigned(
        client.get(f"/images/{in_bucket.id}/0.png"),
        endpoint=s3_endpoint,
        bucket=s3_bucket,
        key=png_key,
    )
    assert _http_get(public_url)[0] == _stored(s3, s3_bucket, png_key)
    alice_client.post(f"/gallery/{in_bucket.id}/visibility/", {"public": "0"})
    assert client.get(f"/images/{in_bucket.id}/0.png").status_code == 404


def test_deleting_a_generation_empties_the_bucket(
    in_bucket: Generation, s3_bucket: str, s3: Any, alice_client: Client
) -> None:
    assert len(s3.list_objects_v2(Bucket=s3_bucket)["Contents"]) == 2

    deleted = alice_client.delete(f"/api/v1/generations/{in_bucket.id}")

    assert deleted.status_code == 204
    assert s3.list_objects_v2(Bucket=s3_bucket).get("Contents", []) == []


def test_deleting_an_account_empties_its_part_of_the_bucket(
    s3_bucket: str, s3: Any, alice_client: Client, user: Any, other_user: Any, tiny_model: Any
) -> None:
    for n in range(3):
        generation_make(user=user, model=tiny_model, prompt=f"mine {n}", images=2)
    bobs = generation_make(user=other_user, model=tiny_model)
    assert len(s3.list_objects_v2(Bucket=s3_bucket)["Contents"]) == 14

    alice_client.post("/accounts/delete/", {"confirm_username": "alice"})

    left = sorted(item["Key"] for item in s3.list_objects_v2(Bucket=s3_bucket)["Contents"])
    assert left == [f"generations/{bobs.id}/0.png", f"generations/{bobs.id}/0.webp"]
