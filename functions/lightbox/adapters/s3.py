"""The ObjectStore port over one S3 bucket (AWS, LocalStack, MinIO or moto).

Presigned URLs are signed by ``S3UrlSigner`` with botocore's SigV4 query signer, the one the
S3 client's ``generate_presigned_url`` ends in: the same URLs (a test compares them), without
creating a client (some 80 ms of a cold start) and at less than half the cost per URL. The
client is created the first time a call needs S3 itself.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import closing
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING
from urllib.parse import quote, urlencode, urlsplit

from botocore.auth import S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.exceptions import ClientError

from lightbox.adapters.aws import error_code, is_request_fault, translated
from lightbox.errors import InvalidParts, ObjectNotFound, SourceChanged, StorageUnavailable
from lightbox.values import PresignedUpload, SourcePage, StoredObject, UploadedPart

if TYPE_CHECKING:
    from botocore.session import Session
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import CopySourceTypeDef

CHUNK_BYTES = 1024 * 1024
# CopyObject copies up to 5 GiB in one request; a larger object is copied in parts of this
# size (UploadPartCopy), at most 10,000 of them: 5 TiB, S3's largest object.
COPY_LIMIT_BYTES = 5 * 1024**3
COPY_PART_BYTES = 512 * 1024**2
# Derivative keys never change their content, so browsers may keep them.
DERIVATIVE_CACHE_CONTROL = "private, max-age=31536000, immutable"
# The bucket's lifecycle rule in template.yaml expires objects with this tag.
REJECTED_TAG = "lightbox-rejected"
_MISSING_CODES = frozenset({"NoSuchKey", "404", "NotFound"})
_NO_UPLOAD_CODES = frozenset({"NoSuchUpload", "404"})
_CHANGED_CODES = frozenset({"PreconditionFailed", "412"})
# Why the bucket refuses to assemble parts, in words a client can act on.
_REFUSED_PARTS = {
    "EntityTooSmall": "every part but the last must be at least 5 MiB",
    "EntityTooLarge": "a part or the whole object is larger than the bucket takes",
    "InvalidPart": "a part is missing or was replaced while completing",
    "InvalidPartOrder": "the parts were not listed in ascending order",
}


def _now() -> datetime:
    return datetime.now(UTC)


class S3UrlSigner:
    """Presigned URLs for one bucket, from credentials alone."""

    def __init__(
        self, session: Session, bucket: str, *, endpoint_url: str | None, path_style: bool
    ) -> None:
        self._session = session
        self._region = str(session.get_config_variable("region") or "us-east-1")
        self._base = _bucket_url(bucket, self._region, endpoint_url, path_style)

    def sign(
        self, method: str, key: str, *, expires_in: int,
        headers: Mapping[str, str] | None = None, query: Mapping[str, str] | None = None,
    ) -> str:
        credentials = self._session.get_credentials()
        if credentials is None:
            raise StorageUnavailable("no AWS credentials to sign URLs with")
        url = f"{self._base}/{quote(key, safe='/~')}"
        if query:
            url += "?" + urlencode(query)
        request = AWSRequest(method=method, url=url, headers=dict(headers or {}))
        S3SigV4QueryAuth(credentials.get_frozen_credentials(), "s3", self._region,
                         expires=expires_in).add_auth(request)
        return str(request.prepare().url)


def _refused_completion(exc: ClientError, upload_id: str) -> Exception | None:
    """What a refused CompleteMultipartUpload means for the client; None to translate as usual.

    Any other 4xx (but a denial, which is the deployment's fault) is about the parts sent too:
    the upload stays open in every case but NoSuchUpload, so the client can mend it or abort.
    """
    code = error_code(exc)
    if code in _NO_UPLOAD_CODES:
        return ObjectNotFound(f"no multipart upload {upload_id}")
    if code in _REFUSED_PARTS or is_request_fault(exc):
        why = _REFUSED_PARTS.get(code, "the parts cannot be assembled")
        return InvalidParts(
            f"the bucket refused the parts ({code}: {why}): PUT the parts again "
            "with the sizes the presign answer gave, then complete again; or abort the upload"
        )
    return None


def _bucket_url(bucket: str, region: str, endpoint_url: str | None, path_style: bool) -> str:
    """Where the bucket's objects are, as botocore's endpoint rules put them."""
    if endpoint_url is None:
        domain = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
        endpoint_url = ("https://s3.amazonaws.com" if region == "us-east-1"
                        else f"https://s3.{region}.{domain}")
    endpoint = urlsplit(endpoint_url.rstrip("/"))
    if path_style:
        return f"{endpoint.scheme}://{endpoint.netloc}{endpoint.path}/{bucket}"
    return f"{endpoint.scheme}://{bucket}.{endpoint.netloc}{endpoint.path}"


class S3ObjectStore:
    def __init__(
        self, make_client: Callable[[], S3Client], bucket: str, *, signer: S3UrlSigner,
        clock: Callable[[], datetime] = _now, copy_limit: int = COPY_LIMIT_BYTES,
        copy_part_bytes: int = COPY_PART_BYTES,
    ) -> None:
        self._make_client = make_client
        self._bucket = bucket
        self._signer = signer
        self._clock = clock
        self._copy_limit = copy_limit
        self._copy_part_bytes = copy_part_bytes

    @cached_property
    def _client(self) -> S3Client:
        return self._make_client()

    def presign_put(
        self, key: str, *, content_type: str, size_bytes: int, expires_in: int,
        sha256: str | None = None,
    ) -> PresignedUpload:
        # Content-Type and Content-Length are signed: S3 refuses a body of another size. With a
        # declared digest its checksum header is signed too, and S3 refuses other bytes.
        # If-None-Match makes the write conditional: the URL writes the original once, and a
        # replay (of the same or other bytes) is refused with 412 instead of replacing it.
        headers = {"Content-Type": content_type, "If-None-Match": "*"}
        if sha256 is not None:
            headers["x-amz-checksum-sha256"] = base64.b64encode(bytes.fromhex(sha256)).decode()
        url = self._signer.sign("PUT", key, expires_in=expires_in,
                                headers={**headers, "Content-Length": str(size_bytes)})
        return PresignedUpload(
            method="PUT",
            url=url,
            headers=headers,
            expires_at=self._clock() + timedelta(seconds=expires_in),
        )

    def start_multipart(self, key: str, *, content_type: str) -> str:
        with translated(f"starting a multipart upload of {key}", StorageUnavailable):
            response = self._client.create_multipart_upload(
                Bucket=self._bucket, Key=key, ContentType=content_type
            )
        return response["UploadId"]

    def presign_part(self, key: str, upload_id: str, number: int, *, size_bytes: int,
                     expires_in: int) -> str:
        # Content-Length is signed, as for a single PUT: a part of the wrong size is refused
        # here, instead of being stored and failing the assembly later (EntityTooSmall).
        return self._signer.sign("PUT", key, expires_in=expires_in,
                                 headers={"Content-Length": str(size_bytes)},
                                 query={"partNumber": str(number), "uploadId": upload_id})

    def uploaded_parts(self, key: str, upload_id: str) -> list[UploadedPart]:
        parts: list[UploadedPart] = []
        marker = 0
        with translated(f"listing the parts of {key}", StorageUnavailable):
            while True:
                try:
                    response = self._client.list_parts(
                        Bucket=self._bucket, Key=key, UploadId=upload_id,
                        PartNumberMarker=marker,
                    )
                except ClientError as exc:
                    if error_code(exc) in _NO_UPLOAD_CODES:
                        raise ObjectNotFound(f"no multipart upload {upload_id}") from exc
                    raise
                parts.extend(UploadedPart(number=part["PartNumber"], size=part["Size"],
                                          etag=part["ETag"])
                             for part in response.get("Parts", []))
                if not response.get("IsTruncated"):
                    return parts
                marker = response["NextPartNumberMarker"]

    def complete_multipart(self, key: str, upload_id: str, parts: Sequence[UploadedPart]) -> None:
        with translated(f"completing the multipart upload of {key}", StorageUnavailable):
            try:
                self._client.complete_multipart_upload(
                    Bucket=self._bucket, Key=key, UploadId=upload_id,
                    MultipartUpload={"Parts": [{"PartNumber": part.number, "ETag": part.etag}
                                               for part in parts]},
                )
            except ClientError as exc:
                refused = _refused_completion(exc, upload_id)
                if refused is None:
                    raise
                raise refused from exc


    def abort_multipart(self, key: str, upload_id: str) -> None:
        with translated(f"aborting the multipart upload of {key}", StorageUnavailable):
            try:
                self._client.abort_multipart_upload(
                    Bucket=self._bucket, Key=key, UploadId=upload_id
                )
            except ClientError as exc:
                if error_code(exc) not in _NO_UPLOAD_CODES:  # already gone: nothing to abort
                    raise

    def presign_get(self, key: str, *, expires_in: int) -> str:
        return self._signer.sign("GET", key, expires_in=expires_in)

    def head(self, key: str) -> StoredObject | None:
        with translated(f"HEAD {key}", StorageUnavailable):
            try:
                response = self._client.head_object(Bucket=self._bucket, Key=key)
            except ClientError as exc:
                if error_code(exc) in _MISSING_CODES:
                    return None
                raise
        return StoredObject(key=key, size=response["ContentLength"], etag=response["ETag"])

    def read_start(self, key: str, length: int) -> tuple[StoredObject, bytes] | None:
        # A ranged GET answers what a HEAD would (the size after Content-Range's slash, the
        # ETag) with the bytes: one request of the two every upload's completion made.
        with translated(f"GET {key}", StorageUnavailable):
            try:
                response = self._client.get_object(Bucket=self._bucket, Key=key,
                                                   Range=f"bytes=0-{length - 1}")
            except ClientError as exc:
                if error_code(exc) in _MISSING_CODES:
                    return None
                if error_code(exc) != "InvalidRange":
                    raise
                # An empty object has no first byte to range over.
                stored = self.head(key)
                return None if stored is None else (stored, b"")
            with closing(response["Body"]) as body:
                data: bytes = body.read(length)
        content_range = response.get("ContentRange")  # absent where a store sent it whole
        size = int(content_range.rsplit("/", 1)[1]) if content_range else response[
            "ContentLength"]
        return StoredObject(key=key, size=size, etag=response["ETag"]), data

    def read_range(self, key: str, length: int, *, start: int = 0) -> bytes:
        return _read_range(self._client, self._bucket, key, length, start=start, name=key)

    def iter_chunks(self, key: str) -> Iterator[bytes]:
        with translated(f"GET {key}", StorageUnavailable):
            try:
                response = self._client.get_object(Bucket=self._bucket, Key=key)
            except ClientError as exc:
                if error_code(exc) in _MISSING_CODES:
                    raise ObjectNotFound(f"no object {key}") from exc
                raise
            yield from response["Body"].iter_chunks(CHUNK_BYTES)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        with translated(f"PUT {key}", StorageUnavailable):
            self._client.put_object(
                Bucket=self._bucket,
                Key=key,
                Body=data,
                ContentType=content_type,
                CacheControl=DERIVATIVE_CACHE_CONTROL,
            )

    def copy_in(self, source_bucket: str, source: StoredObject, key: str, *,
                content_type: str) -> None:
        # If-Match on the listed ETag: what is copied is what was listed and sniffed, never a
        # replacement written since.
        origin: CopySourceTypeDef = {"Bucket": source_bucket, "Key": source.key}
        with translated(f"copying s3://{source_bucket}/{source.key} to {key}",
                        StorageUnavailable):
            try:
                if source.size <= self._copy_limit:
                    self._client.copy_object(
                        Bucket=self._bucket, Key=key, CopySource=origin,
                        CopySourceIfMatch=source.etag, ContentType=content_type,
                        MetadataDirective="REPLACE",
                    )
                else:
                    self._copy_in_parts(origin, source, key, content_type)
            except ClientError as exc:
                if error_code(exc) in _MISSING_CODES:
                    raise ObjectNotFound(f"no object s3://{source_bucket}/{source.key}") from exc
                if error_code(exc) in _CHANGED_CODES:
                    raise SourceChanged(f"s3://{source_bucket}/{source.key} changed after it "
                                        "was listed") from exc
                raise

    def _copy_in_parts(self, origin: CopySourceTypeDef, source: StoredObject, key: str,
                       content_type: str) -> None:
        upload_id = self._client.create_multipart_upload(
            Bucket=self._bucket, Key=key, ContentType=content_type)["UploadId"]
        try:
            parts = []
            for number, start in enumerate(range(0, source.size, self._copy_part_bytes), 1):
                end = min(start + self._copy_part_bytes, source.size) - 1
                result = self._client.upload_part_copy(
                    Bucket=self._bucket, Key=key, UploadId=upload_id, PartNumber=number,
                    CopySource=origin, CopySourceIfMatch=source.etag,
                    CopySourceRange=f"bytes={start}-{end}",
                )
                parts.append({"PartNumber": number, "ETag": result["CopyPartResult"]["ETag"]})
            self._client.complete_multipart_upload(
                Bucket=self._bucket, Key=key, UploadId=upload_id,
                MultipartUpload={"Parts": parts})  # type: ignore[typeddict-item]
        except BaseException:
            self._client.abort_multipart_upload(Bucket=self._bucket, Key=key, UploadId=upload_id)
            raise

    def delete(self, keys: Sequence[str]) -> None:
        # DeleteObjects takes at most 1000 keys per call.
        for start in range(0, len(keys), 1000):
            batch = keys[start : start + 1000]
            with translated("deleting objects", StorageUnavailable):
                response = self._client.delete_objects(
                    Bucket=self._bucket,
                    Delete={"Objects": [{"Key": key} for key in batch], "Quiet": True},
                )
            errors = response.get("Errors") or []
            if errors:
                first = errors[0]
                raise StorageUnavailable(
                    f"could not delete {len(errors)} objects, first {first.get('Key')}: "
                    f"{first.get('Code')}"
                )

    def delete_prefix(self, prefix: str) -> None:
        # A page of the listing (up to 1000 keys) at a time, each one DeleteObjects call: an
        # asset's tiles are thousands of objects. Listing goes on from the last key listed, so
        # deleting behind it skips nothing.
        with translated(f"listing {prefix}", StorageUnavailable):
            pages = self._client.get_paginator("list_objects_v2").paginate(
                Bucket=self._bucket, Prefix=prefix
            )
            for page in pages:
                self.delete([item["Key"] for item in page.get("Contents", [])])

    def mark_rejected(self, key: str) -> None:
        with translated(f"tagging {key}", StorageUnavailable):
            self._client.put_object_tagging(
                Bucket=self._bucket, Key=key,
                Tagging={"TagSet": [{"Key": REJECTED_TAG, "Value": "true"}]},
            )

    def ping(self) -> None:
        with translated(f"HEAD bucket {self._bucket}", StorageUnavailable):
            self._client.head_bucket(Bucket=self._bucket)


class S3SourceBucket:
    """The SourceBucket port over a bucket an import reads."""

    def __init__(self, make_client: Callable[[], S3Client], bucket: str) -> None:
        self._make_client = make_client
        self._bucket = bucket

    @cached_property
    def _client(self) -> S3Client:
        return self._make_client()

    def list_page(self, prefix: str, *, after: str | None, limit: int) -> SourcePage:
        with translated(f"listing s3://{self._bucket}/{prefix}", StorageUnavailable):
            try:
                response = self._client.list_objects_v2(
                    Bucket=self._bucket, Prefix=prefix, MaxKeys=limit, StartAfter=after or "")
            except ClientError as exc:
                if error_code(exc) == "NoSuchBucket":
                    raise ObjectNotFound(f"no bucket {self._bucket}") from exc
                raise
        return SourcePage(tuple(StoredObject(key=item["Key"], size=item["Size"],
                                             etag=item["ETag"])
                                for item in response.get("Contents", [])),
                          more=bool(response.get("IsTruncated")))

    def read_range(self, key: str, length: int) -> bytes:
        return _read_range(self._client, self._bucket, key, length, start=0,
                           name=f"s3://{self._bucket}/{key}")


def _read_range(client: S3Client, bucket: str, key: str, length: int, *, start: int,
                name: str) -> bytes:
    with translated(f"GET {name}", StorageUnavailable):
        try:
            response = client.get_object(Bucket=bucket, Key=key,
                                         Range=f"bytes={start}-{start + length - 1}")
        except ClientError as exc:
            if error_code(exc) in _MISSING_CODES:
                raise ObjectNotFound(f"no object {name}") from exc
            if error_code(exc) == "InvalidRange":  # past the end (or an empty object)
                return b""
            raise
        data: bytes = response["Body"].read()
        return data
