"""The deployment files (deploy/ and .dockerignore): Kubernetes manifests that the API server
accepts, a ScaledObject that KEDA accepts, and both in step with the code they run: the settings
they set, the queues they watch, the commands they start, the images they build."""

import fnmatch
import importlib.util
import io
import json
import re
import shlex
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import jsonschema
import kubernetes_validate
import pytest
import yaml
from django.core.management import get_commands
from django.urls import resolve, reverse
from dockerfile_parse import DockerfileParser
from rq import Queue

from generation.models import DiffusionModel
from generation.queues import model_queue, queue_name
from generation.routing import websocket_urlpatterns
from rollerai.connections import redis_connection

REPO = Path(__file__).resolve().parent.parent
DEPLOY = REPO / "deploy"
KUBERNETES = DEPLOY / "kubernetes"
SCALED_OBJECT = KUBERNETES / "keda" / "scaledobject.yaml"
KEDA_SCHEMA = Path(__file__).resolve().parent / "schemas" / "keda-scaledobject.json"
WEB_DOCKERFILE = DEPLOY / "docker" / "Dockerfile.web"
WORKER_DOCKERFILE = DEPLOY / "docker" / "Dockerfile.worker"
ECS_TASK = DEPLOY / "ecs" / "worker-task-definition.json"

# The newest Kubernetes release kubernetes-validate 1.37.0 bundles schemas for.
KUBERNETES_VERSION = "1.37.0"
NAMESPACE = "rollerai"
CONFIG_MAP = "rollerai-config"
SECRET = "rollerai-secrets"
POOL = "default"
WORKER_DEPLOYMENT = f"rollerai-worker-{POOL}"
POOL_LABEL = "rollerai.app/pool"
# The non-root user both Dockerfiles create; the pods' runAsUser must be the same one.
APP_UID = 10001
# Servers in a container listen on every interface of the pod.
ALL_INTERFACES = "0.0.0.0"  # noqa: S104

# Variables read by a library rather than by our settings, each with who reads it.
LIBRARY_VARIABLES = {
    "PGPASSWORD": "libpq, under psycopg: the password for DATABASE_URL's user",
    "AWS_ACCESS_KEY_ID": "boto3, for the S3 bucket",
    "AWS_SECRET_ACCESS_KEY": "boto3, for the S3 bucket",
}

ENV_READ_PATTERNS = [
    # django-environ (env.str("NAME", ...), env.db("NAME"), ...) and settings.env_bool("NAME").
    re.compile(r"""\benv(?:\.\w+)?\(\s*["']([A-Z][A-Z0-9_]*)["']"""),
    re.compile(r"""\benv_bool\(\s*["']([A-Z][A-Z0-9_]*)["']"""),
    re.compile(r"""os\.environ(?:\.get\(|\[)\s*["']([A-Z][A-Z0-9_]*)["']"""),
    re.compile(r"""os\.getenv\(\s*["']([A-Z][A-Z0-9_]*)["']"""),
]
NOT_SITE_CODE = {".venv", "tests", "testing", "bench", "migrations", "deploy", "var"}


def variables_the_code_reads() -> set[str]:
    names: set[str] = set()
    for path in REPO.rglob("*.py"):
        if NOT_SITE_CODE.intersection(path.relative_to(REPO).parts):
            continue
        text = path.read_text()
        for pattern in ENV_READ_PATTERNS:
            names.update(pattern.findall(text))
    return names


def yaml_documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def kustomization() -> dict[str, Any]:
    return yaml_documents(KUBERNETES / "kustomization.yaml")[0]


def applied_resources() -> list[dict[str, Any]]:
    """What `kubectl apply -k deploy/kubernetes/` creates."""
    return [
        doc for name in kustomization()["resources"] for doc in yaml_documents(KUBERNETES / name)
    ]


def resource(kind: str, name: str) -> dict[str, Any]:
    found = [r for r in applied_resources() if r["kind"] == kind and r["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind} {name}: found {len(found)}"
    return found[0]


def pod_spec(workload: dict[str, Any]) -> dict[str, Any]:
    return workload["spec"]["template"]["spec"]


def workloads() -> list[dict[str, Any]]:
    return [r for r in applied_resources() if r["kind"] in ("Deployment", "Job")]


def containers() -> list[tuple[str, dict[str, Any]]]:
    return [
        (workload["metadata"]["name"], container)
        for workload in workloads()
        for container in pod_spec(workload)["containers"]
    ]


def only_container(workload: dict[str, Any]) -> dict[str, Any]:
    (container,) = pod_spec(workload)["containers"]
    return container


def config() -> dict[str, str]:
    return resource("ConfigMap", CONFIG_MAP)["data"]


def secret_example() -> dict[str, Any]:
    (secret,) = yaml_documents(KUBERNETES / "secret.example.yaml")
    return secret


def env_value(container: dict[str, Any], name: str) -> Any:
    """What the container sees in `name`: its own env entry, else the ConfigMap's."""
    for entry in container.get("env", []):
        if entry["name"] == name:
            return entry.get("value", entry.get("valueFrom"))
    return config().get(name)


def dockerfile(path: Path) -> DockerfileParser:
    return DockerfileParser(fileobj=io.BytesIO(path.read_bytes()))


def instructions(parser: DockerfileParser, name: str) -> list[str]:
    return [item["value"] for item in parser.structure if item["instruction"] == name]


def procfile_processes() -> list[str]:
    lines = (REPO / "Procfile").read_text().splitlines()
    return [line.partition(":")[0] for line in lines if line.strip() and not line.startswith("#")]


def procfile_command(process: str) -> list[str]:
    """A Procfile line's command, without the respawn wrapper."""
    for line in (REPO / "Procfile").read_text().splitlines():
        name, _, command = line.partition(":")
        if name == process:
            words = shlex.split(command)
            assert words[:2] == ["scripts/respawn", process]
            return words[2:]
    raise AssertionError(f"no {process} line in the Procfile")


def all_manifest_files() -> list[Path]:
    return sorted(KUBERNETES.rglob("*.yaml"))


# Kubernetes itself.

MANIFESTS = [
    pytest.param(path, index, id=f"{path.relative_to(KUBERNETES)}#{index}")
    for path in all_manifest_files()
    if path.name != "kustomization.yaml" and path != SCALED_OBJECT
    for index, _ in enumerate(yaml_documents(path))
]


@pytest.mark.parametrize(("path", "index"), MANIFESTS)
def test_every_manifest_is_valid_for_the_kubernetes_api(path: Path, index: int) -> None:
    manifest = yaml_documents(path)[index]

    # strict: a misspelt or misplaced field is an error here, not silently dropped.
    validated = kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)

    assert validated == "1.37"


def test_the_kustomization_lists_every_manifest_but_the_secret_example_and_keda() -> None:
    listed = set(kustomization()["resources"])
    top_level = {path.name for path in KUBERNETES.glob("*.yaml")}

    assert listed == top_level - {"kustomization.yaml", "secret.example.yaml"}
    assert kustomization()["namespace"] == NAMESPACE
    assert {r["metadata"].get("namespace") for r in applied_resources()} - {None} == {NAMESPACE}


def test_the_kustomization_renames_every_image_the_manifests_use() -> None:
    images = {container["image"].split(":")[0] for _, container in containers()}

    assert images == {"rollerai-web", "rollerai-worker"}
    assert {image["name"] for image in kustomization()["images"]} == images


# Secrets.


def test_no_secret_is_applied_and_the_example_holds_only_placeholders() -> None:
    secret = secret_example()

    assert [r for r in applied_resources() if r["kind"] == "Secret"] == []
    assert secret["metadata"]["name"] == SECRET
    assert set(secret["stringData"].values()) == {"change-me"}
    assert not set(secret["stringData"]) & set(config())
    assert "DJANGO_SECRET_KEY" in secret["stringData"]


def test_every_container_takes_the_config_map_then_the_secret() -> None:
    for workload, container in containers():
        sources = [
            (source.get("configMapRef") or source.get("secretRef"))["name"]
            for source in container["envFrom"]
        ]
        kinds = [next(iter(source)) for source in container["envFrom"]]
        # The later source wins a shared key, so the Secret can override REDIS_URL and the like.
        assert (kinds, sources) == (["configMapRef", "secretRef"], [CONFIG_MAP, SECRET]), workload


def test_no_manifest_sets_a_secret_in_plain_text() -> None:
    secret_names = set(secret_example()["stringData"])
    looks_secret = re.compile(r"SECRET|PASSWORD|TOKEN|_KEY$|KEY_ID$")
    plain = [
        (workload, entry["name"])
        for workload, container in containers()
        for entry in container.get("env", [])
        if "value" in entry
        and (entry["name"] in secret_names or looks_secret.search(entry["name"]))
    ]
    plain += [("ConfigMap", name) for name in config() if looks_secret.search(name)]

    assert plain == []


# Settings.


def test_every_variable_the_deployment_sets_is_one_something_reads() -> None:
    scaled_object = yaml_documents(SCALED_OBJECT)[0]
    read_by_keda = {
        value
        for trigger in scaled_object["spec"]["triggers"]
        for key, value in trigger["metadata"].items()
        if key.endswith("FromEnv")
    }
    read = variables_the_code_reads() | set(LIBRARY_VARIABLES) | read_by_keda
    set_by_manifests = set(config()) | set(secret_example()["stringData"])
    set_by_manifests |= {
        entry["name"] for _, container in containers() for entry in container.get("env", [])
    }

    assert set_by_manifests - read == set()
    # The parse found the settings at all (a sample that every deployment needs).
    assert {"DJANGO_SECRET_KEY", "DATABASE_URL", "REDIS_URL", "WEB_PROCESSES"} <= read


def test_the_database_and_redis_are_reached_by_service_name() -> None:
    database = urlparse(config()["DATABASE_URL"])
    redis = urlparse(config()["REDIS_URL"])

    assert database.scheme == "postgres"
    # The password comes from the Secret (PGPASSWORD), never from the ConfigMap.
    assert database.password is None
    assert (database.hostname, redis.hostname) == ("postgres", "redis")
    assert config()["DJANGO_HTTPS"] == "true"
    assert config()["DJANGO_DEBUG"] == "false"


# The web tier.


@pytest.mark.parametrize(("name", "port"), [("rollerai-web", 8000), ("rollerai-live", 8001)])
def test_the_server_is_probed_on_healthz_with_a_host_django_allows(name: str, port: int) -> None:
    container = only_container(resource("Deployment", name))
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    allowed_hosts = config()["DJANGO_ALLOWED_HOSTS"].split(",")

    assert resolve("/healthz").url_name == "healthz"
    for probe in (container["readinessProbe"], container["livenessProbe"]):
        get = probe["httpGet"]
        headers = {header["name"]: header["value"] for header in get["httpHeaders"]}
        assert get["path"] == "/healthz"
        assert ports[get["port"]] == port
        # Any other Host is a 400 from Django, and the pod never becomes ready.
        assert headers["Host"] in allowed_hosts


@pytest.mark.parametrize(("name", "port"), [("rollerai-web", 8000), ("rollerai-live", 8001)])
def test_the_service_reaches_the_servers_pods(name: str, port: int) -> None:
    deployment = resource("Deployment", name)
    service = resource("Service", name)
    container = only_container(deployment)
    (service_port,) = service["spec"]["ports"]
    container_ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    labels = deployment["spec"]["template"]["metadata"]["labels"]

    assert service["spec"]["selector"].items() <= labels.items()
    assert service_port["port"] == port
    assert container_ports[service_port["targetPort"]] == port


def test_the_ingress_sends_websockets_and_waiting_apis_to_live_and_the_rest_to_web() -> None:
    (rule,) = resource("Ingress", "rollerai")["spec"]["rules"]
    routes = {
        path["path"]: (path["backend"]["service"]["name"], path["backend"]["service"]["port"])
        for path in rule["http"]["paths"]
    }
    websocket_paths = [str(pattern.pattern) for pattern in websocket_urlpatterns]

    assert routes == {
        "/ws/": ("rollerai-live", {"number": 8001}),
        "/v1/": ("rollerai-live", {"number": 8001}),
        "/sdapi/": ("rollerai-live", {"number": 8001}),
        "/": ("rollerai-web", {"number": 8000}),
    }
    # The compatible APIs' requests wait for images, which only the live server does.
    for name in ("openai:images_generate", "sdapi:txt2img", "sdapi:img2img"):
        path = reverse(name)
        prefix = max((route for route in routes if path.startswith(route)), key=len)
        assert routes[prefix][0] == "rollerai-live", path
    assert websocket_paths and all(path.startswith("ws/") for path in websocket_paths)
    # Discord calls the bot's endpoint on the site's host; the longest matching prefix routes it.
    interactions = reverse("discord-interactions")
    prefix = max((path for path in routes if interactions.startswith(path)), key=len)
    assert (interactions, routes[prefix][0]) == ("/discord/interactions/", "rollerai-web")
    assert rule["host"] in config()["DJANGO_ALLOWED_HOSTS"].split(",")
    # Pages open their socket on their own host, where the ingress routes /ws/.
    assert "LIVE_EVENTS_URL" not in config()


def test_links_in_discord_messages_lead_to_the_ingress_host() -> None:
    (rule,) = resource("Ingress", "rollerai")["spec"]["rules"]

    # Open buttons and "find the result at ..." use SITE_URL.
    assert config()["SITE_URL"] == f"https://{rule['host']}"


def test_gunicorn_starts_as_many_processes_as_the_pod_has_cpus() -> None:
    container = only_container(resource("Deployment", "rollerai-web"))

    # Unset, gunicorn counts the node's cores and starts far more processes than the pod can run.
    assert env_value(container, "WEB_PROCESSES") == container["resources"]["limits"]["cpu"]


# The workers.


def test_the_worker_deployment_is_the_one_the_autoscaler_looks_for() -> None:
    deployment = resource("Deployment", WORKER_DEPLOYMENT)
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    selector = deployment["spec"]["selector"]["matchLabels"]
    container = only_container(deployment)

    # The autoscaler lists the pool's pods with the selector rollerai.app/pool=<pool>.
    assert labels[POOL_LABEL] == POOL
    assert labels["app.kubernetes.io/name"] == "rollerai-worker"
    assert selector == {"app.kubernetes.io/name": "rollerai-worker", POOL_LABEL: POOL}
    assert env_value(container, "WORKER_POOL") == POOL
    assert env_value(container, "WORKER_INSTANCE_ID") == {
        "fieldRef": {"fieldPath": "metadata.name"}
    }
    # The autoscaler owns the count; the manifest starts with none.
    assert deployment["spec"]["replicas"] == 0


def test_a_worker_has_one_gpu_to_itself() -> None:
    container = only_container(resource("Deployment", WORKER_DEPLOYMENT))

    assert container["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert env_value(container, "WORKERS_PER_MACHINE") == "1"


def test_a_stopping_worker_has_time_to_finish_its_job() -> None:
    deployment = resource("Deployment", WORKER_DEPLOYMENT)
    job_timeout = int(env_value(only_container(deployment), "GENERATION_JOB_TIMEOUT"))

    # SIGTERM drains the worker; SIGKILL comes when the grace period ends.
    assert pod_spec(deployment)["terminationGracePeriodSeconds"] > job_timeout
    assert deployment["spec"]["strategy"]["rollingUpdate"]["maxSurge"] == 0


# The autoscaler.


def test_the_autoscaler_may_scale_workers_and_nothing_more() -> None:
    role = resource("Role", "rollerai-autoscaler")
    granted = {
        (group, kind, verb)
        for rule in role["rules"]
        for group in rule["apiGroups"]
        for kind in rule["resources"]
        for verb in rule["verbs"]
    }

    assert granted == {
        ("apps", "deployments/scale", "get"),
        ("apps", "deployments/scale", "patch"),
        ("apps", "deployments", "get"),
        ("", "pods", "list"),
        ("", "pods", "get"),
        ("", "pods", "patch"),
    }
    assert [
        r for r in applied_resources() if r["kind"] in ("ClusterRole", "ClusterRoleBinding")
    ] == []


def test_the_autoscaler_runs_with_its_role_and_a_standby() -> None:
    deployment = resource("Deployment", "rollerai-autoscaler")
    binding = resource("RoleBinding", "rollerai-autoscaler")
    account = pod_spec(deployment)["serviceAccountName"]

    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "Role",
        "name": "rollerai-autoscaler",
    }
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": account, "namespace": NAMESPACE}
    ]
    assert resource("ServiceAccount", account)["metadata"]["namespace"] == NAMESPACE
    assert only_container(deployment)["command"] == ["python", "manage.py", "autoscale"]
    assert deployment["spec"]["replicas"] == 2
    assert config()["AUTOSCALER_BACKEND"] == "kubernetes"


def test_no_other_pod_holds_an_api_token() -> None:
    holders = [
        workload["metadata"]["name"]
        for workload in workloads()
        if pod_spec(workload).get("automountServiceAccountToken", True)
    ]

    assert holders == ["rollerai-autoscaler"]


# The Discord notifier.


def test_the_discord_notifier_is_one_pod_on_the_web_image() -> None:
    deployment = resource("Deployment", "rollerai-discord")
    container = only_container(deployment)

    # Only the holder of the discord:notifier lock sends: a second replica would stand by.
    assert deployment["spec"]["replicas"] == 1
    assert container["image"].split(":")[0] == "rollerai-web"
    assert "nvidia.com/gpu" not in container["resources"]["limits"]


# Commands and users.


def command_problem(command: list[str]) -> str | None:
    """Why this container command would not start, or None."""
    if command[:2] == ["python", "manage.py"]:
        if command[2] in get_commands():
            return None
        return f"no management command {command[2]}"
    if command[:2] == ["python", "-m"]:
        return None if importlib.util.find_spec(command[2]) else f"no module {command[2]}"
    if command[0] == "gunicorn":
        config_module = command[command.index("-c") + 1].removeprefix("python:")
        modules = [config_module, command[-1]]
        missing = [module for module in modules if importlib.util.find_spec(module) is None]
        return f"no module {missing}" if missing else None
    return f"not a command of this project: {command}"


def test_every_container_runs_a_real_command() -> None:
    commands = [container.get("command") for _, container in containers()]
    commands += [json.loads(dockerfile(path).cmd) for path in (WEB_DOCKERFILE, WORKER_DOCKERFILE)]
    commands += [c["command"] for c in json.loads(ECS_TASK.read_text())["containerDefinitions"]]
    # The web Deployment runs the image's own command.
    assert commands.count(None) == 1
    problems = [command_problem(command) for command in commands if command is not None]

    assert problems == [None] * len(problems)


def test_the_images_run_what_the_procfile_runs() -> None:
    web = json.loads(dockerfile(WEB_DOCKERFILE).cmd)
    live = only_container(resource("Deployment", "rollerai-live"))["command"]
    worker = json.loads(dockerfile(WORKER_DOCKERFILE).cmd)
    web_line, live_line = procfile_command("web"), procfile_command("live")

    # Same server, config module and application; the address is the container's own.
    assert web[:3] == web_line[:3] and web[-1] == web_line[-1]
    assert web[web.index("-b") + 1] == f"{ALL_INTERFACES}:8000"
    assert live[:3] == live_line[:3] and live[-1] == live_line[-1]
    assert live[live.index("-b") + 1 : live.index("-p") + 2] == [ALL_INTERFACES, "-p", "8001"]
    # Locally the autoscaler starts workers with this same command (its local backend).
    assert worker == ["python", "manage.py", "rungpuworker"]
    autoscaler = only_container(resource("Deployment", "rollerai-autoscaler"))["command"]
    assert autoscaler == procfile_command("autoscaler")[:3]
    discord = only_container(resource("Deployment", "rollerai-discord"))["command"]
    assert discord == procfile_command("discord")
    assert only_container(resource("Job", "rollerai-migrate"))["command"] == [
        "python",
        "manage.py",
        "migrate",
        "--noinput",
    ]


def test_every_procfile_process_has_a_deployment() -> None:
    deployments = {r["metadata"]["name"] for r in applied_resources() if r["kind"] == "Deployment"}
    processes = procfile_processes()

    assert {"web", "live", "autoscaler", "discord"} <= set(processes)
    assert [p for p in processes if f"rollerai-{p}" not in deployments] == []


def test_every_pod_runs_as_the_images_non_root_user() -> None:
    for workload in workloads():
        context = pod_spec(workload)["securityContext"]
        assert context["runAsNonRoot"] is True, workload["metadata"]["name"]
        assert context["runAsUser"] == APP_UID, workload["metadata"]["name"]


# Docker.


@pytest.mark.parametrize("path", [WEB_DOCKERFILE, WORKER_DOCKERFILE], ids=lambda p: p.name)
def test_the_image_runs_as_a_numeric_non_root_user(path: Path) -> None:
    users = instructions(dockerfile(path), "USER")

    # Numeric, or Kubernetes cannot check runAsNonRoot and refuses to start the pod.
    assert users[-1] == f"{APP_UID}:{APP_UID}"
    assert dockerfile(path).structure[-1]["instruction"] == "CMD"


@pytest.mark.parametrize("path", [WEB_DOCKERFILE, WORKER_DOCKERFILE], ids=lambda p: p.name)
def test_every_file_the_image_copies_is_in_the_repository(path: Path) -> None:
    parser = dockerfile(path)
    sources = []
    for value in instructions(parser, "COPY"):
        if value.startswith("--from="):
            continue  # from an earlier build stage, not the repository
        words = [word for word in shlex.split(value) if not word.startswith("--")]
        sources += words[:-1]

    assert sources
    assert [source for source in sources if not (REPO / source).exists()] == []


@pytest.mark.parametrize("path", [WEB_DOCKERFILE, WORKER_DOCKERFILE], ids=lambda p: p.name)
def test_the_image_is_python_3_11_and_keeps_no_secret(path: Path) -> None:
    parser = dockerfile(path)
    secret_names = set(secret_example()["stringData"])

    assert parser.baseimage == "python:3.11-slim"
    assert not set(parser.envs) & secret_names


def test_the_web_image_never_installs_the_worker_requirements() -> None:
    parser = dockerfile(WEB_DOCKERFILE)
    text = WEB_DOCKERFILE.read_text()
    installs = [value for value in instructions(parser, "RUN") if "pip install" in value]

    assert installs == ["pip install -r requirements.txt"]
    assert "requirements-worker.txt" not in text
    requirements = [
        line.split("==")[0].strip()
        for line in (REPO / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert not {"torch", "diffusers", "transformers"} & set(requirements)
    # Static files are collected into the image, where whitenoise serves them, with the
    # Firebase SDK a node stage built from the pinned lock file.
    assert parser.envs["STATIC_ROOT"]
    assert any("collectstatic --noinput" in value for value in instructions(parser, "RUN"))
    assert "COPY --from=firebase-sdk /build/out/ static/vendor/firebase/" in text
    assert text.index("static/vendor/firebase/") < text.index("collectstatic")


def test_the_worker_image_installs_the_worker_requirements_and_drains_on_sigterm() -> None:
    parser = dockerfile(WORKER_DOCKERFILE)
    installs = [value for value in instructions(parser, "RUN") if "pip install" in value]

    assert installs == ["pip install -r requirements-worker.txt"]
    assert instructions(parser, "STOPSIGNAL") == ["SIGTERM"]
    assert instructions(parser, "ARG") == ["BASE_IMAGE=python:3.11-slim"]


def dockerignored(name: str) -> bool:
    patterns = [
        line.strip().rstrip("/")
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    return any(fnmatch.fnmatch(name, pattern) for pattern in patterns)


def test_the_build_context_leaves_out_local_state_and_keeps_the_code() -> None:
    left_out = [".venv", ".git", ".env", "var", "bench/results", "media", "db.sqlite3"]
    needed = ["manage.py", "requirements.txt", "requirements-worker.txt", "rollerai", "static"]
    needed += ["templates", "generation", "worker"]

    assert [name for name in left_out if not dockerignored(name)] == []
    assert [name for name in needed if dockerignored(name)] == []


# KEDA.


def keda_schema() -> dict[str, Any]:
    schema = json.loads(KEDA_SCHEMA.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return schema


def test_the_scaled_object_is_valid_for_keda() -> None:
    (scaled_object,) = yaml_documents(SCALED_OBJECT)

    jsonschema.validate(scaled_object, keda_schema(), cls=jsonschema.Draft202012Validator)


def test_the_keda_schema_refuses_what_keda_would_silently_drop() -> None:
    (scaled_object,) = yaml_documents(SCALED_OBJECT)
    scaled_object["spec"]["cooldownPeriods"] = scaled_object["spec"].pop("cooldownPeriod")
    scaled_object["spec"]["triggers"][0]["metadata"]["listname"] = "rq:queue:model-x"

    errors = list(jsonschema.Draft202012Validator(keda_schema()).iter_errors(scaled_object))

    assert sorted(error.json_path for error in errors) == ["$.spec", "$.spec.triggers[0].metadata"]


def test_keda_scales_the_pool_deployment_slowly_enough() -> None:
    (scaled_object,) = yaml_documents(SCALED_OBJECT)
    spec = scaled_object["spec"]

    assert spec["scaleTargetRef"]["name"] == WORKER_DEPLOYMENT
    assert spec["scaleTargetRef"]["kind"] == "Deployment"
    assert scaled_object["metadata"]["namespace"] == NAMESPACE
    assert spec["minReplicaCount"] == 0
    assert spec["cooldownPeriod"] == 300
    assert spec["pollingInterval"] == 30


def test_keda_watches_the_redis_lists_the_site_queues_jobs_on() -> None:
    (scaled_object,) = yaml_documents(SCALED_OBJECT)
    list_names = [trigger["metadata"]["listName"] for trigger in scaled_object["spec"]["triggers"]]
    slugs = {re.sub(r"^rq:queue:model-|-high$", "", name) for name in list_names}
    expected = [
        Queue.redis_queue_namespace_prefix
        + queue_name(DiffusionModel(slug=slug), high_priority=high)
        for slug in sorted(slugs)
        for high in (True, False)
    ]

    assert Queue.redis_queue_namespace_prefix == "rq:queue:"
    assert list_names == expected
    assert all(trigger["type"] == "redis" for trigger in scaled_object["spec"]["triggers"])


def test_a_queued_job_is_what_kedas_list_length_counts() -> None:
    (scaled_object,) = yaml_documents(SCALED_OBJECT)
    list_name = scaled_object["spec"]["triggers"][1]["metadata"]["listName"]
    queue = model_queue(DiffusionModel(slug="tiny-demo"))

    queue.enqueue("worker.jobs.run_generation", "not-a-generation")

    # KEDA's redis scaler runs LLEN on the key.
    assert redis_connection().llen(list_name) == 1 == queue.count


def test_keda_reaches_the_redis_the_site_uses() -> None:
    (scaled_object,) = yaml_documents(SCALED_OBJECT)
    worker = only_container(resource("Deployment", WORKER_DEPLOYMENT))
    redis = urlparse(config()["REDIS_URL"])

    assert scaled_object["spec"]["scaleTargetRef"]["envSourceContainerName"] == worker["name"]
    for trigger in scaled_object["spec"]["triggers"]:
        metadata = trigger["metadata"]
        # Read from the worker container's environment, which takes the ConfigMap.
        address = env_value(worker, metadata["addressFromEnv"])
        assert address == f"{redis.hostname}:{redis.port}"
        assert metadata["databaseIndex"] == redis.path.lstrip("/")


# ECS.


def test_the_ecs_worker_task_drains_and_keeps_secrets_out_of_its_definition() -> None:
    task = json.loads(ECS_TASK.read_text())
    (container,) = task["containerDefinitions"]
    environment = {entry["name"]: entry["value"] for entry in container["environment"]}
    secrets = {entry["name"] for entry in container["secrets"]}

    assert container["command"] == ["python", "manage.py", "rungpuworker"]
    assert environment["WORKER_POOL"] == POOL
    assert {"type": "GPU", "value": "1"} in container["resourceRequirements"]
    # ECS's longest stop timeout: a job still running after it is run again elsewhere.
    assert container["stopTimeout"] == 120
    assert "DJANGO_SECRET_KEY" in secrets
    assert not set(environment) & set(secret_example()["stringData"])
    assert all(entry["valueFrom"].startswith("arn:") for entry in container["secrets"])
