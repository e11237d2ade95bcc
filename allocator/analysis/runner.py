"""Where sweep points run: a Dask ``LocalCluster`` by default, or an existing scheduler.

A :class:`Runner` owns (or borrows) a ``distributed.Client``. With no address
it starts a ``LocalCluster`` of worker *processes* (one per core, one thread
each: a solve is single-threaded unless the scenario asks otherwise, and
processes keep HiGHS instances apart); with ``tcp://HOST:PORT`` it connects to
a running scheduler and leaves that cluster alone when closed. Use it as a
context manager so the cluster and its processes are always shut down.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from allocator.errors import AllocatorError
from allocator.i18n import t

DASK_MISSING_HINT = "pip install 'dask[distributed]'"


def dask_available() -> bool:
    """Return True when ``dask.distributed`` can be imported."""
    return importlib.util.find_spec("distributed") is not None


def default_workers() -> int:
    """Return the number of local workers: the cores this process may use (at least 1)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def check_scheduler_address(address: str, where: str = "--scheduler") -> str:
    """Return ``address`` when it looks like ``tcp://HOST:PORT``; else a located error."""
    head, _, port = address.rpartition(":")
    if not address.startswith(("tcp://", "tls://")) or not port.isdigit() or "//" not in head:
        raise AllocatorError(
            t("sweep.err.bad_scheduler", where=where, address=address),
            hint=t("sweep.err.bad_scheduler_hint"),
        )
    return address


class Runner:
    """A Dask client on a local cluster (default) or on the scheduler at ``address``.

    Parameters
    ----------
    address
        ``tcp://HOST:PORT`` of a running ``dask scheduler``; None starts a
        ``LocalCluster``.
    n_workers
        Local workers (default: :func:`default_workers`); ignored with ``address``.
    threads_per_worker
        Threads per local worker (default 1).
    """

    def __init__(
        self,
        address: str | None = None,
        *,
        n_workers: int | None = None,
        threads_per_worker: int = 1,
    ) -> None:
        if not dask_available():
            raise AllocatorError(t("sweep.err.no_dask"), hint=DASK_MISSING_HINT)
        from distributed import Client, LocalCluster

        self.address = address
        self.cluster: Any = None
        if address is None:
            self.cluster = LocalCluster(
                n_workers=n_workers or default_workers(),
                threads_per_worker=threads_per_worker,
                processes=True,
                host="127.0.0.1",
                dashboard_address=":0",  # a free port: never clashes with another cluster
            )
            self.client = Client(self.cluster)
        else:
            check_scheduler_address(address)
            try:
                self.client = Client(address, timeout="10s")
            except OSError as exc:
                raise AllocatorError(
                    t("sweep.err.no_scheduler", address=address, error=exc),
                    hint=t("sweep.err.no_scheduler_hint"),
                ) from exc

    @property
    def dashboard_link(self) -> str | None:
        """The dashboard's address when the scheduler serves one, else None.

        A local scheduler without ``bokeh`` serves only a page asking for it,
        so no address is given then.
        """
        if self.cluster is not None and importlib.util.find_spec("bokeh") is None:
            return None
        try:
            services = self.client.scheduler_info().get("services", {})
        except Exception:  # noqa: BLE001 - the dashboard is a convenience
            return None
        return str(self.client.dashboard_link) if "dashboard" in services else None

    @property
    def n_workers(self) -> int:
        """The number of workers connected now."""
        return len(self.client.scheduler_info().get("workers", {}))

    def scatter(self, value: Any) -> Any:
        """Send ``value`` to every worker once; return its future (pass it to :meth:`submit`)."""
        return self.client.scatter(value, broadcast=True)

    def submit(self, fn: Callable[..., Any], *args: Any, key: str) -> Any:
        """Run ``fn(*args)`` on a worker; ``key`` names the task (the point's hash)."""
        return self.client.submit(fn, *args, key=key, pure=False, retries=2)

    def as_completed(self, futures: Sequence[Any]) -> Iterator[Any]:
        """Yield the futures as they finish."""
        from distributed import as_completed

        yield from as_completed(list(futures))

    def close(self) -> None:
        """Close the client, and the local cluster when this runner started it."""
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()
            self.cluster = None

    def __enter__(self) -> Runner:
        """Enter: the runner itself."""
        return self

    def __exit__(self, *exc: object) -> None:
        """Exit: :meth:`close`."""
        self.close()
