"""A pool as RunPod pods made from a template: one pod per worker, named with the pool's prefix.

Through RunPod's REST API (https://rest.runpod.io/v1: POST /pods, GET /pods, DELETE /pods/{id})
with `requests`, not the `runpod` SDK: runpod 1.12.0 pulls in fastapi[all], paramiko, boto3,
watchdog and more (it is also the serverless worker runtime and a CLI) onto the web tier, for
four HTTP calls.

Settings (the pool's backend_settings):

- `template_id`: the RunPod template the pods run (the worker image and its start command).
- `gpu_type_id`: the GPU type, such as "NVIDIA GeForce RTX 4090".
- `gpu_count` (optional): GPUs per pod (1).
- `cloud_type` (optional): "SECURE" (default) or "COMMUNITY".
- `name_prefix` (optional): pods are named `<prefix>-<random>` (default `rollerai-<pool name>`);
  the pool's workers are the pods whose names start with it.

The API key comes only from RUNPOD_API_KEY (a secret: never in settings). RUNPOD_API_BASE
replaces the API's address (tests point it at a loopback stand-in).

Stopping a pod terminates it: RunPod sends the container SIGTERM, and the worker hands back what
it holds. The controller only stops idle workers.
"""

import os
import time
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import requests

from worker.autoscaler.backends.base import Backend, BackendError, PlatformWorker
from worker.autoscaler.pools import PoolSpec

DEFAULT_API_BASE = "https://rest.runpod.io/v1"
SETTINGS = ("template_id", "gpu_type_id", "gpu_count", "cloud_type", "name_prefix")
CLOUD_TYPES = ("SECURE", "COMMUNITY")
# Seconds one call may take (connect, read); the controller retries the round later anyway.
TIMEOUT = (5.0, 30.0)


class RunPodBackend(Backend):
    kind = "runpod"

    def __init__(self, pool: PoolSpec) -> None:
        super().__init__(pool)
        settings = pool.backend_settings
        self.name_prefix: str = settings.get("name_prefix") or f"rollerai-{pool.name}"
        self.api_base = (os.environ.get("RUNPOD_API_BASE") or DEFAULT_API_BASE).rstrip("/")
        self._session = requests.Session()

    @classmethod
    def settings_problems(cls, settings: dict[str, Any]) -> list[str]:
        problems = []
        for key in ("template_id", "gpu_type_id"):
            value = settings.get(key)
            if not isinstance(value, str) or not value.strip():
                problems.append(f"RunPod: `{key}` is required.")
        gpu_count = settings.get("gpu_count", 1)
        if isinstance(gpu_count, bool) or not isinstance(gpu_count, int) or gpu_count < 1:
            problems.append("RunPod: `gpu_count` must be a whole number, 1 or more.")
        if settings.get("cloud_type", "SECURE") not in CLOUD_TYPES:
            problems.append("RunPod: `cloud_type` must be SECURE or COMMUNITY.")
        prefix = settings.get("name_prefix")
        if prefix is not None and (not isinstance(prefix, str) or not prefix.strip()):
            problems.append("RunPod: `name_prefix` must be a non-empty string.")
        if any("key" in key.lower() for key in settings):
            problems.append("RunPod: the API key belongs in RUNPOD_API_KEY, never in settings.")
        unknown = sorted(key for key in set(settings) - set(SETTINGS) if "key" not in key.lower())
        if unknown:
            problems.append(f"RunPod: unknown settings: {', '.join(unknown)}.")
        return problems

    def workers(self) -> list[PlatformWorker]:
        pods = self._request("list the pods", "GET", "/pods")
        return [
            PlatformWorker(
                id=str(pod["id"]),
                started_at=_epoch(pod.get("createdAt") or pod.get("lastStartedAt")),
                stopping=pod.get("desiredStatus", "RUNNING") != "RUNNING",
            )
            for pod in pods or []
            if str(pod.get("name", "")).startswith(f"{self.name_prefix}-")
        ]

    def start(self, count: int) -> None:
        settings = self.pool.backend_settings
        body = {
            "templateId": settings.get("template_id"),
            "gpuTypeIds": [settings.get("gpu_type_id")],
            "gpuCount": settings.get("gpu_count") or 1,
            "cloudType": settings.get("cloud_type") or "SECURE",
            "env": {"WORKER_POOL": self.pool.name},
        }
        _api_key()  # a missing key is not a refusal part-way through
        for started in range(count):
            name = f"{self.name_prefix}-{uuid.uuid4().hex[:8]}"
            try:
                self._request("create a pod", "POST", "/pods", json={**body, "name": name})
            except BackendError as error:
                # The pods made before the refusal are up and listed; say how far it got.
                raise BackendError(f"{error} (started {started} of {count})")

    def stop(self, workers: Sequence[PlatformWorker]) -> None:
        for worker in workers:
            self._request(f"terminate pod {worker.id}", "DELETE", f"/pods/{worker.id}")

    def close(self) -> None:
        self._session.close()

    def _request(self, what: str, method: str, path: str, **options: Any) -> Any:
        api_key = _api_key()
        try:
            response = self._session.request(
                method,
                f"{self.api_base}{path}",
                headers={"Authorization": f"Bearer {api_key}"},
                timeout=TIMEOUT,
                **options,
            )
        except requests.RequestException as error:
            raise BackendError(f"RunPod unreachable (could not {what}): {error}")
        if response.status_code >= 400:
            raise BackendError(
                f"RunPod refused to {what}: {response.status_code} {_message(response)}"
            )
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise BackendError(f"RunPod answered {what} with something that is not JSON.")


def _api_key() -> str:
    api_key = os.environ.get("RUNPOD_API_KEY")
    if not api_key:
        raise BackendError("RunPod: RUNPOD_API_KEY is not set.")
    return api_key


def _message(response: requests.Response) -> str:
    """RunPod's own words: its error body's `error` or `message`, else the body's start."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:200] or response.reason
    if isinstance(body, dict):
        for key in ("error", "message"):
            if body.get(key):
                return str(body[key])
    if isinstance(body, list) and body and isinstance(body[0], dict) and body[0].get("error"):
        return str(body[0]["error"])
    return response.text[:200]


def _epoch(moment: Any) -> float:
    # RunPod gives ISO 8601 times; a pod without one counts from now.
    if isinstance(moment, str):
        try:
            return datetime.fromisoformat(moment.replace("Z", "+00:00")).timestamp()
        except ValueError:
            pass
    return time.time()
