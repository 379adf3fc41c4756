// Uploads: declare each file to the API, then send its bytes straight to the bucket through
// the presigned URL(s) the API answers with. A few files at a time: enough to fill the
// connection, few enough that each shows progress and the browser's per-host limit (six)
// leaves room for thumbnails and API calls.

import { contentTypeOf } from "./api.js";

const FILES_AT_ONCE = 3;
const PARTS_AT_ONCE = 3;
// Part URLs this close to their expiry are signed again before a part is sent with them.
const URL_MARGIN_MS = 60_000;
// Hashing reads the whole file into memory first (crypto.subtle has no streaming digest);
// bigger files go without a hash, and the server still finds duplicates after the upload.
const HASH_LIMIT_BYTES = 256 * 1024 * 1024;
// The browser sets these itself (from the body) and refuses a page that tries.
const BROWSER_SET_HEADERS = new Set(["content-length", "host", "connection"]);

let lastItemId = 0;

/**
 * One file's journey. ``state``: queued → hashing → starting → uploading → done, or
 * duplicate (the library has these bytes already), refused (never sent), failed.
 */
class UploadItem {
  constructor(file) {
    this.id = ++lastItemId;
    this.file = file;
    this.name = file.webkitRelativePath || file.name;
    this.contentType = contentTypeOf(file);
    this.state = "queued";
    this.progress = 0;
    this.message = "";
    this.assetId = null;
    // The asset was dropped again after a failed transfer: nothing of it is left.
    this.discarded = false;
  }

  get finished() {
    return ["done", "duplicate", "refused", "failed"].includes(this.state);
  }
}

export class Uploader {
  /**
   * @param {import("./api.js").Api} api
   * @param {(item: UploadItem) => void} onChange called after every change of an item
   */
  constructor(api, onChange) {
    this.api = api;
    this.onChange = onChange;
    this.waiting = [];
    this.running = 0;
    this.controller = new AbortController();
  }

  get busy() {
    return this.running > 0 || this.waiting.length > 0;
  }

  add(files) {
    for (const file of files) {
      const item = new UploadItem(file);
      const refusal = refusalOf(item);
      if (refusal) {
        this.update(item, { state: "refused", message: refusal });
      } else {
        this.waiting.push(item);
        this.update(item, { message: "Waiting" });
      }
    }
    this.startMore();
  }

  /** Stops every transfer (signing out); the server's reaper clears what was begun. */
  cancelAll() {
    this.waiting = [];
    this.controller.abort();
  }

  startMore() {
    while (this.running < FILES_AT_ONCE && this.waiting.length > 0) {
      const item = this.waiting.shift();
      this.running += 1;
      this.upload(item).finally(() => {
        this.running -= 1;
        if (!this.controller.signal.aborted) this.startMore();
      });
    }
  }

  update(item, changes) {
    Object.assign(item, changes);
    this.onChange(item);
  }

  async upload(item) {
    const signal = this.controller.signal;
    try {
      const sha256 = await this.hash(item);
      this.update(item, { state: "starting", message: "Starting" });
      const answer = await this.api.createUpload(
        { filename: item.file.name, contentType: item.contentType, size: item.file.size, sha256 }, signal);
      if (answer.duplicate) {
        this.update(item, { state: "duplicate", assetId: answer.asset_id, progress: 1, message: "Already in the library" });
        return;
      }
      this.update(item, { state: "uploading", assetId: answer.asset_id, message: "Uploading" });
      try {
        await this.transfer(item, answer.asset_id, answer.upload, signal);
      } catch (error) {
        if (!signal.aborted) await this.discard(item);
        throw error;
      }
      // The bucket's event completes the upload too, a moment later; asking at once moves
      // the status now, and a multipart upload needs it to assemble its parts.
      await this.api.completeUpload(answer.asset_id, signal);
      this.update(item, { state: "done", progress: 1, message: "Uploaded" });
    } catch (error) {
      if (signal.aborted) return;
      this.update(item, { state: "failed", message: error.message });
    }
  }

  async hash(item) {
    if (!globalThis.crypto?.subtle || item.file.size > HASH_LIMIT_BYTES) return null;
    this.update(item, { state: "hashing", message: "Checking for duplicates" });
    const digest = await crypto.subtle.digest("SHA-256", await item.file.arrayBuffer());
    return [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
  }

  transfer(item, assetId, upload, signal) {
    if (upload.method !== "PUT") {
      throw new Error(`This gallery cannot upload with ${upload.method}; the API asked for it.`);
    }
    const total = item.file.size;
    const report = (loaded) => this.update(item, { progress: Math.min(loaded / total, 1) });
    if (upload.parts) {
      const signed = new PartUrls(this.api, assetId, upload);
      return this.transferParts(item.file, upload, signed, report, signal);
    }
    return put(upload.url, item.file, upload.headers, report, signal);
  }

  /** Each part is its slice of the file, a few at a time; progress counts every part's bytes. */
  async transferParts(file, upload, signed, report, signal) {
    const parts = linkedController(signal);
    const sent = new Map();
    const reportAll = () => report([...sent.values()].reduce((sum, bytes) => sum + bytes, 0));
    let next = 1;
    const worker = async () => {
      while (next <= upload.part_count) {
        const number = next++;
        const part = await signed.part(number, parts.signal);
        const start = (number - 1) * upload.part_size;
        // Exactly the part's bytes: its URL is signed for that Content-Length.
        const body = file.slice(start, start + part.size_bytes);
        await put(part.url, body, {}, (loaded) => {
          sent.set(number, loaded);
          reportAll();
        }, parts.signal);
      }
    };
    try {
      await Promise.all(Array.from({ length: PARTS_AT_ONCE }, worker));
    } finally {
      // One failed part fails the file: the others stop instead of sending for nothing.
      parts.abort();
    }
  }

  /** A transfer failed: drop the pending asset, so that no tile waits for bytes that never come. */
  async discard(item) {
    try {
      await this.api.abortUpload(item.assetId);
      item.discarded = true;
    } catch {
      // Left pending: the server's reaper fails it once its upload URL expires.
    }
  }
}

/**
 * The signed URLs of a multipart upload's parts. A ticket holds the first parts only, and the
 * URLs of a large file's last parts would expire before their turn, so the others are asked
 * for when a part has none or its URL is about to expire. URLs just signed for a part are used
 * as they are, so that a browser whose clock is wrong still gets on.
 */
class PartUrls {
  constructor(api, assetId, ticket) {
    this.api = api;
    this.assetId = assetId;
    this.known = new Map();
    this.add(ticket, 1);
  }

  add(page, signedFor) {
    const expires = Date.parse(page.expires_at);
    for (const part of page.parts) this.known.set(part.part_number, { part, expires, signedFor });
  }

  async part(number, signal) {
    const known = this.known.get(number);
    if (known && (known.signedFor === number || known.expires - Date.now() > URL_MARGIN_MS)) {
      return known.part;
    }
    this.add(await this.api.partUrls(this.assetId, number, signal), number);
    const part = this.known.get(number)?.part;
    if (!part) throw new Error(`The server signed no URL for part ${number}.`);
    return part;
  }
}

function refusalOf(item) {
  if (!item.contentType) {
    return `${item.name} is not a JPEG, PNG, TIFF, WebP, GIF, HEIC/HEIF, AVIF, JPEG XL or camera RAW image, or a PDF document, so it was not uploaded.`;
  }
  if (item.file.size === 0) return `${item.name} is empty, so it was not uploaded.`;
  return null;
}

function linkedController(signal) {
  const controller = new AbortController();
  if (signal.aborted) controller.abort();
  else signal.addEventListener("abort", () => controller.abort(), { once: true, signal: controller.signal });
  return controller;
}

/**
 * PUT a body to a presigned URL with exactly the headers the API signed. XMLHttpRequest
 * rather than fetch: only it reports upload progress in every browser.
 */
function put(url, body, headers, onProgress, signal) {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(new DOMException("The upload was stopped.", "AbortError"));
      return;
    }
    const xhr = new XMLHttpRequest();
    const stop = () => xhr.abort();
    signal.addEventListener("abort", stop, { once: true });
    const settle = (outcome) => {
      signal.removeEventListener("abort", stop);
      outcome();
    };
    xhr.open("PUT", url);
    for (const [name, value] of Object.entries(headers ?? {})) {
      if (!BROWSER_SET_HEADERS.has(name.toLowerCase())) xhr.setRequestHeader(name, value);
    }
    xhr.upload.addEventListener("progress", (event) => onProgress(event.loaded));
    xhr.addEventListener("load", () => settle(() => {
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(body.size);
        resolve();
      } else {
        reject(new Error(bucketRefusal(xhr)));
      }
    }));
    // A browser tells a script nothing more about a network error or a CORS refusal.
    xhr.addEventListener("error", () => settle(() => reject(new Error(
      "The bucket could not be reached, or its CORS rules do not allow this page to upload."))));
    xhr.addEventListener("abort", () => settle(() => reject(new DOMException("The upload was stopped.", "AbortError"))));
    xhr.send(body);
  });
}

/** S3 explains a refusal in an XML body: <Error><Code/><Message/></Error>. */
function bucketRefusal(xhr) {
  const xml = new DOMParser().parseFromString(xhr.responseText || "<none/>", "application/xml");
  const message = xml.querySelector("Error > Message")?.textContent;
  return `The bucket refused the upload (${xhr.status})${message ? `: ${message}` : "."}`;
}
