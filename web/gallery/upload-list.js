// The uploads panel: one row per file with its progress and, when it ends, what happened.

import { formatBytes, formatPercent } from "./format.js";

export class UploadList {
  constructor(section, list, summary, clearButton) {
    this.section = section;
    this.list = list;
    this.summary = summary;
    this.rows = new Map();
    clearButton.addEventListener("click", () => this.clearFinished());
  }

  show(item) {
    let row = this.rows.get(item.id);
    if (!row) {
      row = { item, element: newRow(item) };
      this.rows.set(item.id, row);
      this.list.append(row.element);
    }
    const { element } = row;
    element.dataset.state = item.state;
    const progress = element.querySelector("progress");
    progress.value = item.progress;
    progress.hidden = !["uploading", "done"].includes(item.state);
    element.querySelector(".upload-message").textContent =
      item.state === "uploading" ? `Uploading ${formatPercent(item.progress)}` : item.message;
    this.section.hidden = false;
    this.summarise();
  }

  clearFinished() {
    for (const [id, { item, element }] of this.rows) {
      if (!item.finished) continue;
      element.remove();
      this.rows.delete(id);
    }
    this.section.hidden = this.rows.size === 0;
    this.summarise();
  }

  clear() {
    this.rows.clear();
    this.list.replaceChildren();
    this.section.hidden = true;
  }

  summarise() {
    const items = [...this.rows.values()].map((row) => row.item);
    const count = (...states) => items.filter((item) => states.includes(item.state)).length;
    const parts = [`${count("done", "duplicate")} of ${items.length} in the library`];
    const refused = count("refused", "failed");
    if (refused) parts.push(`${refused} not uploaded`);
    this.summary.textContent = parts.join(", ");
  }
}

function newRow(item) {
  const element = document.createElement("li");
  element.className = "upload";
  const name = document.createElement("span");
  name.className = "upload-name";
  name.textContent = item.name;
  name.title = item.name;
  const size = document.createElement("span");
  size.className = "upload-size";
  size.textContent = formatBytes(item.file.size);
  const progress = document.createElement("progress");
  progress.max = 1;
  progress.setAttribute("aria-label", `Upload of ${item.name}`);
  const message = document.createElement("span");
  message.className = "upload-message";
  element.append(name, size, progress, message);
  return element;
}
