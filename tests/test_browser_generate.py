"""End to end in a real browser: sign up, type a prompt, watch the progress bar move and the image
appear, all without a page reload, made by a real worker process through Redis."""

import re
import time
from typing import Any

import pytest

from conftest import ARTIFACTS_DIR
from generation.models import DiffusionModel
from generation.services import standings_publish
from testing.browser import browser_sign_up
from testing.pools import pool_reported
from testing.processes import RunningProcess

# Records every value the newest card's progress bar takes, as the page's own script sets them.
RECORD_PROGRESS = """() => {
  window.pageLoadMarker = "still the same page";
  window.progressSeen = [];
  window.previewSeen = [];
  const grid = document.getElementById("generations");
  new MutationObserver(() => {
    const bar = grid.querySelector(".generation .progress");
    if (bar && !bar.hidden) window.progressSeen.push(Number(bar.value));
    const preview = grid.querySelector(".generation .preview");
    if (preview && !preview.hidden) window.previewSeen.push(preview.src.slice(0, 23));
  }).observe(grid, { subtree: true, childList: true, attributes: true });
}"""


@pytest.mark.browser
def test_a_new_user_generates_an_image_and_watches_it_happen(
    web_server: str, gpu_worker: RunningProcess, browser_page: Any
) -> None:
    page = browser_page
    browser_sign_up(page, web_server, "carol")
    assert page.url == f"{web_server}/"

    page.evaluate(RECORD_PROGRESS)
    page.fill("#prompt", "a lighthouse on a cliff at dawn")
    page.click("summary")
    page.fill("#width", "256")
    page.fill("#height", "256")
    page.fill("#steps", "40")
    page.click("#generate")

    image = page.wait_for_selector(
        ".generation[data-status=succeeded] .images img", timeout=120_000
    )
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image)
    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS_DIR / "generate.png"), full_page=True)

    assert page.evaluate("window.pageLoadMarker") == "still the same page"
    assert page.evaluate("img => [img.naturalWidth, img.naturalHeight]", image) == [256, 256]
    progress = page.evaluate("window.progressSeen")
    rising = [value for value in progress if value > 0]
    assert rising == sorted(rising)
    assert len(set(rising)) >= 3, progress
    assert rising[-1] == 40
    assert page.inner_text(".generation .status") == "Succeeded"
    # A live preview showed under the progress bar while it ran, and is gone now.
    assert "data:image/webp;base64," in page.evaluate("window.previewSeen")
    assert not page.is_visible(".generation .preview")


@pytest.mark.browser
def test_while_the_autoscaler_starts_a_gpu_the_page_says_so_and_how_long(
    transactional_db: None, web_server: str, tiny_model: DiffusionModel, browser_page: Any
) -> None:
    page = browser_page
    browser_sign_up(page, web_server, "dave")
    page.fill("#prompt", "a harbour in fog")
    page.click("#generate")
    page.wait_for_selector(".generation[data-status=queued]")
    assert "waiting for a GPU to start" in page.inner_text(".generation .state")

    # What the controller reports once it has asked for a worker (see test_autoscale_local),
    # and the standings it then sends to the waiting users.
    pool_reported(
        starting=1,
        starting_since=time.time(),
        desired=1,
        cold_start_seconds=90.0,
        starts=1,
        last_decision="scale from zero: work arrived",
    )
    standings_publish(tiny_model)

    page.wait_for_function(
        "() => document.querySelector('.generation .state').textContent.includes('starting a GPU')"
    )
    text = page.inner_text(".generation .state")
    assert re.fullmatch(r"Position 1: starting a GPU, about (89|90) s", text), text
