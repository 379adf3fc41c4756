// Zooming in the viewer. PanZoom scales and moves the preview image itself (wheel, pinch,
// double-click, drag, the buttons and + - 0); DeepZoom shows a large scan from its IIIF
// level-0 tiles with OpenSeadragon (BSD-3-Clause, vendored in vendor/openseadragon/ and
// loaded the first time a scan with tiles is opened), and the same buttons and keys drive it.

const MAX_SCALE = 8;
const STEP = 1.5;
const DOUBLE_CLICK_SCALE = 2.5;
const OPENSEADRAGON = "vendor/openseadragon/openseadragon.min.js";

export class PanZoom {
  constructor(stage, image, controls, signal) {
    this.stage = stage;
    this.image = image;
    this.controls = controls;
    this.level = controls.querySelector("#zoom-level");
    this.scale = 1;
    this.x = 0;
    this.y = 0;
    // While a deep zoom is on show, it takes the buttons and keys: {zoomBy, reset, zoomed, percent}.
    this.delegate = null;
    this.pointers = new Map();
    controls.querySelector("#zoom-in").addEventListener("click", () => this.zoomBy(STEP), { signal });
    controls.querySelector("#zoom-out").addEventListener("click", () => this.zoomBy(1 / STEP), { signal });
    controls.querySelector("#zoom-reset").addEventListener("click", () => this.reset(), { signal });
    image.addEventListener("wheel", (event) => {
      event.preventDefault();
      this.zoomBy(Math.exp(-event.deltaY / 300), event);
    }, { passive: false, signal });
    image.addEventListener("dblclick", (event) => {
      if (this.scale > 1) this.reset();
      else this.zoomBy(DOUBLE_CLICK_SCALE, event);
    }, { signal });
    image.addEventListener("pointerdown", (event) => {
      image.setPointerCapture(event.pointerId);
      this.pointers.set(event.pointerId, { x: event.clientX, y: event.clientY });
    }, { signal });
    image.addEventListener("pointermove", (event) => this.pointerMoved(event), { signal });
    for (const type of ["pointerup", "pointercancel"]) {
      image.addEventListener(type, (event) => this.pointers.delete(event.pointerId), { signal });
    }
  }

  get zoomed() {
    return this.delegate ? this.delegate.zoomed : this.scale > 1;
  }

  /** Shows the buttons, or hides them when there is nothing to zoom. */
  enable(enabled) {
    this.controls.hidden = !enabled && !this.delegate;
  }

  /** + and - zoom, 0 fits; whether the key was one of those. */
  key(key) {
    if (this.controls.hidden) return false;
    if (key === "+" || key === "=") this.zoomBy(STEP);
    else if (key === "-") this.zoomBy(1 / STEP);
    else if (key === "0") this.reset();
    else return false;
    return true;
  }

  /** Zooms by `factor`, keeping the point under the pointer (else the centre) where it is. */
  zoomBy(factor, at = null) {
    if (this.delegate) {
      this.delegate.zoomBy(factor);
      this.showLevel();
      return;
    }
    const scale = Math.min(MAX_SCALE, Math.max(1, this.scale * factor));
    if (at) {
      const box = this.image.getBoundingClientRect();
      // The point relative to the image's centre before it was moved.
      const px = at.clientX - (box.left + box.width / 2) + this.x;
      const py = at.clientY - (box.top + box.height / 2) + this.y;
      this.x = px - ((px - this.x) * scale) / this.scale;
      this.y = py - ((py - this.y) * scale) / this.scale;
    } else {
      this.x = (this.x * scale) / this.scale;
      this.y = (this.y * scale) / this.scale;
    }
    this.scale = scale;
    this.apply();
  }

  reset() {
    if (this.delegate) {
      this.delegate.reset();
      this.showLevel();
      return;
    }
    this.scale = 1;
    this.x = 0;
    this.y = 0;
    this.apply();
  }

  pointerMoved(event) {
    const before = this.pointers.get(event.pointerId);
    if (!before) return;
    const now = { x: event.clientX, y: event.clientY };
    if (this.pointers.size === 2) {
      // Pinch: the distance between two fingers scales the image.
      const [other] = [...this.pointers].filter(([id]) => id !== event.pointerId).map(([, point]) => point);
      const ratio = Math.hypot(now.x - other.x, now.y - other.y) / Math.hypot(before.x - other.x, before.y - other.y);
      if (Number.isFinite(ratio) && ratio > 0) {
        this.zoomBy(ratio, { clientX: (now.x + other.x) / 2, clientY: (now.y + other.y) / 2 });
      }
    } else if (this.scale > 1) {
      this.x += now.x - before.x;
      this.y += now.y - before.y;
      this.apply();
    }
    this.pointers.set(event.pointerId, now);
  }

  apply() {
    // Never so far that the image leaves the stage.
    const limitX = (this.image.offsetWidth * (this.scale - 1)) / 2;
    const limitY = (this.image.offsetHeight * (this.scale - 1)) / 2;
    this.x = Math.min(limitX, Math.max(-limitX, this.x));
    this.y = Math.min(limitY, Math.max(-limitY, this.y));
    this.image.style.transform = this.scale === 1 ? "" : `translate(${this.x}px, ${this.y}px) scale(${this.scale})`;
    this.image.classList.toggle("zoomed", this.scale > 1);
    this.showLevel();
  }

  showLevel() {
    const percent = this.delegate ? this.delegate.percent() : this.scale * 100;
    this.level.textContent = `${Math.round(percent)}%`;
  }
}

export class DeepZoom {
  constructor(container, panZoom) {
    this.container = container;
    this.panZoom = panZoom;
    this.viewer = null;
    this.shown = null;
  }

  /**
   * Shows the tiles of `tiles` ({info_url, width, height, tile_size}), or nothing (null).
   * `key` names the picture: every answer signs a new info_url for the same tiles.
   */
  async show(tiles, key = null, label = "") {
    if (!tiles) key = null;
    if (this.shown === key) return;
    this.shown = key;
    this.viewer?.destroy();
    this.viewer = null;
    this.panZoom.delegate = null;
    this.container.hidden = !tiles;
    if (!tiles) return;
    const OpenSeadragon = await loadOpenSeadragon();
    if (this.shown !== key) return;
    this.container.setAttribute("role", "img");
    this.container.setAttribute("aria-label", `${label}, ${tiles.width} × ${tiles.height} px, zoomable`);
    const viewer = OpenSeadragon({
      element: this.container,
      tileSources: tiles.info_url,
      // The viewer's own buttons and keys do this; OpenSeadragon's would need its images.
      showNavigationControl: false,
      // Tiles come from the bucket, another origin, without CORS: the 2D canvas draws them
      // (WebGL would need them CORS-clean).
      drawer: "canvas",
      // Down to each pixel of the scan at twice its size, and no farther.
      maxZoomPixelRatio: 2,
      visibilityRatio: 1,
      gestureSettingsMouse: { clickToZoom: false },
    });
    this.viewer = viewer;
    viewer.addHandler("zoom", () => this.panZoom.showLevel());
    viewer.addHandler("open", () => this.panZoom.showLevel());
    this.panZoom.delegate = {
      zoomBy: (factor) => {
        viewer.viewport.zoomBy(factor);
        viewer.viewport.applyConstraints();
      },
      reset: () => viewer.viewport.goHome(),
      get zoomed() {
        return viewer.viewport.getZoom() > viewer.viewport.getHomeZoom() * 1.001;
      },
      // Screen pixels a pixel of the scan takes, as a percentage: 100% is the scan's own size.
      percent: () => (viewer.world.getItemCount() > 0
        ? viewer.viewport.viewportToImageZoom(viewer.viewport.getZoom(true)) * 100 : 0),
    };
    this.panZoom.enable(true);
  }
}

let openSeadragon = null;

/** Loads OpenSeadragon's script once, the first time a scan with tiles is opened. */
function loadOpenSeadragon() {
  openSeadragon ??= new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = OPENSEADRAGON;
    script.addEventListener("load", () => resolve(window.OpenSeadragon));
    script.addEventListener("error", () => {
      openSeadragon = null;
      reject(new Error("The deep-zoom viewer did not load."));
    });
    document.head.append(script);
  });
  return openSeadragon;
}
