"""The README's examples of both clients, run as written against the live server with a real
worker: only the address is the test's."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from PIL import Image

from billing.selectors import balance_for
from generation.models import Generation
from rollerai.settings import SIGNUP_CREDITS
from testing.processes import BASE_DIR, SiteURL

README_ADDRESS = "http://127.0.0.1:8001"


def readme_example(name: str) -> str:
    readme = (BASE_DIR / "README.md").read_text()
    found = re.search(rf"<!-- readme-example: {name} -->\n```python\n(.*?)```", readme, re.DOTALL)
    assert found, f"the README has no {name} example"
    return found.group(1)


@pytest.mark.usefixtures("transactional_db", "gpu_worker")
@pytest.mark.parametrize(
    ("name", "files", "generations"),
    [
        ("openai", ["lighthouse.png"], [("text", 2), ("image", 1)]),
        ("webuiapi", ["lighthouse.png", "lighthouse-snow.png"], [("text", 2), ("image", 1)]),
    ],
)
def test_the_readme_example_runs_as_written(
    web_server: SiteURL,
    user: User,
    api_key: str,
    tmp_path: Path,
    name: str,
    files: list[str],
    generations: list[tuple[str, int]],
) -> None:
    script = readme_example(name).replace(README_ADDRESS, web_server.live_url)
    ran = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env={"ROLLERAI_API_KEY": api_key, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert ran.returncode == 0, ran.stderr
    assert "tiny-demo" in ran.stdout
    for file in files:
        with Image.open(tmp_path / file) as image:
            assert image.format == "PNG"
    made = Generation.objects.filter(user=user).order_by("created_at")
    assert [(g.kind, g.count) for g in made] == generations
    assert all(g.status == Generation.Status.SUCCEEDED for g in made)
    assert balance_for(user) == SIGNUP_CREDITS - sum(g.credits_charged for g in made)
