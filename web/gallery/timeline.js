// The timeline: the library (or an album, or the trash) by taken date, newest first, a section
// a month. GET /v1/timeline gives every month's count and a cursor at its newest asset, so the
// whole timeline is laid out at once with each month's height estimated from its count; a
// month's assets are fetched only as it nears the viewport, and dropped again (its measured
// height kept) once it is far away. The page holds the tiles of a few screens whatever the
// library's size, and the scrubber can jump to any year without loading what lies between.
//
// Tiles keep their photo's aspect ratio in justified rows: each tile's flex-grow and basis are
// proportional to its ratio, so a row's free space widens every tile of the row by the same
// factor, and all keep one height (gallery.css).

import { isClip, isSettled, thumbnailFor } from "./api.js";
import { formatClock, formatPercent, formatSpokenDuration, statusLabel } from "./format.js";
import { placeholderUrl } from "./thumbhash.js";

const TILE_PIXELS = 256;
// Rows are about this high (CSS --row-height); estimates of unloaded months use it too.
const ROW_PIXELS = 180;
const NARROW_ROW_PIXELS = 110;
// The aspect ratio of a tile whose size is not known yet, and of an average photo.
const DEFAULT_RATIO = 1.4;
const PAGE_SIZE = 200;
// Months this near the viewport are fetched; those farther than FORGET are dropped.
const LOAD_MARGIN = "150% 0px";
const FORGET_MARGIN = "300% 0px";
// A file the browser can show itself stands in for its thumbnail until that exists (TIFF, HEIC
// and RAW it cannot; files this big would cost more to decode than they help).
const SHOWN_BY_BROWSERS = new Set(["image/jpeg", "image/png", "image/webp", "image/gif", "image/avif"]);
const LOCAL_PREVIEW_LIMIT_BYTES = 20_000_000;
// A thumbnail on screen that has neither loaded nor failed for this long, while no other
// loaded either (its connection hangs: the browser itself waits for minutes; a slow network
// still brings one now and then), is given up as failed, so that its tile asks for a fresh
// URL, then offers Retry. Checked every STALL_CHECK_MS.
const STALLED_MS = 30_000;
const STALL_CHECK_MS = 5_000;
const MONTH_FORMAT = new Intl.DateTimeFormat(undefined, { month: "long", year: "numeric", timeZone: "UTC" });

/** A section's pages from a source, one list of assets at a time, until the last. */
async function* pagesOf(source, section, signal) {
  let cursor = null;
  do {
    const page = await source.page(section, cursor, signal);
    yield page.items;
    cursor = page.next_cursor;
  } while (cursor);
}

/** The month an asset is filed under, as the server groups them: taken, else uploaded. */
export function monthOf(asset) {
  return (asset.taken_at ?? asset.created_at ?? "").slice(0, 7);
}

export function monthLabel(month) {
  return MONTH_FORMAT.format(new Date(`${month}-01T00:00:00Z`));
}

/**
 * Where a timeline's sections come from. `sections()` lists them ({key, label, count,
 * cursor}); `page(section, cursor)` fetches one page of a section ({items, next_cursor}).
 */
export function librarySource(api, { status, projectId } = {}) {
  return {
    async sections(signal) {
      const months = await api.timeline({ status, projectId }, signal);
      return months.map(({ month, count, cursor }) => ({ key: month, label: monthLabel(month), count, cursor }));
    },
    page(section, cursor, signal) {
      return api.listAssets({ cursor: cursor ?? section.cursor, limit: Math.min(PAGE_SIZE, section.count),
                              status, projectId }, signal);
    },
    // An asset of another month ends a section's pages: the next month starts there.
    belongsTo: (section, asset) => monthOf(asset) === section.key,
  };
}

/** A shared album: one section of the album's assets, as its public route lists them. */
export function sharedSource(api, token, album) {
  return {
    async sections() {
      // The album's name is the page's heading; its one section says how many it holds.
      const label = `${album.asset_count} ${album.asset_count === 1 ? "photo" : "photos"}`;
      return [{ key: "shared", label, count: album.asset_count, cursor: null }];
    },
    async page(section, cursor, signal) {
      const answer = await api.sharedAlbum(token, { cursor: cursor ?? undefined, limit: PAGE_SIZE }, signal);
      return { items: answer.assets, next_cursor: answer.next_cursor };
    },
    belongsTo: () => true,
    /**
     * Every photo of the album once more, with URLs signed now. A link has no key to ask for
     * one photo with, and its one section holds the whole album.
     */
    async reread() {
      const assets = [];
      for await (const items of pagesOf(this, null)) assets.push(...items);
      return assets;
    },
  };
}

export class Timeline {
  /**
   * @param {{root: HTMLElement, empty: HTMLElement, status: HTMLElement, scrubber: HTMLElement}} elements
   * @param {{
   *   onOpen: (assetId: string) => void,
   *   onError: (error: Error) => void,
   *   onSelection: (ids: string[]) => void,
   *   onDelete: (ids: string[]) => void,
   *   onRetry: (assetId: string) => void,
   *   onRefresh: (assetId: string) => Promise<void>,
   *   onLoaded: () => void,
   * }} handlers
   * @param {{source: object, selectable: boolean, label: string}} options
   */
  constructor(elements, handlers, { source, selectable = true, label }) {
    Object.assign(this, elements, handlers);
    this.source = source;
    this.selectable = selectable;
    this.label = label;
    this.tiles = new Map();
    this.sections = [];
    this.selected = new Set();
    // The tile a shift-click selects from.
    this.anchor = null;
    // The tile that is in the tab order (one, so that Tab leaves the grid in one step): the
    // first on the page until the user moves.
    this.current = null;
    this.moved = false;
    this.drag = null;
    this.controller = new AbortController();
    // What the feed brought, by asset, for tiles not on show while months were loading: a
    // month read before such a change shows its assets as they are now only if they are asked
    // for again.
    this.sectionsLoading = 0;
    this.missed = new Map();
    this.uploads = this.newSection({ key: "uploads", label: "Just added", count: 0, cursor: null });
    this.uploads.loaded = true;
    this.uploads.element.hidden = true;
    this.root.replaceChildren(this.uploads.element);
    this.root.setAttribute("aria-label", label);
    this.loader = new IntersectionObserver((entries) => this.nearViewport(entries), { rootMargin: LOAD_MARGIN });
    this.forgetter = new IntersectionObserver((entries) => this.farFromViewport(entries), { rootMargin: FORGET_MARGIN });
    this.lastImageLoadAt = 0;
    this.stallCheck = setInterval(() => this.giveUpStalled(), STALL_CHECK_MS);
    this.listen();
  }

  async start() {
    this.status.textContent = "Loading photos…";
    try {
      const sections = await this.source.sections(this.controller.signal);
      for (const section of sections) this.addSection(section);
    } finally {
      this.status.textContent = "";
    }
    this.renderScrubber();
    this.showEmptiness();
  }

  close() {
    this.controller.abort();
    clearInterval(this.stallCheck);
    this.loader.disconnect();
    this.forgetter.disconnect();
    for (const tile of this.tiles.values()) forgetLocalPreview(tile);
    this.tiles.clear();
    this.root.replaceChildren();
    this.scrubber.replaceChildren();
    this.empty.hidden = true;
    this.status.textContent = "";
  }

  // --- sections -------------------------------------------------------------------------------

  newSection(data) {
    const element = document.createElement("section");
    element.className = "month";
    element.dataset.key = data.key;
    const heading = document.createElement("h3");
    heading.className = "month-heading";
    heading.id = `section-${data.key}`;
    heading.textContent = data.label;
    const list = document.createElement("ul");
    list.className = "tiles";
    list.setAttribute("aria-labelledby", heading.id);
    element.setAttribute("aria-labelledby", heading.id);
    element.append(heading, list);
    const section = { ...data, element, list, loaded: false, loading: null, ids: [] };
    element.section = section;
    return section;
  }

  addSection(data) {
    const section = this.newSection(data);
    this.sections.push(section);
    this.root.append(section.element);
    this.estimateHeight(section);
    this.loader.observe(section.element);
    this.forgetter.observe(section.element);
    return section;
  }

  /** Until a month is loaded, its list takes the height its count would fill. */
  estimateHeight(section) {
    const width = this.root.clientWidth || window.innerWidth;
    const row = rowPixels();
    const perRow = Math.max(1, Math.floor(width / (row * DEFAULT_RATIO + 4)));
    section.list.style.minHeight = `${Math.ceil(section.count / perRow) * (row + 4)}px`;
  }

  nearViewport(entries) {
    for (const entry of entries) {
      if (entry.isIntersecting && !entry.target.section.loaded) this.load(entry.target.section).catch(this.onError);
    }
  }

  farFromViewport(entries) {
    for (const entry of entries) {
      const section = entry.target.section;
      if (!entry.isIntersecting && section.loaded && !section.loading) this.forget(section);
    }
  }

  /** Fetches a section's assets (all of its pages) and shows them; once at a time. */
  load(section) {
    section.loading ??= this.fetchSection(section).finally(() => { section.loading = null; });
    return section.loading;
  }

  async fetchSection(section) {
    this.sectionsLoading += 1;
    let missed;
    try {
      await this.showSection(section);
      missed = section.ids.filter((id) => this.missed.has(id)).map((id) => this.missed.get(id));
    } finally {
      this.sectionsLoading -= 1;
      if (this.sectionsLoading === 0) this.missed.clear();
    }
    for (const asset of missed) {
      // Deleted for good is final; any other state may have moved on since the feed read it.
      if (asset.status === "deleted") this.remove(asset.asset_id);
      else this.onRefresh(asset.asset_id);
    }
    this.onLoaded();
  }

  async showSection(section) {
    const assets = [];
    for await (const items of pagesOf(this.source, section, this.controller.signal)) {
      const own = items.filter((asset) => this.source.belongsTo(section, asset));
      assets.push(...own);
      if (own.length < items.length || assets.length >= section.count) break;
    }
    // This session's uploads show in their own section.
    const shown = assets.filter((asset) => !this.uploads.ids.includes(asset.asset_id));
    section.ids = shown.map((asset) => asset.asset_id);
    section.list.replaceChildren(...shown.map((asset) => this.newTile(asset).element));
    section.list.style.minHeight = "";
    section.loaded = true;
    this.keepTabStop();
    if (section.count !== assets.length) {
      section.count = assets.length;
      this.renderScrubber();
    }
  }

  /** Drops a far month's tiles; its height stays, so nothing on screen moves. */
  forget(section) {
    section.list.style.minHeight = `${section.list.offsetHeight}px`;
    for (const id of section.ids) {
      const tile = this.tiles.get(id);
      if (tile) forgetLocalPreview(tile);
      this.tiles.delete(id);
    }
    section.list.replaceChildren();
    section.loaded = false;
    this.keepTabStop();
  }

  /** Months load in any order, and go: the tab stop stays on a tile that is there. */
  keepTabStop() {
    if (this.moved && this.tiles.has(this.current)) return;
    const first = this.root.querySelector("li.tile");
    if (first) this.makeCurrent(first.dataset.id);
  }

  renderScrubber() {
    const years = new Map();
    for (const section of this.sections) {
      if (!/^\d{4}-\d{2}$/.test(section.key) || section.count === 0) continue;
      const year = section.key.slice(0, 4);
      if (!years.has(year)) years.set(year, section);
    }
    this.scrubber.parentElement.hidden = years.size < 2;
    this.scrubber.replaceChildren(...[...years].map(([year, section]) => {
      const item = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "scrubber-year";
      button.textContent = year;
      button.setAttribute("aria-label", `Go to ${section.label}`);
      button.addEventListener("click", () => this.jumpTo(section));
      item.append(button);
      return item;
    }));
  }

  /** Scrolls to a section and focuses its first tile once loaded (a month on show is kept). */
  async jumpTo(section) {
    section.element.scrollIntoView({ block: "start" });
    try {
      if (!section.loaded) await this.load(section);
    } catch (error) {
      this.onError(error);
      return;
    }
    section.element.scrollIntoView({ block: "start" });
    if (section.ids.length > 0) this.focus(section.ids[0]);
  }

  showEmptiness() {
    this.empty.hidden = this.tiles.size > 0 || this.sections.some((section) => section.count > 0)
      || this.uploads.ids.length > 0;
  }

  // --- tiles ----------------------------------------------------------------------------------

  /** A new upload's tile, first in "Just added", shown from the file itself where possible. */
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
    this.uploads.ids.unshift(assetId);
    this.uploads.list.prepend(tile.element);
    this.uploads.element.hidden = false;
    this.keepTabStop();
    this.showEmptiness();
  }

  setUploadProgress(assetId, fraction) {
    const tile = this.tiles.get(assetId);
    if (!tile) return;
    tile.uploadProgress = fraction;
    this.render(tile);
  }

  /** Shows what the API says of an asset whose tile is on show; `gone` takes it away. */
  update(asset, { gone = false } = {}) {
    const tile = this.tiles.get(asset.asset_id);
    if (!tile && this.sectionsLoading > 0) this.missed.set(asset.asset_id, asset);
    if (gone) {
      this.remove(asset.asset_id);
      return;
    }
    if (!tile) return;
    tile.asset = asset;
    tile.awaitingFreshUrls = null;
    this.render(tile);
  }

  remove(assetId) {
    const tile = this.tiles.get(assetId);
    if (tile) {
      forgetLocalPreview(tile);
      tile.element.remove();
      this.tiles.delete(assetId);
    }
    for (const section of [this.uploads, ...this.sections]) {
      const index = section.ids.indexOf(assetId);
      if (index < 0) continue;
      section.ids.splice(index, 1);
      section.count = Math.max(0, section.count - 1);
      section.element.hidden = section.ids.length === 0 && section.count === 0;
    }
    this.selected.delete(assetId);
    this.keepTabStop();
    this.selectionChanged();
    this.showEmptiness();
  }

  asset(assetId) {
    return this.tiles.get(assetId)?.asset ?? null;
  }

  /** Asset ids of the tiles on the page, in the order shown. */
  ids() {
    return [...this.root.querySelectorAll("li.tile")].map((element) => element.dataset.id);
  }

  /** Whether some asset may still change by itself (its bytes are in, it is not settled). */
  hasUnsettled() {
    return [...this.tiles.values()].some((tile) => tile.uploadProgress === null && !isSettled(tile.asset));
  }

  focus(assetId) {
    const tile = this.tiles.get(assetId);
    if (!tile) return;
    this.makeCurrent(assetId);
    tile.button.focus({ preventScroll: true });
    tile.button.scrollIntoView({ block: "nearest" });
  }

  makeCurrent(assetId) {
    const before = this.tiles.get(this.current);
    if (before) before.button.tabIndex = -1;
    this.current = assetId;
    const tile = this.tiles.get(assetId);
    if (tile) tile.button.tabIndex = 0;
  }

  newTile(asset) {
    const element = document.createElement("li");
    element.className = "tile";
    element.dataset.id = asset.asset_id;
    const button = document.createElement("button");
    button.type = "button";
    button.className = "tile-button";
    // One tile in the tab order (keepTabStop); the arrows move between them.
    button.tabIndex = -1;
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

    let check = null;
    if (this.selectable) {
      check = document.createElement("button");
      check.type = "button";
      check.className = "tile-check";
      check.tabIndex = -1;
      check.setAttribute("aria-pressed", "false");
      element.append(check);
    }
    // Why the tile shows no picture, and a way to try again.
    const failure = document.createElement("div");
    failure.className = "tile-failure";
    failure.hidden = true;
    const reason = document.createElement("p");
    reason.className = "tile-reason";
    const retry = document.createElement("button");
    retry.type = "button";
    retry.className = "button small tile-retry";
    retry.textContent = "Retry";
    failure.append(reason, retry);
    element.append(failure);

    const tile = {
      asset, element, button, check, image, badge, name, duration, clock, spokenDuration, progress,
      failure, reason, retry, uploadProgress: null, localPreview: null, shownThumbnail: null,
      refreshed: false, failedImage: false,
      // Since when its thumbnail, on screen, has waited for an answer (giveUpStalled).
      waitingSince: null,
      // The request for fresh URLs the tile waits for, or null.
      awaitingFreshUrls: null,
    };
    image.addEventListener("load", () => this.imageLoaded(tile));
    image.addEventListener("error", () => this.imageFailed(tile));
    retry.addEventListener("click", () => this.retryTile(tile));
    this.tiles.set(asset.asset_id, tile);
    this.render(tile);
    return tile;
  }

  render(tile) {
    const { asset, element } = tile;
    const uploading = tile.uploadProgress !== null;
    element.dataset.status = uploading ? "uploading" : asset.status;
    const ratio = asset.width && asset.height ? asset.width / asset.height : DEFAULT_RATIO;
    element.style.setProperty("--ratio", String(Math.min(Math.max(ratio, 0.4), 3)));
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
    if (tile.check) {
      const selected = this.selected.has(asset.asset_id);
      tile.check.setAttribute("aria-pressed", String(selected));
      tile.check.setAttribute("aria-label", `Select ${asset.filename}`);
      element.classList.toggle("selected", selected);
    }

    const failedAsset = asset.status === "failed";
    tile.failure.hidden = !failedAsset && !tile.failedImage;
    tile.reason.textContent = failedAsset
      ? `Failed: ${asset.error ?? "the file could not be read."}`
      : "The thumbnail did not load.";
    tile.retry.setAttribute("aria-label", `Retry ${asset.filename}`);

    const placeholder = placeholderUrl(asset.placeholder);
    if (placeholder) tile.image.parentElement.style.backgroundImage = `url("${placeholder}")`;
    const thumbnail = thumbnailFor(asset, TILE_PIXELS);
    // Signed URLs differ in every answer: keep showing the picture already loaded. One not
    // loaded yet (a lazy image out of sight) takes the newest URL, which outlives the one it
    // has: a shared album read again for one tile's sake renews them all.
    const key = thumbnail && `${thumbnail.page}/${thumbnail.size}/${thumbnail.format}`;
    const unloaded = !tile.failedImage && !tile.element.classList.contains("has-image");
    const newer = thumbnail && (tile.shownThumbnail !== key
      || (unloaded && tile.image.getAttribute("src") !== thumbnail.url));
    if (newer && !tile.awaitingFreshUrls) {
      tile.shownThumbnail = key;
      tile.failedImage = false;
      tile.image.src = thumbnail.url;
      forgetLocalPreview(tile);
    } else if (!thumbnail && tile.localPreview && !tile.image.getAttribute("src")) {
      tile.image.src = tile.localPreview;
    }
  }

  imageLoaded(tile) {
    this.lastImageLoadAt = Date.now();
    tile.element.classList.add("has-image");
    // Its URL will expire in turn: that one may be refreshed again.
    tile.refreshed = false;
  }

  /**
   * A thumbnail URL signed long ago expires (one hour): ask for fresh ones, once. If the
   * picture still does not come, the tile says so and offers to try again. It loads nothing
   * more by itself: a failed URL would fail again, and a feed answer with the same rendition
   * keeps it; only a retry or another rendition loads a picture.
   */
  imageFailed(tile) {
    tile.element.classList.remove("has-image");
    if (!tile.shownThumbnail || tile.failedImage) return;
    if (tile.refreshed) {
      tile.failedImage = true;
      this.render(tile);
      return;
    }
    tile.refreshed = true;
    this.askForFreshUrls(tile);
  }

  /** Thumbnails on screen that waited STALLED_MS for an answer, while none other loaded,
   * fail as a dropped one does. */
  giveUpStalled() {
    const now = Date.now();
    for (const tile of this.tiles.values()) {
      const { image } = tile;
      // Thumbnails from the bucket; a local preview does not hang.
      const waiting = tile.shownThumbnail && image.getAttribute("src") && !image.complete
        && onScreen(tile.element);
      if (!waiting) {
        tile.waitingSince = null;
        continue;
      }
      tile.waitingSince ??= now;
      if (now - Math.max(tile.waitingSince, this.lastImageLoadAt) < STALLED_MS) continue;
      tile.waitingSince = null;
      image.removeAttribute("src"); // the browser drops the request
      this.imageFailed(tile);
    }
  }

  retryTile(tile) {
    if (tile.asset.status === "failed") {
      this.onRetry(tile.asset.asset_id);
      return;
    }
    tile.refreshed = true;
    tile.failedImage = false;
    // The broken picture goes; the fresh URL comes with the answer.
    tile.image.removeAttribute("src");
    this.askForFreshUrls(tile);
    this.render(tile);
  }

  /** Fresh URLs come as an update; if none comes (the request failed), the tile says so. */
  askForFreshUrls(tile) {
    tile.shownThumbnail = null;
    const asked = this.onRefresh(tile.asset.asset_id);
    const request = {};
    tile.awaitingFreshUrls = request;
    asked.catch(() => {}).finally(() => {
      // An answer applied, or a later request's to come, has the last word.
      if (tile.awaitingFreshUrls !== request) return;
      tile.failedImage = true;
      this.render(tile);
    });
  }

  // --- selection and keys ---------------------------------------------------------------------

  /** In the order shown; those in months since let go (far off screen) after them. */
  selectedIds() {
    const shown = this.ids().filter((id) => this.selected.has(id));
    return [...shown, ...[...this.selected].filter((id) => !shown.includes(id))];
  }

  setSelected(assetId, selected) {
    if (selected) this.selected.add(assetId);
    else this.selected.delete(assetId);
    const tile = this.tiles.get(assetId);
    if (tile) this.render(tile);
  }

  clearSelection() {
    for (const id of [...this.selected]) this.setSelected(id, false);
    this.selectionChanged();
  }

  selectionChanged() {
    this.root.classList.toggle("selecting", this.selected.size > 0);
    this.onSelection(this.selectedIds());
  }

  /** Selects every tile from the anchor to this one, as a shift-click does. */
  selectRange(assetId) {
    const ids = this.ids();
    const from = ids.indexOf(this.anchor ?? assetId);
    const to = ids.indexOf(assetId);
    for (const id of ids.slice(Math.min(from, to), Math.max(from, to) + 1)) this.setSelected(id, true);
  }

  toggle(assetId, { range = false } = {}) {
    if (range && this.anchor) this.selectRange(assetId);
    else this.setSelected(assetId, !this.selected.has(assetId));
    this.anchor = assetId;
    this.selectionChanged();
  }

  listen() {
    this.root.addEventListener("click", (event) => {
      const element = event.target.closest("li.tile");
      if (!element || event.target.closest(".tile-failure")) return;
      const id = element.dataset.id;
      if (this.drag?.moved) {
        this.drag = null;
        return;
      }
      this.drag = null;
      this.makeCurrent(id);
      const onCheck = Boolean(event.target.closest(".tile-check"));
      // Once something is selected, a click selects too, as in every photo app.
      if (this.selectable && (onCheck || event.shiftKey || event.ctrlKey || event.metaKey || this.selected.size > 0)) {
        this.toggle(id, { range: event.shiftKey });
      } else if (event.target.closest(".tile-button")) {
        this.onOpen(id);
      }
    }, { signal: this.controller.signal });
    // Dragging from one tile's check to another selects (or unselects) every tile between.
    this.root.addEventListener("pointerdown", (event) => {
      const check = event.target.closest(".tile-check");
      if (!check || event.button !== 0) return;
      const id = check.closest("li.tile").dataset.id;
      this.drag = { selecting: !this.selected.has(id), start: id, last: id, moved: false, before: new Set(this.selected) };
      check.releasePointerCapture?.(event.pointerId);
    }, { signal: this.controller.signal });
    this.root.addEventListener("pointermove", (event) => {
      if (!this.drag || !(event.buttons & 1)) return;
      const id = document.elementFromPoint(event.clientX, event.clientY)?.closest("li.tile")?.dataset.id;
      if (!id || id === this.drag.last) return;
      this.drag.moved = true;
      this.drag.last = id;
      const ids = this.ids();
      const [from, to] = [ids.indexOf(this.drag.start), ids.indexOf(id)].sort((a, b) => a - b);
      const range = new Set(ids.slice(from, to + 1));
      for (const each of new Set([...this.selected, ...range, ...this.drag.before])) {
        this.setSelected(each, range.has(each) ? this.drag.selecting : this.drag.before.has(each));
      }
      this.anchor = id;
      this.selectionChanged();
    }, { signal: this.controller.signal });
    this.root.addEventListener("keydown", (event) => this.keyDown(event), { signal: this.controller.signal });
    this.root.addEventListener("focusin", (event) => {
      const element = event.target.closest("li.tile");
      if (!element || !event.target.classList.contains("tile-button")) return;
      this.moved = true;
      this.makeCurrent(element.dataset.id);
    }, { signal: this.controller.signal });
  }

  keyDown(event) {
    const element = event.target.closest("li.tile");
    if (!element || !event.target.classList.contains("tile-button") || event.altKey || event.ctrlKey || event.metaKey) return;
    const id = element.dataset.id;
    const moves = { ArrowLeft: -1, ArrowRight: 1 };
    if (event.key in moves) {
      const ids = this.ids();
      this.moveTo(ids[ids.indexOf(id) + moves[event.key]], event.shiftKey);
    } else if (event.key === "ArrowUp" || event.key === "ArrowDown") {
      this.moveTo(this.verticalNeighbour(element, event.key === "ArrowDown"), event.shiftKey);
    } else if (event.key === "Enter") {
      this.onOpen(id);
    } else if (event.key === " " && this.selectable) {
      this.toggle(id, { range: event.shiftKey });
    } else if (event.key === "Delete" && this.selectable) {
      this.onDelete(this.selected.size > 0 ? this.selectedIds() : [id]);
    } else if (event.key === "Escape" && this.selected.size > 0) {
      this.clearSelection();
    } else {
      return;
    }
    event.preventDefault();
  }

  moveTo(assetId, extendSelection) {
    if (!assetId) return;
    this.focus(assetId);
    if (extendSelection && this.selectable) {
      this.selectRange(assetId);
      this.selectionChanged();
    }
  }

  /** The tile in the next (or previous) row nearest this one's centre. */
  verticalNeighbour(element, down) {
    const here = element.getBoundingClientRect();
    const centre = here.left + here.width / 2;
    let best = null;
    for (const other of this.root.querySelectorAll("li.tile")) {
      const box = other.getBoundingClientRect();
      const beyond = down ? box.top >= here.bottom - 1 : box.bottom <= here.top + 1;
      if (!beyond) continue;
      const rowDistance = Math.abs(down ? box.top - here.bottom : here.top - box.bottom);
      const score = rowDistance * 10_000 + Math.abs(box.left + box.width / 2 - centre);
      if (!best || score < best.score) best = { score, id: other.dataset.id };
    }
    return best?.id ?? null;
  }
}

function rowPixels() {
  return window.matchMedia("(max-width: 600px)").matches ? NARROW_ROW_PIXELS : ROW_PIXELS;
}

/** Object URLs hold their file in memory until revoked. */
function forgetLocalPreview(tile) {
  if (!tile.localPreview) return;
  URL.revokeObjectURL(tile.localPreview);
  tile.localPreview = null;
}

/** Whether any of the element is in the viewport (a hidden view's tiles are not). */
function onScreen(element) {
  const box = element.getBoundingClientRect();
  return box.width > 0 && box.bottom > 0 && box.top < window.innerHeight;
}
