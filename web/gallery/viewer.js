// The viewer: one asset at a time in a modal dialog (Esc closes it, ←/→ step through the
// timeline), its 1280 px preview to zoom and pan (an animation or a clip plays; a large scan
// zooms down to its pixels from IIIF tiles), one button per page of a multi-page scan or
// document, its metadata, and what can be done to it.

import { animationLabel, animationUrlOf, clipUrlOf, isClip, isSettled, pagesOf, thumbnailFor } from "./api.js";
import { formatBytes, formatCodec, formatDuration, formatTakenAt, formatTimestamp, statusLabel } from "./format.js";
import { DeepZoom, PanZoom } from "./zoom.js";

const PREVIEW_PIXELS = 1280;
const PAGE_BUTTON_PIXELS = 256;

export class Viewer {
  /**
   * @param {HTMLDialogElement} dialog
   * @param {{
   *   fetch: (assetId: string) => Promise<object>,
   *   neighbours: (assetId: string) => {previous: string|null, next: string|null},
   *   known: (assetId: string) => object|null,
   *   onChanged: (asset: object) => void,
   *   onClosed: (assetId: string) => void,
   *   retry?: (assetId: string) => Promise<unknown>,
   *   trash?: (assetId: string) => Promise<number>,
   *   restore?: (assetId: string) => Promise<number>,
   * }} handlers (a shared album's viewer has no retry, trash or restore)
   * @param {AbortSignal} signal ends the viewer's hold on the dialog (at sign-out)
   */
  constructor(dialog, handlers, signal) {
    this.dialog = dialog;
    this.handlers = handlers;
    this.asset = null;
    this.page = 1;
    // "library", "trash" or "shared": which actions the viewer offers.
    this.mode = "library";
    this.shownPreview = null;
    // Whether this.asset is an answer of the API since the viewer opened it: the grid's copy
    // may be older than the hour its URLs are signed for.
    this.answered = false;
    this.shownClip = null;
    this.clipFailed = false;
    const find = (id) => dialog.querySelector(`#${id}`);
    this.title = find("viewer-title");
    this.status = find("viewer-status");
    this.preview = find("viewer-preview");
    this.video = find("viewer-video");
    this.noPreview = find("viewer-no-preview");
    this.unplayable = find("viewer-unplayable");
    this.unplayableLink = document.createElement("a");
    this.unplayableLink.textContent = "download the original";
    Object.assign(this.unplayableLink, { target: "_blank", rel: "noopener noreferrer", download: "" });
    this.strip = find("page-strip");
    this.pageList = find("page-list");
    this.metadata = find("metadata");
    this.error = find("viewer-error");
    this.download = find("viewer-download");
    this.retryButton = find("viewer-retry");
    this.deleteButton = find("viewer-delete");
    this.restoreButton = find("viewer-restore");
    this.panZoom = new PanZoom(find("viewer-stage"), this.preview, find("zoom-controls"), signal);
    this.deepZoom = new DeepZoom(find("deep-zoom"), this.panZoom);
    this.previousButton = find("viewer-previous");
    this.nextButton = find("viewer-next");

    find("viewer-close").addEventListener("click", () => dialog.close(), { signal });
    this.previousButton.addEventListener("click", () => this.step("previous"), { signal });
    this.nextButton.addEventListener("click", () => this.step("next"), { signal });
    this.retryButton.addEventListener("click", () => this.retry(), { signal });
    this.deleteButton.addEventListener("click", () => this.trash(), { signal });
    this.restoreButton.addEventListener("click", () => this.restore(), { signal });
    this.pageList.addEventListener("click", (event) => {
      const button = event.target.closest("button[data-page]");
      if (button) this.showPage(Number(button.dataset.page));
    }, { signal });
    this.video.addEventListener("error", () => this.cannotPlay(), { signal });
    dialog.addEventListener("keydown", (event) => {
      if (event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
      // In a clip's controls the arrows seek.
      if (event.target === this.video) return;
      if (event.key === "ArrowLeft" && !this.panZoom.zoomed) this.step("previous");
      else if (event.key === "ArrowRight" && !this.panZoom.zoomed) this.step("next");
      else if (event.key === "Delete" && !this.deleteButton.hidden) this.trash();
      else if (!this.panZoom.key(event.key)) return;
      event.preventDefault();
    }, { signal });
    // Esc closes a modal dialog by itself; either way focus returns to the asset's tile.
    dialog.addEventListener("close", () => {
      const closed = this.asset?.asset_id;
      this.asset = null;
      this.preview.removeAttribute("src");
      this.shownPreview = null;
      this.renderClip(null);
      this.deepZoom.show(null);
      this.panZoom.reset();
      if (closed) this.handlers.onClosed(closed);
    }, { signal });
  }

  get openAssetId() {
    return this.dialog.open ? this.asset?.asset_id ?? null : null;
  }

  /** Shows what the timeline knows at once, then the asset as the API has it now. */
  open(assetId, { mode = this.mode } = {}) {
    this.mode = mode;
    this.asset = this.handlers.known(assetId) ?? { asset_id: assetId, filename: "", status: "pending", thumbnails: [] };
    this.page = 1;
    this.answered = false;
    this.clipFailed = false;
    this.unplayable.replaceChildren();
    this.error.textContent = "";
    this.render();
    if (!this.dialog.open) {
      this.dialog.showModal();
      this.dialog.querySelector("#viewer-close").focus();
    }
    this.refresh();
  }

  /** The timeline's URLs were signed when it loaded and expire after an hour: fresh ones. */
  async refresh() {
    const assetId = this.asset.asset_id;
    try {
      const asset = await this.handlers.fetch(assetId);
      if (this.openAssetId !== assetId) return;
      this.show(asset);
      this.handlers.onChanged(asset);
    } catch (error) {
      if (this.openAssetId !== assetId) return;
      this.error.textContent = error.status === 404 ? "This photo is no longer in the library." : error.message;
    }
  }

  /** A newer state of the asset on show (from the change feed). */
  show(asset) {
    if (this.openAssetId !== asset.asset_id) return;
    this.asset = asset;
    this.answered = true;
    this.render();
  }

  step(direction) {
    if (!this.asset) return;
    const target = this.handlers.neighbours(this.asset.asset_id)[direction];
    if (target) this.open(target);
  }

  showPage(page) {
    this.page = page;
    this.panZoom.reset();
    this.render();
  }

  async retry() {
    const asset = this.asset;
    this.error.textContent = "";
    this.retryButton.disabled = true;
    try {
      await this.handlers.retry(asset.asset_id);
      // The answer has the new status only; the asset may have failed again already, with
      // its reason, or be on its way to ready.
      await this.refresh();
    } catch (error) {
      this.error.textContent = error.message;
    } finally {
      this.retryButton.disabled = false;
    }
  }

  /** To the trash, without asking: the trash gives it back. */
  async trash() {
    await this.leave(this.deleteButton, this.handlers.trash);
  }

  async restore() {
    await this.leave(this.restoreButton, this.handlers.restore);
  }

  async leave(button, action) {
    this.error.textContent = "";
    button.disabled = true;
    try {
      if (await action(this.asset.asset_id) > 0) this.dialog.close();
    } finally {
      button.disabled = false;
    }
  }

  render() {
    const asset = this.asset;
    const pages = pagesOf(asset);
    if (!pages.includes(this.page)) this.page = pages[0] ?? 1;
    this.title.textContent = asset.filename || "Photo";
    this.status.textContent = statusLabel(asset.status);
    this.status.dataset.status = asset.status;
    this.renderPreview(pages);
    this.renderPages(pages);
    this.metadata.replaceChildren(...metadataRows(asset));
    this.download.hidden = !asset.original_url;
    if (asset.original_url) {
      this.download.href = asset.original_url;
      this.unplayableLink.href = asset.original_url;
    } else {
      this.download.removeAttribute("href");
    }
    this.retryButton.hidden = this.mode !== "library" || asset.status !== "failed";
    this.deleteButton.hidden = this.mode !== "library";
    this.restoreButton.hidden = this.mode !== "trash";
    const { previous, next } = this.handlers.neighbours(asset.asset_id);
    this.previousButton.disabled = !previous;
    this.nextButton.disabled = !next;
  }

  renderPreview(pages) {
    const asset = this.asset;
    const thumbnail = thumbnailFor(asset, PREVIEW_PIXELS, this.page);
    // A clip plays in the video element, its poster shown until it starts, once the viewer's
    // own answer is in: the grid's URLs may have expired. Where it cannot play, the poster
    // stands alone.
    const playable = Boolean(thumbnail) && isClip(asset) && !this.clipFailed;
    this.renderClip(playable && this.answered ? clipUrlOf(asset) : null, thumbnail);
    // A scan with tiles zooms from them, in place of the preview.
    const tiled = Boolean(asset.tiles) && this.page === 1 && !playable;
    this.deepZoom.show(tiled && this.answered ? asset.tiles : null, asset.asset_id, asset.filename)
      .catch((error) => { this.error.textContent = error.message; });
    this.preview.hidden = !thumbnail || playable || tiled;
    this.panZoom.enable(Boolean(thumbnail) && !playable);
    this.noPreview.hidden = Boolean(thumbnail);
    if (!thumbnail) this.noPreview.textContent = noPreviewReason(asset);
    if (!thumbnail || playable) {
      this.preview.removeAttribute("src");
      this.shownPreview = null;
      return;
    }
    // An animation plays from its original, which the browser animates; its poster (the
    // first frame) is what the grid shows. Every answer signs new URLs for the same picture:
    // reload only for another picture.
    const animation = animationUrlOf(asset);
    const key = animation
      ? `${asset.asset_id}/original`
      : `${asset.asset_id}/${thumbnail.page}/${thumbnail.size}/${thumbnail.format}`;
    if (this.shownPreview !== key) {
      this.shownPreview = key;
      this.panZoom.reset();
      this.preview.src = animation ?? thumbnail.url;
    }
    this.preview.alt = pages.length > 1
      ? `${asset.filename}, page ${this.page} of ${pages.length}`
      : asset.filename;
  }

  /** Plays the clip at `url` with `poster` until it starts; null stops whatever played. */
  renderClip(url, poster) {
    this.video.hidden = !url;
    // Every answer signs new URLs for the same clip: a new src would start it over.
    const key = url && `${this.asset.asset_id}/original`;
    if (this.shownClip === key) return;
    this.shownClip = key;
    if (url) {
      this.video.poster = poster.url;
      this.video.src = url;
      this.video.setAttribute("aria-label", this.asset.filename);
    } else {
      this.video.removeAttribute("src");
      this.video.removeAttribute("poster");
      // Without a src the element still plays what it has, until it loads nothing.
      this.video.load();
    }
  }

  /**
   * The clip does not play in this browser, most often for its codec (HEVC, which Chromium
   * and Firefox decode only where the system does): its poster, and the way to the original.
   */
  cannotPlay() {
    // An error of a clip since replaced (load() clears the element's error) is no news.
    if (!this.video.error || !this.shownClip) return;
    const focused = document.activeElement === this.video;
    this.clipFailed = true;
    const codec = this.asset.codec ? `${formatCodec(this.asset.codec)} video` : "this video";
    this.unplayable.replaceChildren(`This browser cannot play ${codec}; `, this.unplayableLink, " to watch it.");
    this.render();
    // The video is hidden now: focus stays in the dialog.
    if (focused) this.unplayableLink.focus();
  }

  renderPages(pages) {
    this.strip.hidden = pages.length < 2;
    if (pages.length < 2) {
      this.pageList.replaceChildren();
      return;
    }
    const shown = [...this.pageList.querySelectorAll("button")].map((button) => button.dataset.key);
    const wanted = pages.map((page) => `${this.asset.asset_id}/${page}`);
    if (shown.join() !== wanted.join()) {
      this.pageList.replaceChildren(...pages.map((page) => this.pageItem(page)));
    }
    for (const button of this.pageList.querySelectorAll("button")) {
      const current = Number(button.dataset.page) === this.page;
      if (current) button.setAttribute("aria-current", "page");
      else button.removeAttribute("aria-current");
    }
  }

  pageItem(page) {
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "page-button";
    button.dataset.page = String(page);
    button.dataset.key = `${this.asset.asset_id}/${page}`;
    const thumbnail = thumbnailFor(this.asset, PAGE_BUTTON_PIXELS, page);
    const image = document.createElement("img");
    image.alt = "";
    image.src = thumbnail.url;
    const label = document.createElement("span");
    label.textContent = `Page ${page}`;
    button.append(image, label);
    item.append(button);
    return item;
  }
}

function noPreviewReason(asset) {
  if (asset.status === "failed") return `No preview: ${asset.error ?? "the file could not be read."}`;
  // A duplicate shows the previews of the photo with the same bytes; it has none while that
  // photo's are being made, or when that photo could not be read.
  if (asset.status === "duplicate") return "No preview yet: this is the same file as another photo in the library, and its preview is not ready.";
  if (!isSettled(asset)) return `The preview is being made (${statusLabel(asset.status).toLowerCase()})…`;
  return "No preview.";
}

function metadataRows(asset) {
  const clip = isClip(asset);
  const rows = [
    ["File name", asset.filename],
    ["Status", statusLabel(asset.status)],
    ["Error", asset.error],
    ["Type", asset.content_type],
    ["Size", asset.size_bytes && `${formatBytes(asset.size_bytes)} (${asset.size_bytes.toLocaleString()} bytes)`],
    ["Dimensions", asset.width && `${asset.width} × ${asset.height} px`],
    ["Pages", clip ? null : asset.pages],
    ["Animation", animationLabel(asset)],
    ["Duration", clip && asset.duration != null ? formatDuration(asset.duration) : null],
    ["Codec", asset.codec && formatCodec(asset.codec)],
    ["Frame rate", asset.frame_rate && `${Number(asset.frame_rate.toFixed(2))} fps`],
    ["Sound", asset.has_audio == null ? null : asset.has_audio ? "yes" : "no"],
    ["Bit depth", asset.bit_depth && `${asset.bit_depth} bits per sample`],
    ["Colour mode", asset.color_mode],
    ["Taken", asset.taken_at && formatTakenAt(asset.taken_at)],
    ["Camera", [asset.camera_make, asset.camera_model].filter(Boolean).join(" ")],
    ["Location", asset.has_location ? "Recorded (never in thumbnails)" : null],
    ["Description", asset.description],
    ["Uploaded", asset.created_at && formatTimestamp(asset.created_at)],
    ["Same file as", asset.duplicate_of],
    ["SHA-256", asset.sha256],
  ];
  return rows.filter(([, value]) => value !== null && value !== undefined && value !== "")
    .flatMap(([term, value]) => {
      const dt = document.createElement("dt");
      dt.textContent = term;
      const dd = document.createElement("dd");
      dd.textContent = String(value);
      if (term === "SHA-256" || term === "Same file as") dd.className = "mono";
      return [dt, dd];
    });
}
