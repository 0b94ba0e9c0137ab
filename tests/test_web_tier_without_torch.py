"""Web machines don't install torch: the ASGI app, every URL's view and the admin must import
and answer without it."""

import subprocess
import sys

from testing.processes import BASE_DIR, process_environment

CHECK = """
import sys
# Make any import of the GPU stack fail loudly, as it would on a web machine.
for name in ("torch", "diffusers", "transformers", "accelerate"):
    sys.modules[name] = None
import django
django.setup()
import rollerai.asgi
from django.test import Client
from django.urls import get_resolver
get_resolver().url_patterns  # imports every view module
client = Client(HTTP_HOST="localhost")
for path in ("/", "/accounts/login/", "/accounts/signup/", "/api/v1/models", "/admin/login/"):
    status = client.get(path).status_code
    assert status in (200, 302, 401), (path, status)
print("web tier ok")
"""


def test_the_web_tier_imports_and_serves_without_the_gpu_stack(db: None) -> None:
    result = subprocess.run(
        [sys.executable, "-c", CHECK],
        cwd=BASE_DIR,
        env=process_environment(),
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert "web tier ok" in result.stdout
