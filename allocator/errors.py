"""Error types and located problems.

Ordinary outcomes (an infeasible scenario, a time limit) are values, not
exceptions; these classes are for input the library cannot work with. Every
message names where the problem is (file, layer, row, column) and how to fix it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    """One located problem in an input: what, where and how to fix it."""

    severity: Severity
    code: str
    message: str
    file: str = ""
    layer: str = ""
    row: str = ""
    column: str = ""
    hint: str = ""

    def where(self, lang: str | None = None) -> str:
        """Return ``file › layer › row › column`` with the empty parts left out."""
        from allocator.i18n import t

        parts = [self.file, self.layer]
        if self.row != "":
            parts.append(t("problem.row", lang, row=self.row))
        if self.column:
            parts.append(t("problem.column", lang, column=self.column))
        return " › ".join(p for p in parts if p)

    def __str__(self) -> str:
        from allocator.i18n import t

        severity = t("problem.error") if self.severity == "error" else t("problem.warning")
        text = f"[{severity}] {self.where()}: {self.message}"
        if self.hint:
            text += f" — {self.hint}"
        return text

    def to_dict(self) -> dict[str, str]:
        """Return the problem as a plain dict (for tables and JSON)."""
        return asdict(self)


class AllocatorError(Exception):
    """Base class: input or request the library cannot work with.

    Parameters
    ----------
    message
        One clear paragraph for the user.
    problems
        The located problems behind it, when there are several.
    hint
        How to fix it.
    """

    def __init__(self, message: str, problems: list[Problem] | None = None, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.problems: list[Problem] = list(problems or [])
        self.hint = hint

    def __str__(self) -> str:
        text = self.message
        if self.hint:
            text += f"\n{self.hint}"
        return text


class CaseError(AllocatorError):
    """The case (layers, tables, files) is missing, unreadable or invalid."""


class ScenarioError(AllocatorError):
    """A scenario file is unreadable, has unknown keys or conflicting values."""


class SolverError(AllocatorError):
    """No solver could be started (not an infeasible or time-limited run)."""


class ExportError(AllocatorError):
    """An export could not be written."""


@dataclass
class ProblemList:
    """Collects problems so a loader can report all of them at once."""

    problems: list[Problem] = field(default_factory=list)

    def add(self, severity: Severity, code: str, message: str, **where: str) -> None:
        """Record one problem."""
        self.problems.append(Problem(severity, code, message, **where))

    def error(self, code: str, message: str, **where: str) -> None:
        """Record an error."""
        self.add("error", code, message, **where)

    def warning(self, code: str, message: str, **where: str) -> None:
        """Record a warning."""
        self.add("warning", code, message, **where)

    @property
    def errors(self) -> list[Problem]:
        """Problems of severity error."""
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        """Problems of severity warning."""
        return [p for p in self.problems if p.severity == "warning"]

    def raise_if_errors(self, what: str, cls: type[AllocatorError] = CaseError) -> None:
        """Raise ``cls`` listing every error, if there is any."""
        errs = self.errors
        if errs:
            lines = "\n".join(f"  {p}" for p in errs[:50])
            more = f"\n  … (+{len(errs) - 50})" if len(errs) > 50 else ""
            from allocator.i18n import t

            head = t("problem.n_errors", n=len(errs))
            raise cls(f"{what}: {head}\n{lines}{more}", problems=self.problems)
