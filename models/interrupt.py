"""Stopping a running solve on request (Ctrl-C) instead of ignoring it.

HiGHS runs in-process (``highspy``): a Ctrl-C cannot raise in the middle of
its C++ code. Instead :data:`STOP` is a process-wide request flag; the caller
(the CLI) sets it from its SIGINT handler, and :func:`watch` subscribes HiGHS's
interrupt callbacks (simplex, IPM, MIP) so the solver stops at its next check
and returns its best solution so far (model status "interrupted"). The caller
then records the run as stopped by the user — never optimal.
"""

from __future__ import annotations

import threading
from typing import Any


class StopRequest:
    """A thread-safe "please stop" flag with the reason (``"user"``)."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.reason = ""

    def request(self, reason: str = "user") -> None:
        """Ask the running solve to stop."""
        self.reason = reason
        self._event.set()

    @property
    def requested(self) -> bool:
        """True once a stop was requested (until :meth:`clear`)."""
        return self._event.is_set()

    def clear(self) -> None:
        """Forget an earlier request (before a new solve)."""
        self.reason = ""
        self._event.clear()


STOP = StopRequest()
"""The process-wide stop request every HiGHS solve watches."""


def watch(highs: Any, stop: StopRequest = STOP) -> None:
    """Make the HiGHS instance ``highs`` stop at its next check once ``stop`` is requested.

    The interrupt callbacks also give Python a moment to run its signal
    handlers while HiGHS works (a handler only runs between Python bytecodes).
    """

    def on_check(event: Any) -> None:
        if stop.requested:
            if hasattr(event, "interrupt"):
                event.interrupt()
            else:  # older highspy
                event.data_in.user_interrupt = True

    for name in ("cbSimplexInterrupt", "cbIpmInterrupt", "cbMipInterrupt"):
        callback = getattr(highs, name, None)
        if callback is not None:
            callback.subscribe(on_check)
