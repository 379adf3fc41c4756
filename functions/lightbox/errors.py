"""Every error Lightbox raises, in one tree.

Each class carries the HTTP ``status`` and the stable machine-readable ``code`` that the
HTTP boundary renders as ``{"error": {"code": ..., "message": ...}}``. Adapters translate
the errors of boto3 and psycopg into these at the boundary, so nothing above them ever
catches a library's exception type.

    LightboxError                    500 internal
    ├── RequestError                 400 bad_request             malformed request
    │   ├── Unauthorized             401 unauthorized            missing or wrong credentials
    │   ├── Forbidden                403 forbidden               not allowed here at all
    │   ├── InvalidField             422 invalid_field           a field has a wrong value
    │   ├── PayloadTooLarge          413 too_large               over a configured limit
    │   └── UnsupportedMediaType     415 unsupported_media_type  not a type Lightbox takes
    ├── NotFound                     404 not_found
    │   ├── AssetNotFound            404 asset_not_found
    │   ├── ProjectNotFound          404 project_not_found
    │   ├── ShareNotFound            404 share_not_found         also revoked or expired
    │   ├── ImportNotFound           404 import_not_found
    │   └── ObjectNotFound           404 object_not_found        no such key in the bucket
    ├── Conflict                     409 conflict
    │   ├── UploadMissing            409 upload_missing          complete before the PUT
    │   ├── UploadIncomplete         409 upload_incomplete       parts are missing
    │   ├── InvalidParts             409 invalid_parts           the bucket refused the parts
    │   ├── InvalidState             409 invalid_state           not possible in the asset's state
    │   ├── ProjectExists            409 project_exists          that name is taken
    │   ├── ProjectNotEmpty          409 project_not_empty       delete its assets or cascade
    │   ├── SourceChanged            409 source_changed          an import's source was replaced
    │   └── LimitReached             409 limit_reached           a per-owner limit is reached
    ├── InvalidEvent                 400 invalid_event           a message Lightbox cannot read
    ├── ImageError                   422 unprocessable_image     the file cannot be rendered
    ├── ConfigError                  500 misconfigured
    ├── MigrationError               500 migration_failed
    └── Unavailable                  503 unavailable             transient: retrying may succeed
        ├── DatabaseUnavailable      503 database_unavailable
        ├── StorageUnavailable       503 storage_unavailable
        └── QueueUnavailable         503 queue_unavailable
"""

from __future__ import annotations

from collections.abc import Collection

# An error about unknown names lists this many of them, each cut to so many characters, and
# counts the rest: a request of a million names gets an answer of a few lines.
_NAMES_LISTED = 3
_NAME_CHARS = 40


class LightboxError(Exception):
    status = 500
    code = "internal"

    @property
    def message(self) -> str:
        return str(self) or self.__class__.__name__


class RequestError(LightboxError):
    status = 400
    code = "bad_request"


class Unauthorized(RequestError):
    status = 401
    code = "unauthorized"


class Forbidden(RequestError):
    status = 403
    code = "forbidden"


class InvalidField(RequestError):
    status = 422
    code = "invalid_field"


class PayloadTooLarge(RequestError):
    status = 413
    code = "too_large"


class UnsupportedMediaType(RequestError):
    status = 415
    code = "unsupported_media_type"


class NotFound(LightboxError):
    status = 404
    code = "not_found"


class AssetNotFound(NotFound):
    status = 404
    code = "asset_not_found"


class ProjectNotFound(NotFound):
    status = 404
    code = "project_not_found"


class ShareNotFound(NotFound):
    """No such share, or one revoked or expired: told apart to nobody."""

    status = 404
    code = "share_not_found"


class ImportNotFound(NotFound):
    status = 404
    code = "import_not_found"


class ObjectNotFound(NotFound):
    status = 404
    code = "object_not_found"


class Conflict(LightboxError):
    status = 409
    code = "conflict"


class UploadMissing(Conflict):
    status = 409
    code = "upload_missing"


class UploadIncomplete(Conflict):
    status = 409
    code = "upload_incomplete"


class InvalidParts(Conflict):
    """The bucket refused to assemble the parts; the multipart upload is still there."""

    status = 409
    code = "invalid_parts"


class InvalidState(Conflict):
    status = 409
    code = "invalid_state"


class ProjectExists(Conflict):
    status = 409
    code = "project_exists"


class ProjectNotEmpty(Conflict):
    status = 409
    code = "project_not_empty"


class SourceChanged(Conflict):
    """The object an import listed was replaced (or removed) before it was copied."""

    status = 409
    code = "source_changed"


class LimitReached(Conflict):
    status = 409
    code = "limit_reached"


class InvalidEvent(LightboxError):
    """A message that can never be processed: retrying it would only fill the DLQ."""

    status = 400
    code = "invalid_event"


class ImageError(LightboxError):
    """The file is corrupt or of a kind Lightbox cannot render: a permanent failure."""

    status = 422
    code = "unprocessable_image"


class ConfigError(LightboxError):
    status = 500
    code = "misconfigured"


class MigrationError(LightboxError):
    status = 500
    code = "migration_failed"


class Unavailable(LightboxError):
    """A dependency failed in a way that a later retry may not see."""

    status = 503
    code = "unavailable"


class DatabaseUnavailable(Unavailable):
    status = 503
    code = "database_unavailable"


class StorageUnavailable(Unavailable):
    status = 503
    code = "storage_unavailable"


class QueueUnavailable(Unavailable):
    status = 503
    code = "queue_unavailable"


def unknown_names(kind: str, names: Collection[str]) -> RequestError:
    """``unknown fields: a, b, c and 12 more``, whatever the request sent."""
    listed = [name if len(name) <= _NAME_CHARS else name[:_NAME_CHARS] + "…"
              for name in sorted(names)[:_NAMES_LISTED]]
    rest = len(names) - len(listed)
    return RequestError(f"unknown {kind}: {', '.join(listed)}"
                        + (f" and {rest} more" if rest else ""))
