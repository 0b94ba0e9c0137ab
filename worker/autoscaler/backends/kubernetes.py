"""A pool as a Kubernetes Deployment: scaled through its scale subresource, its workers are the
Deployment's pods.

Settings (the pool's backend_settings):

- `namespace`: the Deployment's namespace (default "default").
- `deployment`: its name (default `rollerai-worker-<pool name>`). Its pod template carries the
  label `rollerai.app/pool=<pool name>`, sets WORKER_POOL, and gives the worker a
  terminationGracePeriodSeconds longer than its longest job: on scale-down the kubelet sends
  SIGTERM and the worker finishes (or hands back) its job within that time.
- `kubeconfig` (optional): a kubeconfig file's path. Without it: in-cluster config inside a pod
  (KUBERNETES_SERVICE_HOST set), otherwise KUBECONFIG or ~/.kube/config.
- `context` (optional): the kubeconfig context to use.

Scale-down removes the chosen (idle) pods, not whichever the ReplicaSet would pick: each is first
given a low `controller.kubernetes.io/pod-deletion-cost`, which the ReplicaSet controller honours
when it picks the pods to delete (after unscheduled, pending and not-ready pods, which are not
serving anyone anyway).
"""

import contextlib
import json
import os
import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import urllib3
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException

from worker.autoscaler.backends.base import Backend, BackendError, Placeholders, PlatformWorker
from worker.autoscaler.pools import PoolSpec

POOL_LABEL = "rollerai.app/pool"
DELETION_COST = "controller.kubernetes.io/pod-deletion-cost"
# Lower than any cost an operator would set by hand, so the marked pods go first.
CHOSEN_COST = "-1000"
# Seconds one API call may take; the controller retries the round later anyway.
REQUEST_TIMEOUT = 10.0
# Terminal pods no longer count toward the Deployment's replicas (the ReplicaSet replaces them).
TERMINAL_PHASES = {"Succeeded", "Failed"}


class KubernetesBackend(Backend):
    kind = "kubernetes"

    def __init__(self, pool: PoolSpec) -> None:
        super().__init__(pool)
        settings = pool.backend_settings
        self.namespace: str = settings.get("namespace") or "default"
        self.deployment: str = settings.get("deployment") or f"rollerai-worker-{pool.name}"
        self._api_client: client.ApiClient | None = None
        # When replicas were last raised: the start time of pods asked for but not yet created
        # (the platform has no record of them to read it from).
        self._placeholders = Placeholders()

    @classmethod
    def settings_problems(cls, settings: dict[str, Any]) -> list[str]:
        problems = []
        for key in ("namespace", "deployment", "kubeconfig", "context"):
            value = settings.get(key)
            if value is not None and (not isinstance(value, str) or not value.strip()):
                problems.append(f"Kubernetes: `{key}` must be a non-empty string.")
        kubeconfig = settings.get("kubeconfig")
        exists = isinstance(kubeconfig, str) and os.path.isfile(os.path.expanduser(kubeconfig))
        if isinstance(kubeconfig, str) and kubeconfig.strip() and not exists:
            problems.append(f"Kubernetes: the kubeconfig file {kubeconfig} does not exist.")
        unknown = sorted(set(settings) - {"namespace", "deployment", "kubeconfig", "context"})
        if unknown:
            problems.append(f"Kubernetes: unknown settings: {', '.join(unknown)}.")
        return problems

    def workers(self) -> list[PlatformWorker]:
        scale, pods = self._scale_and_pods()
        replicas = (scale.spec.replicas or 0) if scale.spec else 0
        found = []
        for pod in pods:
            if pod.status is not None and pod.status.phase in TERMINAL_PHASES:
                continue
            meta = pod.metadata
            found.append(
                PlatformWorker(
                    id=meta.name,
                    started_at=_epoch(meta.creation_timestamp),
                    stopping=meta.deletion_timestamp is not None,
                )
            )
        return self._placeholders.added(found, replicas)

    def start(self, count: int) -> None:
        if count <= 0:
            return
        replicas = (self._read_scale().spec.replicas or 0) + count
        self._patch_replicas(replicas)
        self._placeholders.scaled_up()

    def stop(self, workers: Sequence[PlatformWorker]) -> None:
        chosen = {worker.id for worker in workers if not worker.stopping}
        if not chosen:
            return
        scale, pods = self._scale_and_pods()
        existing = {
            pod.metadata.name: pod for pod in pods if pod.metadata.deletion_timestamp is None
        }
        removed = 0
        for name, pod in existing.items():
            annotations = pod.metadata.annotations or {}
            if name in chosen:
                self._set_deletion_cost(name, CHOSEN_COST)
                removed += 1
            elif annotations.get(DELETION_COST) == CHOSEN_COST:
                # Marked by an earlier stop that failed before lowering replicas: this pod may be
                # busy now, so it must not be the one the ReplicaSet takes.
                self._set_deletion_cost(name, None)
        # A placeholder stands for a pod not created yet: lowering replicas for it removes
        # nobody. A chosen pod that is gone already is not counted: the ReplicaSet is replacing
        # it, and lowering replicas for it would take another (perhaps busy) pod.
        removed += sum(1 for worker_id in chosen if worker_id.startswith("pending-"))
        if removed:
            self._patch_replicas(max((scale.spec.replicas or 0) - removed, 0))

    def close(self) -> None:
        if self._api_client is not None:
            self._api_client.close()
            self._api_client = None

    def _scale_and_pods(self) -> tuple[Any, list[Any]]:
        scale = self._read_scale()
        # The Deployment's own selector (the scale subresource gives it as a string), so a
        # Deployment selecting on more than the pool label is read right.
        selector = (scale.status.selector if scale.status else None) or (
            f"{POOL_LABEL}={self.pool.name}"
        )
        pods = self._call(
            "list the pods",
            lambda: self._core().list_namespaced_pod(
                self.namespace, label_selector=selector, _request_timeout=REQUEST_TIMEOUT
            ),
        ).items
        return scale, list(pods)

    def _read_scale(self) -> Any:
        return self._call(
            f"read the scale of Deployment {self.namespace}/{self.deployment}",
            lambda: self._apps().read_namespaced_deployment_scale(
                self.deployment, self.namespace, _request_timeout=REQUEST_TIMEOUT
            ),
        )

    def _patch_replicas(self, replicas: int) -> None:
        self._call(
            f"scale Deployment {self.namespace}/{self.deployment} to {replicas}",
            lambda: self._apps().patch_namespaced_deployment_scale(
                self.deployment,
                self.namespace,
                {"spec": {"replicas": replicas}},
                _request_timeout=REQUEST_TIMEOUT,
            ),
        )

    def _set_deletion_cost(self, pod_name: str, cost: str | None) -> None:
        # None removes the annotation (a strategic merge patch deletes null keys).
        body = {"metadata": {"annotations": {DELETION_COST: cost}}}
        # A pod that is gone needs no mark.
        with contextlib.suppress(_Gone):
            self._call(
                f"mark pod {pod_name}",
                lambda: self._core().patch_namespaced_pod(
                    pod_name, self.namespace, body, _request_timeout=REQUEST_TIMEOUT
                ),
                missing_ok=True,
            )

    def _apps(self) -> client.AppsV1Api:
        return client.AppsV1Api(self._client())

    def _core(self) -> client.CoreV1Api:
        return client.CoreV1Api(self._client())

    def _client(self) -> client.ApiClient:
        # Loaded on first use, so a broken config comes out of a call as a BackendError the
        # controller logs, rather than stopping it from starting.
        if self._api_client is None:
            configuration = client.Configuration()
            settings = self.pool.backend_settings
            try:
                if not settings.get("kubeconfig") and os.environ.get("KUBERNETES_SERVICE_HOST"):
                    config.load_incluster_config(client_configuration=configuration)
                else:
                    config.load_kube_config(
                        config_file=settings.get("kubeconfig") or None,
                        context=settings.get("context") or None,
                        client_configuration=configuration,
                        persist_config=False,
                    )
            except (ConfigException, OSError, ValueError) as error:
                raise BackendError(f"Kubernetes configuration: {error}")
            # One retry of a failed connection at most: backoff is the controller's job.
            configuration.retries = urllib3.util.Retry(total=1, backoff_factor=0)
            self._api_client = client.ApiClient(configuration)
        return self._api_client

    def _call(self, what: str, request: Any, *, missing_ok: bool = False) -> Any:
        try:
            return request()
        except ApiException as error:
            if missing_ok and error.status == 404:
                raise _Gone
            raise BackendError(
                f"Kubernetes refused to {what}: {error.status} {_status_message(error)}"
            )
        except urllib3.exceptions.HTTPError as error:
            raise BackendError(f"Kubernetes API unreachable (could not {what}): {error}")


class _Gone(Exception):
    """The object asked about no longer exists."""


def _status_message(error: ApiException) -> str:
    """The API server's own words (its Status object's message), else the HTTP reason."""
    try:
        body = json.loads(error.body or "")
    except ValueError:
        body = None
    if isinstance(body, dict) and body.get("message"):
        return str(body["message"])
    return str(error.reason or "")


def _epoch(moment: datetime | None) -> float:
    return moment.timestamp() if moment is not None else time.time()
