"""Render a local HTML file in headless Chromium and report what a reader would get.

Drives Debian's /usr/bin/chromium through playwright's client (never `playwright install`).
Every request that is not ``file:``/``data:`` is aborted and recorded, so a self-contained
page records none. The screenshot is measured for blankness; the page is printed to A4.
"""

from __future__ import annotations

import functools
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Playwright

CHROMIUM = Path("/usr/bin/chromium")
# The test machine has no network: without these Chromium keeps trying to phone home.
ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",  # small /dev/shm in CI containers crashes big screenshots
]
LOCAL = ("file:", "data:")

# Attribute values and CSS url(...) that make the browser fetch something (not <a href>).
_COLLECT_JS = r"""() => {
  const resourceAttrs = {src: null, srcset: null, poster: null, data: ['object'],
    href: ['link', 'img', 'script', 'iframe', 'object', 'embed', 'source', 'image', 'use',
           'feimage'],
    'xlink:href': ['image', 'use', 'feimage']};
  const found = [];
  const remote = /https?:\/\//i;
  const cssUrl = /(?:url\(|@import)\s*['"]?\s*(https?:\/\/[^'")\s;]+)/gi;
  for (const el of document.querySelectorAll('*')) {
    const tag = el.localName.toLowerCase();
    for (const attr of el.attributes) {
      const tags = resourceAttrs[attr.name];
      if (tags === undefined || (tags && !tags.includes(tag))) continue;
      if (remote.test(attr.value)) found.push(`<${tag} ${attr.name}="${attr.value}">`);
    }
    const css = [el.getAttribute('style') || ''];
    if (tag === 'style') css.push(el.textContent || '');
    for (const text of css)
      for (const m of text.matchAll(cssUrl)) found.push(`<${tag}> url(${m[1]})`);
  }
  const h1 = document.querySelector('h1');
  return {
    sections: [...document.querySelectorAll('section[id]')].map(s => s.id),
    h1: h1 ? h1.textContent.trim() : '',
    lang: document.documentElement.getAttribute('lang'),
    resources: found,
    svgs: document.querySelectorAll('svg').length,
    // drawn at a chart's size: at least 100 x 50 CSS px on screen
    svgsShown: [...document.querySelectorAll('svg')].filter(s => {
      const r = s.getBoundingClientRect(); return r.width >= 100 && r.height >= 50; }).length,
    height: Math.max(document.documentElement.scrollHeight, document.body?.scrollHeight ?? 0),
  };
}"""


@dataclass
class Rendered:
    section_ids: list[str]
    h1: str
    lang: str | None
    requests: list[str]  # non-local requests the page tried (all aborted)
    resource_urls: list[str]  # http(s) resources named in the DOM or its CSS
    svg_count: int
    svg_shown: int  # <svg> drawn at least 100 x 50 CSS px
    screenshot: Path
    non_white_share: float  # share of screenshot pixels not (near-)white
    colours: int  # distinct colours in the screenshot
    page_height_px: int
    pdf_pages: int | None  # A4 pages when printed; None if page.pdf failed
    launch_s: float
    render_s: float


def _launch(playwright: Playwright) -> Browser:
    return playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)


@functools.cache
def chromium_unavailable() -> str | None:
    """Why a browser test must skip here, or None when Chromium runs."""
    if not CHROMIUM.exists():
        return f"{CHROMIUM} not found (apt-get install chromium)"
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        return f"playwright not importable: {exc}"
    try:
        with sync_playwright() as p:
            _launch(p).close()
    except Exception as exc:  # noqa: BLE001 - any launch failure means skip
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        return f"Chromium does not launch: {first}"
    return None


def measure_png(png: Path, near_white: int = 245) -> tuple[float, int]:
    """(share of pixels with any channel below `near_white`, number of distinct colours)."""
    from PIL import Image

    with Image.open(png) as im:
        rgb = im.convert("RGB")
    n = rgb.width * rgb.height
    colours = rgb.getcolors(maxcolors=n) or []
    dark = sum(c for c, px in colours if min(px) < near_white)
    return dark / n, len(colours)


def count_pdf_pages(pdf: bytes) -> int:
    """Page objects in a PDF (not the /Pages tree nodes)."""
    return len(re.findall(rb"/Type\s*/Page(?![A-Za-z])", pdf))


def render(html: Path, screenshot: Path) -> Rendered:
    """Open `html` from disk in headless Chromium, screenshot it and collect what it shows."""
    from playwright.sync_api import Route, sync_playwright

    requests: list[str] = []

    def route(r: Route) -> None:
        if r.request.url.startswith(LOCAL):
            r.continue_()
        else:
            requests.append(r.request.url)
            r.abort()

    t0 = time.perf_counter()
    with sync_playwright() as p:
        browser = _launch(p)
        t1 = time.perf_counter()
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.route("**/*", route)
            page.goto(html.resolve().as_uri(), wait_until="load")
            dom = page.evaluate(_COLLECT_JS)
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(screenshot), full_page=True)
            try:
                pdf_pages: int | None = count_pdf_pages(page.pdf(format="A4")) or None
            except Exception:  # noqa: BLE001 - printing is optional (headless only)
                pdf_pages = None
        finally:
            browser.close()
    t2 = time.perf_counter()
    share, colours = measure_png(screenshot)
    return Rendered(
        section_ids=list(dom["sections"]), h1=str(dom["h1"]), lang=dom["lang"],
        requests=requests, resource_urls=list(dom["resources"]), svg_count=int(dom["svgs"]),
        svg_shown=int(dom["svgsShown"]),
        screenshot=screenshot, non_white_share=share, colours=colours,
        page_height_px=int(dom["height"]), pdf_pages=pdf_pages,
        launch_s=t1 - t0, render_s=t2 - t1,
    )
