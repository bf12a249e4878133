"""How many threads numpy's BLAS uses for the matrix products of training.

The CLI and the dashboard train with one thread. On the shared 2-core machine a second
OpenBLAS thread made training 3-16x slower whenever the other core was busy (the app's
server and browser keep it busy), and gained at most 1.3x when it was idle: see
BENCHMARKS.md, "Threads". threadpoolctl changes the count at runtime; without it only
``OPENBLAS_NUM_THREADS``, set before Python starts, does.
"""

from __future__ import annotations


def blas_threads() -> int | None:
    """numpy's BLAS thread count, or None when threadpoolctl cannot tell."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    counts = [i["num_threads"] for i in threadpool_info()
              if i.get("user_api") == "blas" and "numpy" in i.get("filepath", "")]
    return counts[0] if counts else None


def set_threads(n: int) -> bool:
    """Use ``n`` threads in numpy's BLAS from now on (one is the right count to train
    with on a shared machine: see the module's docstring).

    Returns False when numpy's BLAS cannot be changed at runtime (threadpoolctl is not
    installed); then only ``OPENBLAS_NUM_THREADS``, set before starting Python, works.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return False
    threadpool_limits(limits=n, user_api="blas")
    return True
