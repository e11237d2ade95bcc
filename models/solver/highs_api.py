"""The highspy import, its banner, and the two ways this package runs a ``Highs``."""

from __future__ import annotations

import contextlib
import os
from typing import Any

try:  # pragma: no cover - availability depends on the environment
    import highspy

    HIGHS_AVAILABLE = True
except ImportError:  # pragma: no cover
    highspy = None  # type: ignore[assignment]  # the module, or None without highspy
    HIGHS_AVAILABLE = False


def _swallow_highs_banner() -> None:
    """Create the process's first ``Highs()`` with file descriptor 1 muted.

    HiGHS prints its copyright banner from C++ straight to stdout the first time
    a ``Highs`` object is made in a process, whatever ``output_flag`` says; it
    would land in the middle of the CLI's progress display and in piped output.
    """
    if highspy is None:  # pragma: no cover
        return
    with contextlib.suppress(OSError, ValueError):
        import sys

        sys.stdout.flush()
        saved = os.dup(1)
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, 1)
            highspy.Highs()
        finally:
            os.dup2(saved, 1)
            os.close(saved)
            os.close(devnull)


_swallow_highs_banner()


def _hrun(h: Any) -> None:
    """Run HiGHS; retry once after resetting its global thread scheduler.

    HiGHS refuses to run (status "Not Set") when the ``threads`` option differs
    from the size of the process-wide scheduler that an earlier instance
    started; resetting the scheduler and running again is the documented cure.
    """
    h.run()
    if h.getModelStatus() == highspy.HighsModelStatus.kNotset:  # type: ignore[union-attr]
        highspy.Highs.resetGlobalScheduler(True)  # type: ignore[union-attr]
        h.run()


def _solve_quiet(lp: Any, time_limit_s: float | None = None) -> Any:
    """Solve ``lp`` (a HighsLp, bounds as set) in a fresh silent Highs; return it.

    ``time_limit_s`` caps the solve (at least 0.01 s): every stage of a run
    ends by the run's deadline.
    """
    h = highspy.Highs()  # type: ignore[union-attr]
    h.setOptionValue("output_flag", False)
    if time_limit_s is not None:
        h.setOptionValue("time_limit", max(0.01, float(time_limit_s)))
    h.passModel(lp)
    _hrun(h)
    return h
