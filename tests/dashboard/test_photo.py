"""dashboard.photo: photos decoded with Pillow, checked before decoding; every broken,
huge or foreign file refused in one line."""

import io

import numpy as np
import pytest
from PIL import Image

from dashboard.photo import MAX_BYTES, WORK_SIDE, PhotoError, read_photo, read_upload

from ..photos import encoded, photographed, png_claiming


@pytest.fixture(scope="module")
def photo(sample):
    return photographed(sample.X_test[0])


@pytest.mark.parametrize("fmt,mode", [("PNG", "L"), ("PNG", "RGB"), ("PNG", "RGBA"),
                                      ("JPEG", "RGB"), ("JPEG", "L")])
def test_png_and_jpeg_decode_to_the_same_grey_picture(photo, fmt, mode):
    grey = read_photo(encoded(photo, fmt, mode, **({"quality": 95} if fmt == "JPEG" else {})))
    assert grey.dtype == np.uint8 and grey.shape == photo.shape
    tolerance = 0 if fmt == "PNG" else 4  # JPEG is lossy
    assert np.abs(grey.astype(int) - photo).mean() <= tolerance


def test_transparency_is_laid_on_white():
    """A digit drawn in black on a transparent background (as drawing apps save it)."""
    rgba = np.zeros((50, 40, 4), np.uint8)
    rgba[10:40, 18:22] = (0, 0, 0, 255)
    buffer = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buffer, "PNG")
    grey = read_photo(buffer.getvalue())
    assert grey[0, 0] == 255 and grey[20, 20] == 0


def test_a_large_photo_is_shrunk_and_the_exif_orientation_applied(photo):
    big = np.kron(photo, np.ones((5, 5), np.uint8))  # 1800x1500
    image = Image.fromarray(big, "L")
    exif = image.getexif()
    exif[0x0112] = 6  # "rotate 90° clockwise to view": phones save portraits like this
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif, quality=90)
    grey = read_photo(buffer.getvalue())
    assert max(grey.shape) == WORK_SIDE and grey.shape[0] < grey.shape[1]  # turned upright


def test_the_digit_in_an_uploaded_photo_is_found(photo):
    steps, problem = read_upload("five.png", encoded(photo))
    assert problem is None and steps.field is not None and not steps.problem


HOSTILE = {
    "empty": (b"", "the file is empty"),
    "text named .png": (b"hello, I am not an image\n" * 10, "it is not a PNG or JPEG image"),
    "a GIF": (lambda: encoded(np.zeros((8, 8), np.uint8), "GIF"),
              "it is not a PNG or JPEG image"),
    # past Pillow's own limit (89 megapixels warns, 179 refuses), Pillow speaks first
    "30000x30000 header": (png_claiming(30_000, 30_000), "the image claims more pixels than "
                           "it can hold (a decompression bomb); at most 40 megapixels"),
    "10000x10000 header": (png_claiming(10_000, 10_000), "a decompression bomb"),
    "7000x7000 header": (png_claiming(7000, 7000), "(49 megapixels); at most 40"),
    "over 10 MB": (b"\x89PNG\r\n\x1a\n" + b"\x00" * MAX_BYTES, "the file is 10.0 MB; at most "
                   "10 MB are accepted"),
    "truncated PNG": (lambda: encoded(np.random.default_rng(0).integers(
        0, 256, (200, 200), dtype=np.uint8))[:20_000], "the image cannot be decoded"),
    "truncated JPEG": (lambda: encoded(np.tile(np.arange(256, dtype=np.uint8), (64, 1)),
                                       "JPEG")[:200], "the image cannot be decoded"),
    "PNG header only": (b"\x89PNG\r\n\x1a\n", "it is not a PNG or JPEG image"),
    "a 4000x4000 black PNG that fits in the caps": (
        lambda: encoded(np.zeros((4000, 4000), np.uint8)), None),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_a_broken_huge_or_foreign_file_is_refused_in_one_line(case):
    raw, words = HOSTILE[case]
    raw = raw() if callable(raw) else raw
    if words is None:  # within the limits: decoded (shrunk), but holds no digit
        steps, problem = read_upload("big.png", raw)
        assert steps is not None and steps.field is None
        assert "no digit" in steps.problem
        return
    with pytest.raises(PhotoError) as info:
        read_photo(raw)
    message = str(info.value)
    assert words in message, message
    assert "\n" not in message and len(message) < 200
    steps, problem = read_upload("x" * 500 + ".png", raw)
    assert steps is None and problem.endswith(f"cannot be used: {message}.")
    assert "(504 characters)" in problem and len(problem) < 320
