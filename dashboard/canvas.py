"""A drawing canvas: a small custom component (Streamlit's components v2, inline HTML
and JavaScript, no build step) that hands the drawing back to Python as a grey image.

The canvas has 140×140 pixels shown at 280×280 CSS pixels (less in a narrow column),
white strokes on black. After each stroke (mouse or touch) the JavaScript sends its red
channel as base64 bytes in the component's state ``image``: ``{"w", "h", "b64"}``;
"Clear" sets it to ``None``.
Streamlit rebuilds the component's HTML on every rerun, so the drawing goes back to the
JavaScript as ``data`` and is painted again.
"""

from __future__ import annotations

import base64
import binascii

import numpy as np
import streamlit as st

PIXELS = 140         # canvas resolution: MNIST's 28 × 5
STROKE = 11          # line width in canvas pixels: about 2 MNIST pixels after scaling
MAX_SIDE = 1024      # refuse anything larger (the value comes from the browser)

_HTML = f"""
<div class="pad">
  <canvas id="ink" width="{PIXELS}" height="{PIXELS}"
          aria-label="Drawing area: draw a digit with the mouse"></canvas>
  <div class="row">
    <button id="clear" type="button">Clear</button>
    <span class="hint">Draw one digit, large, in the middle.</span>
  </div>
</div>
"""

_CSS = """
.pad { display: flex; flex-direction: column; gap: 0.5rem; }
canvas { width: 280px; max-width: 100%; aspect-ratio: 1; height: auto; background: black;
         border-radius: 0.5rem; touch-action: none; cursor: crosshair; }
.row { display: flex; flex-wrap: wrap; gap: 0.75rem; align-items: center; }
button { font: inherit; padding: 0.25rem 0.9rem; border-radius: 0.5rem; cursor: pointer;
         border: 1px solid var(--st-border-color, #ccc); background: transparent;
         color: var(--st-text-color, inherit); }
.hint { color: var(--st-text-color, inherit); opacity: 0.7; font-size: 0.85rem; }
"""

_JS = """
export default function (component) {
  const { data, parentElement, setStateValue } = component;
  const cv = parentElement.querySelector("#ink");
  if (!cv || cv.dataset.ready) return;  // set up once per canvas element
  cv.dataset.ready = "1";
  const ctx = cv.getContext("2d", { willReadFrequently: true });
  const blank = () => { ctx.fillStyle = "black"; ctx.fillRect(0, 0, cv.width, cv.height); };
  blank();
  const saved = data && data.image;  // the canvas is rebuilt on every rerun: redraw
  if (saved && saved.w === cv.width && saved.h === cv.height) {
    const grey = atob(saved.b64);
    const img = ctx.createImageData(cv.width, cv.height);
    for (let i = 0; i < grey.length; i++) {
      const v = grey.charCodeAt(i);
      img.data.set([v, v, v, 255], 4 * i);
    }
    ctx.putImageData(img, 0, 0);
  }
  Object.assign(ctx, { strokeStyle: "white", lineWidth: STROKE, lineCap: "round",
                       lineJoin: "round" });
  let last = null;
  const at = (e) => {
    const r = cv.getBoundingClientRect();
    return [(e.clientX - r.left) * cv.width / r.width, (e.clientY - r.top) * cv.height / r.height];
  };
  const line = (a, b) => { ctx.beginPath(); ctx.moveTo(...a); ctx.lineTo(...b); ctx.stroke(); };
  const dot = (p) => {  // a click alone: a zero-length line draws nothing
    ctx.beginPath(); ctx.arc(...p, STROKE / 2, 0, 2 * Math.PI); ctx.fillStyle = "white";
    ctx.fill();
  };
  const send = () => {
    const rgba = ctx.getImageData(0, 0, cv.width, cv.height).data;
    let bytes = "";
    for (let i = 0; i < rgba.length; i += 4) bytes += String.fromCharCode(rgba[i]);
    setStateValue("image", { w: cv.width, h: cv.height, b64: btoa(bytes) });
  };
  cv.onpointerdown = (e) => { cv.setPointerCapture(e.pointerId); last = at(e); dot(last); };
  cv.onpointermove = (e) => { if (last) { const p = at(e); line(last, p); last = p; } };
  cv.onpointerup = cv.onpointercancel = () => { if (last) { last = null; send(); } };
  parentElement.querySelector("#clear").onclick = () => { blank(); setStateValue("image", null); };
}
""".replace("STROKE", str(STROKE))

_canvas = st.components.v2.component("mnist_np_canvas", html=_HTML, css=_CSS, js=_JS)


def decode_image(value) -> np.ndarray | None:
    """The component's ``image`` state as a ``(h, w)`` uint8 array (None: nothing drawn).
    Raise ValueError with a one-line message when it is malformed."""
    if value is None:
        return None
    try:
        w, h = int(value["w"]), int(value["h"])
        raw = base64.b64decode(value["b64"], validate=True)
    except (KeyError, TypeError, ValueError, binascii.Error):
        raise ValueError("the drawing could not be read; press Clear and draw again") from None
    if not (0 < w <= MAX_SIDE and 0 < h <= MAX_SIDE) or len(raw) != w * h:
        raise ValueError("the drawing has the wrong size; press Clear and draw again")
    return np.frombuffer(raw, np.uint8).reshape(h, w)


def draw_canvas(key: str) -> np.ndarray | None:
    """Show the canvas; return the current drawing ``(h, w)`` uint8, or None.

    Streamlit forgets a component's state on a page that is not shown, so the drawing
    is also kept under ``{key}_kept`` and put back when the page is opened again."""
    kept = st.session_state.get(f"{key}_kept")
    saved = st.session_state[key].get("image") if key in st.session_state else kept
    result = _canvas(key=key, data={"image": saved}, default={"image": kept},
                     on_image_change=lambda: None, width="content")
    st.session_state[f"{key}_kept"] = result.image
    return decode_image(result.image)
