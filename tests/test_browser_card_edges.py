"""In a real browser, the generate page's cards follow what happens elsewhere: a generation a
script submits through the JSON API while the page is open appears live at the top and runs to
its images (or, if live updates were cut meanwhile, as soon as they resume), and a cancelled
or failed card says its credits came back, as the event arrives."""

import json
import urllib.request
from typing import Any

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import expect

from accounts.services import api_key_create
from conftest import ARTIFACTS_DIR
from generation.models import DiffusionModel
from generation.services.transitions import generation_fail
from testing.browser import browser_sign_up
from testing.processes import RunningProcess

VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


def api_submit(site: str, key: str, **fields: Any) -> dict[str, Any]:
    """Submits as a script would: an API key and no browser session."""
    request = urllib.request.Request(
        f"{site}/api/v1/generations",
        data=json.dumps(fields).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 202
        return dict(json.load(response))


def api_cancel(site: str, key: str, generation_id: str) -> None:
    request = urllib.request.Request(
        f"{site}/api/v1/generations/{generation_id}/cancel",
        headers={"Authorization": f"Bearer {key}"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200


def signed_up(page: Any, site: str, username: str, viewport: str) -> str:
    """Signs up in the browser and returns an API key of that same user."""
    page.set_viewport_size(VIEWPORTS[viewport])
    browser_sign_up(page, site, username)
    page.evaluate('() => { window.pageLoadMarker = "still the same page"; }')
    _, key = api_key_create(user=User.objects.get(username=username), name="render script")
    return key


@pytest.mark.browser
@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_a_generation_from_the_api_appears_live_and_runs_to_its_images(
    web_server: str, gpu_worker: RunningProcess, browser_page: Any, viewport: str
) -> None:
    page = browser_page
    key = signed_up(page, web_server, f"erin-{viewport}", viewport)
    # One made on the page first, so that the one from the API has a card to go above.
    page.fill("#prompt", "a teapot on a windowsill")
    page.click("#generate")
    page.wait_for_selector(".generation[data-status=succeeded] .images img", timeout=120_000)

    generation = api_submit(web_server, key, prompt="a fox in the snow, from a script", count=2)

    card = page.locator(f'.generation[data-id="{generation["id"]}"]')
    expect(card).to_have_count(1)
    expect(page.locator(".generation").first).to_have_attribute("data-id", generation["id"])
    expect(card.locator(".prompt")).to_have_text("a fox in the snow, from a script")
    expect(card.locator(".detail")).to_contain_text("Tiny demo · 64\u00d764 · 4 steps")
    expect(card).to_have_attribute("data-status", "succeeded", timeout=120_000)
    expect(card.locator(".status")).to_have_text("Succeeded")
    expect(card.locator(".images img")).to_have_count(2)
    image = card.locator(".images img").first.element_handle()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image)
    assert not card.locator(".progress").is_visible()
    assert not card.locator(".cancel").is_visible()
    # The page's own generation still has one card, and nothing reloaded the page.
    expect(page.locator(".generation")).to_have_count(2)
    assert page.evaluate("window.pageLoadMarker") == "still the same page"
    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS_DIR / f"card-from-api-{viewport}.png"), full_page=True)


@pytest.mark.browser
@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_cancelled_and_failed_cards_say_their_credits_came_back_live(
    transactional_db: None,
    web_server: str,
    tiny_model: DiffusionModel,
    browser_page: Any,
    viewport: str,
) -> None:
    page = browser_page
    key = signed_up(page, web_server, f"fay-{viewport}", viewport)
    balance = page.get_attribute("#balance", "data-credits")

    # Made on this page and cancelled with its own button (no worker: it stays queued).
    page.fill("#prompt", "a lighthouse in a storm")
    page.click("summary")
    page.fill("#count", "2")
    page.click("#generate")
    own = page.locator(".generation").first
    expect(own).to_have_attribute("data-status", "queued")
    own.locator(".cancel").click()
    expect(own.locator(".status")).to_have_text("Cancelled")
    expect(own.locator(".state")).to_have_text("Cancelled: your 2 credits came back.")
    expect(own.locator(".state")).to_have_attribute("aria-live", "polite")

    # Made and cancelled by a script: the page hears of both only through events.
    scripted = api_submit(web_server, key, prompt="a kettle on a stove", count=3)
    card = page.locator(f'.generation[data-id="{scripted["id"]}"]')
    expect(card).to_have_attribute("data-status", "queued")
    api_cancel(web_server, key, scripted["id"])
    expect(card.locator(".state")).to_have_text("Cancelled: your 3 credits came back.")
    assert not card.locator(".cancel").is_visible()

    # Failed while waiting, as when its worker is lost for good.
    failing = api_submit(web_server, key, prompt="a bridge at night")
    card = page.locator(f'.generation[data-id="{failing["id"]}"]')
    expect(card).to_have_attribute("data-status", "queued")
    generation_fail(generation_id=failing["id"], error="The GPU ran out of memory")
    expect(card.locator(".status")).to_have_text("Failed")
    expect(card.locator(".state")).to_have_text(
        "Failed: The GPU ran out of memory. Your 1 credit came back."
    )

    # Each refund reached the balance in the header too: it is back where it started.
    expect(page.locator("#balance")).to_have_attribute("data-credits", balance)
    expect(page.locator(".generation")).to_have_count(3)
    assert page.evaluate("window.pageLoadMarker") == "still the same page"
    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS_DIR / f"card-credits-back-{viewport}.png"), full_page=True)


@pytest.mark.browser
@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_a_generation_started_while_live_updates_were_cut_appears_when_they_resume(
    transactional_db: None,
    web_server: str,
    tiny_model: DiffusionModel,
    browser_page: Any,
    viewport: str,
) -> None:
    page = browser_page
    sockets: list[Any] = []
    cut = {"now": False}

    def through_to_the_server(socket: Any) -> None:
        if cut["now"]:
            socket.close()
            return
        socket.connect_to_server()
        sockets.append(socket)

    page.route_web_socket("**/ws/generations/", through_to_the_server)
    key = signed_up(page, web_server, f"gus-{viewport}", viewport)
    page.fill("#prompt", "a windmill at noon")
    page.click("#generate")
    expect(page.locator(".generation")).to_have_count(1)

    # The live connection drops and stays down while a script submits: its queued event is lost,
    # and with no worker up nothing else is said about it.
    cut["now"] = True
    for socket in sockets:
        socket.close()
    expect(page.locator("#live-status")).to_have_attribute("data-state", "closed")
    scripted = api_submit(web_server, key, prompt="a canal at dusk, from a script")
    cut["now"] = False

    expect(page.locator("#live-status")).to_have_attribute("data-state", "open", timeout=15_000)
    first = page.locator(".generation").first
    expect(first).to_have_attribute("data-id", scripted["id"])
    expect(first.locator(".prompt")).to_have_text("a canal at dusk, from a script")
    expect(first.locator(".state")).to_have_text("Position 2: waiting for a GPU to start")
    expect(page.locator(".generation")).to_have_count(2)
