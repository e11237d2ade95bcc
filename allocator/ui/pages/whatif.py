"""情景分析 What-if: change a base scenario with generated widgets, run it, see what changed."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import streamlit as st

from allocator import Result, ReuseSession, Scenario, load_scenario, portable_toml, solve
from allocator.safety import safe_filename
from allocator.ui import results, saved_scenarios, scenario_form
from allocator.ui.common import (
    attempt,
    case_path,
    fixed,
    fmt_num,
    fmt_pct,
    get_case,
    get_run,
    guard,
    list_scenarios,
    page_header,
    run_title,
    runs_dir,
    save_upload,
    scenario_title,
    show_error,
    t,
)

STAGE_KEYS = (
    "load", "prepare", "presolve", "build", "reuse", "solve", "assemble", "marginals", "diagnose",
    "write", "done",
)  # fmt: skip


@st.cache_resource(show_spinner=False, max_entries=32)
def _scenario(path: str, mtime: float, case: str) -> Any:
    scenario = load_scenario(path)
    return _interactive(_with_case(scenario, case))


def interactive_settings() -> dict[str, float]:
    """Return the app's solver settings for interactive what-ifs (time limit, relative gap).

    A planner waits for the answer, so the app stops at a 0.5 % gap or after 6 s
    (``ALLOCATOR_APP_REL_GAP`` / ``ALLOCATOR_APP_TIME_LIMIT_S``); the status line
    shows the gap reached, and both values are widgets in the solver section.
    """
    return {
        "solver.time_limit_s": float(os.environ.get("ALLOCATOR_APP_TIME_LIMIT_S", "6")),
        "solver.rel_gap": float(os.environ.get("ALLOCATOR_APP_REL_GAP", "0.005")),
    }


def _interactive(scenario: Any) -> Any:
    """Cap the scenario's time limit and loosen its gap to the interactive settings."""
    app = interactive_settings()
    over = {}
    if float(scenario.get("solver.time_limit_s")) > app["solver.time_limit_s"]:
        over["solver.time_limit_s"] = app["solver.time_limit_s"]
    if float(scenario.get("solver.rel_gap")) < app["solver.rel_gap"]:
        over["solver.rel_gap"] = app["solver.rel_gap"]
    return scenario.with_overrides(over, where="app") if over else scenario


def _with_case(scenario: Scenario, case: str) -> Scenario:
    """Point the scenario at the app's active case (scenarios name their case by path).

    The app runs every scenario on its active case, so a saved scenario's
    ``case_hash`` (made on another case or version) is dropped; the list of
    saved scenarios says which were saved for another case.
    """
    current = scenario.case_path
    if scenario.get("case_hash"):
        scenario = scenario.with_overrides({"case_hash": None}, where="app")
    if current is not None and Path(str(current)).resolve() == Path(case).resolve():
        return scenario
    return scenario.with_overrides({"case": case}, where="app")


def base_choice() -> Path | None:
    """Pick the base scenario: a shipped file, a saved (named) one, or an uploaded TOML."""
    files = list_scenarios()
    mine = saved_scenarios.base_options()
    uploaded = st.session_state.get("whatif_uploaded")
    options = [str(p) for p in files] + list(mine) + ([uploaded] if uploaded else [])
    if not options:
        st.info(t("ui.whatif.no_scenarios"))
        return None
    if uploaded and st.session_state.pop("_whatif_pick_uploaded", False):
        st.session_state["whatif_base"] = uploaded
    saved_scenarios.choose(options)  # kept across page changes and reloads (the draft)
    choice = st.selectbox(
        t("ui.whatif.base"),
        options,
        format_func=fixed(lambda p: mine.get(p) or scenario_title(p)),
        key="whatif_base",
    )
    with st.expander(t("ui.whatif.load")):
        upload = st.file_uploader(
            t("ui.whatif.upload"), type=["toml"], key="whatif_upload", max_upload_size=1
        )
        if upload is not None and st.button(t("ui.whatif.use_upload"), key="whatif_use_upload"):
            try:
                path = save_upload(upload, "scenarios")
                _check_upload(path)
            except Exception as exc:  # noqa: BLE001
                show_error(exc)
            else:
                st.session_state["whatif_uploaded"] = str(path)
                st.session_state["_whatif_pick_uploaded"] = True
                st.rerun()
    return Path(choice)  # type: ignore[arg-type]  # a selectbox over options never gives None


def _check_upload(path: Path) -> None:
    """Validate an uploaded scenario, confined to shipped scenarios, uploads and methods.

    Its messages name files by their names only (no server folders).
    """
    from allocator import check_confined, redact_paths
    from allocator.errors import AllocatorError
    from allocator.ui.common import scenario_dir

    roots = [scenario_dir(), path.parent]
    try:
        check_confined(path, roots)
        load_scenario(path)  # validates: unknown keys, conflicts
    except AllocatorError as exc:
        hidden = [*roots, Path.cwd()]
        exc.message = redact_paths(exc.message, hidden)
        exc.hint = redact_paths(exc.hint, hidden)
        exc.args = (exc.message,)
        raise


class Progress:
    """Callback for ``solve(progress=...)``: shows stages and the solver's incumbent/bound."""

    def __init__(self, stage_box: Any, bar: Any, line: Any) -> None:
        self.stage_box = stage_box
        self.bar = bar
        self.line = line
        self.stages: list[str] = []
        self.last = 0.0

    def __call__(self, stage: str, info: Mapping[str, Any]) -> None:
        """Show a stage of ``solve(progress=...)`` and the solver's incumbent and bound."""
        from streamlit.runtime.scriptrunner import get_script_run_ctx

        if get_script_run_ctx(suppress_warning=True) is None:
            return  # called from a solver thread: the page cannot be updated from there
        if not self.stages or self.stages[-1] != stage:
            self.stages.append(stage)
            label = t(f"ui.stage.{stage}") if stage in STAGE_KEYS else stage
            self.stage_box.write(f"▸ {label}")
            self.bar.progress(min(0.95, len(self.stages) / len(STAGE_KEYS)))
        incumbent, bound = info.get("objective"), info.get("bound")
        if incumbent is not None or bound is not None:
            now = time.monotonic()
            if now - self.last > 0.2:
                self.last = now
                gap = info.get("gap")
                self.line.markdown(
                    t(
                        "ui.whatif.live",
                        incumbent=fmt_num(incumbent, 1),
                        bound=fmt_num(bound, 1),
                        gap=fmt_num(100 * gap, 2) if gap is not None else "—",
                    )
                )


def run_path(result: Result) -> Path:
    """Return the run folder a ``solve(write=True)`` result was written to."""
    if result.run_path is None:
        raise RuntimeError("solve() returned no run folder")
    return Path(result.run_path)


def solve_to_run(
    scenario: Scenario, case: Any, status: Any, label: str, reuse: ReuseSession | None = None
) -> Path:
    """Solve a scenario with live progress (reusing ``reuse``'s model); return the run folder."""
    status.write(label)
    bar = status.progress(0.0)
    line = status.empty()
    progress = Progress(status, bar, line)
    result = solve(
        scenario, case=case, out_dir=runs_dir(), write=True, progress=progress, reuse=reuse
    )
    bar.progress(1.0)
    return run_path(result)


@st.cache_resource(show_spinner=False)
def _base_runs() -> dict[str, str]:
    """Run folders of base scenarios, shared by every session of this server."""
    return {}


@st.cache_resource(show_spinner=False)
def _background() -> tuple[ThreadPoolExecutor, dict[str, Future]]:
    """One worker that solves base scenarios ahead of time, and its pending jobs."""
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="allocator-base"), {}


@st.cache_resource(show_spinner=False, max_entries=8)
def reuse_session(key: str) -> ReuseSession:
    """Return the session keeping one base scenario's model on one case for its what-ifs."""
    return ReuseSession()


def base_key(scenario: Scenario, case: Any) -> str:
    """Return the cache key of a scenario solved on a case."""
    return f"{scenario.hash}:{case.content_hash()}:{runs_dir()}"


def _solve_quietly(scenario: Any, case: Any, out_dir: Path, reuse: ReuseSession) -> str:
    result = solve(scenario, case=case, out_dir=out_dir, write=True, reuse=reuse)
    return str(run_path(result))


def prefetch_base(scenario: Any, case: Any) -> None:
    """Start solving the base scenario in the background (once): Run then waits less."""
    key = base_key(scenario, case)
    path = _base_runs().get(key)
    if path and (Path(path) / "summary.json").is_file():
        return
    pool, jobs = _background()
    job = jobs.get(key)
    if job is None or (job.done() and job.exception() is not None):
        jobs[key] = pool.submit(_solve_quietly, scenario, case, runs_dir(), reuse_session(key))


def base_run(scenario: Any, case: Any, status: Any) -> Path | None:
    """Return the base scenario's run folder: cached, from the background job, or solved now."""
    key = base_key(scenario, case)
    cache = _base_runs()
    path = cache.get(key)
    if path and (Path(path) / "summary.json").is_file():
        return Path(path)
    job = _background()[1].get(key)
    if job is not None:
        status.write(t("ui.whatif.waiting_base"))
        try:
            path = job.result(timeout=600)
        except Exception:  # noqa: BLE001 - solve it again in the foreground, with its message
            path = None
    if not path:
        reuse = reuse_session(key)
        path = str(solve_to_run(scenario, case, status, t("ui.whatif.solving_base"), reuse))
    cache[key] = str(path)
    return Path(path)


def render() -> None:
    """Draw the what-if page."""
    page_header("ui.whatif.title", "ui.whatif.caption")
    case = get_case()
    if case is None:
        return
    saved_scenarios.restore(case)
    left, right = st.columns([2, 3], gap="large")
    with left:
        base_path = base_choice()
        if base_path is None:
            return
        base = attempt(_scenario, str(base_path), base_path.stat().st_mtime, str(case_path()))
        if base is None:
            return
        st.caption(
            t("ui.whatif.base_info", name=scenario_title(base_path), hash=str(base.hash)[:10])
        )
        st.caption(
            t(
                "ui.whatif.interactive",
                seconds=fmt_num(base.get("solver.time_limit_s"), 1),
                gap=f"{100 * float(base.get('solver.rel_gap')):.2f}",
            )
        )
        prefix = saved_scenarios.prefix_for(base_path)
        library_slot = st.container()  # the named scenarios, drawn once the scenario is known
        zones = list(
            zip(case.zones["zone_id"].astype(str), case.zones["name"].astype(str), strict=True)
        )
        prefetch_base(base, case)
        overrides = scenario_form.form(base, zones, prefix, saved_scenarios.initial(base_path))
    with right:
        scenario_form.caption_changes(overrides, zones)
        relax = relaxations()
        changes = {**overrides, **relax}
        named = {
            **overrides,
            "name": f"{base.name}-whatif",
            "description": whatif_title(str(base.get("description") or "")),
        }
        scenario = attempt(base.with_overrides, named) if changes else base
        if scenario is not None and relax:
            # a layer of its own: a relaxed cap replaces the factor the form set for it
            scenario = attempt(scenario.with_overrides, relax, "diagnosis")
        if scenario is None:
            return
        with library_slot:
            saved_scenarios.panel(scenario, case)
        c1, c2 = st.columns([1, 1])
        run_clicked = c1.button(
            t("ui.whatif.run"), type="primary", key="whatif_run", width="stretch"
        )
        name = str(st.session_state.get("whatif_save_name") or "").strip() or scenario.name
        c2.download_button(
            t("ui.whatif.save"),
            data=portable_toml(
                scenario,
                name=name,
                description=str(scenario.get("description") or ""),
                case_hash=case.content_hash(),
            ).encode("utf-8"),
            file_name=f"{safe_filename(name)}.toml",
            mime="application/toml",
            key="whatif_save",
            width="stretch",
        )
        if run_clicked or st.session_state.pop("whatif_rerun", False):
            run_now(base, scenario, case, bool(changes))
        elif st.session_state.pop("whatif_continue", False):
            run_now(base, scenario, case, bool(changes), longer=True)
        show_last(scenario, case)
        saved_scenarios.keep(base_path, overrides, case)


def whatif_title(description: str) -> str:
    """Return the description of a what-if scenario: its base's title, marked as adjusted."""
    from allocator import i18n
    from allocator.ui.common import title_in

    zh = i18n.t("ui.whatif.adjusted", "zh", title=title_in(description, "zh"))
    en = i18n.t("ui.whatif.adjusted", "en", title=title_in(description, "en"))
    return f"{zh} / {en}"


def relaxations() -> dict[str, float]:
    """Show the relaxations applied from the diagnosis (with an undo); return their overrides."""
    relax: dict[str, float] = dict(st.session_state.get("whatif_relax") or {})
    if relax:
        shown = st.session_state.get("whatif_relax_shown") or []
        st.info(
            t("ui.whatif.relaxed") + "\n" + "\n".join(f"- {results.relaxed_text(r)}" for r in shown)
        )
        if st.button(t("ui.whatif.clear_relaxed"), key="whatif_clear_relax"):
            st.session_state.pop("whatif_relax", None)
            st.session_state.pop("whatif_relax_shown", None)
            st.rerun()
    return relax


def repair(overrides: dict[str, float], shown: list[dict[str, Any]]) -> None:
    """Button callback of the diagnosis: add these relaxations to the scenario and re-run it."""
    st.session_state["whatif_relax"] = {**(st.session_state.get("whatif_relax") or {}), **overrides}
    kept = [r for r in st.session_state.get("whatif_relax_shown") or [] if r not in shown]
    st.session_state["whatif_relax_shown"] = kept + shown
    st.session_state["whatif_rerun"] = True


# a continued what-if gets this many times the interactive time limit (a comment, not a
# string: Streamlit would draw a bare string of a page script on the page)
CONTINUE_FACTOR = 5.0


def run_now(base: Any, scenario: Any, case: Any, changed: bool, *, longer: bool = False) -> None:
    """Solve the base (once) and the changed scenario with live progress; remember the runs.

    ``longer``: the last run stopped at its time limit before its gap; solve the
    same scenario again with :data:`CONTINUE_FACTOR` times the limit, from the
    plan it had (the reused model starts from its last plan), so the answer
    shown does not depend on how busy the server was.
    """
    started = time.monotonic()
    answered = saved_scenarios.answered(scenario, case)
    if longer:
        limit = float(scenario.get("solver.time_limit_s")) * CONTINUE_FACTOR
        scenario = scenario.with_overrides({"solver.time_limit_s": limit}, where="app")
    with st.status(t("ui.whatif.running"), expanded=True) as status:
        try:
            reuse = reuse_session(base_key(base, case))
            folder = solve_to_run(scenario, case, status, t("ui.whatif.solving"), reuse)
            base_folder = base_run(base, case, status) if changed else None
            if not changed:
                _base_runs()[base_key(scenario, case)] = str(folder)
        except Exception as exc:  # noqa: BLE001
            status.update(label=t("ui.whatif.failed"), state="error")
            show_error(exc)
            return
        status.update(
            label=t("ui.whatif.done", seconds=f"{time.monotonic() - started:.1f}"),
            state="complete",
            expanded=False,
        )
    st.session_state["whatif_last"] = {
        "run": str(folder),
        "base": str(base_folder or folder),
        "changed": changed,
        **answered,  # a continued run answers the same edits (only its time limit is longer)
    }


def show_last(scenario: Any = None, case: Any = None) -> None:
    """Show the last what-if run of this session against its base.

    A result that answered other parameters than the ones now set is marked
    as the previous result, under a warning, never as the answer to the edits.
    """
    last = st.session_state.get("whatif_last")
    if not last:
        st.caption(t("ui.whatif.hint"))
        return
    run = get_run(Path(last["run"]))
    base_result = get_run(Path(last["base"])) if last.get("changed") else None
    if run is None:
        return
    title = run_title(Path(last["run"]), run)
    if scenario is not None and saved_scenarios.is_stale(last, scenario, case):
        st.warning(t("ui.scenlib.stale"))
        st.subheader(t("ui.scenlib.stale_result", name=title))
    else:
        st.subheader(t("ui.whatif.result", name=title))
        stopped_early(run)
    results.show_run(run, base_result, key="whatif", repair=repair)


def stopped_early(run: Any) -> None:
    """Say so when the run stopped at its time limit before its gap, and offer to go on."""
    summary = run.summary or {}
    settings = summary.get("settings") or {}
    gap, want = summary.get("gap"), settings.get("rel_gap")
    limit = float(settings.get("time_limit_s") or 0.0)
    if str(summary.get("status")) == "time_limit_no_solution":
        st.warning(t("ui.whatif.no_plan_in_time", seconds=fmt_num(limit, 0)))
    elif summary.get("stopped_by") != "time_limit" or not run.has_solution:
        return
    elif gap is None or want is None or float(gap) <= float(want):
        return
    else:
        st.warning(
            t(
                "ui.whatif.stopped_early",
                seconds=fmt_num(limit, 0),
                gap=fmt_pct(float(gap), 2),
                want=fmt_pct(float(want), 2),
            )
        )
    st.button(
        t("ui.whatif.continue", seconds=fmt_num(limit * CONTINUE_FACTOR, 0)),
        key="whatif_continue_button",
        on_click=lambda: st.session_state.update(whatif_continue=True),
    )


with guard():
    render()
