"""Solve a built allocation model with HiGHS (default) or CBC; status is a value.

``run(built, ...) -> ModelSolution`` never raises for an ordinary outcome
(infeasible, time limit, a solver crash is ``error``); the status is read from
the solver itself, never from PuLP's ``LpStatus``: PuLP 3.3 maps a HiGHS run
stopped by its time limit with an incumbent to ``Optimal`` (sol_status 2),
which it is not. The reported objective is that of the plan written (the
values read back, binaries at 0/1, with the objective constant), and whether
a run is ``optimal`` is decided by :func:`models.status.classify` from that
objective and the bound, for HiGHS and CBC alike.

Modules: :mod:`~models.solver.dispatch` (``run``, fallback),
:mod:`~models.solver.highs` and :mod:`~models.solver.cbc` (one run each),
:mod:`~models.solver.start` (start heuristics and LP bounds),
:mod:`~models.solver.greedy` (a first plan without any LP),
:mod:`~models.solver.improve` (the neighbourhood search after the first plan),
:mod:`~models.solver.duals` (marginal values, relaxations),
:mod:`~models.solver.problem` (HiGHS matrix, LP/MPS files),
:mod:`~models.solver.solution` (:class:`ModelSolution`),
:mod:`~models.solver.highs_api` (the highspy import),
:mod:`~models.solver.reuse` (a model held in HiGHS between what-ifs, changed in place).

HiGHS is driven through its Python API (highspy, the library behind
``pulp.HiGHS``) with the PuLP problem as the model of record: the problem is
handed over as one sparse matrix (``Highs.passModel``) instead of PuLP's
row-by-row ``addRow`` calls, the objective constant goes in as the model
offset (so HiGHS's gap and bound are those of the MODEL.md objective), and
the solution is written back to the PuLP variables. CBC (PuLP's bundled
binary, with PuLP's MPS writer and solution reader) runs as a subprocess
under a wall-clock guard, because it ignores its own time limit during its
root LP; it gets the same LP-rounding start and bound as HiGHS (below), and
a run stopped on time keeps the better of CBC's plan and the start.

Start and bound (``heuristic=True``, HiGHS and CBC): before branch and bound, the
LP relaxation is solved and rounded (locked pairs, then pairs by LP value,
then any applicant still without land on its free parcel of largest
capacity), the binaries are fixed and the outputs re-optimised: a feasible
plan. Its gap to the relaxation bound is often already within ``rel_gap``
(province scale: 0.07 %), and then the run ends ``optimal`` at that gap, by
the same rule HiGHS uses; otherwise the plan is HiGHS's start and the relaxation
bound is kept if HiGHS's own is weaker when it stops. Above
``CG_MIN_PAIRS`` candidate pairs the full relaxation is too slow, and the
bound comes from :func:`_aggregated_relaxation` (no ``plot_once``, one pair per
firm, zone and unit: within 0.01 % of the full LP bound on the province
case). :func:`_lp_relaxation` can also price pair columns in (column
generation, tested), kept for cases where that aggregate is loose.

After the start (``search``): from ``LNS_MIN_PAIRS`` candidate pairs on, where
HiGHS's branch and bound on the whole model finds nothing better in minutes, a
neighbourhood search over zones (:mod:`~models.solver.improve`) improves the
plan for the time left: the binaries of one or two zones (or where the
relaxation and the plan disagree) are freed, all else fixed at the plan, and the
sub-MIP solved from the plan; only strict improvements of the full model's
objective are kept, and the bound stays the relaxation's. Below that size branch
and bound follows the start (it can prove the bound there). Every better plan,
from the greedy's on, is reported to ``progress`` when it is found.

Time limit: every stage (the greedy plan, the relaxation, rounding, RENS,
branch and bound, marginal values) ends by the wall-clock limit, less a
reserve for reading the plan back; above ``GREEDY_MIN_PAIRS`` pairs a greedy
plan comes before any relaxation, and when the relaxation does not finish the
bound is the box bound (valid, loose). A plan that produces nothing is not
reported as a plan unless its bound proves it (``classify(empty_plan=True)``):
the run is then ``time_limit_no_solution`` with its bound. ``work_limit``
(HiGHS's ``mip_max_nodes``) is the deterministic limit beside the clock;
``ModelSolution.stopped_by`` names the limit that ended a run.

Marginal values (``duals=True``): the MIP solution's binaries are fixed, the
integrality dropped and the LP re-solved; ``ModelSolution.duals[row]`` is the
change of the MODEL.md objective (万元) per unit increase of the row's
right-hand side (per MWh, tce, t or 万元). With a maximised objective a
binding ``≤`` cap has a dual ≥ 0 and a binding ``≥`` floor a dual ≤ 0.
"""

from __future__ import annotations

from models.solver.cbc import CBC_GRACE_S, CBC_MARGIN_S
from models.solver.dispatch import FALLBACK_MIN_SHARE, run
from models.solver.duals import marginals, relaxations
from models.solver.highs_api import HIGHS_AVAILABLE
from models.solver.problem import sense_of, write_problem
from models.solver.reuse import ModelChange, ModelSession
from models.solver.solution import ModelSolution, Progress
from models.solver.start import CG_MIN_PAIRS
from models.status import Status

__all__ = [
    "CBC_GRACE_S",
    "CBC_MARGIN_S",
    "CG_MIN_PAIRS",
    "FALLBACK_MIN_SHARE",
    "HIGHS_AVAILABLE",
    "ModelChange",
    "ModelSession",
    "ModelSolution",
    "Progress",
    "Status",
    "marginals",
    "relaxations",
    "run",
    "sense_of",
    "write_problem",
]
