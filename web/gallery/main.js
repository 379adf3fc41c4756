// Signing in and out, and wiring the parts of a signed-in library together.

import { Api, isSettled } from "./api.js";
import { installDropZone, visibleFiles } from "./drop.js";
import { statusLabel } from "./format.js";
import { Grid } from "./grid.js";
import { LiveUpdates } from "./live.js";
import { UploadList } from "./upload-list.js";
import { Uploader } from "./upload.js";
import { Viewer } from "./viewer.js";

// The key lives in sessionStorage (gone with the tab) unless the user asks to stay signed in.
const SESSION_KEY = "lightbox.session";
// The API URL is no secret: remembered across sign-outs, so that signing in again is one field.
const API_URL_KEY = "lightbox.apiUrl";

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
  byId("signed-in").textContent = `Signed in to ${new URL(apiUrl).host}`;
  library = new Library(apiUrl, key);
  byId("library").focus();
  library.start();
}

/** Grid, viewer, uploads and live statuses of one signed-in session. */
class Library {
  constructor(apiUrl, key) {
    this.api = new Api(apiUrl, key, () => {
      // Revoked or wrong: nothing else will work either.
      if (library === this) signOut("The API no longer accepts your key (401). Sign in again.");
    });
    this.grid = new Grid(this.api, {
      list: byId("grid"), sentinel: byId("sentinel"), empty: byId("empty"), status: byId("grid-status"),
    }, {
      onOpen: (assetId) => this.viewer.open(assetId),
      onError: (error) => this.showError(error),
    });
    this.live = new LiveUpdates(this.api, {
      needed: () => this.grid.hasUnsettled(),
      onAsset: (asset) => this.assetChanged(asset),
      onError: (error) => this.showError(error),
    });
    this.uploads = new UploadList(byId("uploads"), byId("upload-list"), byId("uploads-summary"), byId("clear-uploads"));
    this.uploader = new Uploader(this.api, (item) => this.uploadChanged(item));
    // Where focus goes when the viewer closes after its asset was deleted.
    this.focusAfterClose = null;
    this.viewer = new Viewer(this.api, byId("viewer"), {
      neighbours: (assetId) => this.neighbours(assetId),
      known: (assetId) => this.grid.asset(assetId),
      onChanged: (asset) => this.assetChanged(asset),
      onDeleted: (assetId) => {
        const { previous, next } = this.neighbours(assetId);
        this.focusAfterClose = next ?? previous;
        this.grid.remove(assetId);
      },
      onClosed: (assetId) => {
        this.grid.focus(this.grid.asset(assetId) ? assetId : this.focusAfterClose);
        this.focusAfterClose = null;
      },
    });
  }

  async start() {
    try {
      this.live.start(await this.grid.start());
    } catch (error) {
      this.showError(error);
    }
  }

  close() {
    this.api.close();
    this.uploader.cancelAll();
    this.live.stop();
    if (this.viewer.openAssetId) byId("viewer").close();
    this.grid.clear();
    this.uploads.clear();
    byId("library-error").hidden = true;
  }

  upload(files) {
    if (files.length > 0) this.uploader.add(files);
  }

  uploadChanged(item) {
    this.uploads.show(item);
    if (["refused", "failed", "duplicate"].includes(item.state)) announce(`${item.name}: ${item.message}`);
    if (!item.assetId) return;
    switch (item.state) {
      case "uploading":
        this.grid.addUpload(item.assetId, item.file, item.contentType);
        this.grid.setUploadProgress(item.assetId, item.progress);
        break;
      case "done":
        this.grid.setUploadProgress(item.assetId, null);
        this.live.wake();
        break;
      case "duplicate":
        // The answer names the asset that has these bytes: show it, wherever it was.
        this.api.getAsset(item.assetId).then((asset) => this.assetChanged(asset), (error) => this.showError(error));
        break;
      case "failed":
        if (item.discarded) this.grid.remove(item.assetId);
        else this.grid.setUploadProgress(item.assetId, null);
        this.live.wake();
        break;
      default:
        break;
    }
  }

  assetChanged(asset) {
    const before = this.grid.asset(asset.asset_id);
    this.grid.update(asset);
    this.viewer.show(asset);
    if (before && before.status !== asset.status && isSettled(asset)) {
      announce(`${asset.filename}: ${statusLabel(asset.status)}`);
    }
    this.live.wake();
  }

  neighbours(assetId) {
    const ids = this.grid.ids();
    const index = ids.indexOf(assetId);
    if (index < 0) return { previous: null, next: null };
    return { previous: ids[index - 1] ?? null, next: ids[index + 1] ?? null };
  }

  showError(error) {
    if (error.name === "AbortError" || error.status === 401) return;
    byId("library-error-text").textContent = error.message;
    byId("library-error").hidden = false;
  }
}

function announce(message) {
  byId("announcer").textContent = message;
}

main();
