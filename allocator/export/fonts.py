"""The CJK font that static maps and report charts are drawn with.

Chinese labels must render on a fresh machine with no system CJK font, so the
project depends on the PyPI package ``noto-cjk-sans-otc`` (Noto Sans CJK, SIL
Open Font License 1.1; the licence ships inside the package's dist-info). Its
OpenType collection is registered with matplotlib's font manager and put first
in the font list, so the shipped copy wins over a system font of the same name.
When the package is missing, a system Noto Sans CJK / Source Han Sans /
WenQuanYi font is used if there is one.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

CJK_FAMILY = "Noto Sans CJK SC"
"""Family name used for every text element (Simplified Chinese glyph forms)."""
SYSTEM_CANDIDATES = ("Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Zen Hei", "SimHei")
PROBE_TEXT = "综保区用地亩均税收"
"""Characters a usable font must have glyphs for."""


def shipped_font_path() -> Path | None:
    """Return the path of the font file shipped by ``noto-cjk-sans-otc``, or None."""
    try:
        import noto_cjk_sans_otc
    except ImportError:
        return None
    path = Path(str(noto_cjk_sans_otc.FONT_PATH))
    return path if path.exists() else None


def has_glyphs(path: str | Path, text: str = PROBE_TEXT) -> bool:
    """Return True when the font file at ``path`` has a glyph for every char of ``text``."""
    from matplotlib.ft2font import FT2Font

    font = FT2Font(str(path))
    return all(font.get_char_index(ord(ch)) != 0 for ch in text)


@lru_cache(maxsize=1)
def register_cjk_font() -> str:
    """Register the CJK font with matplotlib once; return the family name to use.

    The shipped collection's entries are moved to the front of matplotlib's
    font list, so ``findfont`` resolves the family to the shipped file even
    when the system has a font of the same name.
    """
    from matplotlib import font_manager as fm

    path = shipped_font_path()
    if path is not None:
        fm.fontManager.addfont(str(path))
        ours = [f for f in fm.fontManager.ttflist if Path(f.fname) == path]
        rest = [f for f in fm.fontManager.ttflist if Path(f.fname) != path]
        fm.fontManager.ttflist[:] = ours + rest
        fm.fontManager._findfont_cached.cache_clear()  # type: ignore[attr-defined]  # private cache, stale after the reorder
        return CJK_FAMILY
    names = {f.name for f in fm.fontManager.ttflist}
    for name in SYSTEM_CANDIDATES:
        if name in names:
            return name
    return "DejaVu Sans"


def font_file(family: str | None = None) -> Path:
    """Return the file matplotlib uses for ``family`` (default: the registered CJK family)."""
    from matplotlib import font_manager as fm

    family = family or register_cjk_font()
    return Path(fm.findfont(fm.FontProperties(family=family), fallback_to_default=False))


def rc_params() -> dict[Any, Any]:
    """Return matplotlib rc settings that draw all text in the CJK font.

    Used inside ``matplotlib.rc_context`` so other parts of the product keep
    their own settings. PDF text is embedded
    as Type 3 (glyph outlines subset per file): Type 42 subsetting of the 19 MB
    collection costs about 2 s per PDF.
    """
    family = register_cjk_font()
    return {
        "font.family": "sans-serif",
        "font.sans-serif": [family, "DejaVu Sans"],
        "axes.unicode_minus": False,
        "pdf.fonttype": 3,
        "svg.fonttype": "none",
    }
