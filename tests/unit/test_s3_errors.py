"""What the bucket answers a CompleteMultipartUpload with, as the S3 adapter reports it."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.session import Session
from botocore.stub import Stubber

from lightbox.adapters.s3 import S3ObjectStore, S3UrlSigner
from lightbox.errors import (
    ConfigError,
    InvalidParts,
    LightboxError,
    ObjectNotFound,
    StorageUnavailable,
)
from lightbox.values import UploadedPart

BUCKET = "lightbox-test"
KEY = "originals/studio/9b2c7a5e-3f4d-4e1a-8c7b-2d1e0f9a8b7c"
PARTS = [UploadedPart(number=1, size=10, etag='"a"'), UploadedPart(number=2, size=10, etag='"b"')]


@pytest.mark.parametrize(("code", "status", "expected"), [
    ("EntityTooSmall", 400, InvalidParts),
    ("EntityTooLarge", 400, InvalidParts),
    ("InvalidPart", 400, InvalidParts),
    ("InvalidPartOrder", 400, InvalidParts),
    ("MalformedXML", 400, InvalidParts),  # any other refusal of the request is about the parts
    ("NoSuchUpload", 404, ObjectNotFound),
    ("RequestTimeout", 400, StorageUnavailable),
    ("SlowDown", 503, StorageUnavailable),
    ("AccessDenied", 403, ConfigError),
])
def test_every_refusal_of_complete_is_a_lightbox_error_a_client_can_act_on(
    monkeypatch: pytest.MonkeyPatch, code: str, status: int, expected: type[LightboxError],
) -> None:
    for name, value in {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
                        "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)
    session = Session()
    client: Any = session.create_client("s3")
    store = S3ObjectStore(lambda: client, BUCKET,
                          signer=S3UrlSigner(session, BUCKET, endpoint_url=None, path_style=False))
    with Stubber(client) as stubber:
        stubber.add_client_error("complete_multipart_upload", service_error_code=code,
                                 http_status_code=status)
        with pytest.raises(expected) as raised:
            store.complete_multipart(KEY, "upload-1", PARTS)
    assert type(raised.value) is expected
    if expected is InvalidParts:
        assert code in raised.value.message and "abort" in raised.value.message
