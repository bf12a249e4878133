"""The "Back to the pixels" page's views for the default network: seconds per view.

Trains ``PRESETS["default"]`` (784-256-10, as the app's first network) on MNIST, or
loads a network saved with ``--model``, then times each view as the page draws it with
one BLAS thread (as the app runs): the engine's work (``mnist_np.pixels``) and the figure
builders, including the figures' JSON (what Streamlit sends), for ``--digits`` test
digits, ``--repeats`` times each, after one untimed call of each view. Prints one line
per view with the median and the slowest; the goal is at most 1 s per view. The machine's
load average is printed too.

    python benchmarks/pixels.py --data-dir /path/to/mnist [--model net.npz] [--digits 20]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from dashboard.figures.pixels import (
    attack_figure,
    dreams_figure,
    epsilon_figure,
    saliency_figure,
)
from dashboard.figures.robustness import answer_figure
from mnist_np import MLP, Trainer
from mnist_np import pixels as px
from mnist_np.data import load_mnist
from mnist_np.metrics import confident_mistakes
from mnist_np.presets import PRESETS
from mnist_np.threads import set_threads

ENGINE: dict[str, list[float]] = {}  # the engine's share of each view


def _engine(name: str, run: Callable[..., object], *args):
    seconds, result = _timed(run, *args)
    ENGINE.setdefault(name, []).append(seconds)
    return result


def _saliency(net: MLP, x, label: int) -> None:
    s = _engine("saliency map", px.saliency, net, x)
    saliency_figure(s.x, s.gradient, s.target).to_json()
    answer_figure(s.proba, label).to_json()


def _attack(net: MLP, x, label: int, method: str) -> px.Attack:
    a = _engine(f"adversarial, {method}", px.attack, net, x, method)
    eps = a.epsilon or float(a.epsilons[-1])
    attack_figure(a.x, a.x_adv, eps, (a.answer_before, float(a.before.max())),
                  (a.answer_after, float(a.after.max()))).to_json()
    answer_figure(a.after, label).to_json()
    epsilon_figure(a.epsilons, a.flipped, a.epsilon).to_json()
    return a


def _dreams(net: MLP) -> px.Dreams:
    d = _engine("each digit's picture (10 classes)", px.dream, net)
    dreams_figure(d.X, d.classes, d.confidence).to_json()
    return d


def _timed(run: Callable[..., object], *args) -> tuple[float, object]:
    start = time.perf_counter()
    result = run(*args)
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default=os.environ.get("MNIST_DIR"))
    parser.add_argument("--model", help="a network saved by mnist_np (default: train one)")
    parser.add_argument("--digits", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    set_threads(1)
    data = load_mnist(args.data_dir)
    if args.model:
        net = MLP.load(args.model)
    else:
        net, config = PRESETS["default"].build()
        seconds, _ = _timed(lambda: [None for _ in Trainer(net, data.X_train, data.y_train,
                                                           config).run()])
        print(f"trained the default preset in {seconds:.1f} s")
    print(f"network {net}, test accuracy {net.accuracy(data.X_test, data.y_test):.2%}, "
          f"load {os.getloadavg()[0]:.2f}")

    X, y = data.X_test, data.y_test
    # one untimed call per view first: the first figure of a process also pays for
    # plotly's lazy imports and validators (~0.6 s), which a running app has paid already
    _saliency(net, X[0], int(y[0]))
    _attack(net, X[0], int(y[0]), px.FGSM)
    _dreams(net)
    ENGINE.clear()
    views: dict[str, list[float]] = {}
    epsilons: dict[str, list[float]] = {px.FGSM: [], px.ITERATIVE: []}
    confidence = []
    for r in range(args.repeats):
        for i in range(args.digits):
            x, label = X[i], int(y[i])
            views.setdefault("saliency map", []).append(_timed(_saliency, net, x, label)[0])
            for method in (px.FGSM, px.ITERATIVE):
                seconds, a = _timed(_attack, net, x, label, method)
                views.setdefault(f"adversarial, {method}", []).append(seconds)
                if r == 0 and isinstance(a, px.Attack) and a.epsilon is not None:
                    epsilons[method].append(a.epsilon)
        seconds, d = _timed(_dreams, net)
        views.setdefault("each digit's picture (10 classes)", []).append(seconds)
        if isinstance(d, px.Dreams):
            confidence = d.confidence.tolist()
        views.setdefault("mistakes: test-set predictions", []).append(
            _timed(lambda: confident_mistakes(net.predict_proba(X), y))[0])
    print(f"{'view (engine + figures as JSON)':<38} {'median':>9} {'slowest':>9}  runs"
          "   engine: median  slowest")
    for name, times in views.items():
        engine = ENGINE.get(name, times)
        print(f"{name:<38} {statistics.median(times) * 1e3:7.1f} ms {max(times) * 1e3:7.1f} ms"
              f"  {len(times):4}   {statistics.median(engine) * 1e3:11.1f} ms "
              f"{max(engine) * 1e3:6.1f} ms")
    for method, found in epsilons.items():
        if found:
            print(f"smallest ε that changes the answer, {method}: "
                  f"median {statistics.median(found):g} (min {min(found):g}, "
                  f"max {max(found):g}) over {len(found)} of {args.digits} digits")
    print("each digit's picture: the network's output for its digit "
          + " ".join(f"{c:.2f}" for c in confidence))
    print(f"load {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
