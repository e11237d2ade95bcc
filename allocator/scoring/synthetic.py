"""Synthetic firms for scoring tests and benchmarks (random but plausible magnitudes)."""

from __future__ import annotations

import numpy as np
import pandas as pd

NONE = np.array(None, dtype=object)
"""A missing cell for ``np.where`` (an object scalar array; ``None`` itself is not array-like)."""


def synth_firms(
    n: int, seed: int = 0, applicants: float = 0.0, missing_emis: float = 0.1
) -> pd.DataFrame:
    """Return ``n`` plausible firms (规上/规下/service mix, three zones, some unrated)."""
    rng = np.random.default_rng(seed)
    land = rng.uniform(5, 200, n)
    rev = np.exp(rng.normal(8, 1.2, n))
    va = rev * rng.uniform(0.15, 0.35, n)
    emis = rng.uniform(0, 3, (n, 4))
    emis[rng.random(n) < missing_emis] = np.nan
    kind = np.where(rng.random(n) < applicants, "applicant", "existing")
    return pd.DataFrame(
        {
            "firm_id": [f"F{i:06d}" for i in range(n)],
            "name": [f"企业{i}" for i in range(n)],
            "kind": kind,
            "zone_id": np.where(kind == "existing", rng.choice(["Z1", "Z2", "Z3"], n), NONE),
            "candidate_zones": np.where(kind == "applicant", rng.choice(["Z1;Z2", "Z3"], n), NONE),
            "industry": rng.choice(
                ["C39", "C26", "C17", "D44", "G59"], n, p=[0.4, 0.3, 0.2, 0.05, 0.05]
            ),
            "is_service": rng.random(n) < 0.1,
            "tax_wan": rev * rng.uniform(0.02, 0.08, n),
            "value_added_wan": va,
            "revenue_wan": rev,
            "rd_wan": rev * rng.uniform(0, 0.06, n),
            "employees": rng.integers(5, 500, n).astype(float),
            "energy_tce": va / rng.uniform(1, 5, n),
            "electricity_mwh": va * rng.uniform(0.5, 3, n),
            "cod_t": emis[:, 0],
            "nh3n_t": emis[:, 1],
            "so2_t": emis[:, 2],
            "nox_t": emis[:, 3],
            "land_mu": np.where(kind == "existing", land, np.nan),
            "land_max_mu": np.where(kind == "applicant", land, np.nan),
            "founded_year": rng.integers(1990, 2024, n).astype(float),
            "under_construction": rng.random(n) < 0.02,
        }
    )
