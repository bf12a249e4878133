"""The network diagram and the neuron lab: how long each takes, for the default network and
a 4 x 1,024 one (issue 17: the diagram drawn in at most 1 s for 4 x 1,024).

For each network and number of units shown, the median of ``--repeats`` runs of:
``view`` (``mnist_np.lab.diagram_view``: one forward pass, the units and edges picked),
``figure`` (``dashboard.figures.diagram.diagram_figure``: the plotly figure with its PNG
thumbnails), ``json`` (``fig.to_json()``, what Streamlit sends) and, with ``--browser``,
``draw`` (``Plotly.newPlot`` of that JSON in headless Chromium, until the plot is drawn).
Then the neuron lab's views as the page computes them: one unit's card (activations,
top digits, votes) and accuracy per digit before and after a change on 2,000 test
digits, the pruning curve (11 points) on 1,000.

    python benchmarks/diagram.py [--data-dir MNIST folder] [--repeats 5] [--browser]

Weights are the initial ones (timings do not depend on training); digits are MNIST's
test digits (``--data-dir``, default ``MNIST_DIR``) or else the offline sample's 1,000.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from dashboard.figures.diagram import diagram_figure  # noqa: E402
from mnist_np import MLP, lab  # noqa: E402
from mnist_np.data import load_mnist, load_sample  # noqa: E402
from mnist_np.threads import set_threads  # noqa: E402

NETWORKS = {"784-256-10 (default)": [784, 256, 10],
            "784-1024x4-10": [784, 1024, 1024, 1024, 1024, 10]}
LAB_DIGITS, CURVE_DIGITS = 2000, 1000  # as dashboard/sections/lab.py


def median_seconds(repeats: int, work, *args) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work(*args)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def card(net: MLP, X) -> None:
    a = lab.activations(net, X, 1)[:, 0]
    lab.top_activating(a, 8)
    lab.votes(net, X, 1, 0)


def before_after(net: MLP, X, y) -> None:
    copy = net.copy()
    change = lab.switch_off(copy, 1, [0])
    lab.accuracy_per_digit(copy, X, y)
    lab.undo(copy, change)
    lab.accuracy_per_digit(copy, X, y)


def curve(net: MLP, X, y) -> None:
    scores = lab.importance(net, X, 1)
    lab.pruning_curve(net, X, y, 1, lab.curve_points(net.layer_sizes[1]), scores)


class Browser:
    """Headless Chromium with plotly.js loaded (the copy the plotly package ships)."""

    def __init__(self) -> None:
        import plotly
        from playwright.sync_api import sync_playwright

        self._pw = sync_playwright().start()
        self._browser = self._pw.chromium.launch(
            executable_path=os.environ.get("CHROMIUM", "/usr/bin/chromium"),
            args=["--no-sandbox"])
        self.page = self._browser.new_page(viewport={"width": 1400, "height": 1000})
        js = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
        self.page.set_content("<div id='plot' style='width:1200px'></div>")
        self.page.add_script_tag(path=str(js))

    def draw_seconds(self, figure_json: str) -> float:
        """Seconds from ``Plotly.newPlot`` to the plot drawn (its promise resolved and a
        frame painted)."""
        return self.page.evaluate("""async (text) => {
            const fig = JSON.parse(text);
            const div = document.getElementById('plot');
            Plotly.purge(div);
            const start = performance.now();
            await Plotly.newPlot(div, fig.data, fig.layout);
            await new Promise(r => requestAnimationFrame(() => r()));
            return (performance.now() - start) / 1000;
        }""", figure_json)

    def close(self) -> None:
        self._browser.close()
        self._pw.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default=os.environ.get("MNIST_DIR"))
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--browser", action="store_true",
                        help="also time Plotly.newPlot in headless Chromium")
    args = parser.parse_args()
    set_threads(1)  # as the app trains and draws: one BLAS thread
    data = load_mnist(args.data_dir) if args.data_dir else load_sample()
    X, y = data.X_test[:LAB_DIGITS], data.y_test[:LAB_DIGITS]
    browser = Browser() if args.browser else None
    print(f"median of {args.repeats}, seconds; load {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} cores")
    print(f"{'network':22} {'shown':>5} {'view':>7} {'figure':>7} {'json':>7} {'draw':>7} "
          f"{'total':>7}  {'KB':>6}")
    try:
        for name, sizes in NETWORKS.items():
            net = MLP(sizes, seed=0)
            x = data.X_test[0]
            for shown in (16, 32):
                view = lab.diagram_view(net, x, shown, 3)
                fig = diagram_figure(view)
                text = fig.to_json()
                t_view = median_seconds(args.repeats, lab.diagram_view, net, x, shown, 3)
                t_fig = median_seconds(args.repeats, diagram_figure, view)
                t_json = median_seconds(args.repeats, fig.to_json)
                t_draw = (statistics.median(browser.draw_seconds(text)
                                            for _ in range(args.repeats))
                          if browser else float("nan"))
                total = t_view + t_fig + t_json + (0 if browser is None else t_draw)
                print(f"{name:22} {shown:5} {t_view:7.3f} {t_fig:7.3f} {t_json:7.3f} "
                      f"{t_draw:7.3f} {total:7.3f}  {len(text) / 1024:6.0f}", flush=True)
        print(f"\nneuron lab, hidden layer 1, unit 0: card and before/after on {len(X):,} test "
              f"digits, pruning curve on {len(X[:CURVE_DIGITS]):,}")
        for name, sizes in NETWORKS.items():
            net = MLP(sizes, seed=0)
            points = len(lab.curve_points(sizes[1]))
            t_curve = median_seconds(args.repeats, curve, net, X[:CURVE_DIGITS],
                                     y[:CURVE_DIGITS])
            print(f"{name:22} card {median_seconds(args.repeats, card, net, X):6.3f}  "
                  f"before/after {median_seconds(args.repeats, before_after, net, X, y):6.3f}"
                  f"  pruning curve ({points} points) {t_curve:6.3f}", flush=True)
    finally:
        if browser is not None:
            browser.close()
    print(json.dumps({"load": os.getloadavg()}), file=sys.stderr)


if __name__ == "__main__":
    main()
