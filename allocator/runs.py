"""Results and run folders.

A solve produces a :class:`Result` (typed status, bound, gap, timings, model
size, per-firm / per-zone / per-plot tables, marginal values, diagnosis). It is
written as a run folder ``runs/<scenario>-<YYYYmmdd-HHMMSS>/`` holding
``summary.json``, ``scenario.toml`` (the resolved scenario), ``firms.parquet``,
``zones.parquet``, ``plots.parquet``, ``marginals.parquet``, ``diagnosis.json``
and ``solver.log`` (CONTRIBUTING.md). The folder is written atomically: files
go to a hidden temporary folder in the same parent, which is renamed into place
only when every file is written, so an interrupted run leaves no half folder.
:func:`load_run` reads a folder back as a :class:`Run`.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
import tomllib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from allocator.diagnosis import Diagnosis
from allocator.errors import AllocatorError
from allocator.i18n import t
from allocator.kpis import Kpis, compute_kpis
from allocator.settings import SolverSettings
from allocator.status import Status, has_plan, parse_status

FIRM_COLUMNS = (
    "firm_id name kind zone_id class served parcel_id land_mu electricity_mwh energy_tce "
    "cod_t nh3n_t so2_t nox_t value_added_wan tax_wan request_met_share reason"
).split()
ZONE_COLUMNS = (
    "zone_id name land_used_mu land_free_mu electricity_mwh electricity_cap_mwh energy_tce "
    "energy_cap_tce tax_per_mu_before tax_per_mu_after va_per_mu_before va_per_mu_after"
).split()
PLOT_COLUMNS = (
    "plot_id zone_id land_use area_mu status_before occupant_before firm_id_after outcome "
    "class_after redline_share"
).split()
MARGINAL_COLUMNS = "row family zone_id unit_id value unit slack binding".split()
RUN_FILES = (
    "summary.json",
    "scenario.toml",
    "firms.parquet",
    "zones.parquet",
    "plots.parquet",
    "marginals.parquet",
    "diagnosis.json",
    "solver.log",
)


def empty_table(columns: list[str]) -> pd.DataFrame:
    """Return an empty DataFrame with ``columns``."""
    return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})


def versions() -> dict[str, str]:
    """Return the versions of the packages a result depends on."""
    out: dict[str, str] = {}
    for pkg in ("bonded-zone-allocator", "numpy", "pandas", "pulp", "highspy"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "unknown"
    return out


@dataclass
class Result:
    """The outcome of one solve; ordinary outcomes (infeasible, time limit) are values.

    ``objective``/``best_bound``/``gap`` are None when there is no solution.
    Tables follow CONTRIBUTING.md and are empty (with their columns) when there
    is no solution; :attr:`kpis` then holds None for every figure.
    """

    status: Status
    objective: float | None = None
    best_bound: float | None = None
    gap: float | None = None
    timings: dict[str, float] = field(default_factory=dict)
    model_size: dict[str, int] = field(default_factory=dict)
    firms: pd.DataFrame = field(default_factory=lambda: empty_table(FIRM_COLUMNS))
    zones: pd.DataFrame = field(default_factory=lambda: empty_table(ZONE_COLUMNS))
    plots: pd.DataFrame = field(default_factory=lambda: empty_table(PLOT_COLUMNS))
    marginals: pd.DataFrame = field(default_factory=lambda: empty_table(MARGINAL_COLUMNS))
    diagnosis: Diagnosis = field(default_factory=Diagnosis)
    scenario_name: str = ""
    scenario_hash: str = ""
    scenario_toml: str = ""
    case_path: str = ""
    case_hash: str = ""
    solver: str = ""
    solver_version: str = ""
    solver_log: str = ""
    message: str = ""
    kpis: Kpis = field(default_factory=Kpis.none)
    settings: SolverSettings | None = None
    """The solver settings this result was solved with."""
    stopped_by: str | None = None
    """What ended the solve early: ``time_limit``, ``work_limit``, ``user`` (Ctrl-C or the app's
    stop), or None when it ended on its own (proven optimal, infeasible, gap reached)."""
    reuse: dict[str, Any] = field(default_factory=dict)
    """How a what-if session served the solve (``reused``, ``reason``, ``changed``; empty
    without one): :class:`allocator.solve.ReuseSession`."""
    run_path: Path | None = None
    prepared: Any = field(default=None, repr=False, compare=False)
    """The :class:`~allocator.prepare.Prepared` inputs (not written to the run folder)."""
    built: Any = field(default=None, repr=False, compare=False)
    solution: Any = field(default=None, repr=False, compare=False)
    created_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    def __post_init__(self) -> None:
        """Accept the JSON forms (a status string, a diagnosis or KPI dict) as typed values."""
        self.status = parse_status(self.status)
        if not isinstance(self.diagnosis, Diagnosis):
            self.diagnosis = Diagnosis.from_json(self.diagnosis)
        if not isinstance(self.kpis, Kpis):
            self.kpis = Kpis.from_dict(self.kpis)

    @property
    def has_solution(self) -> bool:
        """True when the tables hold an allocation (optimal or feasible)."""
        return has_plan(self.status)

    @property
    def build_seconds(self) -> float:
        """Seconds to build the model."""
        return float(self.timings.get("build", 0.0))

    @property
    def solve_seconds(self) -> float:
        """Seconds in the solver."""
        return float(self.timings.get("solve", 0.0))

    @property
    def summary(self) -> dict[str, Any]:
        """The ``summary.json`` content."""
        return {
            "status": str(parse_status(self.status)),
            "objective": _num(self.objective),
            "best_bound": _num(self.best_bound),
            "gap": _num(self.gap),
            "build_seconds": round(self.build_seconds, 4),
            "solve_seconds": round(self.solve_seconds, 4),
            "timings": {k: round(float(v), 4) for k, v in self.timings.items()},
            "model_size": {k: int(v) for k, v in self.model_size.items()},
            "scenario_name": self.scenario_name,
            "scenario_hash": self.scenario_hash,
            "case_path": self.case_path,
            "case_hash": self.case_hash,
            "solver": self.solver,
            "versions": {**versions(), "solver": self.solver_version or self.solver},
            "created_at": self.created_at,
            "message": self.message,
            "kpis": {k: _num(v) for k, v in self.kpis.items()},
            "settings": self.settings.to_dict() if self.settings else None,
            "stopped_by": self.stopped_by,
            "reuse": self.reuse or None,
        }

    @property
    def scenario(self) -> dict[str, Any]:
        """The resolved scenario as a dict."""
        return tomllib.loads(self.scenario_toml) if self.scenario_toml else {}


def _num(value: Any) -> Any:
    if value is None:
        return None
    try:
        v = float(value)
    except (TypeError, ValueError):
        return value
    return None if math.isnan(v) or math.isinf(v) else v


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return _num(float(obj))
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, set | frozenset | tuple):
        return list(obj)
    return str(obj)


def _clean_json(obj: Any) -> Any:
    if isinstance(obj, float):
        return _num(obj)
    if isinstance(obj, dict):
        return {str(k): _clean_json(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean_json(v) for v in obj]
    return obj


def _write_json(path: Path, data: Any) -> None:
    text = json.dumps(_clean_json(data), ensure_ascii=False, indent=2, default=_json_default)
    path.write_text(text + "\n", encoding="utf-8")


def _parquet_ready(frame: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame(frame).reset_index(drop=True)
    for col in out.columns:
        if out[col].dtype == object:
            sample = out[col].dropna()
            if len(sample) and sample.map(lambda v: isinstance(v, list | tuple)).any():
                out[col] = out[col].map(
                    lambda v: ";".join(map(str, v)) if isinstance(v, list | tuple) else v
                )
    return out


def run_folder_name(scenario_name: str, when: datetime | None = None) -> str:
    """Return ``<scenario>-<YYYYmmdd-HHMMSS>`` (local time) with a safe scenario name."""
    when = when or datetime.now()
    from allocator.safety import safe_filename

    return f"{safe_filename(scenario_name or 'run')}-{when:%Y%m%d-%H%M%S}"


def write_run(result: Result, out_dir: str | Path = "runs") -> Path:
    """Write ``result`` as a run folder under ``out_dir`` atomically; return its path.

    Everything goes to a hidden temporary folder in ``out_dir`` first; only
    when all files are written is it renamed to the final name. On any
    failure the temporary folder is removed and the error re-raised.
    """
    from allocator.safety import sweep_leftovers, temp_prefix

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    sweep_leftovers(out)  # folders of writes that were killed
    base = run_folder_name(result.scenario_name or "run")
    tmp = Path(tempfile.mkdtemp(prefix=temp_prefix(base), dir=out))
    try:
        (tmp / "scenario.toml").write_text(result.scenario_toml, encoding="utf-8")
        for name in ("firms", "zones", "plots", "marginals"):
            _parquet_ready(getattr(result, name)).to_parquet(tmp / f"{name}.parquet", index=False)
        _write_json(tmp / "diagnosis.json", result.diagnosis.to_json())
        (tmp / "solver.log").write_text(result.solver_log or "", encoding="utf-8")
        # last: it carries the checksums of the files above (hand edits are flagged)
        _write_json(tmp / "summary.json", {**result.summary, CHECKSUMS_KEY: checksums(tmp)})
        final = out / base
        n = 1
        while True:
            try:
                os.rename(tmp, final)
                break
            except OSError:
                if not final.exists():
                    raise
                n += 1
                final = out / f"{base}-{n}"
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    result.run_path = final
    return final


@dataclass
class Run:
    """A run folder read back: tables, summary, resolved scenario, diagnosis."""

    path: Path
    summary: dict[str, Any]
    scenario: dict[str, Any]
    firms: pd.DataFrame
    zones: pd.DataFrame
    plots: pd.DataFrame
    marginals: pd.DataFrame
    diagnosis: Diagnosis

    @property
    def status(self) -> Status:
        """The typed solve status."""
        return parse_status(self.summary.get("status"))

    @property
    def settings(self) -> SolverSettings | None:
        """The solver settings of the run (None for runs written before they were recorded)."""
        return SolverSettings.from_dict(self.summary.get("settings"))

    @property
    def kpis(self) -> Kpis:
        """Return the run's KPIs, computed from its tables (as when it was written).

        The tables are the plan; ``summary.json`` keeps the same figures for
        readers without pandas. A run without a plan has no figures.
        """
        if not self.has_solution:
            return Kpis.none()
        return compute_kpis(self.firms, self.plots, getattr(self, "zones", None))

    @property
    def name(self) -> str:
        """The run folder's name."""
        return self.path.name

    @property
    def scenario_name(self) -> str:
        """The scenario's name."""
        return str(self.summary.get("scenario_name", ""))

    @property
    def has_solution(self) -> bool:
        """True when the tables hold an allocation."""
        return has_plan(self.status)

    def load_case(self) -> Any:
        """Load the case this run was solved on (from ``summary.case_path``)."""
        from allocator.case import load_case  # lazily: geopandas is heavy

        return load_case(self.summary["case_path"])

    def load_scenario(self) -> Any:
        """Return the resolved scenario as a :class:`~allocator.scenario.Scenario`."""
        from allocator.scenario import load_scenario

        return load_scenario(self.path / "scenario.toml")


CHECKSUMS_KEY = "checksums"
"""``summary.json`` key: sha256 of each other run file, written by :func:`write_run`."""

CHECKED_FILES = tuple(n for n in RUN_FILES if n not in ("summary.json", "solver.log"))
"""Run files whose content is checksummed (the solver log is informative only)."""


def checksums(folder: Path) -> dict[str, str]:
    """Return ``{file: sha256}`` of the run files in ``folder`` (:data:`CHECKED_FILES`)."""
    import hashlib

    out = {}
    for name in CHECKED_FILES:
        h = hashlib.sha256()
        with (folder / name).open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        out[name] = h.hexdigest()
    return out


def edited_files(run: Run) -> list[str]:
    """Return the run files changed since the run was written (checksum differs).

    Runs written before checksums were recorded return an empty list.
    """
    recorded = run.summary.get(CHECKSUMS_KEY)
    if not isinstance(recorded, dict):
        return []
    now = checksums(run.path)
    return [name for name in CHECKED_FILES if recorded.get(name) != now.get(name)]


def _read(path: Path, name: str, reader: Any) -> Any:
    """Read one run file with ``reader``; a damaged file is an error naming it."""
    try:
        return reader(path / name)
    except Exception as exc:  # noqa: BLE001 - parquet/json/toml readers raise many types
        detail = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise AllocatorError(
            t("err.run.damaged", path=path, file=name, error=detail),
            hint=t("err.run.damaged_hint"),
        ) from exc


def _json(p: Path) -> Any:
    return json.loads(p.read_text(encoding="utf-8"))


def _toml(p: Path) -> dict[str, Any]:
    text = p.read_text(encoding="utf-8")
    return tomllib.loads(text) if text.strip() else {}


def load_run(path: str | Path) -> Run:
    """Read a run folder written by :func:`write_run`.

    A file changed since the run was written (its checksum in ``summary.json``
    differs) is logged as a warning (logger ``allocator``) and listed by
    :func:`edited_files`.

    Raises
    ------
    AllocatorError
        The folder is missing, lacks one of the run files, or a file is damaged
        (the message names the file).
    """
    path = Path(path)
    missing = [name for name in RUN_FILES if not (path / name).exists()]
    if missing:
        raise AllocatorError(
            t("err.run.not_a_run", path=path, missing=", ".join(missing)),
            hint=t("err.run.not_a_run_hint"),
        )
    summary = _read(path, "summary.json", _json)
    if not isinstance(summary, dict):
        raise AllocatorError(
            t("err.run.damaged", path=path, file="summary.json", error="not a JSON object"),
            hint=t("err.run.damaged_hint"),
        )
    scenario = _read(path, "scenario.toml", _toml)
    tables = {
        n: _read(path, f"{n}.parquet", pd.read_parquet)
        for n in ("firms", "zones", "plots", "marginals")
    }
    for n, columns in (("firms", ["firm_id"]), ("zones", ["zone_id"]), ("plots", ["plot_id"])):
        lacking = [c for c in columns if c not in tables[n].columns]
        if lacking:
            raise AllocatorError(
                t("err.run.damaged", path=path, file=f"{n}.parquet", error=f"no column {lacking}"),
                hint=t("err.run.damaged_hint"),
            )
    run = Run(
        path=path,
        summary=summary,
        scenario=scenario,
        diagnosis=_read(path, "diagnosis.json", lambda p: Diagnosis.from_json(_json(p))),
        **tables,
    )
    edited = edited_files(run)
    if edited:
        import logging

        logging.getLogger("allocator").warning(
            t("err.run.edited", path=path, files=", ".join(edited))
        )
    return run


def list_runs(out_dir: str | Path = "runs") -> list[Path]:
    """Return the complete run folders under ``out_dir``, newest first.

    Temporary folders left by killed writes are removed on the way (with a note
    in the ``allocator`` log); other hidden folders are ignored.
    """
    from allocator.safety import sweep_leftovers

    out = Path(out_dir)
    if not out.is_dir():
        return []
    sweep_leftovers(out)
    runs = [
        p
        for p in out.iterdir()
        if p.is_dir() and not p.name.startswith(".") and (p / "summary.json").exists()
    ]
    return sorted(runs, key=lambda p: p.stat().st_mtime, reverse=True)


# ----------------------------------------------------------------------------- run names

LABEL_FILE = "label.txt"
"""The run folder's optional short label the user gave it (not part of the checked run files)."""

MAX_LABEL_CHARS = 40
"""A run label is a short note ("方案二", "给局里看的"), not a description."""


def title_in(description: str, lang: str | None = None) -> str:
    """Return one language's part of a bilingual "中文 / English" title (else the whole text)."""
    import re

    from allocator.i18n import normalize_lang

    parts = re.split(r"\s*/\s+", description.strip(), maxsplit=1)
    if len(parts) == 2 and parts[0] and parts[1]:
        return parts[1] if normalize_lang(lang) == "en" else parts[0]
    return description.strip()


def run_label(path: str | Path) -> str:
    """Return the short label the user gave the run folder at ``path`` ("" when none)."""
    try:
        text = (Path(path) / LABEL_FILE).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""
    return " ".join(text.split())[:MAX_LABEL_CHARS]


def set_run_label(path: str | Path, label: str) -> str:
    """Give the run folder at ``path`` a short label (an empty one removes it); return it.

    The label is stored in the folder's ``label.txt``, written atomically (a
    temporary file renamed into place), so a reader never sees half a label;
    the checked run files are not touched. Whitespace runs become one space.

    Raises
    ------
    AllocatorError
        ``path`` is not a run folder, or the label is longer than
        :data:`MAX_LABEL_CHARS` characters.
    """
    folder = Path(path)
    if not (folder / "summary.json").is_file():
        raise AllocatorError(
            t("err.run.not_a_run", path=folder.name, missing="summary.json"),
            hint=t("err.run.not_a_run_hint"),
        )
    text = " ".join(str(label).split())
    if len(text) > MAX_LABEL_CHARS:
        raise AllocatorError(t("runs.label.too_long", n=len(text), max=MAX_LABEL_CHARS))
    target = folder / LABEL_FILE
    if not text:
        target.unlink(missing_ok=True)
        return ""
    fd, tmp = tempfile.mkstemp(prefix=".label-", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text + "\n")
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return text


def run_time(summary: dict[str, Any]) -> str:
    """Return when a run was made, in local time (``12-05 09:14:03``), or "" when unknown."""
    created = summary.get("created_at")
    if not created:
        return ""
    try:
        return datetime.fromisoformat(str(created)).astimezone().strftime("%m-%d %H:%M:%S")
    except ValueError:
        return ""


def run_name(run: Run | Result | str | Path, lang: str | None = None) -> str:
    """Return a run's name for people: scenario title · time · the user's label.

    The title is the scenario's description in ``lang`` (its "中文 / English"
    part), else the scenario's name; never the run folder's name or a path.
    ``run`` is a :class:`Run`, a :class:`Result` (its label once written) or a
    run folder (only ``summary.json``, ``scenario.toml`` and the label are read).
    """
    folder: Path | None
    if isinstance(run, Run):
        folder, summary, scenario = run.path, run.summary or {}, run.scenario or {}
    elif isinstance(run, Result):
        folder, summary, scenario = run.run_path, run.summary, run.scenario
    else:
        folder = Path(run)
        summary = _read(folder, "summary.json", _json)
        summary = summary if isinstance(summary, dict) else {}
        scenario_file = folder / "scenario.toml"
        scenario = _read(folder, "scenario.toml", _toml) if scenario_file.exists() else {}
    title = title_in(str(scenario.get("description") or ""), lang)
    title = title or str(summary.get("scenario_name") or "") or t("runs.untitled", lang)
    parts = (title, run_time(summary), run_label(folder) if folder is not None else "")
    return " · ".join(p for p in parts if p)


def run_names(paths: list[Path], lang: str | None = None) -> dict[Path, str]:
    """Return each run folder's :func:`run_name`, made unique among ``paths``.

    Two runs of one scenario in the same second get (2), (3) … in the order
    they were made: a list picks its options by their names.
    """
    out: dict[Path, str] = {}
    seen: set[str] = set()
    for p in sorted(paths, key=lambda q: (q / "summary.json").stat().st_mtime):
        try:
            base = run_name(p, lang)
        except AllocatorError:
            base = t("runs.damaged", lang)
        name, n = base, 2
        while name in seen:
            name, n = f"{base} ({n})", n + 1
        seen.add(name)
        out[Path(p)] = name
    return {Path(p): out[Path(p)] for p in paths}
