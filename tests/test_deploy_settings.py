"""Production settings (HTTPS, a real secret key) pass Django's deployment checklist."""

import secrets
import subprocess
import sys

import pytest

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


def settings_import(**variables: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from rollerai import settings; print(settings.HTTPS)"],
        cwd=BASE_DIR,
        env=process_environment(DJANGO_SECRET_KEY="x", **variables),
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    "name",
    ["DJANGO_HTTPS", "DJANGO_DEBUG", "PRIORITY_FOR_PAYING_USERS", "SECURE_HSTS_PRELOAD"],
)
@pytest.mark.parametrize("value", ["ture", "yes", "on", ""])
def test_a_boolean_setting_that_is_not_true_false_1_or_0_stops_the_start(
    name: str, value: str
) -> None:
    result = settings_import(**{"DJANGO_HTTPS": "true", name: value})

    assert result.returncode == 1
    assert (
        f"django.core.exceptions.ImproperlyConfigured: {name} must be true, false, 1 or 0 "
        f"(in any case), not {value!r}." in result.stderr
    )


@pytest.mark.parametrize(
    ("value", "https"),
    [("TRUE", "True"), ("True", "True"), ("1", "True"), ("False", "False"), ("0", "False")],
)
def test_true_false_1_and_0_in_any_case_are_accepted(value: str, https: str) -> None:
    result = settings_import(DJANGO_HTTPS=value)

    assert (result.returncode, result.stdout.strip()) == (0, https), result.stderr
