"""Sharing a project (an album) with a read-only link.

A share's token is its only credential: 256 random bits, shown once when the share is made;
only its SHA-256 is kept (as for API keys). Whoever holds it sees the project's name and its
ready assets' thumbnails, and their originals only if the owner allowed that; nothing else of
the owner's, and nothing at all once the share is revoked or has expired, or the project is
gone (all of which look the same from outside: no such share).
"""

from __future__ import annotations

import dataclasses
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID, uuid4

from lightbox.domain import Project, Share
from lightbox.errors import ProjectNotFound, ShareNotFound
from lightbox.ports import Pipeline, ProjectRepository, ShareRepository
from lightbox.services import listing
from lightbox.services.library import get_project
from lightbox.values import AssetFilter, PageCursor, SortOrder

TOKEN_BYTES = 32
# Live shares per project: enough for one per person or group it is shown to.
MAX_LIVE_SHARES = 50
# A shared album is shown as the timeline shows it: newest taken first.
SHARED_ORDER = SortOrder.TAKEN_NEWEST


@dataclass(frozen=True)
class ShareRequest:
    expires_at: datetime | None = None
    allow_original: bool = False


@dataclass(frozen=True)
class NewShare:
    share: Share
    token: str  # shown this once


@dataclass(frozen=True)
class SharedQuery:
    limit: int = listing.DEFAULT_PAGE_SIZE
    cursor: PageCursor | None = None


@dataclass(frozen=True)
class SharedPage:
    share: Share
    project: Project
    items: tuple[listing.AssetView, ...]
    next_cursor: str | None


def share_project(owner_id: str, project_id: UUID, request: ShareRequest, *,
                  shares: ShareRepository) -> NewShare:
    token = secrets.token_urlsafe(TOKEN_BYTES)
    share = Share(id=uuid4(), owner_id=owner_id, project_id=project_id,
                  allow_original=request.allow_original, created_at=datetime.now(),
                  expires_at=request.expires_at)
    stored = shares.add(share, token_hash(token), max_active=MAX_LIVE_SHARES)
    if stored is None:
        raise ProjectNotFound(f"no project {project_id}")
    return NewShare(stored, token)


def list_shares(owner_id: str, project_id: UUID, *, shares: ShareRepository,
                projects: ProjectRepository) -> list[Share]:
    get_project(owner_id, project_id, projects=projects)
    return shares.list(owner_id, project_id)


def revoke_share(owner_id: str, project_id: UUID, share_id: UUID, *,
                 shares: ShareRepository) -> None:
    if shares.revoke(owner_id, project_id, share_id) is None:
        raise ShareNotFound(f"no share {share_id} of project {project_id}")


def open_share(token: str, query: SharedQuery, pipeline: Pipeline, *,
               shares: ShareRepository, projects: ProjectRepository,
               url_ttl: int) -> SharedPage:
    """A page of the shared project's ready assets, as whoever holds the token may see them."""
    share = shares.open(token_hash(token))
    project = projects.get(share.owner_id, share.project_id) if share else None
    if share is None or project is None:
        raise ShareNotFound("no such share: it may have been revoked or have expired")
    shown = listing.ListQuery(limit=query.limit, cursor=query.cursor, sort=SHARED_ORDER,
                              filters=AssetFilter(project_id=project.id, shown_only=True))
    views, next_cursor = listing.page_of(share.owner_id, shown, pipeline, url_ttl=url_ttl)
    if not share.allow_original:
        views = tuple(dataclasses.replace(view, original_url=None) for view in views)
    return SharedPage(share=share, project=project, items=views, next_cursor=next_cursor)


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()
