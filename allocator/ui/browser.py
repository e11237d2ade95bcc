"""Drive the real app in headless Chromium: the browser test and the README screenshots.

``python -m allocator.ui.browser docs/screenshots`` starts ``streamlit run app.py``
on a free port, opens every page at 1440×900 in the system Chromium, runs one
what-if scenario and saves a PNG per page. The server is always stopped.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1440, "height": 900}


def chromium_path() -> str | None:
    """Return the system Chromium executable, or None."""
    for name in ("/usr/bin/chromium", "/usr/bin/chromium-browser"):
        if Path(name).exists():
            return name
    return shutil.which("chromium")


def free_port() -> int:
    """Return a TCP port nobody listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def app_server(env: dict[str, str] | None = None, timeout_s: float = 90.0) -> Iterator[str]:
    """Run ``streamlit run app.py`` on a free port; yield its URL; stop it on exit."""
    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(ROOT / "app.py"),
        "--server.headless",
        "true",
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--browser.gatherUsageStats",
        "false",
    ]
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(  # noqa: S603 - our own fixed command line
        cmd, cwd=ROOT, env={**os.environ, **(env or {})}, stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            if proc.poll() is not None:
                log.seek(0)
                output = log.read().decode(errors="replace")
                raise RuntimeError("streamlit exited early:\n" + output)
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:  # noqa: S310
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"streamlit did not answer on {url} within {timeout_s:.0f} s")
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()


def font_env(profile: Path) -> dict[str, str]:
    """Environment that adds the project's own CJK font to Chromium's fontconfig.

    A fresh Linux machine often has no Chinese font, and Chromium then draws every
    label as an empty box. The font the exports use (``noto-cjk-sans-otc``, OFL)
    is added next to the system configuration, so the browser test and the README
    screenshots show real glyphs wherever the project is installed.
    """
    from allocator import shipped_font_path

    font = shipped_font_path()
    if font is None:
        return {}
    conf = profile / "fonts.conf"
    conf.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n'
        '  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>\n'
        f"  <dir>{font.parent}</dir>\n"
        f"  <cachedir>{profile / 'fontconfig-cache'}</cachedir>\n"
        "</fontconfig>\n",
        encoding="utf-8",
    )
    return {"FONTCONFIG_FILE": str(conf)}


CJK_PROBE_JS = """() => {
  // Draw two different characters; with no CJK font both are the same empty box.
  const draw = (ch) => {
    const c = document.createElement('canvas'); c.width = 40; c.height = 40;
    const g = c.getContext('2d'); g.font = '32px sans-serif'; g.fillStyle = '#000';
    g.fillText(ch, 2, 34);
    return Array.from(g.getImageData(0, 0, 40, 40).data).join(',');
  };
  return draw('综') !== draw('保') && draw('综') !== draw('\\uE000');
}"""


def cjk_renders(page: Any) -> bool:
    """Return True when the page draws Chinese characters as real glyphs (not boxes)."""
    return bool(page.evaluate(CJK_PROBE_JS))


@contextlib.contextmanager
def browser_page() -> Iterator[Any]:
    """Yield a Playwright page in a fresh headless Chromium profile (1440×900)."""
    from playwright.sync_api import sync_playwright

    exe = chromium_path()
    if exe is None:
        raise FileNotFoundError("chromium not found")
    profile = tempfile.mkdtemp(prefix="allocator-chromium-")
    try:
        with sync_playwright() as pw:
            ctx = pw.chromium.launch_persistent_context(
                profile,
                executable_path=exe,
                headless=True,
                args=CHROMIUM_ARGS,
                viewport=VIEWPORT,  # type: ignore[arg-type]  # a plain dict with ViewportSize keys
                locale="zh-CN",
                env={**os.environ, **font_env(Path(profile))},
            )
            try:
                page = ctx.pages[0] if ctx.pages else ctx.new_page()
                page.set_default_timeout(60_000)
                yield page
            finally:
                ctx.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def wait_idle(page: Any, timeout_ms: int = 60_000) -> None:
    """Wait until the page shows a heading and its content has stopped changing for ~1.5 s."""
    page.wait_for_selector("[data-testid='stMain'] h2", timeout=timeout_ms)
    deadline = time.monotonic() + timeout_ms / 1000
    last, stable = None, 0
    while time.monotonic() < deadline:
        now = page.evaluate(
            """() => [document.body.innerText.length,
                      document.querySelectorAll('*').length,
                      document.querySelectorAll('[data-testid="stSkeleton"]').length,
                      document.querySelectorAll('[data-stale="true"]').length]"""
        )
        busy = now[2] > 0 or now[3] > 0
        stable = stable + 1 if (now == last and not busy) else 0
        if stable >= 3:
            return
        last = now
        page.wait_for_timeout(500)
    raise TimeoutError("the page did not settle")


def run_whatif(
    page: Any, url: str, kpi_label: str, run_label: str, timeout_ms: int = 90_000
) -> None:
    """Open the what-if page, press Run and wait until the KPI metric's label appears."""
    page.goto(f"{url}/whatif")
    wait_idle(page)
    page.get_by_role("button", name=run_label, exact=True).click()
    page.get_by_text(kpi_label, exact=True).first.wait_for(state="visible", timeout=timeout_ms)
    wait_idle(page, timeout_ms)


def screenshots(out_dir: Path, env: dict[str, str] | None = None, plot_id: str = "") -> list[Path]:
    """Save a 1440×900 screenshot of every page, with real data, into ``out_dir``.

    The what-if page lowers every zone's energy cap to 85 % and runs it (so the KPI
    deltas and the comparison have two runs); the plot check shows ``plot_id``; the
    export page writes the workbook and GeoPackage.
    """
    from allocator.i18n import t

    out_dir.mkdir(parents=True, exist_ok=True)
    runs = Path(tempfile.mkdtemp(prefix="allocator-shots-"))
    env = {"ALLOCATOR_RUNS_DIR": str(runs), **(env or {})}
    saved: list[Path] = []

    def shot(name: str) -> None:
        saved.append(out_dir / f"{name}.png")
        page.screenshot(path=str(saved[-1]))

    try:
        with app_server(env) as url, browser_page() as page:
            page.goto(url)
            wait_idle(page)
            shot("overview")
            page.goto(f"{url}/whatif")
            wait_idle(page)
            page.wait_for_timeout(8000)  # the base scenario solves in the background
            slider = page.get_by_role("slider").nth(1)  # every zone's energy cap, in %
            slider.focus()
            for _ in range(15):
                slider.press("ArrowLeft")
            wait_idle(page)
            page.get_by_role("button", name=t("ui.whatif.run", "zh"), exact=True).click()
            # the result's first metric (its short label: exactly that text)
            added = t("pages.metric.value_added_wan", "zh")
            page.get_by_text(added, exact=True).first.wait_for(timeout=120_000)
            wait_idle(page, 120_000)
            shot("whatif")
            page.goto(f"{url}/plotcheck")
            wait_idle(page)
            page.get_by_text(t("ui.plot.mode_id", "zh"), exact=True).click()
            wait_idle(page)
            box = page.get_by_role("textbox", name=t("ui.plot.plot_id", "zh"))
            box.fill(plot_id)
            box.press("Enter")
            wait_idle(page)
            page.get_by_text(t("ui.plot.f_redline_share", "zh")).first.scroll_into_view_if_needed()
            wait_idle(page)
            shot("plotcheck")
            for name in ("evaluation", "compare"):
                page.goto(f"{url}/{name}")
                wait_idle(page)
                shot(name)
            page.goto(f"{url}/export")
            wait_idle(page)
            page.get_by_role("button", name=t("ui.export.make", "zh"), exact=True).click()
            ready = t("ui.export.ready", "zh", n=0).split("0")[0]  # "已生成 " whatever the count
            page.get_by_text(ready).first.wait_for(timeout=120_000)
            wait_idle(page)
            shot("export")
    finally:
        shutil.rmtree(runs, ignore_errors=True)
    return saved


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshots"
    red_plot = sys.argv[2] if len(sys.argv) > 2 else "NBMS-P0076"
    for path in screenshots(target, plot_id=red_plot):
        print(path)
