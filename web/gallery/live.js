// Live statuses from the change feed: one request brings every asset that changed, however
// many are in flight, and the gallery asks only while something is still moving. An asset
// can wait a long time (an upload abandoned in another tab stays pending until the server's
// reaper gives up on it), so quiet polls back off.

const INTERVAL_MS = 1000;
const LONGEST_INTERVAL_MS = 15_000;
const AFTER_ERROR_MS = 5000;

export class LiveUpdates {
  /**
   * @param {import("./api.js").Api} api
   * @param {{needed: () => boolean, onAsset: (asset: object) => void, onError: (error: Error) => void}} handlers
   */
  constructor(api, { needed, onAsset, onError }) {
    this.api = api;
    this.needed = needed;
    this.onAsset = onAsset;
    this.onError = onError;
    this.cursor = null;
    this.timer = null;
    this.dueAt = 0;
    this.polling = false;
    // Polls in a row that brought nothing.
    this.idle = 0;
    this.controller = new AbortController();
  }

  /** Follows the feed from a sync cursor (a listing page's ``sync_cursor``). */
  start(syncCursor) {
    this.cursor = syncCursor;
    this.wake();
  }

  /** Something may have started moving: poll soon. */
  wake() {
    this.idle = 0;
    this.schedule(INTERVAL_MS);
  }

  stop() {
    clearTimeout(this.timer);
    this.timer = null;
    this.controller.abort();
  }

  schedule(delay) {
    if (this.cursor === null || this.polling || this.controller.signal.aborted) return;
    const dueAt = Date.now() + delay;
    // An earlier poll already planned stays: waking often must not put polling off.
    if (this.timer !== null && this.dueAt <= dueAt) return;
    clearTimeout(this.timer);
    this.dueAt = dueAt;
    this.timer = setTimeout(() => this.poll(), delay);
  }

  async poll() {
    this.timer = null;
    if (!this.needed()) return;
    this.polling = true;
    let delay;
    try {
      let changed = 0;
      // A page with next_cursor has more after it: read on before waiting.
      for (let more = true; more;) {
        const page = await this.api.changesSince(this.cursor, this.controller.signal);
        page.items.forEach(this.onAsset);
        changed += page.items.length;
        this.cursor = page.next_cursor ?? page.sync_cursor;
        more = Boolean(page.next_cursor);
      }
      this.idle = changed > 0 ? 0 : this.idle + 1;
      delay = Math.min(INTERVAL_MS * 2 ** this.idle, LONGEST_INTERVAL_MS);
    } catch (error) {
      if (this.controller.signal.aborted) return;
      this.onError(error);
      delay = AFTER_ERROR_MS;
    } finally {
      this.polling = false;
    }
    this.schedule(delay);
  }
}
