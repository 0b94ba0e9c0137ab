"""The generate page as a tool, in a real browser on a desktop and a phone: aspect presets,
sliders, the seed's dice and lock, the character counter, the cost, the model picker's price and
GPU state, Ctrl+Enter, and the canvas showing the live preview and then the result at its
natural size (never past 2x), in view on a phone."""

from typing import Any

import pytest

from conftest import ARTIFACTS_DIR
from generation.models import DiffusionModel, Generation
from testing.browser import VIEWPORTS, browser_sign_up
from testing.processes import RunningProcess


def screenshot(page: Any, name: str) -> None:
    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS_DIR / name), full_page=False)


def size(page: Any) -> tuple[int, int]:
    return int(page.input_value("#width")), int(page.input_value("#height"))


@pytest.mark.browser
@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_the_controls_shape_what_is_sent(
    web_server: str,
    browser_page: Any,
    tiny_model: DiffusionModel,
    transactional_db: None,
    viewport: str,
) -> None:
    # No worker: generations wait in line, which is all these checks need.
    page = browser_page
    page.set_viewport_size(VIEWPORTS[viewport])
    browser_sign_up(page, web_server, f"dana-{viewport}")
    screenshot(page, f"generate-{viewport}-before.png")

    option = page.inner_text("#model option:checked")
    assert "1 credit per image" in option and "GPU starts on demand" in option
    assert page.inner_text("#model-gpu") == "1 credit per image · GPU starts on demand"

    # Presets follow the model's sizes; typing a size of no preset ticks Custom.
    page.check("input[name=aspect][value='16:9']")
    width, height = size(page)
    assert width > height and width % 8 == 0 and height % 8 == 0
    page.check("input[name=aspect][value='9:16']")
    assert size(page) == (height, width)
    page.check("input[name=aspect][value='1:1']")
    assert size(page) == (64, 64)
    page.fill("#width", "200")
    assert page.is_checked("input[name=aspect][value=custom]")

    # A slider and its number box show one value.
    page.fill("#steps-slider", "30")
    assert page.input_value("#steps") == "30"
    page.fill("#guidance", "9.5")
    page.dispatch_event("#guidance", "input")
    assert page.input_value("#guidance-slider") == "9.5"

    # The cost follows the number of images.
    page.fill("#count", "3")
    page.dispatch_event("#count", "input")
    assert page.inner_text("#cost") == "Costs 3 credits (3 \u00d7 1 credit)."
    page.fill("#count", "1")
    page.dispatch_event("#count", "input")

    # The counter counts, and a prompt over the limit is refused with a reason, not cut.
    page.fill("#prompt", "x" * 1001)
    assert page.inner_text("#prompt-count") == "1001 / 1000"
    page.click("#generate")
    assert "the most is 1000" in page.inner_text(".field-error[data-field=prompt]")
    assert Generation.objects.count() == 0

    # Ctrl+Enter generates; the dice's seed is kept while locked and dropped when unlocked.
    page.fill("#prompt", "a heron in the reeds")
    page.click("#seed-dice")
    seed = int(page.input_value("#seed"))
    page.click("#seed-lock")
    assert page.get_attribute("#seed-lock", "aria-pressed") == "true"
    page.focus("#prompt")
    page.keyboard.press("Control+Enter")
    page.wait_for_selector(".generation[data-status=queued]")
    assert page.input_value("#seed") == str(seed)
    page.keyboard.press("Control+Enter")
    page.wait_for_function("() => document.querySelectorAll('.generation').length === 2")
    assert [g.seed for g in Generation.objects.order_by("created_at")] == [seed, seed]
    page.click("#seed-lock")
    page.focus("#prompt")
    page.keyboard.press("Control+Enter")
    page.wait_for_function("() => document.querySelectorAll('.generation').length === 3")
    assert page.input_value("#seed") == ""
    made = list(Generation.objects.order_by("created_at"))
    assert (made[-1].width, made[-1].height) == (200, 64)
    assert made[-1].steps == 30 and made[-1].guidance == 9.5


CANVAS_IMAGE = "#canvas-images img"


@pytest.mark.browser
@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_the_canvas_shows_the_preview_growing_then_the_result_at_its_natural_size(
    web_server: str, gpu_worker: RunningProcess, browser_page: Any, viewport: str
) -> None:
    page = browser_page
    page.set_viewport_size(VIEWPORTS[viewport])
    browser_sign_up(page, web_server, f"emil-{viewport}")
    # The picker says a GPU is ready once the worker's heartbeat is in (a reload shows it).
    for _ in range(60):
        if page.inner_text("#model-gpu").endswith("GPU ready"):
            break
        page.wait_for_timeout(500)
        page.reload()
    assert page.inner_text("#model-gpu") == "1 credit per image · GPU ready"
    page.fill("#prompt", "a lighthouse on a cliff at dawn")
    page.check("input[name=aspect][value=custom]")
    page.fill("#width", "192")
    page.fill("#height", "128")
    page.fill("#steps", "50")
    page.click("#generate")

    page.wait_for_selector("#canvas-preview:not([hidden])", timeout=120_000)
    # The new generation is in view without scrolling, a phone's too.
    assert page.evaluate(
        "(() => { const r = document.getElementById('canvas').getBoundingClientRect();"
        " return r.top < innerHeight && r.bottom > 0; })()"
    )
    page.wait_for_timeout(500)  # the smooth scroll settles before the picture
    screenshot(page, f"generate-{viewport}-sampling.png")
    assert "Sampling: step" in page.inner_text("#canvas-status")

    image = page.wait_for_selector(CANVAS_IMAGE, timeout=120_000)
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image)
    natural, shown = page.evaluate(
        "img => [img.naturalWidth, img.getBoundingClientRect().width]", image
    )
    assert natural == 192
    assert 0 < shown <= 2 * natural
    assert page.inner_text("#canvas-status") == "Done."
    assert page.inner_text("#canvas-announce") == "Done."
    assert not page.is_visible("#canvas-preview")
    screenshot(page, f"generate-{viewport}-after.png")

    # The result opens in the lightbox, with its seed.
    image.click()
    page.wait_for_selector(".lightbox[role=dialog]")
    assert page.inner_text(".lightbox-counter") == "Image 1 of 1"
    seed = page.get_attribute(".lightbox-copy-seed", "data-seed")
    assert seed and seed.isdigit()


@pytest.mark.browser
def test_the_lcm_sampler_is_offered_only_with_a_few_step_model(
    web_server: str, browser_page: Any, tiny_model: DiffusionModel, transactional_db: None
) -> None:
    DiffusionModel.objects.create(
        slug="tiny-turbo",
        name="Tiny turbo",
        source="tiny-sd",
        family=DiffusionModel.Family.TURBO,
        default_sampler="lcm",
        default_steps=1,
        max_steps=8,
    )
    page = browser_page
    browser_sign_up(page, web_server, "lena")
    offered = (
        "() => [...document.querySelectorAll('#sampler option')]"
        ".filter((o) => !o.hidden && !o.disabled).map((o) => o.value)"
    )

    page.select_option("#model", "tiny-demo")
    assert "lcm" not in page.evaluate(offered)
    assert "euler_a" in page.evaluate(offered)
    page.select_option("#model", "tiny-turbo")
    assert "lcm" in page.evaluate(offered)
    assert page.text_content("#sampler option[value='']") == "Default (LCM)"
    page.click("details summary")
    page.select_option("#sampler", "lcm")
    # Back to a model that is not few-step: LCM goes, and with it the choice of it.
    page.select_option("#model", "tiny-demo")
    assert "lcm" not in page.evaluate(offered)
    assert page.input_value("#sampler") == ""
