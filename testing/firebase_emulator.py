"""The Firebase Auth emulator from firebase-tools (installed by `make test` into
testing/node_modules), on free ports, for tests that sign in through the real Firebase web SDK
and firebase-admin without a real Firebase project."""

import json
import os
import shutil
import urllib.request
from pathlib import Path

from testing.ports import free_port, wait_for_port
from testing.processes import RunningProcess

FIREBASE_CLI = Path(__file__).resolve().parent / "node_modules" / ".bin" / "firebase"
# A `demo-` project exists only in the emulators and needs no credentials or network.
EMULATOR_PROJECT_ID = "demo-rollerai"


def firebase_emulator_missing() -> str | None:
    """What keeps the emulator from starting here, in words, or None when nothing does."""
    if shutil.which("node") is None:
        return "Node.js is not installed: run `make test` (it installs nodejs and npm)."
    if not FIREBASE_CLI.exists():
        return f"{FIREBASE_CLI} is missing: run `make testing/node_modules/.installed`."
    return None


class FirebaseAuthEmulator:
    """A running Auth emulator; `host` is what FIREBASE_AUTH_EMULATOR_HOST takes."""

    def __init__(self, folder: Path) -> None:
        missing = firebase_emulator_missing()
        if missing:
            raise RuntimeError(missing)
        port = free_port()
        self.host = f"127.0.0.1:{port}"
        config = {
            "emulators": {
                "auth": {"host": "127.0.0.1", "port": port},
                "hub": {"host": "127.0.0.1", "port": free_port()},
                "logging": {"host": "127.0.0.1", "port": free_port()},
                "ui": {"enabled": False},
            }
        }
        (folder / "firebase.json").write_text(json.dumps(config))
        env = dict(os.environ)
        # firebase-tools would otherwise look for a newer version of itself on the registry.
        env.update(NO_UPDATE_NOTIFIER="1", CI="true", HOME=str(folder))
        self.process = RunningProcess(
            [
                str(FIREBASE_CLI),
                "emulators:start",
                "--only",
                "auth",
                "--project",
                EMULATOR_PROJECT_ID,
                "--config",
                str(folder / "firebase.json"),
            ],
            log_path=folder / "firebase-emulator.log",
            env=env,
        )
        try:
            wait_for_port(port, what="Firebase Auth emulator", timeout=120)
            self.process.wait_for_output("All emulators ready", timeout=120)
        except BaseException:
            self.stop()
            raise

    def users(self) -> list[dict[str, object]]:
        """Every Firebase user the emulator holds (its admin API accepts the token `owner`)."""
        request = urllib.request.Request(
            f"http://{self.host}/identitytoolkit.googleapis.com/v1/projects/"
            f"{EMULATOR_PROJECT_ID}/accounts:query",
            data=b"{}",
            headers={"Authorization": "Bearer owner", "Content-Type": "application/json"},
        )
        # Always the emulator's own http:// address.
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            users: list[dict[str, object]] = json.load(response).get("userInfo", [])
        return users

    def stop(self) -> None:
        # SIGTERM lets the CLI shut the emulator's own child processes down too.
        self.process.stop(timeout=30)
