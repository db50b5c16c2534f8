"""Reports as JSON and as self-contained HTML with plotly charts, rendered in headless Chromium."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from core.access import Principal
from tests.insight.conftest import Demo
from tools.insight.report_html import agent_html, demand_html, team_html
from tools.insight.reports import agent_report, demand_report, team_report

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
needs_chromium = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="headless Chromium is not installed")


def _chromium(page: Path, profile: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            "--virtual-time-budget=8000",
            *extra,
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


def test_agent_report_json_has_the_numbers(demo: Demo, lead: Principal) -> None:
    report = agent_report(demo.store, lead, "A017", demo.toolkit.catalog)
    data = report.model_dump(mode="json")
    assert data["profile"]["agent_id"] == "A017" and data["profile"]["team_scores"]["n"] > 0
    assert data["profile"]["trend"] and data["profile"]["rule_rates"]


@needs_chromium
def test_agent_report_renders_with_charts(demo: Demo, lead: Principal, tmp_path: Path) -> None:
    html = agent_html(agent_report(demo.store, lead, "A017", demo.toolkit.catalog))
    assert html.count("<script") >= 4 and "cdn.plot.ly" not in html.split("Plotly.newPlot")[0][-200:]
    page = tmp_path / "agent.html"
    page.write_text(html, encoding="utf-8")
    dom = _chromium(page, tmp_path / "profile-dom", "--dump-dom").stdout
    assert dom.count('class="plotly-graph-div') == 3
    assert dom.count("main-svg") >= 3  # plotly drew its SVG for each chart (offline: plotly.js is inline)
    shot = tmp_path / "agent.png"
    _chromium(page, tmp_path / "profile-shot", f"--screenshot={shot}", "--window-size=1200,900")
    assert shot.stat().st_size > 10_000
    with Image.open(shot) as image:
        colours = image.convert("RGB").getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 50  # not a blank page


@needs_chromium
def test_team_and_demand_reports_render_with_charts(demo: Demo, lead: Principal, tmp_path: Path) -> None:
    team = team_report(demo.store, lead, "财富营销组", demo.toolkit.catalog)
    demand = demand_report(demo.store, lead, demo.toolkit.encoder)
    assert team.agents.rows and demand.needs.topics and demand.complaint_risk
    for name, html, charts in (("team", team_html(team), 3), ("demand", demand_html(demand), 1)):
        page = tmp_path / f"{name}.html"
        page.write_text(html, encoding="utf-8")
        dom = _chromium(page, tmp_path / f"profile-{name}", "--dump-dom").stdout
        assert dom.count('class="plotly-graph-div') == charts and "main-svg" in dom
