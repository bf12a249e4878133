"""dashboard.canvas: the drawing canvas's value decoded to pixels, or refused in one line."""

import numpy as np
import pytest

from dashboard.canvas import PIXELS, decode_image

from ..conftest import canvas_value


def test_the_canvas_value_decodes_to_the_drawn_pixels():
    image = np.arange(PIXELS * PIXELS, dtype=np.uint32).astype(np.uint8).reshape(PIXELS, PIXELS)
    np.testing.assert_array_equal(decode_image(canvas_value(image)["image"]), image)
    assert decode_image(None) is None
    for bad in ({"w": 2, "h": 2, "b64": "AAAA"}, {"w": 2}, {"w": 1, "h": 1, "b64": "!!"},
                {"w": 5000, "h": 1, "b64": ""}, "text"):
        with pytest.raises(ValueError, match="press Clear and draw again"):
            decode_image(bad)
