// The whole window is a drop zone for files and folders.

/**
 * Calls ``onFiles(files)`` with every file dropped anywhere on the page, folders walked.
 * The overlay shows while something with files is dragged over the window.
 */
export function installDropZone(overlay, onFiles) {
  // dragenter and dragleave fire for every child crossed: count them to know when the
  // drag really left the window.
  let depth = 0;
  const carriesFiles = (event) => event.dataTransfer?.types?.includes("Files");
  const hide = () => {
    depth = 0;
    overlay.hidden = true;
  };

  window.addEventListener("dragenter", (event) => {
    if (!carriesFiles(event)) return;
    event.preventDefault();
    depth += 1;
    overlay.hidden = false;
  });
  window.addEventListener("dragover", (event) => {
    if (!carriesFiles(event)) return;
    // Without this the browser would open the file instead of letting the page have it.
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
  });
  window.addEventListener("dragleave", (event) => {
    if (!carriesFiles(event)) return;
    depth -= 1;
    if (depth <= 0) hide();
  });
  window.addEventListener("drop", (event) => {
    if (!carriesFiles(event)) return;
    event.preventDefault();
    hide();
    filesOfDrop(event.dataTransfer).then(onFiles);
  });
}

/**
 * Every file of a drop, the contents of dropped folders included. The items must be read
 * before the drop event returns (the browser empties them after), so this reads them at once
 * and only walks the folders asynchronously.
 */
export function filesOfDrop(dataTransfer) {
  const entries = [];
  const loose = [];
  for (const item of dataTransfer.items ?? []) {
    if (item.kind !== "file") continue;
    const entry = item.webkitGetAsEntry?.();
    if (entry) {
      entries.push(entry);
    } else {
      const file = item.getAsFile();
      if (file) loose.push(file);
    }
  }
  if (entries.length === 0 && loose.length === 0) return Promise.resolve([...(dataTransfer.files ?? [])]);
  return Promise.all(entries.map(filesOfEntry)).then((nested) => [...loose, ...nested.flat()]);
}

async function filesOfEntry(entry) {
  if (entry.isFile) {
    return [await new Promise((resolve, reject) => entry.file(resolve, reject))];
  }
  if (!entry.isDirectory) return [];
  const files = [];
  for (const child of await allEntries(entry.createReader())) {
    // Hidden files (.DS_Store, ._photo.jpg from macOS) are no one's photos.
    if (child.name.startsWith(".")) continue;
    files.push(...(await filesOfEntry(child)));
  }
  return files;
}

/** A directory reader answers in batches (about a hundred entries) until an empty one. */
async function allEntries(reader) {
  const entries = [];
  for (;;) {
    const batch = await new Promise((resolve, reject) => reader.readEntries(resolve, reject));
    if (batch.length === 0) return entries;
    entries.push(...batch);
  }
}

/** Files picked with a folder input, without the hidden ones a folder walk skips too. */
export function visibleFiles(fileList) {
  return [...fileList].filter((file) => {
    const path = file.webkitRelativePath || file.name;
    return !path.split("/").some((part) => part.startsWith("."));
  });
}
