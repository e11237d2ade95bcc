"""Import a folder of planners' files into a canonical case GeoPackage."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pyogrio

from allocator.case.io import build_case, save_case
from allocator.case.model import Case
from allocator.case.schema import ALL_LAYERS
from allocator.errors import CaseError, ProblemList
from allocator.i18n import t


def read_source(
    source: Path, problems: ProblemList, source_crs: str | None = None
) -> tuple[dict[str, pd.DataFrame], dict[str, str], dict[str, object]]:
    """Read every layer file of an import folder: ``(frames, files, crses)``."""
    source = Path(source)
    if not source.exists():
        raise CaseError(
            t("case.source_missing", path=str(source)), hint=t("case.hint.source_missing")
        )
    frames: dict[str, pd.DataFrame] = {}
    files: dict[str, str] = {}
    for path in sorted(source.iterdir()):
        name = path.stem
        if name in ALL_LAYERS:
            if path.suffix.lower() == ".csv":
                frames[name] = pd.read_csv(path, dtype=str, keep_default_na=False)
            else:
                frames[name] = pyogrio.read_dataframe(path)
            files[name] = path.name
    return frames, files, {}


def import_case(
    source: str | os.PathLike[str],
    out_path: str | os.PathLike[str],
    source_crs: str | None = None,
) -> tuple[Case, list[str]]:
    """Import ``source`` (a folder of layer files) and write a validated GeoPackage."""
    problems = ProblemList()
    frames, files, crses = read_source(Path(source), problems, source_crs)
    case = build_case(frames, problems, files=files, crses=crses, source=Path(out_path))
    problems.raise_if_errors(t("case.cli.import.failed"))
    assert case is not None
    save_case(case, out_path)
    return case, []
