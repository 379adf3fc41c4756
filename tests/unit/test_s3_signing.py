"""S3UrlSigner signs the very URLs the S3 client's generate_presigned_url does, without a client."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from unittest import mock

import pytest
from botocore.config import Config as BotoConfig
from botocore.session import Session

from lightbox.adapters.s3 import S3ObjectStore, S3UrlSigner
from lightbox.errors import StorageUnavailable

BUCKET = "lightbox-dev-123456789012-eu-west-1"
KEY = "originals/studio/9b2c7a5e-3f4d-4e1a-8c7b-2d1e0f9a8b7c"


@pytest.fixture
def frozen_clock() -> Iterator[None]:
    with mock.patch("botocore.auth.get_current_datetime",
                    return_value=dt.datetime(2026, 11, 21, 12, 0, 0)):
        yield


def session(monkeypatch: pytest.MonkeyPatch, region: str) -> Session:
    for name, value in {"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret",
                        "AWS_SESSION_TOKEN": "token", "AWS_DEFAULT_REGION": region}.items():
        monkeypatch.setenv(name, value)
    return Session()


@pytest.mark.parametrize(("region", "endpoint", "path_style"), [
    ("eu-west-1", None, False),
    ("us-east-1", None, False),
    ("ap-southeast-2", None, True),
    ("us-east-1", "http://127.0.0.1:4566", True),
    ("eu-central-1", "https://minio.example:9000", True),
])
def test_the_urls_equal_the_s3_clients(
    monkeypatch: pytest.MonkeyPatch, frozen_clock: None, region: str, endpoint: str | None,
    path_style: bool,
) -> None:
    boto = session(monkeypatch, region)
    client = boto.create_client("s3", endpoint_url=endpoint, config=BotoConfig(
        signature_version="s3v4", s3={"addressing_style": "path" if path_style else "virtual"}))
    signer = S3UrlSigner(boto, BUCKET, endpoint_url=endpoint, path_style=path_style)

    assert signer.sign("GET", KEY, expires_in=3600) == client.generate_presigned_url(
        "get_object", Params={"Bucket": BUCKET, "Key": KEY}, ExpiresIn=3600)
    put = signer.sign("PUT", KEY, expires_in=900, headers={
        "Content-Type": "image/jpeg", "Content-Length": "1234", "If-None-Match": "*",
        "x-amz-checksum-sha256": "ypeBEsobvcr6wjGzmiPcTaeG7/gUfE5yuYB3ha/uSLs="})
    assert put == client.generate_presigned_url("put_object", Params={
        "Bucket": BUCKET, "Key": KEY, "ContentType": "image/jpeg", "ContentLength": 1234,
        "IfNoneMatch": "*", "ChecksumSHA256": "ypeBEsobvcr6wjGzmiPcTaeG7/gUfE5yuYB3ha/uSLs="},
        ExpiresIn=900, HttpMethod="PUT")
    part = signer.sign("PUT", KEY, expires_in=900,
                       query={"partNumber": "7", "uploadId": "a+b/c=="})
    reference = client.generate_presigned_url("upload_part", Params={
        "Bucket": BUCKET, "Key": KEY, "UploadId": "a+b/c==", "PartNumber": 7},
        ExpiresIn=900, HttpMethod="PUT")
    # The same signature over the same canonical request; the query may list in another order.
    assert sorted(part.split("?")[1].split("&")) == sorted(reference.split("?")[1].split("&"))
    assert part.split("?")[0] == reference.split("?")[0]


def test_a_part_url_signs_the_parts_size(monkeypatch: pytest.MonkeyPatch, frozen_clock: None) -> None:
    boto = session(monkeypatch, "eu-west-1")
    client = boto.create_client("s3", config=BotoConfig(
        signature_version="s3v4", s3={"addressing_style": "virtual"}))
    signer = S3UrlSigner(boto, BUCKET, endpoint_url=None, path_style=False)
    storage = S3ObjectStore(lambda: client, BUCKET, signer=signer)

    part = storage.presign_part(KEY, "a+b/c==", 7, size_bytes=5_242_880, expires_in=900)
    # S3 checks what is signed: a body of another length is refused with 403, not stored.
    assert "X-Amz-SignedHeaders=content-length%3Bhost" in part
    reference = client.generate_presigned_url("upload_part", Params={
        "Bucket": BUCKET, "Key": KEY, "UploadId": "a+b/c==", "PartNumber": 7,
        "ContentLength": 5_242_880}, ExpiresIn=900, HttpMethod="PUT")
    assert sorted(part.split("?")[1].split("&")) == sorted(reference.split("?")[1].split("&"))
    assert part.split("?")[0] == reference.split("?")[0]


def test_without_credentials_nothing_is_signed(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                 "AWS_PROFILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with pytest.raises(StorageUnavailable, match="no AWS credentials"):
        S3UrlSigner(Session(), BUCKET, endpoint_url=None, path_style=False).sign(
            "GET", KEY, expires_in=60)
