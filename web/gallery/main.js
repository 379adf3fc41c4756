// Signing in and out, the views of a signed-in library (the timeline, albums, the trash), and
// a shared album opened from its link without signing in.

import { AlbumPicker, ShareDialog, renderAlbumList } from "./albums.js";
import { Api, isSettled, urlsExpireAt } from "./api.js";
import { installDropZone, visibleFiles } from "./drop.js";
import { statusLabel } from "./format.js";
import { LiveUpdates } from "./live.js";
import { Timeline, librarySource, sharedSource } from "./timeline.js";
import { UploadList } from "./upload-list.js";
import { Uploader } from "./upload.js";
import { Viewer } from "./viewer.js";

// The key lives in sessionStorage (gone with the tab) unless the user asks to stay signed in.
const SESSION_KEY = "lightbox.session";
// The API URL is no secret: remembered across sign-outs, so that signing in again is one field.
const API_URL_KEY = "lightbox.apiUrl";
// A shared album's photo whose URLs expire sooner than this is read again before it is shown.
const URL_MARGIN_MS = 60_000;

const byId = (id) => document.getElementById(id);

/** The signed-in library; null while signed out. */
let library = null;

async function main() {
  const config = await loadConfig();
  byId("api-url").value = localStorage.getItem(API_URL_KEY) ?? config.apiUrl ?? window.location.origin;
  byId("sign-in-form").addEventListener("submit", signIn);
  byId("sign-out").addEventListener("click", () => signOut(""));
  byId("library-error-dismiss").addEventListener("click", () => { byId("library-error").hidden = true; });
  for (const input of [byId("file-input"), byId("folder-input")]) {
    input.addEventListener("change", () => {
      library?.upload(visibleFiles(input.files));
      // The same file chosen again must fire another change.
      input.value = "";
    });
  }
  installDropZone(byId("drop-overlay"), (files) => {
    if (library) library.upload(files);
    else showSignIn("Sign in first, then drop your photos again.");
  });

  // A shared album's link: the album, read-only, for anyone who has it.
  const shared = new URLSearchParams(window.location.hash.slice(1)).get("shared");
  if (shared) {
    startShared(config.apiUrl ?? window.location.origin, shared);
    return;
  }
  const saved = readSession();
  if (saved) startLibrary(saved.apiUrl, saved.key);
  else showSignIn("");
}

/**
 * config.json beside index.html names the API: its apiUrl, where the gallery is hosted apart
 * from the API; null (as shipped, for the local stack, which serves page and API from one
 * origin) means the page's own origin. A host that leaves the file out gets the same.
 */
async function loadConfig() {
  try {
    const response = await fetch("config.json", { cache: "no-store" });
    return response.ok ? await response.json() : {};
  } catch {
    return {};
  }
}

function readSession() {
  for (const storage of [sessionStorage, localStorage]) {
    try {
      const saved = JSON.parse(storage.getItem(SESSION_KEY));
      if (saved?.apiUrl && saved?.key) return saved;
    } catch {
      storage.removeItem(SESSION_KEY);
    }
  }
  return null;
}

async function signIn(event) {
  event.preventDefault();
  const apiUrl = byId("api-url").value.trim();
  const key = byId("api-key").value.trim();
  const submit = byId("sign-in-submit");
  if (!isHttpUrl(apiUrl)) {
    showSignInError("Enter the API URL, such as https://api.example.com or http://127.0.0.1:8000.");
    byId("api-url").focus();
    return;
  }
  if (!key) {
    showSignInError("Enter your API key.");
    byId("api-key").focus();
    return;
  }
  submit.disabled = true;
  submit.textContent = "Signing in…";
  try {
    // The cheapest call that needs a valid key.
    await new Api(apiUrl, key).listAssets({ limit: 1 });
  } catch (error) {
    showSignInError(error.status === 401
      ? `The API refused this key (${error.message}). Check it and try again.`
      : error.message);
    byId("api-key").focus();
    return;
  } finally {
    submit.disabled = false;
    submit.textContent = "Sign in";
  }
  const storage = byId("remember").checked ? localStorage : sessionStorage;
  storage.setItem(SESSION_KEY, JSON.stringify({ apiUrl, key }));
  localStorage.setItem(API_URL_KEY, apiUrl);
  byId("api-key").value = "";
  startLibrary(apiUrl, key);
}

function isHttpUrl(text) {
  try {
    return ["http:", "https:"].includes(new URL(text).protocol);
  } catch {
    return false;
  }
}

function signOut(message) {
  library?.close();
  library = null;
  sessionStorage.removeItem(SESSION_KEY);
  localStorage.removeItem(SESSION_KEY);
  showSignIn(message);
}

function showSignIn(message) {
  byId("library").hidden = true;
  byId("toolbar").hidden = true;
  byId("views").hidden = true;
  byId("sign-in").hidden = false;
  showSignInError(message);
  byId(byId("api-url").value ? "api-key" : "api-url").focus();
}

function showSignInError(message) {
  byId("sign-in-error").textContent = message;
}

function startLibrary(apiUrl, key) {
  byId("sign-in").hidden = true;
  byId("library").hidden = false;
  byId("toolbar").hidden = false;
  byId("views").hidden = false;
  byId("signed-in").textContent = `Signed in to ${new URL(apiUrl).host}`;
  library = new Library(apiUrl, key);
  byId("library").focus();
  library.start();
}

const TIMELINE_ELEMENTS = () => ({
  root: byId("timeline"), empty: byId("empty"), status: byId("grid-status"), scrubber: byId("scrubber"),
});

/** Which view the address names: #albums, #album=ID, #trash, else the photos' timeline. */
function routeOf(hash) {
  const params = new URLSearchParams(hash.slice(1));
  if (params.get("album")) return { view: "album", albumId: params.get("album") };
  if (hash === "#albums") return { view: "albums" };
  if (hash === "#trash") return { view: "trash" };
  return { view: "photos" };
}

// What the selection bar offers in each view.
const SELECTION_ACTIONS = {
  photos: ["add-to-album", "download", "trash", "clear"],
  album: ["add-to-album", "remove-from-album", "download", "trash", "clear"],
  trash: ["restore", "delete-for-good", "clear"],
};

/** The views, viewer, uploads and live statuses of one signed-in session. */
class Library {
  constructor(apiUrl, key) {
    this.api = new Api(apiUrl, key, () => {
      // Revoked or wrong: nothing else will work either.
      if (library === this) signOut("The API no longer accepts your key (401). Sign in again.");
    });
    this.route = null;
    this.timeline = null;
    this.album = null;
    // The change feed of the view on show; each view starts its own.
    this.live = null;
    this.uploads = new UploadList(byId("uploads"), byId("upload-list"), byId("uploads-summary"), byId("clear-uploads"));
    this.uploader = new Uploader(this.api, (item) => this.uploadChanged(item));
    // Where focus goes when the viewer closes after its asset left the view.
    this.focusAfterClose = null;
    // The page's elements outlive a session: what this one listens to ends with it.
    this.listeners = new AbortController();
    const signal = this.listeners.signal;
    this.viewer = new Viewer(byId("viewer"), {
      fetch: (assetId) => this.api.getAsset(assetId),
      neighbours: (assetId) => neighboursIn(this.timeline, assetId),
      known: (assetId) => this.timeline?.asset(assetId) ?? null,
      onChanged: (asset) => this.assetChanged(asset),
      retry: (assetId) => this.api.retryAsset(assetId),
      trash: (assetId) => this.trash([assetId]),
      restore: (assetId) => this.restore([assetId]),
      onClosed: (assetId) => {
        this.timeline?.focus(this.timeline.asset(assetId) ? assetId : this.focusAfterClose);
        this.focusAfterClose = null;
      },
    }, signal);
    this.picker = new AlbumPicker(byId("album-picker"), this.api, signal);
    this.share = new ShareDialog(byId("share-dialog"), this.api, signal);
    window.addEventListener("hashchange", () => this.showRoute(), { signal });
    byId("selection-bar").addEventListener("click", (event) => {
      const action = event.target.closest("button[data-action]")?.dataset.action;
      if (action) this.selectionAction(action);
    }, { signal });
    byId("empty-trash").addEventListener("click", () => this.emptyTrash(), { signal });
    byId("share-album").addEventListener("click", () => this.share.open(this.album), { signal });
  }

  async start() {
    await this.showRoute();
  }

  close() {
    this.api.close();
    this.uploader.cancelAll();
    this.live?.stop();
    if (this.viewer.openAssetId) byId("viewer").close();
    this.timeline?.close();
    this.timeline = null;
    this.uploads.clear();
    byId("album-list").replaceChildren();
    byId("library-error").hidden = true;
    byId("selection-bar").hidden = true;
    this.listeners.abort();
  }

  /** Shows the view the address names: a timeline (photos, an album, the trash) or the albums. */
  async showRoute() {
    const route = routeOf(window.location.hash);
    this.route = route;
    for (const link of byId("views").querySelectorAll("a")) {
      const current = link.dataset.view === route.view || (route.view === "album" && link.dataset.view === "albums");
      if (current) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    }
    this.timeline?.close();
    this.timeline = null;
    this.album = null;
    this.live?.stop();
    this.live = new LiveUpdates(this.api, {
      needed: () => Boolean(this.timeline?.hasUnsettled()),
      onAsset: (asset) => this.assetChanged(asset),
      onError: (error) => this.showError(error),
    });
    byId("album-list").hidden = route.view !== "albums";
    byId("album-list").replaceChildren();
    byId("share-album").hidden = route.view !== "album";
    byId("empty-trash").hidden = route.view !== "trash";
    byId("selection-bar").hidden = true;
    byId("empty").hidden = true;
    try {
      if (route.view === "albums") await this.showAlbums();
      else await this.showTimeline(route);
    } catch (error) {
      this.showError(error);
    }
  }

  async showAlbums() {
    setTitle("Albums");
    const albums = await this.api.listAlbums();
    if (this.route.view !== "albums") return;
    renderAlbumList(byId("album-list"), albums);
    // One way to make an album: from the photos to put in it.
    byId("empty").textContent = "No albums yet. Select photos in Photos and choose Add to album.";
    byId("empty").hidden = albums.length > 0;
  }

  async showTimeline(route) {
    let source;
    let label;
    if (route.view === "album") {
      const album = await this.api.getAlbum(route.albumId);
      if (this.route !== route) return;
      this.album = album;
      setTitle(this.album.name);
      label = `Photos in ${this.album.name}, newest first`;
      byId("empty").textContent = "This album is empty. Select photos in Photos and choose Add to album.";
      source = librarySource(this.api, { projectId: route.albumId });
    } else if (route.view === "trash") {
      setTitle("Trash");
      label = "Photos in the trash, newest first";
      byId("empty").textContent = "The trash is empty.";
      source = librarySource(this.api, { status: "trashed" });
    } else {
      setTitle("Photos");
      label = "Photos by date taken, newest first";
      byId("empty").textContent = "No photos yet. Drop files or folders anywhere on this page, or choose Upload photos.";
      source = librarySource(this.api);
    }
    const live = this.live;
    const timeline = new Timeline(TIMELINE_ELEMENTS(), {
      onOpen: (assetId) => this.viewer.open(assetId, { mode: route.view === "trash" ? "trash" : "library" }),
      onError: (error) => this.showError(error),
      onSelection: (ids) => this.selectionChanged(ids),
      onDelete: (ids) => (route.view === "trash" ? this.deleteForGood(ids) : this.trash(ids)),
      onRetry: (assetId) => this.retry(assetId),
      onRefresh: (assetId) => this.refreshAsset(assetId),
      // The month's photos may still be on their way to ready: follow them.
      onLoaded: () => live.wake(),
    }, { source, label });
    this.timeline = timeline;
    // The feed from before the timeline's first page: what changes while it loads comes too.
    const { sync_cursor: syncCursor } = await this.api.listAssets({ limit: 1 });
    if (this.timeline !== timeline) return;
    await timeline.start();
    if (this.live === live) live.start(syncCursor);
  }

  /** Whether an asset, as it is now, is shown in the current view. */
  belongs(asset) {
    if (asset.status === "deleted") return false;
    if (this.route.view === "trash") return asset.status === "trashed";
    if (asset.status === "trashed") return false;
    if (this.route.view === "album") return (asset.project_ids ?? []).includes(this.route.albumId);
    return true;
  }

  upload(files) {
    if (files.length === 0) return;
    // New photos go to the library: show them there.
    if (this.route.view !== "photos") window.location.hash = "";
    this.uploader.add(files);
  }

  uploadChanged(item) {
    this.uploads.show(item);
    if (["refused", "failed", "duplicate"].includes(item.state)) announce(`${item.name}: ${item.message}`);
    if (!item.assetId || !this.timeline || this.route.view !== "photos") return;
    switch (item.state) {
      case "uploading":
        this.timeline.addUpload(item.assetId, item.file, item.contentType);
        this.timeline.setUploadProgress(item.assetId, item.progress);
        break;
      case "done":
        this.timeline.setUploadProgress(item.assetId, null);
        this.live.wake();
        break;
      case "duplicate":
        // The answer names the asset that has these bytes: show it, wherever it was.
        this.refreshAsset(item.assetId);
        break;
      case "failed":
        if (item.discarded) this.timeline.remove(item.assetId);
        else this.timeline.setUploadProgress(item.assetId, null);
        this.live.wake();
        break;
      default:
        break;
    }
  }

  assetChanged(asset) {
    if (!this.timeline) return;
    const before = this.timeline.asset(asset.asset_id);
    this.timeline.update(asset, { gone: !this.belongs(asset) });
    this.viewer.show(asset);
    if (before && before.status !== asset.status && isSettled(asset)) {
      announce(`${asset.filename}: ${statusLabel(asset.status)}`);
    }
    this.live.wake();
  }

  refreshAsset(assetId) {
    return this.api.getAsset(assetId).then((asset) => this.assetChanged(asset), (error) => this.showError(error));
  }

  async retry(assetId) {
    try {
      await this.api.retryAsset(assetId);
      this.refreshAsset(assetId);
    } catch (error) {
      this.showError(error);
    }
  }

  selectionChanged(ids) {
    const bar = byId("selection-bar");
    bar.hidden = ids.length === 0;
    byId("selection-count").textContent = `${ids.length} selected`;
    const offered = SELECTION_ACTIONS[this.route.view] ?? [];
    for (const button of bar.querySelectorAll("button[data-action]")) {
      button.hidden = !offered.includes(button.dataset.action);
    }
  }

  async selectionAction(action) {
    const ids = this.timeline?.selectedIds() ?? [];
    switch (action) {
      case "clear": this.timeline.clearSelection(); break;
      case "trash": await this.trash(ids); break;
      case "restore": await this.restore(ids); break;
      case "delete-for-good": await this.deleteForGood(ids); break;
      case "download": await this.download(ids); break;
      case "add-to-album": await this.addToAlbum(ids); break;
      case "remove-from-album": await this.removeFromAlbum(ids); break;
      default: break;
    }
  }

  /** Each asset of `ids` through `call`, one by one; those done leave the view. */
  async eachLeaving(ids, call, done) {
    let count = 0;
    for (const id of ids) {
      try {
        await call(id);
        this.focusAfterClose = neighboursIn(this.timeline, id).next ?? neighboursIn(this.timeline, id).previous;
        this.timeline?.remove(id);
        count += 1;
      } catch (error) {
        this.showError(error);
        break;
      }
    }
    if (count > 0) announce(done(count));
    return count;
  }

  async trash(ids) {
    if (ids.length === 0) return 0;
    // The trash gives everything back: no question asked, the way back said.
    return this.eachLeaving(ids, (id) => this.api.deleteAsset(id),
      (count) => `${plural(count, "photo")} moved to the trash. Restore ${count === 1 ? "it" : "them"} from Trash.`);
  }

  async restore(ids) {
    return this.eachLeaving(ids, (id) => this.api.restoreAsset(id),
      (count) => `${plural(count, "photo")} restored to the library.`);
  }

  async deleteForGood(ids) {
    if (ids.length === 0) return 0;
    if (!window.confirm(`Delete ${plural(ids.length, "photo")} for good? This cannot be undone.`)) return 0;
    return this.eachLeaving(ids, (id) => this.api.deleteAsset(id, { permanent: true }),
      (count) => `${plural(count, "photo")} deleted for good.`);
  }

  async emptyTrash() {
    if (!window.confirm("Delete everything in the trash for good? This cannot be undone.")) return;
    try {
      // One batch a request: ask until the trash says it holds no more.
      for (let more = true; more;) ({ more } = await this.api.emptyTrash());
      announce("The trash is empty.");
    } catch (error) {
      this.showError(error);
    }
    await this.showRoute();
  }

  async addToAlbum(ids) {
    const album = await this.picker.choose(ids);
    if (!album) return;
    announce(`${plural(ids.length, "photo")} added to ${album.name}.`);
    this.timeline?.clearSelection();
  }

  async removeFromAlbum(ids) {
    try {
      await this.api.removeFromAlbum(this.route.albumId, ids);
      for (const id of ids) this.timeline.remove(id);
      announce(`${plural(ids.length, "photo")} removed from ${this.album.name}.`);
    } catch (error) {
      this.showError(error);
    }
  }

  /**
   * Downloads each original under its own name. The bucket is another origin, where a link's
   * download attribute is ignored: the bytes are fetched (the bucket's CORS rules allow GET)
   * and saved from memory, one at a time.
   */
  async download(ids) {
    for (const id of ids) {
      try {
        const asset = await this.api.getAsset(id);
        if (!asset.original_url) continue;
        const response = await fetch(asset.original_url);
        if (!response.ok) throw new Error(`${asset.filename}: the bucket answered ${response.status}.`);
        saveBlob(await response.blob(), asset.filename);
      } catch (error) {
        this.showError(error);
        return;
      }
    }
    announce(`${plural(ids.length, "original")} downloaded.`);
  }

  showError(error) {
    if (error.name === "AbortError" || error.status === 401) return;
    byId("library-error-text").textContent = error.message;
    byId("library-error").hidden = false;
  }
}

/** A shared album, opened from its link by anyone: no key, nothing to change. */
async function startShared(apiUrl, token) {
  const api = new Api(apiUrl, null);
  byId("sign-in").hidden = true;
  byId("library").hidden = false;
  byId("uploads").hidden = true;
  document.body.classList.add("shared");
  let first;
  try {
    first = await api.sharedAlbum(token, { limit: 1 });
  } catch (error) {
    setTitle("Shared album");
    byId("empty").textContent = error.status === 404
      ? "This link does not open an album: it was revoked, has expired or was never made."
      : error.message;
    byId("empty").hidden = false;
    return;
  }
  setTitle(first.album.name);
  byId("empty").textContent = "This album is empty.";
  let timeline = null;
  const source = sharedSource(api, token, first.album);
  // The URLs signed when the page opened expire within the hour: a thumbnail that fails
  // then has the album read again, once for all the tiles that ask meanwhile.
  let rereading = null;
  const reread = () => {
    rereading ??= source.reread().then(
      (assets) => { for (const asset of assets) timeline.update(asset); },
      // The tiles that asked say their picture did not load; Retry reads it again.
      () => {},
    ).finally(() => { rereading = null; });
    return rereading;
  };
  const viewer = new Viewer(byId("viewer"), {
    // The photo as the page has it; read again with the album when its URLs expire within
    // the minute: a visitor may come back to a page left open for hours.
    fetch: async (assetId) => {
      const expiresAt = urlsExpireAt(timeline.asset(assetId) ?? {});
      if (expiresAt !== null && expiresAt - Date.now() < URL_MARGIN_MS) await reread();
      return timeline.asset(assetId);
    },
    neighbours: (assetId) => neighboursIn(timeline, assetId),
    known: (assetId) => timeline.asset(assetId),
    onChanged: () => {},
    onClosed: (assetId) => timeline.focus(assetId),
  // Nobody signs out of a shared album: the viewer stays as long as the page.
  }, new AbortController().signal);
  timeline = new Timeline(TIMELINE_ELEMENTS(), {
    onOpen: (assetId) => viewer.open(assetId, { mode: "shared" }),
    onError: (error) => {
      byId("library-error-text").textContent = error.message;
      byId("library-error").hidden = false;
    },
    onSelection: () => {},
    onDelete: () => {},
    onRetry: () => {},
    onRefresh: reread,
    onLoaded: () => {},
  }, { source, selectable: false, label: `Photos in ${first.album.name}` });
  await timeline.start();
}

function setTitle(text) {
  byId("view-title").textContent = text;
  document.title = `${text} – Lightbox`;
}

function neighboursIn(timeline, assetId) {
  const ids = timeline?.ids() ?? [];
  const index = ids.indexOf(assetId);
  if (index < 0) return { previous: null, next: null };
  return { previous: ids[index - 1] ?? null, next: ids[index + 1] ?? null };
}

function plural(count, noun) {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}

function saveBlob(blob, filename) {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  link.click();
  // The click has handed the bytes to the download; the URL is not needed after it.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function announce(message) {
  byId("announcer").textContent = message;
}

main();
