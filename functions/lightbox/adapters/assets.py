"""The AssetRepository port over PostgreSQL.

Every state change is one conditional UPDATE; none of them reads before it writes. Listing
queries are assembled from fixed fragments, never from user text, so that each shape of filter
gets its own index plan and every value travels as a parameter.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from itertools import combinations
from typing import Any
from uuid import UUID

from psycopg.types.json import Jsonb

from lightbox.adapters.postgres import (
    LOCK_OWNER,
    PENDING_UPLOADS_LOCK,
    Database,
    Row,
    like_pattern,
)
from lightbox.domain import (
    Asset,
    Declared,
    Derivative,
    ImageInfo,
    Location,
    NewAsset,
    Pyramid,
    Status,
)
from lightbox.errors import Conflict, LimitReached
from lightbox.values import (
    AssetFilter,
    LegacyChangeCursor,
    PageCursor,
    RerenderLease,
    SimilarPair,
    SimilarScan,
    SortOrder,
    StatusTotal,
    StoredObject,
)

ASSET_COLUMNS = """
    id, owner_id, project_id, status, filename, content_type, size_bytes, declared_sha256,
    sha256, duplicate_of, width, height, pages, bit_depth, color_mode, taken_at, camera_make,
    camera_model, orientation, frames, duration, has_location, codec, frame_rate, has_audio,
    derivatives, placeholder, error, attempts, claimed_at, created_at, updated_at,
    multipart_upload_id, declared_taken_at, declared_latitude, declared_longitude, description,
    import_id, change_seq, perceptual_hash, render_spec, trashed_at, tiles_width, tiles_height,
    tile_size
"""

_INSERT = f"""
    INSERT INTO assets (id, owner_id, project_id, filename, content_type, size_bytes,
                        declared_sha256, multipart_upload_id, declared_taken_at,
                        declared_latitude, declared_longitude, description)
    VALUES (%(id)s, %(owner_id)s, %(project_id)s, %(filename)s, %(content_type)s,
            %(size_bytes)s, %(declared_sha256)s, %(multipart_upload_id)s,
            %(declared_taken_at)s, %(declared_latitude)s, %(declared_longitude)s,
            %(description)s)
    RETURNING {ASSET_COLUMNS}
"""

# A source object becomes one asset of an owner (assets_owner_source): a second listing of it,
# by this run or another, finds the first.
_ADD_ADOPTED = f"""
    WITH added AS (
        INSERT INTO assets (id, owner_id, project_id, filename, content_type, size_bytes,
                            import_id, source_bucket, source_key, source_etag,
                            declared_taken_at, declared_latitude, declared_longitude,
                            description)
        VALUES (%(id)s, %(owner_id)s, %(project_id)s, %(filename)s, %(content_type)s,
                %(size_bytes)s, %(import_id)s, %(source_bucket)s, %(source_key)s,
                %(source_etag)s, %(declared_taken_at)s, %(declared_latitude)s,
                %(declared_longitude)s, %(description)s)
        ON CONFLICT (owner_id, source_bucket, source_key, source_etag)
            WHERE source_key IS NOT NULL DO NOTHING
        RETURNING {ASSET_COLUMNS}, true AS added
    )
    SELECT * FROM added
    UNION ALL
    SELECT {ASSET_COLUMNS}, false AS added FROM assets
    WHERE owner_id = %(owner_id)s AND source_bucket = %(source_bucket)s
      AND source_key = %(source_key)s AND source_etag = %(source_etag)s
      AND NOT EXISTS (SELECT 1 FROM added)
"""

_PENDING_COUNT = """
    SELECT count(*) AS n FROM assets WHERE owner_id = %(owner)s AND status = 'pending'
"""

_GET = f"SELECT {ASSET_COLUMNS} FROM assets WHERE owner_id = %(owner)s AND id = %(id)s"
_GET_TILED = f"""
    SELECT {ASSET_COLUMNS} FROM assets
    WHERE id = %(id)s AND status = 'ready' AND trashed_at IS NULL AND tiles_width IS NOT NULL
"""

# The holder is locked for the statement, as in _MARK_DUPLICATE: a deletion of it either
# commits first (and nothing is added) or waits, and then finds the duplicate. A copy already
# in the project is answered instead of a second one, so that a repeated presign adds nothing.
_ADD_DUPLICATE = f"""
    WITH holder AS (
        SELECT id, content_type, sha256 FROM assets
        WHERE owner_id = %(owner_id)s AND id = %(holder)s AND status IN ('processing', 'ready')
        FOR SHARE
    ), existing AS (
        SELECT dup.id FROM assets dup JOIN holder ON dup.duplicate_of = holder.id
        WHERE dup.owner_id = %(owner_id)s AND dup.status = 'duplicate'
          AND dup.project_id IS NOT DISTINCT FROM %(project_id)s
        LIMIT 1
    ), added AS (
        INSERT INTO assets (id, owner_id, project_id, status, filename, content_type, size_bytes,
                            declared_sha256, sha256, duplicate_of, declared_taken_at,
                            declared_latitude, declared_longitude, description)
        SELECT %(id)s, %(owner_id)s, %(project_id)s, 'duplicate', %(filename)s,
               holder.content_type, %(size_bytes)s, %(declared_sha256)s, holder.sha256, holder.id,
               %(declared_taken_at)s, %(declared_latitude)s, %(declared_longitude)s,
               %(description)s
        FROM holder WHERE NOT EXISTS (SELECT 1 FROM existing)
        RETURNING {ASSET_COLUMNS}
    )
    SELECT * FROM added
    UNION ALL
    SELECT {ASSET_COLUMNS} FROM assets WHERE id IN (SELECT id FROM existing)
"""

_FIND_BY_CONTENT = f"""
    SELECT {ASSET_COLUMNS} FROM assets
    WHERE owner_id = %(owner)s AND sha256 = %(sha256)s AND status IN ('processing', 'ready')
      AND id IS DISTINCT FROM %(exclude)s
    LIMIT 1
"""

_MARK_UPLOADED = """
    UPDATE assets SET status = 'uploaded', content_type = %(content_type)s,
                      multipart_upload_id = NULL, updated_at = now()
    WHERE owner_id = %(owner)s AND id = %(id)s AND status = 'pending'
"""

# Every attempt hashes the bytes again: a hash kept from an earlier attempt would make the row
# collide (assets_owner_content) with a copy of the same bytes that became live meanwhile.
_CLAIM = f"""
    UPDATE assets
    SET status = 'processing', attempts = attempts + 1, sha256 = NULL, claimed_at = now(),
        updated_at = now()
    WHERE owner_id = %(owner)s AND id = %(id)s
      AND (status = 'uploaded'
           OR (status = 'processing' AND claimed_at < now() - make_interval(secs => %(lease)s)))
    RETURNING {ASSET_COLUMNS}
"""

_RECORD_CONTENT = """
    UPDATE assets SET sha256 = %(sha256)s, updated_at = now()
    WHERE owner_id = %(owner)s AND id = %(id)s AND status = 'processing'
"""

_MARK_READY = """
    UPDATE assets
    SET status = 'ready', width = %(width)s, height = %(height)s, pages = %(pages)s,
        bit_depth = %(bit_depth)s, color_mode = %(color_mode)s, taken_at = %(taken_at)s,
        camera_make = %(camera_make)s, camera_model = %(camera_model)s,
        orientation = %(orientation)s, frames = %(frames)s, duration = %(duration)s,
        has_location = %(has_location)s, codec = %(codec)s, frame_rate = %(frame_rate)s,
        has_audio = %(has_audio)s, derivatives = %(derivatives)s,
        placeholder = %(placeholder)s, perceptual_hash = %(perceptual_hash)s,
        render_spec = %(render_spec)s, tiles_width = %(tiles_width)s,
        tiles_height = %(tiles_height)s, tile_size = %(tile_size)s, error = NULL,
        updated_at = now()
    WHERE owner_id = %(owner)s AND id = %(id)s AND status = 'processing'
"""

# The ready assets on another spec than the current one, of every owner, in (render_spec, id)
# order from just after a page's last pair: the two ranges of assets_ready_render_spec either
# side of the current fingerprint, each read in index order.
_OUTDATED = f"""
    (SELECT {ASSET_COLUMNS} FROM assets
     WHERE status = 'ready' AND render_spec < %(spec)s
       AND (render_spec, id) > (%(after_spec)s, %(after_id)s)
     ORDER BY render_spec, id LIMIT %(limit)s)
    UNION ALL
    (SELECT {ASSET_COLUMNS} FROM assets
     WHERE status = 'ready' AND render_spec > %(spec)s
       AND (render_spec, id) > (%(after_spec)s, %(after_id)s)
     ORDER BY render_spec, id LIMIT %(limit)s)
    ORDER BY render_spec, id LIMIT %(limit)s
"""
_COUNT_OUTDATED = """
    SELECT count(*) AS n FROM assets
    WHERE status = 'ready' AND (render_spec < %(spec)s OR render_spec > %(spec)s)
"""

# A lease on a ready asset still on another spec: taken when there is none, taken over when
# the one there is older than the lease. Nothing of the asset's row changes.
_TAKE_RERENDER = f"""
    WITH target AS (
        SELECT id FROM assets
        WHERE owner_id = %(owner)s AND id = %(id)s AND status = 'ready'
          AND render_spec <> %(spec)s
    ), lease AS (
        INSERT INTO rerender_leases (asset_id, leased_at)
        SELECT id, clock_timestamp() FROM target
        ON CONFLICT (asset_id) DO UPDATE SET leased_at = EXCLUDED.leased_at
            WHERE rerender_leases.leased_at < now() - make_interval(secs => %(lease)s)
        RETURNING asset_id, leased_at
    )
    SELECT {ASSET_COLUMNS}, lease.leased_at
    FROM assets JOIN lease ON assets.id = lease.asset_id
"""

# The new derivatives replace the old ones only while the asset is ready and the lease is
# still the caller's; the lease ends either way. The row is locked before it is read, so the
# list returned is the one replaced, with whatever an on-demand render appended meanwhile.
_REPLACE_DERIVATIVES = """
    WITH lease AS (
        DELETE FROM rerender_leases WHERE asset_id = %(id)s AND leased_at = %(taken_at)s
        RETURNING asset_id
    ), replaced AS (
        SELECT id, derivatives FROM assets
        WHERE owner_id = %(owner)s AND id = %(id)s AND status = 'ready'
          AND id IN (SELECT asset_id FROM lease)
        FOR UPDATE
    )
    UPDATE assets SET derivatives = %(derivatives)s, placeholder = %(placeholder)s,
                      perceptual_hash = %(perceptual_hash)s, render_spec = %(render_spec)s,
                      tiles_width = %(tiles_width)s, tiles_height = %(tiles_height)s,
                      tile_size = %(tile_size)s, updated_at = now()
    FROM replaced WHERE assets.id = replaced.id
    RETURNING replaced.derivatives AS replaced
"""

# An on-demand size joins the list of a ready asset, once: every deletion path removes what
# the list names.
_ADD_DERIVATIVE = """
    UPDATE assets SET derivatives = derivatives || %(derivative)s, updated_at = now()
    WHERE owner_id = %(owner)s AND id = %(id)s AND status = 'ready'
      AND NOT derivatives @> %(same_key)s
"""

# Only of a live holder, locked for the statement: a deletion of the holder either commits
# first (and the asset stays processing) or waits, and then finds the duplicate when it decides
# whether the holder's bytes may go.
_MARK_DUPLICATE = """
    UPDATE assets SET status = 'duplicate', duplicate_of = %(original)s, updated_at = now()
    WHERE owner_id = %(owner)s AND id = %(id)s AND status = 'processing'
      AND EXISTS (SELECT 1 FROM assets holder
                  WHERE holder.owner_id = %(owner)s AND holder.id = %(original)s
                    AND holder.status IN ('processing', 'ready')
                  FOR SHARE)
"""

_MARK_FAILED = """
    UPDATE assets SET status = 'failed', error = %(reason)s, updated_at = now()
    WHERE owner_id = %(owner)s AND id = %(id)s AND status = %(expected)s
"""

# Only what the asset lacks, and only when something changes (a change is a sync event).
_FILL_DECLARED = """
    UPDATE assets SET
        declared_taken_at = COALESCE(declared_taken_at, %(declared_taken_at)s),
        declared_latitude = COALESCE(declared_latitude, %(declared_latitude)s),
        declared_longitude = COALESCE(declared_longitude, %(declared_longitude)s),
        description = COALESCE(description, %(description)s),
        taken_at = CASE WHEN status = 'ready' THEN COALESCE(taken_at, %(declared_taken_at)s)
                        ELSE taken_at END,
        has_location = CASE WHEN status = 'ready' AND %(declared_latitude)s::float8 IS NOT NULL
                            THEN true ELSE has_location END,
        updated_at = now()
    WHERE owner_id = %(owner)s AND id = %(id)s
      AND status IN ('uploaded', 'processing', 'ready')
      AND ((declared_taken_at IS NULL AND %(declared_taken_at)s::timestamp IS NOT NULL)
           OR (declared_latitude IS NULL AND %(declared_latitude)s::float8 IS NOT NULL)
           OR (description IS NULL AND %(description)s::text IS NOT NULL))
"""

# A tombstone keeps no place or caption its client gave: the owner deleted them too. Nor its
# perceptual hash: it must never again be found similar to anything.
_FORGET_DECLARED = """
    declared_taken_at = NULL, declared_latitude = NULL, declared_longitude = NULL,
    description = NULL, perceptual_hash = NULL
"""

_MARK_REMOVED = f"""
    UPDATE assets SET status = 'deleted', {_FORGET_DECLARED}, updated_at = now()
    WHERE owner_id = %(owner)s AND id = %(id)s AND status NOT IN ('deleted', 'duplicate')
"""

# Imported or not: an import's assets wait behind the whole backfill, and must not crowd out
# the few lost jobs of users' own uploads. Two fixed queries, so that each uses its partial
# index (assets_waiting_live, assets_waiting_imported; migration 0011).
_WAITING = """
    SELECT {columns} FROM assets
    WHERE status = %(status)s AND updated_at < now() - make_interval(secs => %(age)s)
      AND import_id IS {imported}
    ORDER BY updated_at
    LIMIT %(limit)s
"""
_WAITING_LIVE = _WAITING.format(columns=ASSET_COLUMNS, imported="NULL")
_WAITING_IMPORTED = _WAITING.format(columns=ASSET_COLUMNS, imported="NOT NULL")

# Through assets_waiting_live: a handful of rows at most. A minute bounds what a presign never
# followed by its PUT, or a worker that died mid-render, holds up.
_LIVE_UNDER_WAY = """
    SELECT EXISTS (
        SELECT 1 FROM assets
        WHERE status IN ('pending', 'uploaded', 'processing') AND import_id IS NULL
          AND updated_at > now() - interval '1 minute'
    ) AS under_way
"""

_STRANDED = f"""
    SELECT {ASSET_COLUMNS} FROM assets
    WHERE status = %(status)s AND updated_at < %(before)s
      AND (updated_at, id) > (%(after_time)s, %(after_id)s)
    ORDER BY updated_at, id
    LIMIT %(limit)s
"""

_RENEW = """
    UPDATE assets SET updated_at = now()
    WHERE owner_id = %(owner)s AND id = %(id)s AND status = %(status)s
      AND updated_at < now() - make_interval(secs => %(age)s)
"""

_RELEASE = """
    UPDATE assets SET status = 'uploaded', error = %(reason)s, sha256 = NULL, claimed_at = NULL,
                      updated_at = now()
    WHERE owner_id = %(owner)s AND id = %(id)s AND status = 'processing'
"""


_PAGE = f"SELECT {ASSET_COLUMNS} FROM assets WHERE owner_id = %(owner)s"
_ANY_LIVE_STATUS = " AND status <> 'deleted' AND trashed_at IS NULL"
_STATUS = " AND status = %(status)s AND trashed_at IS NULL"
_IN_TRASH = " AND status <> 'deleted' AND trashed_at IS NOT NULL"
_PROJECT = " AND project_id = %(project)s"
_CONTENT_TYPE = " AND content_type = %(content_type)s"
_TAKEN_FROM = " AND taken_at >= %(taken_from)s"
_TAKEN_UNTIL = " AND taken_at < %(taken_until)s"
_CONTENT_TYPES = " AND content_type = ANY(%(content_types)s)"
_CAMERA = " AND concat_ws(' ', camera_make, camera_model) ILIKE %(camera)s"
_TEXT = " AND filename ILIKE %(text)s"
_SORT_COLUMN = {False: "created_at", True: "taken_sort"}
_NONE = StatusTotal(count=0, size_bytes=0, oldest_update=None)

# Changes need no horizon: the owner's numbers are taken in commit order (migration 0006), so
# a snapshot that holds a number holds every committed one below it.
_CHANGES = f"""
    SELECT {ASSET_COLUMNS} FROM assets
    WHERE owner_id = %(owner)s AND change_seq > %(seq)s
    ORDER BY change_seq
    LIMIT %(limit)s
"""
_SEQUENCE = """
    SELECT COALESCE((SELECT last_seq FROM owner_sequences WHERE owner_id = %(owner)s), 0) AS seq
"""
# Rows still carrying change_xid are unchanged since migration 0006 numbered them in the old
# feed's order: the last of them at or before the old position has the highest such number,
# and every change the old cursor had not seen is after it in that order or changed since.
_LEGACY_SEQUENCE = """
    SELECT COALESCE((
        SELECT change_seq FROM assets
        WHERE owner_id = %(owner)s AND change_xid IS NOT NULL
          AND (change_xid, id) <= (%(xid)s::text::xid8, %(id)s)
        ORDER BY change_xid DESC, id DESC
        LIMIT 1), 0) AS seq
"""

_GET_MANY = f"""
    SELECT {ASSET_COLUMNS} FROM assets WHERE owner_id = %(owner)s AND id = ANY(%(ids)s)
"""

# What is in the trash is counted as trashed, whatever its status underneath; its bytes are
# those of the trashed assets that hold an original.
_TOTALS = """
    SELECT shown AS status, count(*) AS n,
           COALESCE(sum(size_bytes) FILTER (
               WHERE shown <> 'trashed'
                  OR status IN ('uploaded', 'processing', 'ready', 'failed')), 0) AS size_bytes,
           min(updated_at) AS oldest_update
    FROM (SELECT CASE WHEN trashed_at IS NULL OR status = 'deleted' THEN status
                      ELSE 'trashed' END AS shown, status, size_bytes, updated_at
          FROM assets WHERE owner_id = %(owner)s) shown_assets
    GROUP BY shown
"""

_UPDATE = f"""
    UPDATE assets
    SET filename = COALESCE(%(filename)s, filename),
        project_id = CASE WHEN %(move)s THEN %(project)s ELSE project_id END,
        updated_at = now()
    WHERE owner_id = %(owner)s AND id = %(id)s AND status <> 'deleted'
    RETURNING {ASSET_COLUMNS}
"""

# With an age, only what is still in the trash and has been for that long: an asset restored
# meanwhile stays.
_DELETE = f"""
    UPDATE assets SET status = 'deleted', purged_at = NULL, trashed_at = NULL,
        {_FORGET_DECLARED}, updated_at = now()
    WHERE owner_id = %(owner)s AND id = %(id)s AND status <> 'deleted'
      AND (%(age)s::integer IS NULL OR trashed_at <= now() - make_interval(secs => %(age)s))
    RETURNING {ASSET_COLUMNS}
"""

# Into the trash and out: nothing else changes, so a render under way goes on and a restored
# asset is as it was. A second move is no change, and answers the asset as it is.
_TRASH_MOVE = """
    WITH moved AS (
        UPDATE assets SET trashed_at = {to}, updated_at = now()
        WHERE owner_id = %(owner)s AND id = %(id)s AND status <> 'deleted'
          AND trashed_at IS {was}
        RETURNING {columns}
    )
    SELECT * FROM moved
    UNION ALL
    SELECT {columns} FROM assets
    WHERE owner_id = %(owner)s AND id = %(id)s AND status <> 'deleted'
      AND NOT EXISTS (SELECT 1 FROM moved)
"""
_TRASH = _TRASH_MOVE.format(to="now()", was="NULL", columns=ASSET_COLUMNS)
_RESTORE = _TRASH_MOVE.format(to="NULL", was="NOT NULL", columns=ASSET_COLUMNS)
# What has been in the owner's trash, or anyone's (the reaper), for that long.
_TRASHED = f"""
    SELECT {ASSET_COLUMNS} FROM assets
    WHERE trashed_at <= now() - make_interval(secs => %(age)s) AND status <> 'deleted'
      AND (%(owner)s::text IS NULL OR owner_id = %(owner)s)
    ORDER BY trashed_at, id
    LIMIT %(limit)s
"""

_MARK_PURGED = """
    UPDATE assets SET purged_at = now()
    WHERE owner_id = %(owner)s AND id = %(id)s AND status = 'deleted'
"""

# A deleted asset's bytes stay while a live duplicate shows them.
_UNUSED = """
    NOT EXISTS (SELECT 1 FROM assets dup
                WHERE dup.duplicate_of = held.id AND dup.status = 'duplicate')
"""
_UNPURGED = f"""
    SELECT {ASSET_COLUMNS} FROM assets held
    WHERE status = 'deleted' AND purged_at IS NULL
      AND updated_at < now() - make_interval(secs => %(age)s) AND {_UNUSED}
    ORDER BY updated_at
    LIMIT %(limit)s
"""
_PURGEABLE = f"""
    SELECT {ASSET_COLUMNS} FROM assets held
    WHERE owner_id = %(owner)s AND id = %(id)s AND status = 'deleted' AND purged_at IS NULL
      AND {_UNUSED}
"""

_RESET_FAILED = """
    UPDATE assets SET status = 'pending', error = NULL, attempts = 0, claimed_at = NULL,
                      updated_at = now()
    WHERE owner_id = %(owner)s AND id = %(id)s AND status = 'failed'
"""

_IN_PROJECT = f"""
    SELECT {ASSET_COLUMNS} FROM assets
    WHERE owner_id = %(owner)s AND project_id = %(project)s AND status <> 'deleted'
      AND trashed_at IS NULL
    LIMIT %(limit)s
"""

# Near-duplicates through the band indexes of migration 0012. Two hashes within d bits of each
# other agree to within d // 4 bits in at least one of their four 16-bit bands (were every band
# more than d // 4 bits apart, the whole would be more than d), so each band's index is probed
# with every value within d // 4 bits of the reference's band (its XOR with each mask of
# %(masks)s), and each candidate's exact distance is checked in the index, by bit_count. Nothing
# within d is missed, whatever d; a larger d costs more probes (services.similar bounds it).
_BANDS = 4
_BAND_BITS = 16
_PROBES = ", ".join(
    f"ARRAY(SELECT ((r.hash >> {_BAND_BITS * (_BANDS - 1 - band)}) & 65535)::integer # mask "
    f"FROM unnest(%(masks)s::integer[]) AS mask) AS probes{band}"
    for band in range(_BANDS)
)
# One index per band: a UNION of four index-only scans, each for the rows of the reference ``r``.
_NEAR = " UNION ".join(f"""
    SELECT near.id, bit_count((near.perceptual_hash # r.hash)::bit(64)) AS distance
    FROM assets near
    WHERE near.owner_id = %(owner)s AND near.status = 'ready' AND near.perceptual_hash IS NOT NULL
      AND near.phash_band{band} = ANY(r.probes{band})
      AND bit_count((near.perceptual_hash # r.hash)::bit(64)) <= %(distance)s
""" for band in range(_BANDS))

_SIMILAR = f"""
    WITH probed AS (
        SELECT r.id, r.hash, {_PROBES}
        FROM (SELECT id, perceptual_hash AS hash FROM assets
              WHERE owner_id = %(owner)s AND id = %(id)s AND status = 'ready'
                AND perceptual_hash IS NOT NULL) r
    )
    SELECT {ASSET_COLUMNS}, distance FROM assets JOIN (
        SELECT found.id, found.distance
        FROM probed r CROSS JOIN LATERAL ({_NEAR}) found
        WHERE found.id <> r.id
    ) matched USING (id)
    WHERE owner_id = %(owner)s AND trashed_at IS NULL
    ORDER BY distance, id
    LIMIT %(limit)s
"""

# Each pair once, under the first of its two in id order; a walked asset without any answers a
# row of NULLs, so that what was walked is known.
_SIMILAR_PAIRS = f"""
    WITH probed AS (
        SELECT r.id, r.hash, {_PROBES}
        FROM (SELECT id, perceptual_hash AS hash FROM assets
              WHERE owner_id = %(owner)s AND status = 'ready' AND perceptual_hash IS NOT NULL
                AND id > %(after)s {{project}}
              ORDER BY id
              LIMIT %(scan)s) r
    )
    SELECT r.id AS asset_id, pair.id AS similar_id, pair.distance
    FROM probed r LEFT JOIN LATERAL (
        SELECT found.id, found.distance FROM ({_NEAR}) found
        WHERE found.id > r.id {{project_of_found}}
        ORDER BY found.distance, found.id
        LIMIT %(per_asset)s
    ) pair ON true
    ORDER BY r.id, pair.distance, pair.id
"""
_IN_PROJECT_OF_FOUND = """
    AND EXISTS (SELECT 1 FROM assets member
                WHERE member.id = found.id AND member.project_id = %(project)s)
"""


class PostgresAssetRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    def add(self, asset: NewAsset, *, max_pending: int) -> Asset:
        with self._db.cursor(transaction=True) as cur:
            cur.execute(LOCK_OWNER, {"limit_kind": PENDING_UPLOADS_LOCK, "owner": asset.owner_id})
            cur.execute(_PENDING_COUNT, {"owner": asset.owner_id})
            row = cur.fetchone()
            if row is not None and row["n"] >= max_pending:
                raise LimitReached(f"{max_pending} uploads are already waiting for their bytes: "
                                   "finish or abort some first")
            cur.execute(_INSERT, _new_asset_params(asset))
            added = cur.fetchone()
        assert added is not None
        return asset_of(added)

    def get(self, owner_id: str, asset_id: UUID) -> Asset | None:
        return one_asset(self._db, _GET, {"owner": owner_id, "id": asset_id})

    def get_tiled(self, asset_id: UUID) -> Asset | None:
        return one_asset(self._db, _GET_TILED, {"id": asset_id})

    def add_duplicate(self, asset: NewAsset, holder_id: UUID) -> Asset | None:
        return one_asset(self._db, _ADD_DUPLICATE,
                         {**_new_asset_params(asset), "holder": holder_id})

    def add_adopted(self, asset: NewAsset, *, import_id: UUID, source_bucket: str,
                    source: StoredObject) -> tuple[Asset, bool]:
        row = self._db.fetch_one(_ADD_ADOPTED, {
            **_new_asset_params(asset), "import_id": import_id, "source_bucket": source_bucket,
            "source_key": source.key, "source_etag": source.etag,
        })
        if row is None:
            # Added by a concurrent listing after this statement's snapshot: read it now.
            raise Conflict(f"s3://{source_bucket}/{source.key} is being adopted concurrently")
        return asset_of(row), row["added"]

    def find_by_content(self, owner_id: str, sha256: str) -> Asset | None:
        return self._find_by_content(owner_id, sha256, exclude=None)

    def mark_uploaded(self, owner_id: str, asset_id: UUID, content_type: str) -> bool:
        return self._update(_MARK_UPLOADED, owner_id, asset_id, content_type=content_type)

    def claim(self, owner_id: str, asset_id: UUID, lease_seconds: int) -> Asset | None:
        return one_asset(self._db, _CLAIM,
                         {"owner": owner_id, "id": asset_id, "lease": lease_seconds})

    def record_content(self, owner_id: str, asset_id: UUID, sha256: str) -> UUID | None:
        # The partial unique index on (owner_id, sha256) decides races between two workers.
        for _ in range(2):
            try:
                self._update(_RECORD_CONTENT, owner_id, asset_id, sha256=sha256)
                return None
            except Conflict:
                pass
            existing = self._find_by_content(owner_id, sha256, exclude=asset_id)
            if existing is not None:
                return existing.id
        return None

    def mark_ready(
        self,
        owner_id: str,
        asset_id: UUID,
        info: ImageInfo,
        derivatives: Sequence[Derivative],
        placeholder: str | None,
        *,
        render_spec: str,
        perceptual_hash: int | None = None,
        tiles: Pyramid | None = None,
    ) -> bool:
        return self._update(
            _MARK_READY,
            owner_id,
            asset_id,
            **asdict(info),
            derivatives=_derivatives_json(derivatives),
            placeholder=placeholder,
            perceptual_hash=_signed(perceptual_hash),
            render_spec=render_spec,
            **_tiles_params(tiles),
        )

    def outdated(self, render_spec: str, *, after: tuple[str, UUID] | None,
                 limit: int) -> list[Asset]:
        after_spec, after_id = after or ("", UUID(int=0))
        return all_assets(self._db, _OUTDATED, {"spec": render_spec, "after_spec": after_spec,
                                                "after_id": after_id, "limit": limit})

    def count_outdated(self, render_spec: str) -> int:
        row = self._db.fetch_one(_COUNT_OUTDATED, {"spec": render_spec})
        assert row is not None  # count(*) answers one row
        return int(row["n"])

    def take_rerender(self, owner_id: str, asset_id: UUID, render_spec: str,
                      lease_seconds: int) -> RerenderLease | None:
        row = self._db.fetch_one(_TAKE_RERENDER, {"owner": owner_id, "id": asset_id,
                                                  "spec": render_spec, "lease": lease_seconds})
        return RerenderLease(asset_of(row), row["leased_at"]) if row else None

    def replace_derivatives(self, lease: RerenderLease, derivatives: Sequence[Derivative],
                            placeholder: str | None, render_spec: str, *,
                            perceptual_hash: int | None = None, tiles: Pyramid | None = None,
                            ) -> tuple[Derivative, ...] | None:
        asset = lease.asset
        row = self._db.fetch_one(_REPLACE_DERIVATIVES, {
            "owner": asset.owner_id, "id": asset.id, "taken_at": lease.taken_at,
            "derivatives": _derivatives_json(derivatives), "placeholder": placeholder,
            "render_spec": render_spec, "perceptual_hash": _signed(perceptual_hash),
            **_tiles_params(tiles),
        })
        return tuple(Derivative(**item) for item in row["replaced"]) if row else None

    def add_derivative(self, owner_id: str, asset_id: UUID, derivative: Derivative) -> bool:
        return self._update(_ADD_DERIVATIVE, owner_id, asset_id,
                            derivative=_derivatives_json([derivative]),
                            same_key=Jsonb([{"key": derivative.key}]))

    def mark_duplicate(self, owner_id: str, asset_id: UUID, original_id: UUID) -> bool:
        return self._update(_MARK_DUPLICATE, owner_id, asset_id, original=original_id)

    def fill_declared(self, owner_id: str, asset_id: UUID, declared: Declared) -> None:
        self._update(_FILL_DECLARED, owner_id, asset_id, **_declared_params(declared))

    def mark_failed(self, owner_id: str, asset_id: UUID, *, expected: Status, reason: str) -> bool:
        return self._update(
            _MARK_FAILED, owner_id, asset_id, expected=expected.value, reason=reason
        )

    def mark_removed(self, owner_id: str, asset_id: UUID) -> bool:
        return self._update(_MARK_REMOVED, owner_id, asset_id)

    def release(self, owner_id: str, asset_id: UUID, reason: str) -> bool:
        return self._update(_RELEASE, owner_id, asset_id, reason=reason)

    def waiting(self, status: Status, older_than_seconds: int, limit: int, *,
                imported: bool = False) -> list[Asset]:
        return all_assets(self._db, _WAITING_IMPORTED if imported else _WAITING_LIVE,
                          {"status": status.value, "age": older_than_seconds, "limit": limit})

    def live_upload_under_way(self) -> bool:
        row = self._db.fetch_one(_LIVE_UNDER_WAY, {})
        return bool(row and row["under_way"])

    def stranded(self, status: Status, *, before: datetime,
                 after: tuple[datetime, UUID] | None, limit: int) -> list[Asset]:
        after_time, after_id = after or (datetime.min.replace(tzinfo=UTC), UUID(int=0))
        return all_assets(self._db, _STRANDED, {
            "status": status.value, "before": before, "after_time": after_time,
            "after_id": after_id, "limit": limit,
        })

    def renew(self, owner_id: str, asset_id: UUID, status: Status,
              older_than_seconds: int) -> bool:
        return self._update(_RENEW, owner_id, asset_id, status=status.value,
                            age=older_than_seconds)

    def page(
        self, owner_id: str, *, filters: AssetFilter, sort: SortOrder, limit: int,
        after: PageCursor | None,
    ) -> list[Asset]:
        params: dict[str, Any] = {"owner": owner_id, "limit": limit}
        if filters.status is Status.TRASHED:
            query = _PAGE + _IN_TRASH
        elif filters.status is not None:
            query = _PAGE + _STATUS
            params["status"] = filters.status.value
        else:
            query = _PAGE + _ANY_LIVE_STATUS
        for fragment, name, value in (
            (_PROJECT, "project", filters.project_id),
            (_CONTENT_TYPE, "content_type", filters.content_type),
            (_TAKEN_FROM, "taken_from", filters.taken_from),
            (_TAKEN_UNTIL, "taken_until", filters.taken_until),
            (_CONTENT_TYPES, "content_types",
             list(filters.content_types) if filters.content_types else None),
            (_CAMERA, "camera",
             like_pattern(filters.camera, anywhere=True) if filters.camera else None),
            (_TEXT, "text", like_pattern(filters.text, anywhere=True) if filters.text else None),
        ):
            if value is not None:
                query += fragment
                params[name] = value
        column = _SORT_COLUMN[sort.by_taken]
        direction, before = ("DESC", "<") if sort.descending else ("ASC", ">")
        if after is not None:
            query += f" AND ({column}, id) {before} (%(after_key)s, %(after_id)s)"
            params.update(after_key=after.key, after_id=after.asset_id)
        query += f" ORDER BY {column} {direction}, id {direction} LIMIT %(limit)s"
        return all_assets(self._db, query, params)

    def changes(self, owner_id: str, *, after: int, limit: int) -> list[Asset]:
        return all_assets(self._db, _CHANGES, {"owner": owner_id, "seq": after, "limit": limit})

    def sequence(self, owner_id: str) -> int:
        return self._number(_SEQUENCE, {"owner": owner_id})

    def get_many(self, owner_id: str, asset_ids: Collection[UUID]) -> list[Asset]:
        return all_assets(self._db, _GET_MANY, {"owner": owner_id, "ids": list(asset_ids)})

    def sequence_at(self, owner_id: str, legacy: LegacyChangeCursor) -> int:
        return self._number(_LEGACY_SEQUENCE, {"owner": owner_id, "xid": str(legacy.xid),
                                               "id": legacy.asset_id})

    def _number(self, query: str, params: dict[str, Any]) -> int:
        row = self._db.fetch_one(query, params)
        assert row is not None  # a SELECT without FROM answers one row
        return int(row["seq"])

    def totals(self, owner_id: str) -> dict[Status, StatusTotal]:
        totals = dict.fromkeys(Status, _NONE)
        for row in self._db.fetch_all(_TOTALS, {"owner": owner_id}):
            totals[Status(row["status"])] = StatusTotal(
                count=row["n"], size_bytes=int(row["size_bytes"]),
                oldest_update=row["oldest_update"])
        return totals

    def update(
        self, owner_id: str, asset_id: UUID, *, filename: str | None, move: bool,
        project_id: UUID | None,
    ) -> Asset | None:
        return one_asset(self._db, _UPDATE, {"owner": owner_id, "id": asset_id,
                                             "filename": filename, "move": move,
                                             "project": project_id})

    def delete(self, owner_id: str, asset_id: UUID, *,
               trashed_for_seconds: int | None = None) -> Asset | None:
        return one_asset(self._db, _DELETE, {"owner": owner_id, "id": asset_id,
                                             "age": trashed_for_seconds})

    def trash(self, owner_id: str, asset_id: UUID) -> Asset | None:
        return one_asset(self._db, _TRASH, {"owner": owner_id, "id": asset_id})

    def restore(self, owner_id: str, asset_id: UUID) -> Asset | None:
        return one_asset(self._db, _RESTORE, {"owner": owner_id, "id": asset_id})

    def trashed(self, owner_id: str | None, *, older_than_seconds: int,
                limit: int) -> list[Asset]:
        return all_assets(self._db, _TRASHED,
                          {"owner": owner_id, "age": older_than_seconds, "limit": limit})

    def mark_purged(self, owner_id: str, asset_id: UUID) -> None:
        self._db.execute(_MARK_PURGED, {"owner": owner_id, "id": asset_id})

    def unpurged(self, older_than_seconds: int, limit: int) -> list[Asset]:
        return all_assets(self._db, _UNPURGED, {"age": older_than_seconds, "limit": limit})

    def purgeable(self, owner_id: str, asset_id: UUID) -> Asset | None:
        return one_asset(self._db, _PURGEABLE, {"owner": owner_id, "id": asset_id})

    def reset_failed(self, owner_id: str, asset_id: UUID) -> bool:
        return self._db.execute(_RESET_FAILED, {"owner": owner_id, "id": asset_id}) == 1

    def in_project(self, owner_id: str, project_id: UUID, limit: int) -> list[Asset]:
        return all_assets(self._db, _IN_PROJECT,
                          {"owner": owner_id, "project": project_id, "limit": limit})

    def similar(self, owner_id: str, asset_id: UUID, *, distance: int,
                limit: int) -> list[tuple[Asset, int]]:
        rows = self._db.fetch_all(_SIMILAR, {"owner": owner_id, "id": asset_id,
                                             "distance": distance, "masks": _masks(distance),
                                             "limit": limit})
        return [(asset_of(row), row["distance"]) for row in rows]

    def similar_pairs(self, owner_id: str, *, distance: int, after: UUID | None, scan: int,
                      per_asset: int, project_id: UUID | None = None) -> SimilarScan:
        in_project = project_id is not None
        query = _SIMILAR_PAIRS.format(
            project=_PROJECT if in_project else "",
            project_of_found=_IN_PROJECT_OF_FOUND if in_project else "")
        rows = self._db.fetch_all(query, {
            "owner": owner_id, "distance": distance, "masks": _masks(distance),
            "after": after or UUID(int=0), "scan": scan, "per_asset": per_asset,
            "project": project_id,
        })
        walked = list(dict.fromkeys(row["asset_id"] for row in rows))
        pairs = tuple(SimilarPair(row["asset_id"], row["similar_id"], row["distance"])
                      for row in rows if row["similar_id"] is not None)
        return SimilarScan(pairs=pairs, scanned=len(walked), last=walked[-1] if walked else None)

    def ping(self) -> None:
        self._db.execute("SELECT 1", {})

    def _find_by_content(self, owner_id: str, sha256: str, *, exclude: UUID | None) -> Asset | None:
        return one_asset(self._db, _FIND_BY_CONTENT,
                         {"owner": owner_id, "sha256": sha256, "exclude": exclude})

    def _update(self, query: str, owner_id: str, asset_id: UUID, **params: Any) -> bool:
        return self._db.execute(query, {"owner": owner_id, "id": asset_id, **params}) == 1


def _tiles_params(tiles: Pyramid | None) -> dict[str, int | None]:
    return {"tiles_width": tiles.width if tiles else None,
            "tiles_height": tiles.height if tiles else None,
            "tile_size": tiles.tile_size if tiles else None}


def _derivatives_json(derivatives: Sequence[Derivative]) -> Jsonb:
    return Jsonb([asdict(d) for d in derivatives])


def one_asset(db: Database, query: str, params: Mapping[str, Any]) -> Asset | None:
    row = db.fetch_one(query, params)
    return asset_of(row) if row else None


def _new_asset_params(asset: NewAsset) -> dict[str, object]:
    """A new asset's fields as the INSERTs name them: its declared location in two columns."""
    fields = {name: value for name, value in asdict(asset).items() if name != "declared"}
    return {**fields, **_declared_params(asset.declared)}


def _declared_params(declared: Declared) -> dict[str, object]:
    location = declared.location
    return {"declared_taken_at": declared.taken_at, "description": declared.description,
            "declared_latitude": location.latitude if location else None,
            "declared_longitude": location.longitude if location else None}


def all_assets(db: Database, query: str, params: Mapping[str, Any]) -> list[Asset]:
    return [asset_of(row) for row in db.fetch_all(query, params)]


def asset_of(row: Row) -> Asset:
    info = None
    if row["width"] is not None:
        info = ImageInfo(
            width=row["width"],
            height=row["height"],
            pages=row["pages"],
            bit_depth=row["bit_depth"],
            color_mode=row["color_mode"],
            taken_at=row["taken_at"],
            camera_make=row["camera_make"],
            camera_model=row["camera_model"],
            orientation=row["orientation"],
            frames=row["frames"],
            duration=row["duration"],
            has_location=row["has_location"],
            codec=row["codec"],
            frame_rate=row["frame_rate"],
            has_audio=row["has_audio"],
        )
    return Asset(
        id=row["id"],
        owner_id=row["owner_id"],
        project_id=row["project_id"],
        status=Status(row["status"]),
        filename=row["filename"],
        content_type=row["content_type"],
        size_bytes=row["size_bytes"],
        declared_sha256=row["declared_sha256"],
        sha256=row["sha256"],
        duplicate_of=row["duplicate_of"],
        info=info,
        derivatives=tuple(Derivative(**item) for item in row["derivatives"]),
        placeholder=row["placeholder"],
        error=row["error"],
        attempts=row["attempts"],
        claimed_at=row["claimed_at"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        multipart_upload_id=row["multipart_upload_id"],
        declared=Declared(
            taken_at=row["declared_taken_at"],
            location=(Location(row["declared_latitude"], row["declared_longitude"])
                      if row["declared_latitude"] is not None else None),
            description=row["description"],
        ),
        import_id=row["import_id"],
        change_seq=row["change_seq"],
        perceptual_hash=_unsigned(row["perceptual_hash"]),
        render_spec=row["render_spec"],
        trashed_at=row["trashed_at"],
        tiles=(Pyramid(row["tiles_width"], row["tiles_height"], row["tile_size"])
               if row["tiles_width"] is not None else None),
    )


def _masks(distance: int) -> list[int]:
    """Every 16-bit mask of at most ``distance // 4`` bits: the probes of one band."""
    radius = distance // _BANDS
    return [sum(1 << bit for bit in bits)
            for count in range(radius + 1) for bits in combinations(range(_BAND_BITS), count)]


def _signed(value: int | None) -> int | None:
    """A 64-bit hash as PostgreSQL's bigint holds it: the same bits, the first one the sign."""
    if value is None:
        return None
    return value - (1 << 64) if value >= 1 << 63 else value


def _unsigned(value: int | None) -> int | None:
    return None if value is None else value & ((1 << 64) - 1)
