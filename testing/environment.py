"""The test session's own environment, made before Django reads its settings: a private
redis-server on a free port (so tests never touch the Redis of a running site), and private
folders for media and models."""

import os
import shutil
import subprocess
import tempfile

from testing.ports import free_port, wait_for_port

_server: subprocess.Popen[bytes] | None = None


def test_environment_start() -> None:
    global _server
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit(
            "redis-server is not installed: run `make test` (it installs it as root) or "
            "`sudo apt-get install -y redis-server`."
        )
    port = free_port()
    data_dir = tempfile.mkdtemp(prefix="rollerai-test-redis-")
    # Nothing is persisted: the data lives as long as the test session.
    options = f"--port {port} --bind 127.0.0.1 --appendonly no --dir {data_dir}".split()
    _server = subprocess.Popen([binary, *options, "--save", ""], stdout=subprocess.DEVNULL)
    wait_for_port(port, what="test Redis server")
    os.environ["REDIS_URL"] = f"redis://127.0.0.1:{port}/0"
    os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-not-secret")
    session_dir = tempfile.mkdtemp(prefix="rollerai-test-")
    os.environ["MEDIA_ROOT"] = os.path.join(session_dir, "media")
    os.environ["MODELS_DIR"] = os.path.join(session_dir, "models")
    os.environ["DJANGO_SETTINGS_MODULE"] = "rollerai.settings"


def test_environment_stop() -> None:
    if _server is not None:
        _server.terminate()
        _server.wait(timeout=10)
