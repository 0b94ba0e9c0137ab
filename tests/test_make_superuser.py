"""`make superuser`, the command `make run`'s banner and the README give for a staff account,
works as printed: with `make run`'s local defaults, no DJANGO_SECRET_KEY needed."""

import os
import re
import sqlite3
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_make_superuser_creates_a_staff_account_on_the_local_database(tmp_path: Path) -> None:
    database = tmp_path / "local.sqlite3"
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("DJANGO_", "DATABASE_"))
    }
    environment |= {
        "DATABASE_URL": f"sqlite:///{database}",
        "DJANGO_SUPERUSER_PASSWORD": "a long local password",
    }

    # -o: the virtual environment is already installed; don't check its requirements here.
    finished = subprocess.run(
        [
            "make",
            "--no-print-directory",
            "-o",
            ".venv/.run-installed",
            "superuser",
            "ARGS=--noinput --username staff --email staff@example.com",
        ],
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert finished.returncode == 0, finished.stdout + finished.stderr
    assert "Superuser created successfully." in finished.stdout
    with sqlite3.connect(database) as connection:
        rows = connection.execute(
            "SELECT username, email, is_staff, is_superuser FROM auth_user"
        ).fetchall()
    assert rows == [("staff", "staff@example.com", 1, 1)]


def test_the_banner_and_the_readme_print_that_command() -> None:
    banner = (REPO / "scripts" / "run").read_text()
    readme = (REPO / "README.md").read_text()

    assert "Staff account for /admin/: make superuser" in banner
    assert "`make superuser`" in readme
    assert not re.search(r"manage\.py createsuperuser", banner + readme)
