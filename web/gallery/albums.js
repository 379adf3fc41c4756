// Albums (the API's projects): the list of them, the dialog that adds photos to one, and the
// dialog that shares one with a link.

/** One link per album, to its timeline (#album=ID), with its count. */
export function renderAlbumList(list, albums) {
  list.replaceChildren(...albums.map((album) => {
    const item = document.createElement("li");
    const link = document.createElement("a");
    link.className = "album-link";
    link.href = `#album=${encodeURIComponent(album.project_id)}`;
    const name = document.createElement("span");
    name.className = "album-name";
    name.textContent = album.name;
    const count = document.createElement("span");
    count.className = "album-count";
    count.textContent = `${album.asset_count} ${album.asset_count === 1 ? "photo" : "photos"}`;
    link.append(name, count);
    item.append(link);
    return item;
  }));
}

/** Asks which album (an existing one, or a new one by name) and adds the photos to it. */
export class AlbumPicker {
  constructor(dialog, api, signal) {
    this.dialog = dialog;
    this.api = api;
    this.list = dialog.querySelector("#picker-albums");
    this.newName = dialog.querySelector("#new-album-name");
    this.error = dialog.querySelector("#album-picker-error");
    this.pending = null;
    dialog.querySelector("form").addEventListener("submit", (event) => {
      if (event.submitter?.value !== "add") return;
      // The dialog stays open until the photos are in the album, or the error is shown.
      event.preventDefault();
      this.add();
    }, { signal });
    dialog.addEventListener("close", () => {
      this.pending?.resolve(null);
      this.pending = null;
    }, { signal });
  }

  /** The album the photos went to, or null if the user cancelled. */
  async choose(assetIds) {
    const albums = await this.api.listAlbums();
    this.list.replaceChildren(...albums.map((album, index) => {
      const item = document.createElement("li");
      const radio = document.createElement("input");
      radio.type = "radio";
      radio.name = "album";
      radio.id = `picker-album-${index}`;
      radio.value = album.project_id;
      const label = document.createElement("label");
      label.htmlFor = radio.id;
      label.textContent = `${album.name} (${album.asset_count})`;
      item.append(radio, label);
      return item;
    }));
    this.albums = albums;
    this.assetIds = assetIds;
    this.newName.value = "";
    this.error.textContent = "";
    this.dialog.showModal();
    (this.list.querySelector("input") ?? this.newName).focus();
    return new Promise((resolve) => { this.pending = { resolve }; });
  }

  async add() {
    const chosen = this.list.querySelector("input:checked");
    const name = this.newName.value.trim();
    if (!chosen && !name) {
      this.error.textContent = "Choose an album, or type the name of a new one.";
      return;
    }
    try {
      const album = name ? await this.api.createAlbum(name)
        : this.albums.find((each) => each.project_id === chosen.value);
      const { project } = await this.api.addToAlbum(album.project_id, this.assetIds);
      const pending = this.pending;
      this.pending = null;
      this.dialog.close();
      pending.resolve(project);
    } catch (error) {
      this.error.textContent = error.message;
    }
  }
}

/** Makes a link to an album that anyone can open, shows it to copy, and revokes it. */
export class ShareDialog {
  constructor(dialog, api, signal) {
    this.dialog = dialog;
    this.api = api;
    this.url = dialog.querySelector("#share-url");
    this.error = dialog.querySelector("#share-error");
    this.share = null;
    this.album = null;
    dialog.querySelector("#share-copy").addEventListener("click", () => this.copy(), { signal });
    dialog.querySelector("#share-revoke").addEventListener("click", () => this.revoke(), { signal });
  }

  async open(album) {
    this.album = album;
    this.error.textContent = "";
    this.url.value = "";
    this.dialog.showModal();
    try {
      this.share = await this.api.shareAlbum(album.project_id);
      this.url.value = this.share.url;
      this.url.select();
    } catch (error) {
      this.error.textContent = error.message;
    }
  }

  async copy() {
    try {
      await navigator.clipboard.writeText(this.url.value);
      this.error.textContent = "Copied.";
    } catch {
      // Without clipboard permission the link is selected for the user to copy.
      this.url.select();
      this.error.textContent = "Select the link and copy it.";
    }
  }

  async revoke() {
    if (!this.share) return;
    try {
      await this.api.revokeShare(this.album.project_id, this.share.share_id);
      this.share = null;
      this.url.value = "";
      this.error.textContent = "The link is revoked: it opens nothing now.";
    } catch (error) {
      this.error.textContent = error.message;
    }
  }
}
