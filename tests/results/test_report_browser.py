"""The HTML report in a real headless Chromium (Debian's `chromium` + `chromium-driver`,
driven by Selenium): it loads offline without a console error or a network request, draws
every evaluated trial, opens a front point's layers as front_layers.csv has them, filters
its table in the filter grammar and downloads the rows of pareto.csv. A screenshot of each
view is written to the test's folder.

Skipped (with the reason) where Chromium or Selenium is missing, unless `CI` is set: in CI
they must run.
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from evaluators import Workload
from results import TrialRecord, write_report
from tests.results.test_report import hardware_study, weight_bits_study

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1400,1000",
    # Software rendering: WebGL on SwiftShader, chosen explicitly (no deprecation warning).
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
)
NETWORK_SCHEMES = ("http:", "https:", "ws:", "wss:", "ftp:")
VIEWS = ("front", "matrix", "parallel", "table", "layers", "convergence", "fidelity", "about")


def _missing() -> str | None:
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[dev]')"
    if CHROMIUM is None or CHROMEDRIVER is None:
        return "chromium and chromium-driver are not installed (apt-get install chromium chromium-driver)"  # noqa: E501
    return None


def _require_browser() -> None:
    reason = _missing()
    if reason is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"browser tests must run in CI: {reason}")
    pytest.skip(reason)


def start_chromium(downloads: Path, *extra: str) -> Any:
    """A fresh headless Chromium (own profile folder) with console and network logs."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, *extra):
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tempfile.mkdtemp(prefix='dse-chromium-')}")
    prefs = {"download.default_directory": str(downloads), "download.prompt_for_download": False}
    options.add_experimental_option("prefs", prefs)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
    )
    return driver


@pytest.fixture(scope="module")
def downloads(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="module")
def browser(downloads: Path) -> Iterator[Any]:
    _require_browser()
    driver = start_chromium(downloads)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def hardware(lenet_workload: Workload, tmp_path_factory: pytest.TempPathFactory):
    _require_browser()
    return hardware_study(lenet_workload, tmp_path_factory)


@pytest.fixture(scope="module")
def bits(lenet_workload: Workload, tmp_path_factory: pytest.TempPathFactory):
    _require_browser()
    return weight_bits_study(lenet_workload, tmp_path_factory)


def wait_for(condition: Callable[[], Any], timeout: float = 60, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def open_report(driver: Any, folder: Path, query: str = "") -> None:
    driver.get_log("browser")  # forget earlier pages' entries
    driver.get_log("performance")
    driver.get((folder / "report.html").resolve().as_uri() + query)
    wait_for(
        lambda: driver.execute_script("return window.dseReport && window.dseReport.ready"),
        what="the report's script",
    )
    if "view=" not in query:
        wait_for(
            lambda: driver.execute_script("return document.body.getAttribute('data-front-drawn')"),
            what="the front's first draw",
        )


def console_errors(driver: Any) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def network_requests(driver: Any) -> list[str]:
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return [u for u in urls if u.startswith(NETWORK_SCHEMES)]


def svg_points(driver: Any) -> int:
    """Markers drawn as SVG by the trial traces of the front plot."""
    return driver.execute_script(
        "return document.querySelectorAll("
        "'#front-plot .scatterlayer .trace[class*=\"tracetrials-\"] path.point').length"
    )


def gl_points(driver: Any) -> int:
    """Points handed to the WebGL trial traces of the front plot."""
    return driver.execute_script(
        "var gd = document.getElementById('front-plot');"
        "return gd._fullData.filter(function (t) { return t.meta === 'trials'; })"
        ".reduce(function (n, t) { return n + t.x.length; }, 0);"
    )


def front_blue_pixels(driver: Any) -> int:
    """Pixels of the plot area in the front's colour (#0072B2): something was drawn."""
    from PIL import Image

    plot = driver.find_element("id", "front-plot")
    pixels = np.asarray(Image.open(io.BytesIO(plot.screenshot_as_png)).convert("RGB"), int)
    near = np.abs(pixels - np.array([0x00, 0x72, 0xB2])).max(axis=2) < 40
    return int(near.sum())


def complete_trials(folder: Path) -> int:
    trials = pd.read_csv(folder / "trials.csv")
    return int((trials["state"] == "COMPLETE").sum())


def screenshot_views(driver: Any, folder: Path, prefix: str) -> list[Path]:
    shots = []
    for view in VIEWS:
        if not driver.execute_script(f"return !!document.querySelector('[data-view={view}]')"):
            continue
        driver.execute_script(f"window.dseReport.show('{view}')")
        time.sleep(0.6)  # let Plotly finish the first draw of the view
        path = folder / f"{prefix}_{view}.png"
        driver.save_screenshot(str(path))
        shots.append(path)
    return shots


def test_report_loads_offline_and_draws_every_trial(browser, hardware, tmp_path: Path) -> None:
    _, folder = hardware
    open_report(browser, folder)
    assert browser.execute_script("return window.dseReport.glScatter") is False  # few points
    assert svg_points(browser) == complete_trials(folder)
    assert front_blue_pixels(browser) > 50
    shots = screenshot_views(browser, tmp_path, "hardware")
    assert {p.stem.split("_", 1)[1] for p in shots} >= {"front", "matrix", "parallel", "table"}
    assert all(p.stat().st_size > 10_000 for p in shots)
    assert console_errors(browser) == []
    assert browser.execute_script("return window.dseReport.errors") == []
    assert network_requests(browser) == []


def test_webgl_draws_every_trial_too(browser, hardware) -> None:
    _, folder = hardware
    open_report(browser, folder, "?render=webgl")
    assert browser.execute_script("return window.dseReport.glScatter") is True
    assert gl_points(browser) == complete_trials(folder)
    assert front_blue_pixels(browser) > 50
    browser.execute_script("window.dseReport.show('matrix'); window.dseReport.show('parallel')")
    time.sleep(1.0)
    assert browser.execute_script(
        "return document.querySelectorAll('#matrix-plot canvas, #parallel-plot canvas').length"
    )
    assert console_errors(browser) == []
    assert network_requests(browser) == []


def test_without_webgl_every_view_still_draws(downloads, hardware, tmp_path: Path) -> None:
    _require_browser()
    driver = start_chromium(downloads, "--disable-3d-apis")
    try:
        _, folder = hardware
        open_report(driver, folder)
        assert driver.execute_script("return window.dseReport.webgl") is False
        assert svg_points(driver) == complete_trials(folder)
        screenshot_views(driver, tmp_path, "nowebgl")
        drawn = driver.execute_script(
            "return ['matrix-plot', 'parallel-plot'].map(function (id) {"
            "  return document.querySelectorAll('#' + id + ' .scatterlayer path').length; })"
        )
        assert all(n > 0 for n in drawn)
        assert console_errors(driver) == []
        assert network_requests(driver) == []
    finally:
        driver.quit()


def test_clicking_a_front_point_shows_its_layers_as_front_layers_csv(browser, hardware) -> None:
    from selenium.webdriver.common.action_chains import ActionChains

    _, folder = hardware
    open_report(browser, folder)
    point = browser.find_element(
        "css selector", "#front-plot .trace[class*='tracetrials-front'] path.point"
    )
    ActionChains(browser).move_to_element(point).click().perform()
    number = int(
        wait_for(
            lambda: browser.execute_script(
                "var d = document.getElementById('detail');"
                "return !d.hidden && d.getAttribute('data-number');"
            ),
            what="the point's detail",
        )
    )
    layers = pd.read_csv(folder / "front_layers.csv", dtype=str, keep_default_na=False)
    expected = layers[layers["number"] == str(number)]
    shown = browser.execute_script(
        "return Array.from(document.querySelectorAll('#layer-table tbody tr')).map(function (tr) {"
        "  var row = {}; tr.querySelectorAll('td').forEach(function (td) {"
        "    row[td.getAttribute('data-col')] = [td.getAttribute('data-value'), td.textContent];"
        "  }); return row; });"
    )
    assert [row["layer"][0] for row in shown] == list(expected["layer"])
    columns = set(shown[0])
    assert {"weights_kind", "weights_bits", "activations_bits", "accumulator_bits"} <= columns
    assert {"lut", "ff", "dsp", "bram", "latency", "energy", "lut_share"} <= columns
    for row, (_, csv_row) in zip(shown, expected.iterrows(), strict=True):
        for column, (value, text) in row.items():
            assert_same(value, csv_row[column], f"trial {number} {row['layer'][0]} {column}")
            if column in ("lut", "ff"):
                assert float(text.replace(",", "")) == pytest.approx(float(value), rel=1e-5)
    facts = browser.find_element("id", "detail").text
    assert f"python -m dse export report_hw.yaml --trial {number}" in facts
    assert str(expected["config_hash"].iloc[0]) in facts
    assert console_errors(browser) == []


def assert_same(shown: str, written: str, where: str) -> None:
    """A cell as the page holds it (JavaScript's number text) against the CSV's."""
    if shown == written:
        return
    try:
        assert float(shown) == pytest.approx(float(written), rel=1e-12), where
    except ValueError:
        raise AssertionError(f"{where}: page {shown!r}, front_layers.csv {written!r}") from None


def test_a_filter_reduces_the_table_to_its_rows(browser, hardware) -> None:
    _, folder = hardware
    open_report(browser, folder, "?view=table")
    pareto = pd.read_csv(folder / "pareto.csv")
    lut = float(pareto["lut"].median())
    accuracy = round(float(pareto["accuracy"].min()) + 0.01, 4)
    expected = pareto[(pareto["lut"] <= lut) & (pareto["accuracy"] >= accuracy)]
    assert 0 < len(expected) < len(pareto)
    box = browser.find_element("id", "filter")
    box.clear()
    box.send_keys(f"lut<={lut!r}, accuracy>={accuracy}")
    rows = wait_for(
        lambda: browser.execute_script(
            "var rows = document.querySelectorAll('#front-table tbody tr');"
            f"return rows.length === {len(expected)} && Array.from(rows).map("
            "function (r) { return Number(r.getAttribute('data-number')); });"
        ),
        what="the filtered table",
    )
    assert sorted(rows) == sorted(expected["number"])
    message = browser.find_element("id", "filter-message")
    box.send_keys(", lutt<3")
    wait_for(lambda: "unknown name 'lutt'" in message.text, what="the filter's error")
    assert "valid names: accuracy, accuracy_drop" in message.text
    box.clear()
    box.send_keys("accuracy>=0.9999")
    wait_for(lambda: "no front point matches" in message.text, what="the empty-filter message")
    assert console_errors(browser) == []


def test_downloaded_csv_has_the_values_of_pareto_csv(browser, bits, downloads: Path) -> None:
    result, folder = bits
    open_report(browser, folder, "?view=table")
    for old in downloads.glob("*.csv"):
        old.unlink()
    browser.find_element("id", "download").click()
    path = wait_for(
        lambda: next(iter(downloads.glob("report_bits_pareto.csv")), None),
        what="the downloaded CSV",
    )
    downloaded = pd.read_csv(path).sort_values("number").reset_index(drop=True)
    pareto = pd.read_csv(folder / "pareto.csv").sort_values("number").reset_index(drop=True)
    assert list(downloaded.columns) == [*pareto.columns, "compression_ratio"]
    pd.testing.assert_frame_equal(downloaded[pareto.columns], pareto, check_exact=True)
    assert downloaded["compression_ratio"].notna().all()
    assert len(downloaded) == len(result.front)
    assert network_requests(browser) == []


def test_a_study_that_just_started_loads_and_says_it_is_running(
    browser, bits, tmp_path: Path
) -> None:
    result, _ = bits
    started = dataclasses.replace(result, records=(TrialRecord(0, "RUNNING"),), rescored={})
    write_report(started, tmp_path)
    open_report(browser, tmp_path)
    banner = browser.find_element("id", "status")
    assert banner.is_displayed() and "still running: 0 of 30 trials evaluated" in banner.text
    assert svg_points(browser) == 0
    screenshot_views(browser, tmp_path, "started")
    assert console_errors(browser) == []
    assert browser.execute_script("return window.dseReport.errors") == []
