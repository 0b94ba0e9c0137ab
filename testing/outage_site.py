"""A RollerAI site of its own for outage tests: its database on a private PostgreSQL cluster and
its queues on a private Redis, both of which the test may stop and start, plus helpers to act
on it from outside (as its web tier would) and to read what happened."""

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg

from testing.outage import PrivatePostgres, PrivateRedis
from testing.processes import BASE_DIR, RunningProcess, gpu_worker_start

SETUP = """
from accounts.services import account_create
from billing.models import CreditEntry
from billing.services.credits import credits_grant
from generation.models import DiffusionModel
user = account_create(username="alice", password="correct horse battery staple")
credits_grant(user=user, amount=40, kind=CreditEntry.Kind.STAFF_ADJUSTMENT, reference="outage")
DiffusionModel.objects.create(
    slug="tiny-demo", name="Tiny demo", source="tiny-sd", is_demo=True, default_width=64,
    default_height=64, max_width=512, max_height=512, default_steps=4, max_steps=400,
)
"""
SUBMIT = """
import json
from django.contrib.auth.models import User
from generation.schemas import GenerationRequest
from generation.services import generation_submit
alice = User.objects.get(username="alice")
request = GenerationRequest.model_validate(json.loads(BODY))
print(generation_submit(user=alice, data=request).id)
"""


class OutageSite:
    def __init__(self) -> None:
        self.postgres = PrivatePostgres()
        self.redis = PrivateRedis()
        self.env = {"DATABASE_URL": self.postgres.url, "REDIS_URL": self.redis.url}
        self._manage("migrate", "--no-input", "-v", "0")
        self._python(SETUP)

    def _manage(self, *args: str) -> str:
        return self._run([sys.executable, "manage.py", *args])

    def _python(self, code: str, *args: str) -> str:
        return self._manage(
            "shell", "-c", code.replace("sys.argv[1]", repr(args[0]) if args else "")
        )

    def _run(self, args: list[str]) -> str:
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "rollerai.settings", **self.env}
        done = subprocess.run(args, cwd=BASE_DIR, env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def submit(self, **fields: Any) -> str:
        """Ask for a generation as alice, the way the web tier does; returns its id."""
        body = json.dumps({"prompt": "a lighthouse at dawn", **fields})
        return self._python(SUBMIT.replace("BODY", repr(body))).strip().splitlines()[-1]

    def worker_start(self, log_path: Path, *args: str, **env: str) -> RunningProcess:
        return gpu_worker_start(log_path, *args, **self.env, **env)

    def query(self, sql: str, *params: Any) -> Any:
        """One row from the site's database; None while it is unreachable."""
        try:
            with psycopg.connect(self.postgres.url, connect_timeout=2) as connection:
                return connection.execute(sql, params).fetchone()
        except psycopg.OperationalError:
            return None

    def generation(self, generation_id: str) -> dict[str, Any] | None:
        row = self.query(
            "SELECT status, attempts, error, run_token FROM generation_generation WHERE id = %s",
            generation_id,
        )
        if row is None:
            return None
        return dict(zip(("status", "attempts", "error", "run_token"), row, strict=True))

    def status(self, generation_id: str) -> str | None:
        generation = self.generation(generation_id)
        return generation["status"] if generation else None

    def balance(self) -> int:
        row = self.query(
            "SELECT b.credits FROM billing_creditbalance b JOIN auth_user u ON u.id = b.user_id "
            "WHERE u.username = 'alice'"
        )
        return int(row[0])

    def ledger(self, kind: str) -> int:
        return int(self.query("SELECT count(*) FROM billing_creditentry WHERE kind = %s", kind)[0])

    def destroy(self) -> None:
        self.postgres.destroy()
        self.redis.destroy()
