// Words and numbers as people read them. Every status has a word, so that no state is told
// by colour alone.

const STATUS_LABELS = {
  uploading: "Uploading",
  pending: "Pending",
  uploaded: "Queued",
  processing: "Processing",
  ready: "Ready",
  failed: "Failed",
  duplicate: "Duplicate",
  deleted: "Deleted",
};

export function statusLabel(status) {
  return STATUS_LABELS[status] ?? status;
}

const BYTE_UNITS = ["bytes", "kB", "MB", "GB", "TB"];

export function formatBytes(bytes) {
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < BYTE_UNITS.length - 1) {
    value /= 1000;
    unit += 1;
  }
  const digits = unit === 0 || value >= 100 ? 0 : 1;
  return `${value.toFixed(digits)} ${BYTE_UNITS[unit]}`;
}

export function formatPercent(fraction) {
  return `${Math.floor(fraction * 100)}%`;
}

/** An API timestamp (with a zone) in the reader's local time. */
export function formatTimestamp(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}

/** EXIF's taken_at is the camera's wall-clock time without a zone: shown as it is. */
export function formatTakenAt(value) {
  return value.replace("T", " ");
}
