"""The Helm chart in helm/xaso, checked without helm (not installable here).

values.yaml must validate against values.schema.json (and broken values must not); every template must be
well-formed YAML once its Go-template directives are stripped; the rendered shape must carry the fields
Kubernetes requires for each kind, and the settings the app needs in production.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

jsonschema = pytest.importorskip("jsonschema")

CHART = Path(__file__).resolve().parents[2] / "helm" / "xaso"
TEMPLATES = CHART / "templates"
PLACEHOLDER = "__TPL__"

COMMENT = re.compile(r"\{\{-?\s*/\*.*?\*/\s*-?\}\}", re.DOTALL)
ACTION = re.compile(r"\{\{.*?\}\}", re.DOTALL)


def strip_template(text: str) -> str:
    """Turn a Helm template into plain YAML with the same structure.

    Comments go first; a line holding nothing but actions ({{- if }}, {{- end }}, {{- include ... | nindent }},
    {{- toYaml }}, {{ $x := ... }}) is dropped: it is control flow or a block whose content Helm indents in;
    every action left inside a line is an inline value and becomes a plain scalar placeholder. Both branches of
    an if/else are kept, so the templates avoid else-branches of a different shape.
    """
    text = COMMENT.sub("", text)
    lines = []
    for line in text.splitlines():
        if line.strip() and not ACTION.sub("", line).strip():
            continue
        lines.append(ACTION.sub(PLACEHOLDER, line))
    return "\n".join(lines) + "\n"


def manifests() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path in sorted(TEMPLATES.glob("*.yaml")):
        for document in yaml.safe_load_all(strip_template(path.read_text())):
            if document is not None:
                found.append((path.name, document))
    return found


def of_kind(kind: str) -> list[dict[str, Any]]:
    return [doc for _, doc in manifests() if doc["kind"] == kind]


def deployment(component: str) -> dict[str, Any]:
    for doc in of_kind("Deployment"):
        if doc["metadata"]["name"].endswith(f"-{component}"):
            return doc
    raise AssertionError(f"no {component} Deployment")


def values() -> dict[str, Any]:
    return yaml.safe_load((CHART / "values.yaml").read_text())


def schema_errors(data: dict[str, Any]) -> list[str]:
    schema = json.loads((CHART / "values.schema.json").read_text())
    return [error.message for error in jsonschema.Draft7Validator(schema).iter_errors(data)]


# ---- the stripper itself --------------------------------------------------------------------------------------

def test_stripper_drops_control_lines_and_keeps_inline_values_as_scalars():
    template = (
        "{{- /* a comment\nover two lines */}}\n"
        "{{- if .Values.x }}\n"
        "metadata:\n"
        "  name: {{ include \"xaso.fullname\" . }}-web\n"
        "  labels:\n"
        "    {{- include \"xaso.labels\" . | nindent 4 }}\n"
        "  host: \"*.{{ .Values.ingress.baseDomain }}\"\n"
        "{{- end }}\n"
    )
    assert yaml.safe_load(strip_template(template)) == {
        "metadata": {"name": f"{PLACEHOLDER}-web", "labels": None, "host": f"*.{PLACEHOLDER}"}
    }


def test_stripper_lets_broken_yaml_through_to_the_parser():
    with pytest.raises(yaml.YAMLError):
        yaml.safe_load(strip_template("spec:\n  replicas: {{ .Values.r }}\n - broken: [\n"))


# ---- Chart.yaml and values ------------------------------------------------------------------------------------

def test_chart_metadata():
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    assert chart["apiVersion"] == "v2"
    assert chart["name"] == "xaso"
    assert chart["type"] == "application"
    assert re.fullmatch(r"\d+\.\d+\.\d+", chart["version"])
    assert re.fullmatch(r"\d+\.\d+\.\d+", str(chart["appVersion"]))
    # Managed services, not bundled subcharts.
    assert "dependencies" not in chart


def test_schema_is_valid_draft7():
    schema = json.loads((CHART / "values.schema.json").read_text())
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    jsonschema.Draft7Validator.check_schema(schema)


def test_values_validate_against_the_schema():
    assert schema_errors(values()) == []


def test_production_defaults():
    data = values()
    assert data["config"]["searchBackend"] == "meilisearch"
    assert data["config"]["storageBackend"] == "s3"
    assert data["config"]["outboxDelivery"] == "worker"
    assert data["config"]["mediaProcessing"] == "background"
    assert data["config"]["logFormat"] == "json"
    assert data["config"]["trustedProxies"] == 1
    assert data["config"]["vnpay"]["sandbox"] is False
    assert data["scheduler"]["replicas"] == 1
    assert data["podSecurityContext"]["runAsNonRoot"] is True
    assert data["securityContext"]["readOnlyRootFilesystem"] is True
    # No credential has a default value.
    assert data["postgresql"]["url"] == data["redis"]["url"] == data["meilisearch"]["key"] == ""
    assert all(value == "" for value in data["secrets"].values())


def _set(data: dict[str, Any], dotted: str, value: Any) -> dict[str, Any]:
    data = copy.deepcopy(data)
    *parents, last = dotted.split(".")
    node = data
    for key in parents:
        node = node[key]
    node[last] = value
    return data


def _delete(data: dict[str, Any], dotted: str) -> dict[str, Any]:
    data = copy.deepcopy(data)
    *parents, last = dotted.split(".")
    node = data
    for key in parents:
        node = node[key]
    del node[last]
    return data


@pytest.mark.parametrize(
    ("dotted", "value", "message"),
    [
        ("config.searchBackend", "elasticsearch", "is not one of"),
        ("config.storageBackend", "gcs", "is not one of"),
        ("config.outboxDelivery", "cron", "is not one of"),
        ("image.pullPolicy", "Sometimes", "is not one of"),
        ("web.replicas", -1, "less than the minimum"),
        ("web.replicas", 0, "less than the minimum"),
        ("worker.replicas", -2, "less than the minimum"),
        ("web.autoscaling.maxReplicas", 0, "less than the minimum"),
        ("web.autoscaling.targetCPUUtilizationPercentage", 150, "greater than the maximum"),
        ("scheduler.replicas", 3, "greater than the maximum"),
        ("web.replicas", "2", "is not of type"),
        ("ingress.baseDomain", "*.xaso.vn", "does not match"),
        ("postgresql.url", "mysql://x@db/xaso", "does not match"),
        ("config.publicBaseUrl", "xaso.vn", "does not match"),
        ("podSecurityContext.runAsNonRoot", False, "was expected"),
        ("web.resources.limits.memory", "lots", "does not match"),
        ("config.extra", {"lower_case": "x"}, "does not match"),
        ("web.unknownKey", 1, "Additional properties"),
    ],
)
def test_invalid_values_are_refused(dotted, value, message):
    errors = schema_errors(_set(values(), dotted, value))
    assert errors, f"{dotted}={value!r} was accepted"
    assert any(message in error for error in errors), errors


@pytest.mark.parametrize(
    "dotted", ["image", "web", "ingress", "config.searchBackend", "web.resources", "secrets.existingSecret",
               "postgresql", "ingress.tls"],
)
def test_missing_required_values_are_refused(dotted):
    errors = schema_errors(_delete(values(), dotted))
    assert any("is a required property" in error for error in errors), errors


def test_backend_specific_requirements():
    data = values()
    assert schema_errors(_set(data, "meilisearch.url", "")), "meilisearch without an address"
    assert schema_errors(_set(data, "s3.bucket", "")), "s3 without a bucket"
    # Local files are per pod: only one web pod, no autoscaling.
    local = _set(data, "config.storageBackend", "local")
    assert schema_errors(local)
    local = _set(_set(local, "web.replicas", 1), "web.autoscaling.enabled", False)
    assert schema_errors(local) == []
    # The SQL search needs no Meilisearch.
    assert schema_errors(_set(_set(data, "config.searchBackend", "sql"), "meilisearch.url", "")) == []


# ---- templates ------------------------------------------------------------------------------------------------

def test_every_template_is_well_formed_yaml():
    paths = sorted(TEMPLATES.glob("*.yaml"))
    assert len(paths) >= 10
    for path in paths:
        documents = [doc for doc in yaml.safe_load_all(strip_template(path.read_text())) if doc is not None]
        assert documents, f"{path.name} renders nothing"
        for document in documents:
            assert isinstance(document, dict), path.name
            assert document.get("apiVersion") and document.get("kind"), path.name
            assert document["metadata"]["name"], path.name


def test_templates_refer_only_to_defined_values():
    """Every .Values.a.b path used in a template exists in values.yaml (a typo renders as empty)."""
    data = values()
    text = "\n".join(path.read_text() for path in TEMPLATES.iterdir())
    for dotted in set(re.findall(r"\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)", text)):
        node: Any = data
        for key in dotted.strip(".").split("."):
            assert isinstance(node, dict) and key in node, f".Values{dotted} is not in values.yaml"
            node = node[key]


def test_helpers_define_what_templates_include():
    helpers = (TEMPLATES / "_helpers.tpl").read_text()
    defined = set(re.findall(r'\{\{-?\s*define\s+"([^"]+)"', helpers))
    used = set()
    for path in TEMPLATES.iterdir():
        used |= set(re.findall(r'include\s+"([^"]+)"', path.read_text()))
    assert used <= defined, used - defined


def test_required_kinds_are_present():
    kinds = {doc["kind"] for _, doc in manifests()}
    assert kinds >= {
        "Deployment", "Job", "Service", "Ingress", "HorizontalPodAutoscaler", "PodDisruptionBudget", "ConfigMap",
        "Secret", "ServiceAccount",
    }
    api = {doc["kind"]: doc["apiVersion"] for _, doc in manifests()}
    assert api["Deployment"] == "apps/v1"
    assert api["Job"] == "batch/v1"
    assert api["Ingress"] == "networking.k8s.io/v1"
    assert api["HorizontalPodAutoscaler"] == "autoscaling/v2"
    assert api["PodDisruptionBudget"] == "policy/v1"


def _container(doc: dict[str, Any]) -> dict[str, Any]:
    containers = doc["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return containers[0]


def _assert_pod(doc: dict[str, Any]) -> dict[str, Any]:
    pod = doc["spec"]["template"]["spec"]
    assert "securityContext" in pod
    container = _container(doc)
    assert container["image"] == PLACEHOLDER
    assert "resources" in container
    assert "securityContext" in container
    # Both the ConfigMap and the Secret reach every container.
    assert "envFrom" in container
    # The mounts and volumes are filled in by helpers (xaso.tmpMount, xaso.tmpVolume): the keys are there.
    assert "volumeMounts" in container
    assert "volumes" in pod
    return container


@pytest.mark.parametrize("component", ["web", "worker", "scheduler"])
def test_deployments_have_selector_template_and_container(component):
    doc = deployment(component)
    spec = doc["spec"]
    assert "matchLabels" in spec["selector"]
    assert "labels" in spec["template"]["metadata"]
    container = _assert_pod(doc)
    assert container["name"] == component
    assert "livenessProbe" in container


def test_web_runs_gunicorn_with_probes_on_the_health_endpoints():
    container = _container(deployment("web"))
    assert container["command"] == ["gunicorn", "-c", "gunicorn.conf.py", "service:create_app()"]
    assert container["ports"][0]["containerPort"] == 8000
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["startupProbe"]["httpGet"]["path"] == "/healthz"
    env = {item["name"]: item.get("value") for item in container["env"]}
    assert env["PROMETHEUS_MULTIPROC_DIR"].startswith("/tmp/")
    annotations = deployment("web")["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert "prometheus.io/path" in annotations


def test_worker_and_scheduler_commands():
    assert _container(deployment("worker"))["command"] == ["xaso", "worker"]
    assert _container(deployment("scheduler"))["command"] == ["xaso", "jobs", "scheduler"]
    assert deployment("scheduler")["spec"]["replicas"] == PLACEHOLDER
    text = (TEMPLATES / "deployment-scheduler.yaml").read_text()
    assert "replicas: {{ .Values.scheduler.replicas }}" in text


def test_envfrom_names_the_configmap_and_the_secret():
    helpers = (TEMPLATES / "_helpers.tpl").read_text()
    block = helpers[helpers.index('define "xaso.envFrom"'):]
    block = block[: block.index("{{- end }}")]
    assert "configMapRef" in block and "secretRef" in block


def test_migration_job_is_a_pre_install_and_pre_upgrade_hook():
    (job,) = of_kind("Job")
    annotations = job["metadata"]["annotations"]
    assert set(annotations["helm.sh/hook"].split(",")) == {"pre-install", "pre-upgrade"}
    assert int(annotations["helm.sh/hook-weight"]) == 0
    assert set(annotations["helm.sh/hook-delete-policy"].split(",")) == {"before-hook-creation", "hook-succeeded"}
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    container = _assert_pod(job)
    assert container["command"] == ["xaso", "db", "upgrade"]
    # Its settings exist before it runs: the ConfigMap and Secret are earlier hooks.
    for kind in ("ConfigMap", "Secret"):
        (doc,) = of_kind(kind)
        assert "pre-install" in doc["metadata"]["annotations"]["helm.sh/hook"]
        assert int(doc["metadata"]["annotations"]["helm.sh/hook-weight"]) < int(annotations["helm.sh/hook-weight"])


def test_service_targets_the_web_port():
    (service,) = of_kind("Service")
    assert "selector" in service["spec"]
    assert service["spec"]["ports"][0]["targetPort"] == "http"


def test_ingress_serves_the_platform_and_every_commune_host_over_tls():
    (ingress,) = of_kind("Ingress")
    hosts = [rule["host"] for rule in ingress["spec"]["rules"]]
    assert hosts == [PLACEHOLDER, f"*.{PLACEHOLDER}"]
    for rule in ingress["spec"]["rules"]:
        (path,) = rule["http"]["paths"]
        assert path["pathType"] == "Prefix"
        assert path["backend"]["service"]["name"] == PLACEHOLDER
    (tls,) = ingress["spec"]["tls"]
    assert tls["secretName"] == PLACEHOLDER
    assert tls["hosts"] == hosts
    text = (TEMPLATES / "ingress.yaml").read_text()
    assert '"*.{{ .Values.ingress.baseDomain }}"' in text
    assert "secretName: {{ .Values.ingress.tls.secretName }}" in text


def test_autoscalers_target_the_web_and_worker_deployments_on_cpu():
    (hpa,) = of_kind("HorizontalPodAutoscaler")  # one document, rendered once per component by range
    assert 'list "web" "worker"' in (TEMPLATES / "hpa.yaml").read_text()
    target = hpa["spec"]["scaleTargetRef"]
    assert target["apiVersion"] == "apps/v1" and target["kind"] == "Deployment"
    assert "minReplicas" in hpa["spec"] and "maxReplicas" in hpa["spec"]
    (metric,) = hpa["spec"]["metrics"]
    assert metric["type"] == "Resource"
    assert metric["resource"]["name"] == "cpu"
    assert metric["resource"]["target"]["type"] == "Utilization"


def test_disruption_budget_selects_the_web_pods():
    (pdb,) = of_kind("PodDisruptionBudget")
    assert "matchLabels" in pdb["spec"]["selector"]
    assert "minAvailable" in pdb["spec"]
    assert '(list . "web")' in (TEMPLATES / "pdb.yaml").read_text()


CONFIG_KEYS = {
    "PUBLIC_BASE_URL", "SEARCH_BACKEND", "MEILI_URL", "STORAGE_BACKEND", "S3_BUCKET", "S3_REGION", "S3_ENDPOINT_URL",
    "S3_PUBLIC_BASE_URL", "OUTBOX_DELIVERY", "MEDIA_PROCESSING", "LOG_FORMAT", "TRUSTED_PROXIES", "JOB_QUEUE",
    "TENANT_BASE_DOMAIN", "VNPAY_PAY_URL", "VNPAY_API_URL", "VNPAY_SANDBOX", "MAIL_FROM", "XASO_INSTANCE_PATH",
}
SECRET_KEYS = {
    "DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DATA_ENCRYPTION_KEY", "MEILI_KEY", "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY", "VNPAY_TMN_CODE", "VNPAY_HASH_SECRET", "SMTP_URL", "SMS_GATEWAY_TOKEN", "METRICS_TOKEN",
}


def test_configmap_carries_the_non_secret_settings_only():
    (config,) = of_kind("ConfigMap")
    keys = set(config["data"]) - {PLACEHOLDER}
    assert keys >= CONFIG_KEYS
    assert not keys & SECRET_KEYS
    assert "TENANT_BASE_DOMAIN: {{ .Values.ingress.baseDomain | quote }}" in (TEMPLATES / "configmap.yaml").read_text()


def test_secret_carries_the_credentials_unless_an_existing_secret_is_named():
    (secret,) = of_kind("Secret")
    assert set(secret["stringData"]) == SECRET_KEYS
    text = (TEMPLATES / "secret.yaml").read_text()
    assert "{{- if not .Values.secrets.existingSecret }}" in text
    assert 'required "postgresql.url' in text and 'required "secrets.secretKey' in text


def test_every_setting_the_chart_sets_is_one_the_app_reads():
    """The ConfigMap/Secret keys are real settings (service/config.py, README) or read by boto3 / gunicorn."""
    root = CHART.parents[1]
    known = (root / "service" / "config.py").read_text() + (root / "README.md").read_text()
    outside_the_app = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}
    (config,) = of_kind("ConfigMap")
    for key in (set(config["data"]) - {PLACEHOLDER}) | SECRET_KEYS - outside_the_app:
        assert key in known, key


def test_pods_are_non_root_with_a_read_only_root_and_a_writable_tmp():
    helpers = (TEMPLATES / "_helpers.tpl").read_text()
    assert "emptyDir" in helpers and "mountPath: /tmp" in helpers
    data = values()
    assert data["podSecurityContext"]["runAsUser"] == 10001
    assert data["securityContext"]["capabilities"]["drop"] == ["ALL"]
    for name in ("deployment-web.yaml", "deployment-worker.yaml", "deployment-scheduler.yaml", "job-migrations.yaml"):
        text = (TEMPLATES / name).read_text()
        assert "toYaml .Values.podSecurityContext" in text, name
        assert "toYaml .Values.securityContext" in text, name
        assert 'include "xaso.tmpVolume"' in text, name


def test_resources_come_from_values():
    for name, key in [("deployment-web.yaml", "web"), ("deployment-worker.yaml", "worker"),
                      ("deployment-scheduler.yaml", "scheduler"), ("job-migrations.yaml", "migrations")]:
        assert f"toYaml .Values.{key}.resources" in (TEMPLATES / name).read_text(), name


def test_deploy_docs_say_helm_was_not_run():
    docs = (CHART.parents[1] / "docs" / "deploy.md").read_text()
    assert "helm is not installable here" in docs
    assert "tests/deploy/test_helm_chart.py" in docs


def test_notes_exist():
    notes = (TEMPLATES / "NOTES.txt").read_text()
    assert "{{ .Values.ingress.baseDomain }}" in notes


BLOCK_OPEN = re.compile(r"\{\{-?\s*(?:if|with|range|define|block)\b")
BLOCK_END = re.compile(r"\{\{-?\s*end\s*-?\}\}")


@pytest.mark.parametrize("path", sorted(TEMPLATES.iterdir()), ids=lambda path: path.name)
def test_template_blocks_are_balanced(path):
    """Every {{ if }} / {{ with }} / {{ range }} / {{ define }} has its {{ end }} (helm would refuse the chart)."""
    text = COMMENT.sub("", path.read_text())
    assert len(BLOCK_OPEN.findall(text)) == len(BLOCK_END.findall(text)), path.name
    assert text.count("{{") == text.count("}}"), path.name
