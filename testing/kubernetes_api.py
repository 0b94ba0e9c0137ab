"""A Kubernetes API server on loopback holding one Deployment and its pods, serving just what the
Kubernetes backend calls, for tests through the real `kubernetes` client."""

import json
import re
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from testing.loopback_api import LoopbackServer, json_api

DELETION_COST = "controller.kubernetes.io/pod-deletion-cost"
SCALE_PATH = re.compile(r"^/apis/apps/v1/namespaces/([^/]+)/deployments/([^/]+)/scale$")
PODS_PATH = re.compile(r"^/api/v1/namespaces/([^/]+)/pods$")
POD_PATH = re.compile(r"^/api/v1/namespaces/([^/]+)/pods/([^/]+)$")


def status_body(code: int, reason: str, message: str) -> dict[str, Any]:
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }


class KubernetesAPI:
    """The Deployment `deployment` in `namespace`, whose pods carry `rollerai.app/pool=<pool>`.

    Replica changes act at once, as the ReplicaSet controller would: pods are created (up to
    `pod_quota`, like a ResourceQuota refusing the rest), and on scale-down the pods with the
    lowest deletion cost (then the newest) are marked terminating; `terminating_finish()` lets
    them go."""

    def __init__(self, *, namespace: str, deployment: str, pool: str) -> None:
        self.namespace = namespace
        self.deployment = deployment
        self.pool = pool
        self.replicas = 0
        self.pod_quota: int | None = None
        self.pods: dict[str, dict[str, Any]] = {}
        self.requests: list[tuple[str, str]] = []
        self._created = 0
        self._failures: list[tuple[str | None, str, int, dict[str, Any]]] = []
        self._lock = threading.Lock()
        self._http = LoopbackServer(
            json_api(lambda method, path, headers, body: self._handle(method, path, body))
        )
        self.port = self._http.port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def kubeconfig_write(self, path: Path) -> Path:
        """A kubeconfig file for this server (JSON is YAML, which is what the client reads)."""
        document = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "standin", "cluster": {"server": self.url}}],
            "users": [{"name": "tester", "user": {"token": "test-token"}}],
            "contexts": [{"name": "standin", "context": {"cluster": "standin", "user": "tester"}}],
            "current-context": "standin",
        }
        path.write_text(json.dumps(document))
        return path

    def fail_next(
        self,
        count: int,
        status: int,
        reason: str,
        message: str,
        *,
        method: str | None = None,
        path_endswith: str = "",
    ) -> None:
        """Answer the next `count` requests (those with this method and path ending, if given)
        with an error Status."""
        with self._lock:
            failure = (method, path_endswith, status, status_body(status, reason, message))
            self._failures.extend([failure] * count)

    def scale_to(self, replicas: int) -> None:
        with self._lock:
            self._scale(replicas)

    def live_pods(self) -> list[str]:
        with self._lock:
            return [name for name, pod in self.pods.items() if not _terminating(pod)]

    def terminating_pods(self) -> list[str]:
        with self._lock:
            return [name for name, pod in self.pods.items() if _terminating(pod)]

    def terminating_finish(self) -> None:
        with self._lock:
            for name in [name for name, pod in self.pods.items() if _terminating(pod)]:
                del self.pods[name]
            self._scale(self.replicas)

    def stop(self) -> None:
        self._http.stop()

    def _scale(self, replicas: int) -> None:
        self.replicas = replicas
        live = [pod for pod in self.pods.values() if not _terminating(pod)]
        while len(live) > replicas:
            # The ReplicaSet controller's order, for pods alike in phase and readiness: lowest
            # deletion cost first, then the newest.
            victim = min(live, key=lambda pod: (_cost(pod), -pod["_order"]))
            victim["metadata"]["deletionTimestamp"] = _now()
            live.remove(victim)
        while len(live) < replicas and (self.pod_quota is None or len(live) < self.pod_quota):
            self._created += 1
            name = f"{self.deployment}-{self._created:05d}"
            pod = {
                "kind": "Pod",
                "apiVersion": "v1",
                "metadata": {
                    "name": name,
                    "namespace": self.namespace,
                    "labels": {"rollerai.app/pool": self.pool},
                    "annotations": {},
                    "creationTimestamp": _now(),
                },
                "spec": {"containers": [{"name": "worker", "image": "rollerai-worker"}]},
                "status": {"phase": "Running"},
                "_order": self._created,
            }
            self.pods[name] = pod
            live.append(pod)

    def _scale_document(self) -> dict[str, Any]:
        return {
            "kind": "Scale",
            "apiVersion": "autoscaling/v1",
            "metadata": {"name": self.deployment, "namespace": self.namespace},
            "spec": {"replicas": self.replicas},
            "status": {
                "replicas": len([p for p in self.pods.values() if not _terminating(p)]),
                "selector": f"rollerai.app/pool={self.pool}",
            },
        }

    def _handle(self, method: str, raw_path: str, body: Any) -> tuple[int, dict[str, Any]]:
        parsed = urlparse(raw_path)
        with self._lock:
            self.requests.append((method, parsed.path))
            for index, (fail_method, path_end, status, document) in enumerate(self._failures):
                if fail_method in (None, method) and parsed.path.endswith(path_end):
                    del self._failures[index]
                    return status, document
            scale = SCALE_PATH.match(parsed.path)
            if scale:
                if scale.groups() != (self.namespace, self.deployment):
                    name = scale.group(2)
                    return 404, status_body(404, "NotFound", f'deployments.apps "{name}" not found')
                if method == "PATCH":
                    self._scale(int(body["spec"]["replicas"]))
                return 200, self._scale_document()
            pods = PODS_PATH.match(parsed.path)
            if pods and method == "GET":
                wanted = parse_qs(parsed.query).get("labelSelector", [""])[0]
                labels = dict(part.split("=", 1) for part in wanted.split(",") if part)
                items = [
                    _public(pod)
                    for pod in self.pods.values()
                    if pods.group(1) == self.namespace
                    and all(pod["metadata"]["labels"].get(k) == v for k, v in labels.items())
                ]
                return 200, {"kind": "PodList", "apiVersion": "v1", "metadata": {}, "items": items}
            pod_match = POD_PATH.match(parsed.path)
            if pod_match and method == "PATCH":
                pod = self.pods.get(pod_match.group(2))
                if pod is None or pod_match.group(1) != self.namespace:
                    return 404, status_body(
                        404, "NotFound", f'pods "{pod_match.group(2)}" not found'
                    )
                annotations = pod["metadata"]["annotations"]
                for key, value in body.get("metadata", {}).get("annotations", {}).items():
                    if value is None:
                        annotations.pop(key, None)
                    else:
                        annotations[key] = value
                return 200, _public(pod)
            return 404, status_body(404, "NotFound", f"the stand-in does not serve {raw_path}")


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _terminating(pod: dict[str, Any]) -> bool:
    return "deletionTimestamp" in pod["metadata"]


def _cost(pod: dict[str, Any]) -> int:
    return int(pod["metadata"]["annotations"].get(DELETION_COST, "0"))


def _public(pod: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in pod.items() if not key.startswith("_")}
