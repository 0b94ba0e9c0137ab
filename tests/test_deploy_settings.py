"""Production settings (HTTPS, a real secret key) pass Django's deployment checklist."""

import secrets
import subprocess
import sys

from testing.processes import BASE_DIR, process_environment


def test_production_settings_pass_check_deploy_without_warnings(db: None) -> None:
    env = process_environment(
        DJANGO_HTTPS="true",
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="rollerai.example.com",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
