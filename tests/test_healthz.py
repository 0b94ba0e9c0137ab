"""/healthz tells a load balancer whether the database and Redis answer."""

from typing import Any

from django.test import Client


def test_it_is_ok_when_database_and_redis_answer(db: None, client: Client) -> None:
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "redis": "ok"}


def test_it_fails_when_redis_does_not_answer(db: None, client: Client, settings: Any) -> None:
    # A port nothing listens on.
    settings.RQ_QUEUES = {"default": {"URL": "redis://127.0.0.1:1/0"}}

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"status": "failing", "database": "ok", "redis": "unreachable"}
