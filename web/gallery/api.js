// The only module that knows Lightbox's HTTP API (functions/openapi.json). Everything else
// deals in plain asset objects and ApiError.

// What the API takes (UploadRequest.content_type); by extension too, because browsers leave
// File.type empty for types the operating system does not know (often TIFF).
const TYPES_BY_EXTENSION = {
  jpg: "image/jpeg", jpeg: "image/jpeg", jpe: "image/jpeg", png: "image/png",
  tif: "image/tiff", tiff: "image/tiff", webp: "image/webp", gif: "image/gif",
  heic: "image/heic", heif: "image/heif", hif: "image/heif", heics: "image/heic-sequence",
  avif: "image/avif", jxl: "image/jxl", pdf: "application/pdf",
  dng: "image/x-adobe-dng", cr2: "image/x-canon-cr2", cr3: "image/x-canon-cr3",
  nef: "image/x-nikon-nef", arw: "image/x-sony-arw", raf: "image/x-fuji-raf",
  orf: "image/x-olympus-orf", rw2: "image/x-panasonic-rw2",
  mp4: "video/mp4", mov: "video/quicktime", qt: "video/quicktime", m4v: "video/x-m4v",
  webm: "video/webm", "3gp": "video/3gpp",
};
// Other spellings of those types that the API normalises.
const TYPE_ALIASES = {
  "image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg", "image/x-png": "image/png",
  "image/tif": "image/tiff", "image/x-tiff": "image/tiff",
  "video/x-quicktime": "video/quicktime", "video/3gp": "video/3gpp",
};
const ACCEPTED_TYPES = new Set(Object.values(TYPES_BY_EXTENSION));

// The statuses from which an asset moves no more by itself.
const SETTLED = new Set(["ready", "failed", "duplicate", "trashed", "deleted"]);

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
  }
}

/** The content type Lightbox will take for this file, or null. */
export function contentTypeOf(file) {
  const type = (file.type || "").toLowerCase();
  const declared = TYPE_ALIASES[type] ?? type;
  if (ACCEPTED_TYPES.has(declared)) return declared;
  const extension = file.name.includes(".") ? file.name.split(".").pop().toLowerCase() : "";
  // A type the browser knows and Lightbox does not (a video, a ZIP archive) is refused even if the
  // name says otherwise: the API would fail it later anyway.
  if (declared && declared !== "application/octet-stream") return null;
  return TYPES_BY_EXTENSION[extension] ?? null;
}

export function isSettled(asset) {
  return SETTLED.has(asset.status);
}

export class Api {
  /**
   * @param {string} baseUrl where the API answers (no trailing slash needed)
   * @param {string|null} key an API key, sent as a bearer token; null for the public routes
   *   of a shared album, which a visitor without a key opens
   * @param {(error: ApiError) => void} onUnauthorized called for every 401, before it throws
   */
  constructor(baseUrl, key, onUnauthorized = () => {}) {
    this.baseUrl = baseUrl.replace(/\/+$/, "");
    this.key = key;
    this.onUnauthorized = onUnauthorized;
    this.controller = new AbortController();
  }

  /** Signed out: every request still on its way is dropped, and no new one is sent. */
  close() {
    this.controller.abort();
  }

  async request(method, path, { body, query, signal = this.controller.signal } = {}) {
    if (this.controller.signal.aborted) throw new DOMException("Signed out.", "AbortError");
    const url = new URL(this.baseUrl + path);
    for (const [name, value] of Object.entries(query ?? {})) {
      if (value !== undefined && value !== null) url.searchParams.set(name, value);
    }
    const headers = this.key ? { Authorization: `Bearer ${this.key}` } : {};
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let response;
    try {
      response = await fetch(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        // Answers carry signed URLs and live statuses: never a stale copy.
        cache: "no-store",
        signal,
      });
    } catch (error) {
      if (error.name === "AbortError") throw error;
      throw new ApiError(0, "network", `Could not reach the API at ${this.baseUrl}. Is the URL right, and is it running?`);
    }
    if (response.status === 204) return null;
    const text = await response.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      // Not JSON: a proxy's or server's own page; described below by its status.
    }
    if (!response.ok) {
      const error = new ApiError(
        response.status,
        data?.error?.code ?? `http_${response.status}`,
        data?.error?.message ?? `${method} ${url.pathname} answered ${response.status} ${response.statusText}`.trim(),
      );
      if (response.status === 401) this.onUnauthorized(error);
      throw error;
    }
    return data;
  }

  /** A ticket ({asset_id, status, upload}) or, for bytes the library has, {duplicate: true}. */
  createUpload({ filename, contentType, size, sha256 }, signal) {
    const body = { filename, content_type: contentType, size_bytes: size };
    if (sha256) body.sha256 = sha256;
    return this.request("POST", "/v1/uploads", { body, signal });
  }

  /** Drops a pending upload (its parts, and the asset). */
  abortUpload(assetId) {
    return this.request("POST", `/v1/uploads/${encodeURIComponent(assetId)}/abort`);
  }

  /** Signed URLs of a multipart upload's parts from part `first` on: {part_count, parts, expires_at, ...}. */
  partUrls(assetId, first, signal) {
    return this.request("GET", `/v1/uploads/${encodeURIComponent(assetId)}/parts`, {
      query: { first: String(first) }, signal,
    });
  }

  completeUpload(assetId, signal) {
    return this.request("POST", `/v1/uploads/${encodeURIComponent(assetId)}/complete`, { signal });
  }

  /**
   * A page of assets: {items, next_cursor, sync_cursor}. The timeline lists by taken date,
   * newest first; a cursor of GET /v1/timeline starts at its month.
   */
  listAssets({ cursor, limit = 60, sort = "-taken", status, projectId } = {}, signal) {
    return this.request("GET", "/v1/assets", {
      query: { limit, cursor, sort, status, project_id: projectId }, signal,
    });
  }

  /** The months of the library (or an album, or the trash), newest first: [{month, count, cursor}]. */
  async timeline({ status, projectId } = {}, signal) {
    const answer = await this.request("GET", "/v1/timeline", { query: { status, project_id: projectId }, signal });
    return answer.months;
  }

  /** Everything changed since a sync cursor, tombstones included: {items, next_cursor, sync_cursor}. */
  changesSince(syncCursor, signal) {
    return this.request("GET", "/v1/assets", { query: { changed_since: syncCursor, limit: 200 }, signal });
  }

  getAsset(assetId, signal) {
    return this.request("GET", `/v1/assets/${encodeURIComponent(assetId)}`, { signal });
  }

  /** To the trash; `permanent` deletes it for good (the trash's own Delete). */
  deleteAsset(assetId, { permanent = false } = {}) {
    return this.request("DELETE", `/v1/assets/${encodeURIComponent(assetId)}`, {
      query: { permanent: permanent ? "true" : undefined },
    });
  }

  restoreAsset(assetId) {
    return this.request("POST", `/v1/assets/${encodeURIComponent(assetId)}/restore`);
  }

  /** {deleted, more}: one batch a request; more says the trash still holds some. */
  emptyTrash() {
    return this.request("DELETE", "/v1/trash");
  }

  retryAsset(assetId) {
    return this.request("POST", `/v1/assets/${encodeURIComponent(assetId)}/retry`);
  }

  // Albums: the API calls them projects.

  async listAlbums() {
    return (await this.request("GET", "/v1/projects")).items;
  }

  getAlbum(albumId) {
    return this.request("GET", `/v1/projects/${encodeURIComponent(albumId)}`);
  }

  createAlbum(name) {
    return this.request("POST", "/v1/projects", { body: { name } });
  }

  /** {project, added}: assets already in the album are not counted again. */
  addToAlbum(albumId, assetIds) {
    return this.request("POST", `/v1/projects/${encodeURIComponent(albumId)}/assets`, { body: { asset_ids: assetIds } });
  }

  removeFromAlbum(albumId, assetIds) {
    return this.request("DELETE", `/v1/projects/${encodeURIComponent(albumId)}/assets`, { body: { asset_ids: assetIds } });
  }

  /** A link anyone can open: {share_id, token, url, allow_original, expires_at, ...}. */
  shareAlbum(albumId, { allowOriginal = false } = {}) {
    return this.request("POST", `/v1/projects/${encodeURIComponent(albumId)}/shares`, { body: { allow_original: allowOriginal } });
  }

  async listShares(albumId) {
    return (await this.request("GET", `/v1/projects/${encodeURIComponent(albumId)}/shares`)).shares;
  }

  revokeShare(albumId, shareId) {
    return this.request("DELETE", `/v1/projects/${encodeURIComponent(albumId)}/shares/${encodeURIComponent(shareId)}`);
  }

  /** A page of a shared album, asked without a key: {album, allow_original, assets, next_cursor}. */
  sharedAlbum(token, { cursor, limit = 100 } = {}, signal) {
    return this.request("GET", `/v1/shared/${encodeURIComponent(token)}`, { query: { cursor, limit }, signal });
  }
}

/**
 * The thumbnail of ``page`` to show at ``size`` px: the smallest one at least that big, else
 * the biggest there is. Sizes are configured per deployment, so none is assumed.
 */
export function thumbnailFor(asset, size, page = 1) {
  const ofPage = (asset.thumbnails ?? []).filter((thumbnail) => thumbnail.page === page);
  // JPEG first: every browser shows it; WebP is the same picture.
  const formatRank = (thumbnail) => (thumbnail.format === "jpeg" ? 0 : 1);
  ofPage.sort((a, b) => a.size - b.size || formatRank(a) - formatRank(b));
  return ofPage.find((thumbnail) => thumbnail.size >= size) ?? ofPage.at(-1) ?? null;
}

/**
 * When an asset's signed URLs stop opening, in ms since the epoch: the date of a SigV4 URL
 * plus its lifetime (the URLs of one answer are signed alike); null where there is none.
 */
export function urlsExpireAt(asset) {
  const url = asset.thumbnails?.[0]?.url;
  if (!url) return null;
  const query = new URL(url).searchParams;
  const signed = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(query.get("X-Amz-Date") ?? "");
  const seconds = Number(query.get("X-Amz-Expires"));
  if (!signed || !seconds) return null;
  const [year, month, day, hour, minute, second] = signed.slice(1).map(Number);
  return Date.UTC(year, month - 1, day, hour, minute, second) + seconds * 1000;
}

// Animations a browser plays itself, and the largest original it is asked to: past that,
// the poster stands.
const ANIMATED_BY_BROWSERS = new Set(["image/gif", "image/webp", "image/png"]);
const PLAYED_BYTES_LIMIT = 20_000_000;

/** The URL of the original to play in place of the poster, for an animation; else null. */
export function animationUrlOf(asset) {
  const playable = asset.duration != null && ANIMATED_BY_BROWSERS.has(asset.content_type)
    && asset.size_bytes <= PLAYED_BYTES_LIMIT;
  return playable ? asset.original_url : null;
}

/** "48 frames, 3.2 s a loop" for an animation; null for a still image and a clip. */
export function animationLabel(asset) {
  if (asset.duration == null || isClip(asset)) return null;
  const frames = asset.frames ? `${asset.frames} frames` : "frames not counted";
  return `${frames}, ${asset.duration} s a loop`;
}

// Clips play in a video element, which fetches the original in ranges as it seeks. Whether
// this browser decodes a clip depends on its codec, and is found out by trying.
const CLIP_TYPES = new Set([...ACCEPTED_TYPES].filter((type) => type.startsWith("video/")));

/** Whether the asset is a video clip: its thumbnails are posters, its duration its length. */
export function isClip(asset) {
  return CLIP_TYPES.has(asset.content_type);
}

/** The URL a video element plays a clip from (its original); null for anything else. */
export function clipUrlOf(asset) {
  return isClip(asset) ? asset.original_url ?? null : null;
}

/** The page numbers that have thumbnails, in order. */
export function pagesOf(asset) {
  return [...new Set((asset.thumbnails ?? []).map((thumbnail) => thumbnail.page))].sort((a, b) => a - b);
}
