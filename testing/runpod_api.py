"""RunPod's REST API on loopback (the part the RunPod backend calls: POST/GET /v1/pods, POST
/v1/pods/{id}/stop, DELETE /v1/pods/{id}), holding pods, checking the API key, and able to fail
the next requests."""

import threading
import uuid
from datetime import UTC, datetime
from typing import Any

from testing.loopback_api import LoopbackServer, json_api


class RunPodAPI:
    def __init__(self, *, api_key: str) -> None:
        self.api_key = api_key
        self.pods: dict[str, dict[str, Any]] = {}
        self.requests: list[tuple[str, str]] = []
        self._failures: list[tuple[int, Any]] = []
        self._lock = threading.Lock()
        self._http = LoopbackServer(
            json_api(
                lambda method, path, headers, body: self._handle(
                    method, path, headers.get("Authorization") or "", body
                )
            )
        )
        self.port = self._http.port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def fail_next(self, count: int, status: int, body: Any) -> None:
        with self._lock:
            self._failures.extend([(status, body)] * count)

    def pod_add(self, name: str) -> str:
        """A pod someone else made on the same account."""
        with self._lock:
            return self._create({"name": name, "templateId": "other"})["id"]

    def stop(self) -> None:
        self._http.stop()

    def _create(self, body: dict[str, Any]) -> dict[str, Any]:
        pod = {
            "id": uuid.uuid4().hex[:14],
            "name": body.get("name", ""),
            "templateId": body.get("templateId"),
            "gpuTypeIds": body.get("gpuTypeIds"),
            "gpuCount": body.get("gpuCount", 1),
            "cloudType": body.get("cloudType", "SECURE"),
            "env": body.get("env", {}),
            "desiredStatus": "RUNNING",
            "createdAt": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        }
        self.pods[pod["id"]] = pod
        return pod

    def _handle(self, method: str, path: str, auth: str, body: Any) -> tuple[int, Any]:
        with self._lock:
            self.requests.append((method, path))
            if auth != f"Bearer {self.api_key}":
                return 401, {"error": "Unauthorized: invalid API key"}
            if self._failures:
                return self._failures.pop(0)
            parts = path.strip("/").split("/")
            if parts[:2] != ["v1", "pods"]:
                return 404, {"error": f"no route {path}"}
            if len(parts) == 2 and method == "GET":
                return 200, list(self.pods.values())
            if len(parts) == 2 and method == "POST":
                return 201, self._create(body or {})
            pod = self.pods.get(parts[2]) if len(parts) >= 3 else None
            if pod is None:
                return 404, {"error": "pod not found"}
            if len(parts) == 3 and method == "DELETE":
                del self.pods[parts[2]]
                return 204, None
            if parts[3:] == ["stop"] and method == "POST":
                pod["desiredStatus"] = "EXITED"
                return 200, pod
            return 404, {"error": f"no route {method} {path}"}
