"""Where a study's trials run: a Dask cluster.

By default a ``LocalCluster`` of worker processes that the study starts and stops (one
worker per free core, one thread and one BLAS thread each). With a scheduler address
(``--scheduler`` or ``MNIST_NP_DASK_SCHEDULER``, e.g. ``tcp://host:8786``) the same code
runs on a real cluster. Problems are one line (:class:`ClusterError`).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager

import dask
from distributed import Client, LocalCluster

SCHEDULER_ENV = "MNIST_NP_DASK_SCHEDULER"
CONNECT_SECONDS = 10
# A task whose worker dies is run again on another worker once; a second death fails the
# trial (a network too big for a worker's memory must not kill worker after worker).
ALLOWED_FAILURES = 1
# A local cluster's settings: besides the retry, Dask's own bookkeeping that a study never
# reads is off or rarer. Each was CPU taken from the trials on the same cores (BENCHMARKS.md,
# issue 15): the worker's statistical profiler (a look at the training thread's stack
# every 10 ms), the event loops' 20 ms tick, the system monitor every 0.5 s and the memory
# monitor every 0.1 s (the nanny still ends a worker at 95% of the memory, within 0.5 s).
LOCAL_CONFIG = {
    "distributed.scheduler.allowed-failures": ALLOWED_FAILURES,
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",
    "distributed.admin.system-monitor.interval": "2s",
    "distributed.worker.memory.monitor-interval": "500ms",
}
_ADDRESS = re.compile(r"(tcp|tls|ucx|inproc)://[^\s/]+")


class ClusterError(Exception):
    """A one-line reason the cluster cannot be used."""


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def free_cores() -> int:
    """Cores not busy now: the usable ones minus the last minute's load, at least 1."""
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):
        load = 0.0
    return max(1, usable_cores() - int(load + 0.5))


def scheduler_address(given: str | None) -> str | None:
    """The scheduler to use (``given``, else ``MNIST_NP_DASK_SCHEDULER``), or None for a
    local cluster; ClusterError when it is not an address."""
    address = (given or os.environ.get(SCHEDULER_ENV) or "").strip()
    if not address:
        return None
    if not _ADDRESS.fullmatch(address):
        where = "--scheduler" if given else SCHEDULER_ENV
        raise ClusterError(f"{where} must be a Dask scheduler address such as "
                           f"tcp://host:8786, got {address[:60]!r}")
    return address


def quiet_logs() -> None:
    """Dask's own log lines off in this process: a lost scheduler or a killed worker would
    print tracebacks to stderr while reconnecting; the study says what happened in one
    line instead."""
    for name in ["distributed", *logging.root.manager.loggerDict]:
        if name == "distributed" or name.startswith("distributed."):
            logging.getLogger(name).setLevel(logging.CRITICAL + 1)
    # a local scheduler closing under a pending request (a worker's queue get, when the
    # reports went through queues) left a "Task exception was never retrieved" (a
    # TimeoutError) on asyncio's logger
    logging.getLogger("asyncio").setLevel(logging.CRITICAL + 1)


@contextmanager
def connect(address: str | None, workers: int) -> Iterator[Client]:
    """A client of the scheduler at ``address``, or of a local cluster of ``workers``
    processes started here and stopped on leaving."""
    quiet_logs()
    cluster = None
    try:
        if address is None:
            with dask.config.set(LOCAL_CONFIG):
                cluster = LocalCluster(n_workers=workers, threads_per_worker=1,
                                       processes=True, dashboard_address=":0",
                                       host="127.0.0.1", silence_logs=logging.CRITICAL)
            # a trial's result (the network's bytes) straight from its worker, not
            # through the scheduler (in this process too): one copy fewer to receive
            client = Client(cluster, set_as_default=False, direct_to_workers=True)
        else:
            client = Client(address, timeout=CONNECT_SECONDS, set_as_default=False)
    except (OSError, TimeoutError, RuntimeError) as e:  # RuntimeError: a nanny failed
        if cluster is not None:
            cluster.close()
        where = "start a local Dask cluster" if address is None else \
            f"reach the Dask scheduler at {address}"
        raise ClusterError(f"cannot {where}: {str(e).splitlines()[0][:200]}") from None
    try:
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def worker_count(client: Client) -> int:
    return len(client.scheduler_info().get("workers", {}))
