"""dashboard.figures.diagram: columns of units, thumbnails, edges by weight, clicks."""

import base64
import struct
import zlib

import numpy as np

from dashboard.figures.diagram import WIDTHS, diagram_figure, ink_rgb, png, signed_rgb
from mnist_np import MLP, lab

from .conftest import title_text


def _nodes(fig):
    return [t for t in fig.data if t.mode and "markers" in t.mode]


def test_every_shown_unit_is_a_clickable_node_with_its_layer_and_number(net):
    x = np.linspace(0, 1, 16, dtype=np.float32)
    view = lab.diagram_view(net, x, max_units=4, top_k=2)
    fig = diagram_figure(view, selected=(2, int(view.layers[1].units[1])))
    nodes = _nodes(fig)
    assert len(nodes) == 3  # hidden 1, hidden 2, output
    for l, (trace, layer) in enumerate(zip(nodes, view.layers), start=1):
        assert [list(c) for c in trace.customdata] == [[l, int(u)] for u in layer.units]
    assert nodes[0].marker.symbol == "square-open"  # frames on the receptive fields
    assert list(nodes[2].text) == [str(d) for d in range(4)]  # the output's digits
    assert list(nodes[1].marker.line.width).count(3.0) == 1  # the selected one is ringed
    # the digit and one thumbnail per first-layer unit, as PNG images
    assert len(fig.layout.images) == 1 + len(view.layers[0].units)
    assert all(i.source.startswith("data:image/png;base64,") for i in fig.layout.images)
    assert f"it answers {view.prediction}" in title_text(fig)


def test_a_big_layer_says_how_many_of_its_units_are_shown():
    net = MLP([16, 40, 10], seed=0)
    view = lab.diagram_view(net, np.ones(16, np.float32), max_units=8)
    heads = [a.text for a in diagram_figure(view).layout.annotations]
    assert "the 8 most active<br>of 40 units" in heads[1] and "most active" not in heads[2]


def test_edges_are_the_views_edges_coloured_by_sign_and_sized_by_strength(net):
    view = lab.diagram_view(net, np.full(16, 0.5, np.float32), max_units=5, top_k=2)
    fig = diagram_figure(view)
    lines = [t for t in fig.data if t.mode == "lines"]
    drawn = sum(np.count_nonzero(np.isnan(np.asarray(t.x, float))) for t in lines)
    assert drawn == sum(len(w) for _, _, w in view.edges)
    for t in lines:
        assert t.line.width in WIDTHS
        assert ("214, 39, 40" in t.line.color) or ("31, 119, 180" in t.line.color)
    strongest = [t for t in lines if t.line.width == WIDTHS[-1]]
    assert strongest  # the largest |w| of each layer pair is in the widest third


def test_switched_off_units_are_grey():
    net = MLP([16, 6, 4], seed=2)
    lab.switch_off(net, 1, [0])
    view = lab.diagram_view(net, np.ones(16, np.float32), max_units=6)
    fig = diagram_figure(view)
    assert "switched off" in _nodes(fig)[0].hovertext[0]


def _decode(uri: str) -> tuple[int, int, bytes]:
    raw = base64.b64decode(uri.split(",", 1)[1])
    assert raw.startswith(b"\x89PNG\r\n\x1a\n")
    w, h = struct.unpack(">II", raw[16:24])
    length = struct.unpack(">I", raw[33:37])[0]
    assert raw[37:41] == b"IDAT"
    return w, h, zlib.decompress(raw[41:41 + length])


def test_png_holds_the_pixels():
    rgb = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    w, h, data = _decode(png(rgb))
    assert (w, h) == (3, 2)
    assert data == b"\x00" + rgb[0].tobytes() + b"\x00" + rgb[1].tobytes()


def test_image_colours():
    assert ink_rgb(np.array([[0.0, 1.0]])).tolist() == [[[255] * 3, [0] * 3]]
    rgb = signed_rgb(np.array([[-2.0, 0.0, 2.0]]))
    assert rgb[0, 1].tolist() == [255, 255, 255]
    assert rgb[0, 0, 2] > rgb[0, 0, 0] and rgb[0, 2, 0] > rgb[0, 2, 2]  # blue, red
    assert signed_rgb(np.zeros((2, 2))).min() == 255
