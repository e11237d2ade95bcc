"""The content of a report: blocks of display strings that the PDF and HTML writers lay out.

Kept apart from :mod:`allocator.export.report` (which builds the content) and
:mod:`allocator.export.report_pdf` (which lays it out) so that neither imports the other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Para:
    """A paragraph: ``body``, ``bullet`` or ``note`` (small, grey)."""

    text: str
    style: str = "body"


@dataclass
class Heading:
    """A sub-heading inside a section."""

    text: str


@dataclass
class Table:
    """A table of display strings; ``numeric`` columns are right-aligned."""

    headers: list[str]
    rows: list[list[str]]
    numeric: list[bool]
    widths: list[float] | None = None
    """Relative column widths (default: equal)."""


@dataclass
class Figure:
    """An image (PNG or JPEG bytes) with its caption; ``width`` is the share of the text width."""

    image: bytes = field(repr=False)
    caption: str
    width: float = 1.0

    @property
    def mime(self) -> str:
        """``image/png`` or ``image/jpeg``, from the bytes."""
        return "image/jpeg" if self.image[:3] == b"\xff\xd8\xff" else "image/png"


@dataclass
class Section:
    """A numbered section: a title and its blocks."""

    title: str
    blocks: list[Any]


@dataclass
class Report:
    """The content of a report in one language, every value already a display string."""

    title: str
    meta: str
    header: str
    """Running header: run folder and date."""
    lang: str
    summary: list[Any]
    sections: list[Section]

    def texts(self) -> list[str]:
        """Return every string of the report (to pick the glyphs the PDF font needs)."""
        out = [self.title, self.meta, self.header]
        blocks = list(self.summary)
        for s in self.sections:
            out.append(s.title)
            blocks += s.blocks
        for b in blocks:
            if isinstance(b, Para | Heading):
                out.append(b.text)
            elif isinstance(b, Table):
                out += b.headers
                out += [c for r in b.rows for c in r]
            elif isinstance(b, Figure):
                out.append(b.caption)
        return out
