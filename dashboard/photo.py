"""A photo of a handwritten digit, uploaded on the Draw page: checked, decoded (Pillow) and
handed to the engine's MNIST-style preprocessing (``mnist_np.preprocess.photo_steps``).

The file is distrusted: its size is checked before anything reads it, its dimensions from
the header before any pixel is decoded (Pillow's ``Image.open`` reads the header only), so a
small file that claims 30,000 × 30,000 pixels (a decompression bomb) never allocates them.
Only PNG and JPEG are opened. Anything wrong is one line (:class:`PhotoError`), never a
traceback.
"""

from __future__ import annotations

import io
import warnings

import numpy as np
import streamlit as st
from PIL import Image, ImageOps

from mnist_np.preprocess import PhotoSteps, photo_steps

MAX_MB = 10
MAX_BYTES = MAX_MB * 2**20
MAX_MEGAPIXELS = 40
MAX_PIXELS = MAX_MEGAPIXELS * 10**6
WORK_SIDE = 512  # a photo is shrunk to at most this many pixels a side before preprocessing
FORMATS = ("PNG", "JPEG")
UPLOAD_KEY = "draw_photo"
_CACHE_KEY = "draw_photo_read"


class PhotoError(ValueError):
    """A photo that cannot be used, said in one line."""


def read_photo(raw: bytes) -> np.ndarray:
    """The photo in ``raw`` (PNG or JPEG bytes) as a grey image ``(h, w)`` uint8, 0 black,
    turned upright by its EXIF orientation, transparency laid on white, and shrunk to at
    most :data:`WORK_SIDE` pixels a side. Raise PhotoError (one line) for a file that is
    too large, claims too many pixels, is not a PNG or JPEG, or cannot be decoded."""
    if not isinstance(raw, (bytes, bytearray)):
        raise PhotoError("the upload gave no bytes")
    if len(raw) == 0:
        raise PhotoError("the file is empty")
    if len(raw) > MAX_BYTES:
        raise PhotoError(f"the file is {len(raw) / 2**20:.1f} MB; at most {MAX_MB} MB are "
                         "accepted")
    try:
        with warnings.catch_warnings():
            # past Pillow's own limit it warns, then refuses: both are one line here
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            opened = Image.open(io.BytesIO(bytes(raw)), formats=FORMATS)  # the header only
            width, height = opened.size
            if width < 1 or height < 1:
                raise PhotoError(f"the image claims {width}×{height} pixels")
            if width * height > MAX_PIXELS:
                raise PhotoError(f"the image is {width:,}×{height:,} pixels "
                                 f"({width * height / 1e6:,.0f} megapixels); at most "
                                 f"{MAX_MEGAPIXELS} are accepted")
            if opened.format == "JPEG":  # decode a large JPEG at a reduced scale: faster
                opened.draft("L", (WORK_SIDE, WORK_SIDE))
            opened.load()
            image: Image.Image = ImageOps.exif_transpose(opened)
            if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
                rgba = image.convert("RGBA")
                white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
                image = Image.alpha_composite(white, rgba)
            image = image.convert("L")
            image.thumbnail((WORK_SIDE, WORK_SIDE), Image.Resampling.LANCZOS)
            return np.asarray(image, dtype=np.uint8).copy()
    except PhotoError:
        raise
    except Image.UnidentifiedImageError:
        raise PhotoError("it is not a PNG or JPEG image") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise PhotoError("the image claims more pixels than it can hold (a decompression "
                         f"bomb); at most {MAX_MEGAPIXELS} megapixels are accepted") from None
    except MemoryError:
        raise PhotoError("there is not enough memory to decode this image") from None
    except Exception as e:  # a damaged file: truncated, bad chunks, a broken EXIF block ...
        reason = str(e).splitlines()[0][:120] if str(e) else type(e).__name__
        raise PhotoError(f"the image cannot be decoded ({reason})") from None


def short_name(name: str, limit: int = 60) -> str:
    """A file name as the user gave it, cut when long."""
    return name if len(name) <= limit else f"{name[:limit]}… ({len(name):,} characters)"


def read_upload(name: str, raw: bytes) -> tuple[PhotoSteps | None, str | None]:
    """``(steps, None)`` for a photo whose preprocessing found a digit (or did not:
    ``steps.problem`` says so), ``(None, message)`` for a file that cannot be used; the
    message names the file and is one line."""
    try:
        steps = photo_steps(read_photo(raw))
    except (PhotoError, ValueError) as e:
        return None, f"{short_name(name)} cannot be used: {e}."
    return steps, None


def photo_input() -> tuple[PhotoSteps | None, str | None]:
    """The Draw page's upload box: the uploaded photo's steps (None before an upload or
    for a file that cannot be used) and a one-line problem (None when a digit was found),
    naming the user's file (show it through ``plain``). Read once per file (kept in the
    session)."""
    file = st.file_uploader(f"A photo of one handwritten digit (PNG or JPEG, at most "
                            f"{MAX_MB} MB)", type=["png", "jpg", "jpeg"], key=UPLOAD_KEY,
                            max_upload_size=MAX_MB,
                            help="Dark ink on light paper or light on dark; one digit, "
                                 "filling a good part of the picture.")
    if file is None:
        st.session_state.pop(_CACHE_KEY, None)
        return None, None
    cached = st.session_state.get(_CACHE_KEY)
    if cached is None or cached[0] != file.file_id:
        cached = (file.file_id, *read_upload(file.name, file.getvalue()))
        st.session_state[_CACHE_KEY] = cached
    _, steps, problem = cached
    if steps is not None and steps.problem:
        problem = f"{short_name(file.name)}: {steps.problem}."
    return steps, problem
