"""A model with integer variables beyond y and x (a future family's flags) is solved as a MIP.

The LP-rounding start rounds only the firm and parcel binaries; a plan built from it
would carry other integer variables at their fractional LP values and still be called
optimal. Such a model goes to the solver without the start.
"""

from __future__ import annotations

import pulp
import pytest

from models import synthetic
from models.allocation import build
from models.data import ModelParams
from models.solver import Status, run


def test_extra_integer_variable_comes_back_integral():
    built = build(synthetic.tiny(3, 4, 6), ModelParams())
    z = pulp.LpVariable("extra_flag", cat=pulp.LpBinary)
    built.prob += 2 * z <= 1, "extra_flag_half"  # the LP relaxation takes z = 0.5
    objective = built.prob.objective
    built.prob.setObjective(objective + 1000.0 * z)  # and wants it as large as it may be
    # a family creates its variables through the build context, which counts binaries
    built.size = {**built.size, "binaries": built.size["binaries"] + 1}
    sol = run(built, time_limit_s=30, rel_gap=1e-9)
    assert sol.status == Status.OPTIMAL
    assert z.value() == pytest.approx(0.0, abs=1e-9)  # integral: 0, never 0.5
    assert sol.objective == pytest.approx(pulp.value(built.prob.objective), rel=1e-9)
