"""`churnkit report` in a real browser: headless Chromium opens the HTML file from disk.

Skips (with the reason) where /usr/bin/chromium or playwright is missing or Chromium will
not start. The full-page screenshot is kept under pytest's tmp dir; its path is printed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from browser import Rendered, chromium_unavailable, render

SECTIONS = ["summary", "churn-rates", "risk", "managers", "backtest", "drift", "definitions"]
# A blank page is 0% / 1 colour and one line of text ~0.06% (but hundreds of anti-aliased
# colours); a short hand-made report with three small charts measures ~4%.
MIN_NON_WHITE = 0.01
MIN_COLOURS = 20
MAX_A4_PAGES = 40


def blank_reason(r: Rendered) -> str | None:
    if r.non_white_share <= MIN_NON_WHITE or r.colours <= MIN_COLOURS:
        return (f"screenshot looks blank: {r.non_white_share:.2%} non-white pixels "
                f"(need > {MIN_NON_WHITE:.0%}), {r.colours} colours (need > {MIN_COLOURS}); "
                f"see {r.screenshot}")
    return None


def _need_chromium() -> None:
    reason = chromium_unavailable()
    if reason:
        pytest.skip(reason)


@pytest.fixture(scope="module")
def rendered(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    _need_chromium()  # before building the report: no point building it to skip
    html, _json = request.getfixturevalue("report_files")
    shot = tmp_path_factory.mktemp("report_browser") / "report.png"
    r = render(Path(html), shot)
    print(f"\nreport screenshot: {shot} ({r.page_height_px} CSS px tall, "
          f"{r.pdf_pages} A4 pages, launch {r.launch_s:.1f}s, render {r.render_s:.1f}s)")
    return r


def test_sections_present_in_order(rendered: Rendered) -> None:
    found = [s for s in rendered.section_ids if s in SECTIONS]
    assert found == SECTIONS, f"sections in the DOM: {rendered.section_ids}"


def test_heading_and_language(rendered: Rendered) -> None:
    assert rendered.h1, "empty or missing <h1>"
    assert rendered.lang in ("zh-CN", "en"), f"<html lang={rendered.lang!r}>"


def test_no_network_requests(rendered: Rendered) -> None:
    assert rendered.requests == [], f"the page tried to fetch: {rendered.requests}"


def test_no_remote_resources_in_dom(rendered: Rendered) -> None:
    assert rendered.resource_urls == [], f"remote resources: {rendered.resource_urls}"


def test_has_svg_charts(rendered: Rendered) -> None:
    assert rendered.svg_count >= 3, f"{rendered.svg_count} <svg> elements"
    assert rendered.svg_shown >= 3, (
        f"only {rendered.svg_shown} of {rendered.svg_count} <svg> drawn at chart size; "
        f"see {rendered.screenshot}")


def test_screenshot_not_blank(rendered: Rendered) -> None:
    assert blank_reason(rendered) is None, blank_reason(rendered)


def test_prints_to_reasonable_number_of_a4_pages(rendered: Rendered) -> None:
    if rendered.pdf_pages is None:
        pytest.skip("page.pdf() not available in this Chromium")
    assert 1 <= rendered.pdf_pages <= MAX_A4_PAGES, f"{rendered.pdf_pages} A4 pages"


def test_harness_catches_external_resources(tmp_path: Path) -> None:
    _need_chromium()
    page = tmp_path / "leaky.html"
    page.write_text(
        '<!doctype html><html lang="en"><head>'
        '<link rel=stylesheet href="http://example.com/a.css"></head>'
        '<body><h1>leaky</h1><img src="https://example.com/x.png"></body></html>',
        encoding="utf-8")
    r = render(page, tmp_path / "leaky.png")
    assert "http://example.com/a.css" in r.requests, r.requests
    assert "https://example.com/x.png" in r.requests, r.requests
    assert len(r.resource_urls) == 2, r.resource_urls


def test_harness_finds_blank_page_blank(tmp_path: Path) -> None:
    _need_chromium()
    page = tmp_path / "empty.html"
    page.write_text("<html><body></body></html>", encoding="utf-8")
    r = render(page, tmp_path / "empty.png")
    assert blank_reason(r) is not None, (r.non_white_share, r.colours)
    assert r.section_ids == [] and r.svg_count == 0 and r.requests == []
