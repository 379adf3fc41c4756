"""Translation of boto3's errors into Lightbox's, shared by the S3 and SQS adapters."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from lightbox.errors import ConfigError, LightboxError, Unavailable

# Error codes that say "try again later" rather than "this request is wrong".
_TRANSIENT_CODES = frozenset({
    "SlowDown",
    "ServiceUnavailable",
    "InternalError",
    "RequestTimeout",
    "Throttling",
    "ThrottlingException",
    "RequestThrottled",
    # Lambda's answer to a change of an event source mapping that is still settling.
    "ResourceInUseException",
})
_DENIED_CODES = frozenset({
    "AccessDenied",
    "AccessDeniedException",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
})


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def http_status(exc: ClientError) -> int:
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))


def is_request_fault(exc: ClientError) -> bool:
    """A 4xx about the request itself: neither transient nor a denial of the deployment's."""
    code = error_code(exc)
    return (400 <= http_status(exc) < 500 and http_status(exc) != 403
            and code not in _TRANSIENT_CODES and code not in _DENIED_CODES)


@contextmanager
def translated(action: str, unavailable: type[Unavailable]) -> Iterator[None]:
    """Raise the Lightbox error that matches whatever boto3 raises inside the block."""
    try:
        yield
    except ClientError as exc:
        code = error_code(exc)
        status = http_status(exc)
        if code in _TRANSIENT_CODES or status >= 500:
            raise unavailable(f"{action} failed, try again: {code or status}") from exc
        if code in _DENIED_CODES or status == 403:
            raise ConfigError(
                f"{action} was denied ({code}): check credentials and policy"
            ) from exc
        raise LightboxError(f"{action} failed: {code or status}") from exc
    except NoCredentialsError as exc:
        raise ConfigError(f"{action}: no AWS credentials configured") from exc
    except BotoCoreError as exc:
        # Connection refused or reset, timeouts, truncated responses.
        raise unavailable(f"{action} failed, try again: {exc}") from exc
