// The grid of thumbnails, newest first: keyset pages loaded as the end comes into view, and
// tiles that follow each asset's status as it changes.

import { isClip, isSettled, thumbnailFor } from "./api.js";
import { formatClock, formatPercent, formatSpokenDuration, statusLabel } from "./format.js";

const TILE_PIXELS = 256;
const PAGE_SIZE = 60;
// Start loading the next page this far before the end of the grid shows.
const LOOKAHEAD = "1200px";
// A file the browser can show itself stands in for its thumbnail until that exists (TIFF, HEIC
// and RAW it cannot; files this big would cost more to decode than they help).
const SHOWN_BY_BROWSERS = new Set(["image/jpeg", "image/png", "image/webp", "image/gif",
                                   "image/avif"]);
const LOCAL_PREVIEW_LIMIT_BYTES = 20_000_000;

export class Grid {
  /**
   * @param {import("./api.js").Api} api
   * @param {{list: HTMLElement, sentinel: HTMLElement, empty: HTMLElement, status: HTMLElement}} elements
   * @param {{onOpen: (assetId: string) => void, onError: (error: Error) => void}} handlers
   */
  constructor(api, elements, handlers) {
    this.api = api;
    Object.assign(this, elements, handlers);
    this.tiles = new Map();
    this.nextCursor = null;
    this.complete = false;
    this.loading = false;
    this.closed = false;
    this.list.addEventListener("click", (event) => {
      const button = event.target.closest("button.tile-button");
      if (button) this.onOpen(button.closest("li").dataset.id);
    });
    this.observer = new IntersectionObserver((entries) => {
      if (entries.some((entry) => entry.isIntersecting)) this.loadMore().catch(this.onError);
    }, { rootMargin: LOOKAHEAD });
  }

  /** Loads the first page and starts paging on scroll; the page's sync cursor, for the feed. */
  async start() {
    const page = await this.loadMore();
    this.observer.observe(this.sentinel);
    return page.sync_cursor;
  }

  async loadMore() {
    if (this.loading || this.complete || this.closed) return null;
    this.loading = true;
    this.status.textContent = "Loading photos…";
    try {
      const page = await this.api.listAssets({ cursor: this.nextCursor ?? undefined, limit: PAGE_SIZE });
      for (const asset of page.items) {
        if (this.tiles.has(asset.asset_id)) this.update(asset);
        else this.list.append(this.newTile(asset).element);
      }
      this.nextCursor = page.next_cursor;
      this.complete = !page.next_cursor;
      return page;
    } finally {
      this.loading = false;
      if (!this.closed) this.afterPage();
    }
  }

  afterPage() {
    this.status.textContent = "";
    this.showEmptiness();
    // A tall window may still show the end: observing again re-checks it.
    if (!this.complete && this.tiles.size > 0) {
      this.observer.unobserve(this.sentinel);
      this.observer.observe(this.sentinel);
    }
  }

  /** A new upload's tile, first in the grid, shown from the file itself where possible. */
  addUpload(assetId, file, contentType) {
    if (this.tiles.has(assetId)) return;
    const tile = this.newTile({
      asset_id: assetId, status: "pending", filename: file.name, content_type: contentType,
      size_bytes: file.size, created_at: null, thumbnails: [],
    });
    if (SHOWN_BY_BROWSERS.has(contentType) && file.size <= LOCAL_PREVIEW_LIMIT_BYTES) {
      tile.localPreview = URL.createObjectURL(file);
      this.render(tile);
    }
    this.list.prepend(tile.element);
    this.showEmptiness();
  }

  setUploadProgress(assetId, fraction) {
    const tile = this.tiles.get(assetId);
    if (!tile) return;
    tile.uploadProgress = fraction;
    this.render(tile);
  }

  /** Shows what the API says of an asset: updates its tile, or adds it in its place. */
  update(asset) {
    if (asset.status === "deleted" || asset.status === "trashed") {
      this.remove(asset.asset_id);
      return;
    }
    const tile = this.tiles.get(asset.asset_id);
    if (tile) {
      tile.asset = asset;
      this.render(tile);
      return;
    }
    const created = Date.parse(asset.created_at);
    const older = [...this.tiles.values()].find((other) =>
      other.asset.created_at && Date.parse(other.asset.created_at) < created);
    if (older) {
      older.element.before(this.newTile(asset).element);
    } else if (this.complete) {
      this.list.append(this.newTile(asset).element);
    }
    // Otherwise it belongs to a page not loaded yet, where it will show.
    this.showEmptiness();
  }

  remove(assetId) {
    const tile = this.tiles.get(assetId);
    if (!tile) return;
    forgetLocalPreview(tile);
    tile.element.remove();
    this.tiles.delete(assetId);
    this.showEmptiness();
  }

  asset(assetId) {
    return this.tiles.get(assetId)?.asset ?? null;
  }

  /** Asset ids in the order shown. */
  ids() {
    return [...this.list.children].map((element) => element.dataset.id);
  }

  /** Whether some asset may still change by itself (its bytes are in, it is not settled). */
  hasUnsettled() {
    return [...this.tiles.values()].some((tile) => tile.uploadProgress === null && !isSettled(tile.asset));
  }

  focus(assetId) {
    const button = this.tiles.get(assetId)?.element.querySelector("button");
    if (!button) return;
    button.focus({ preventScroll: true });
    button.scrollIntoView({ block: "nearest" });
  }

  clear() {
    this.closed = true;
    this.observer.disconnect();
    for (const tile of this.tiles.values()) forgetLocalPreview(tile);
    this.tiles.clear();
    this.list.replaceChildren();
    this.empty.hidden = true;
    this.status.textContent = "";
  }

  showEmptiness() {
    this.empty.hidden = this.tiles.size > 0 || !this.complete;
  }

  newTile(asset) {
    const element = document.createElement("li");
    element.className = "tile";
    element.dataset.id = asset.asset_id;
    const button = document.createElement("button");
    button.type = "button";
    button.className = "tile-button";
    const frame = document.createElement("span");
    frame.className = "tile-frame";
    const image = document.createElement("img");
    image.alt = "";
    image.loading = "lazy";
    image.decoding = "async";
    frame.append(image);
    const badge = document.createElement("span");
    badge.className = "tile-badge";
    const name = document.createElement("span");
    name.className = "tile-name";
    // A clip's length: a clock to see, and words that screen readers say after the name.
    const duration = document.createElement("span");
    duration.className = "tile-duration";
    const clock = document.createElement("span");
    clock.className = "tile-clock";
    clock.setAttribute("aria-hidden", "true");
    const spokenDuration = document.createElement("span");
    spokenDuration.className = "visually-hidden";
    duration.append(clock, spokenDuration);
    const progress = document.createElement("progress");
    progress.className = "tile-progress";
    progress.max = 1;
    button.append(frame, badge, name, duration, progress);
    element.append(button);

    const tile = {
      asset, element, image, badge, name, duration, clock, spokenDuration, progress,
      uploadProgress: null, localPreview: null, shownThumbnail: null, refreshed: false,
    };
    image.addEventListener("load", () => element.classList.add("has-image"));
    image.addEventListener("error", () => this.imageFailed(tile));
    this.tiles.set(asset.asset_id, tile);
    this.render(tile);
    return tile;
  }

  render(tile) {
    const { asset, element } = tile;
    const uploading = tile.uploadProgress !== null;
    element.dataset.status = uploading ? "uploading" : asset.status;
    tile.badge.textContent = uploading
      ? `${statusLabel("uploading")} ${formatPercent(tile.uploadProgress)}`
      : statusLabel(asset.status);
    tile.progress.hidden = !uploading;
    tile.progress.value = tile.uploadProgress ?? 0;
    tile.name.textContent = asset.filename;
    const seconds = isClip(asset) ? asset.duration : null;
    tile.duration.hidden = seconds == null;
    if (seconds != null) {
      tile.clock.textContent = formatClock(seconds);
      tile.spokenDuration.textContent = `video, ${formatSpokenDuration(seconds)}`;
    }
    element.title = asset.error ? `${asset.filename}: ${asset.error}` : asset.filename;

    const thumbnail = thumbnailFor(asset, TILE_PIXELS);
    // Signed URLs differ in every answer: keep showing the picture already loaded.
    const key = thumbnail && `${thumbnail.page}/${thumbnail.size}/${thumbnail.format}`;
    if (thumbnail && tile.shownThumbnail !== key) {
      tile.shownThumbnail = key;
      tile.image.src = thumbnail.url;
      forgetLocalPreview(tile);
    } else if (!thumbnail && tile.localPreview && !tile.image.getAttribute("src")) {
      tile.image.src = tile.localPreview;
    }
  }

  /** A thumbnail URL signed long ago expires (one hour): ask for fresh ones, once. */
  imageFailed(tile) {
    tile.element.classList.remove("has-image");
    if (tile.refreshed || !tile.shownThumbnail) return;
    tile.refreshed = true;
    tile.shownThumbnail = null;
    this.api.getAsset(tile.asset.asset_id).then((asset) => this.update(asset), this.onError);
  }
}

/** Object URLs hold their file in memory until revoked. */
function forgetLocalPreview(tile) {
  if (!tile.localPreview) return;
  URL.revokeObjectURL(tile.localPreview);
  tile.localPreview = null;
}
