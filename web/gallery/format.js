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
  trashed: "In the trash",
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

/** A clip's length as players show it: 0:03, 1:02:05. */
export function formatClock(seconds) {
  const [hours, minutes, rest] = clockParts(seconds);
  const pad = (value) => String(value).padStart(2, "0");
  return hours > 0 ? `${hours}:${pad(minutes)}:${pad(rest)}` : `${minutes}:${pad(rest)}`;
}

/** The same length in words, for screen readers, which read 1:02:05 as a time of day. */
export function formatSpokenDuration(seconds) {
  const [hours, minutes, rest] = clockParts(seconds);
  const words = [[hours, "hour"], [minutes, "minute"], [rest, "second"]]
    .filter(([count]) => count > 0)
    .map(([count, unit]) => `${count} ${unit}${count === 1 ? "" : "s"}`);
  return words.join(" ") || "under a second";
}

/**
 * A clip's length in its details: in tenths of a second under a minute (3.0 s), in whole
 * seconds from a minute on (1 min 2 s).
 */
export function formatDuration(seconds) {
  const tenths = Math.round(seconds * 10);
  if (tenths < 600) return `${(tenths / 10).toFixed(1)} s`;
  const [hours, minutes, rest] = clockParts(seconds);
  return [[hours, "h"], [minutes, "min"], [rest, "s"]]
    .filter(([count]) => count > 0)
    .map(([count, unit]) => `${count} ${unit}`)
    .join(" ");
}

function clockParts(seconds) {
  const whole = Math.round(seconds);
  return [Math.floor(whole / 3600), Math.floor(whole / 60) % 60, whole % 60];
}

// FFmpeg's names of the codecs cameras and phones record in, as people write them.
const CODEC_NAMES = {
  h264: "H.264", hevc: "HEVC", vp8: "VP8", vp9: "VP9", av1: "AV1", h263: "H.263",
  mpeg4: "MPEG-4 Part 2", mjpeg: "Motion JPEG", prores: "ProRes",
};

export function formatCodec(codec) {
  return CODEC_NAMES[codec] ?? codec;
}
