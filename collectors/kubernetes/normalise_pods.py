"""Normalisers for what runs: a Pod, and the pod template of a Deployment, StatefulSet,
DaemonSet, ReplicaSet, Job or CronJob (:mod:`postureapp.facts.kubernetes_workloads`).

A pod and a template share one reader (:func:`pod_spec`), so a workload scaled to zero,
a CronJob that has not run yet and a DaemonSet's template are judged exactly like the
pods they would start.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from postureapp.collectors.kubernetes._shape import Obj
from postureapp.facts.kubernetes_workloads import (
    ContainerFacts,
    ControllerRef,
    EnvFrom,
    EnvVar,
    PodSpecFacts,
    SecretKeyRef,
    VolumeFacts,
    WorkloadRef,
)
from postureapp.model import isoformat, parse_time

# -- secret-looking literals -----------------------------------------------------------

_VALUE_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("aws-access-key-id", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    # Three dashes or more: keys pasted by hand (and redacted samples) lose a few.
    ("private-key", re.compile(r"-{3,}BEGIN [A-Z ]*PRIVATE KEY-{3,}")),
    ("jwt", re.compile(r"\beyJ[\w-]{8,}\.eyJ[\w-]{8,}\.[\w-]+")),
    ("github-token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_\w{30,})")),
    ("slack-token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}")),
    ("url-credentials", re.compile(r"\b[a-z][a-z0-9+.-]*://[^/\s:@]+:[^/\s@]+@")),
)
_SECRET_NAME = re.compile(
    r"PASSW(?:OR)?D|PASSWD|\bPWD\b|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|CREDENTIAL"
    r"|AUTH|SIGNING_?KEY|ENCRYPTION_?KEY",
    re.IGNORECASE,
)
# Names that mention a secret but hold a reference to one, not the secret itself.
_REFERENCE_SUFFIX = re.compile(
    r"_(?:FILE|PATH|DIR|URL|URI|ENDPOINT|HOST|PORT|NAME|TTL|TIMEOUT|EXPIRY|ENABLED|MODE|TYPE"
    r"|HEADER|REF|REGION|ID|ARN|AUDIENCE|ISSUER|LENGTH|SIZE|VERSION)$",
    re.IGNORECASE,
)
_NOT_SECRET_VALUES = frozenset({"true", "false", "yes", "no", "on", "off", "none", "null", ""})


def secret_hint(name: str, value: str) -> str | None:
    """Why a literal env value looks like a credential, or None. Never returns the value."""
    if not value:
        return None
    for reason, pattern in _VALUE_PATTERNS:
        if pattern.search(value):
            return reason
    if not _SECRET_NAME.search(name) or _REFERENCE_SUFFIX.search(name):
        return None
    stripped = value.strip()
    if (
        len(stripped) < 6
        or stripped.lower() in _NOT_SECRET_VALUES
        or stripped.isdigit()
        or stripped.startswith(("/", "$(", "${", "http://", "https://", "arn:"))
    ):
        return None
    return "secret-like-name"


# -- containers ------------------------------------------------------------------------

_VALUE_FROM = ("secretKeyRef", "configMapKeyRef", "fieldRef", "resourceFieldRef")


def _env(entry: Obj) -> EnvVar:
    name = entry.text("name")
    value_from = entry.obj("valueFrom")
    secret: SecretKeyRef | None = None
    hint = None
    if value_from:
        source = next((key for key in _VALUE_FROM if key in value_from), "other")
        if source == "secretKeyRef":
            ref = value_from.obj("secretKeyRef")
            secret = {"name": ref.opt_str("name"), "key": ref.opt_str("key")}
    else:
        source = "value"
        hint = secret_hint(name, entry.text("value"))
    return {
        "name": name,
        "source": source,
        "secret": secret,
        "looks_secret": hint is not None,
        "secret_hint": hint,
    }


def capability(name: str) -> str:
    """``cap_sys_admin`` and ``SYS_ADMIN`` are the same capability to the runtime."""
    upper = name.strip().upper()
    return upper.removeprefix("CAP_")


ContainerType = Literal["container", "init", "ephemeral"]


def _container(
    c: Obj, ctype: ContainerType, secret_refs: set[str], pod_host_process: bool
) -> ContainerFacts:
    sc = c.obj("securityContext")
    caps = sc.obj("capabilities")
    env = [_env(item) for item in c.objs("env")]
    for item in env:
        if item["secret"] and item["secret"]["name"]:
            secret_refs.add(item["secret"]["name"])
    env_from: list[EnvFrom] = []
    for source in c.objs("envFrom"):
        if "secretRef" in source:
            ref_name = source.obj("secretRef").opt_str("name")
            env_from.append({"kind": "Secret", "name": ref_name})
            if ref_name:
                secret_refs.add(ref_name)
        elif "configMapRef" in source:
            config = source.obj("configMapRef").opt_str("name")
            env_from.append({"kind": "ConfigMap", "name": config})
    host_process = sc.obj("windowsOptions").opt_bool("hostProcess")
    return {
        "name": c.text("name"),
        "type": ctype,
        "image": c.opt_str("image"),
        "privileged": sc.flag("privileged"),
        "host_process": pod_host_process if host_process is None else host_process,
        "allow_privilege_escalation": sc.opt_bool("allowPrivilegeEscalation"),
        "run_as_non_root": sc.opt_bool("runAsNonRoot"),
        "run_as_user": sc.opt_int("runAsUser"),
        "read_only_root_filesystem": sc.opt_bool("readOnlyRootFilesystem"),
        "seccomp_profile": sc.obj("seccompProfile").opt_str("type"),
        "capabilities": {
            "add": [capability(name) for name in caps.strs("add")],
            "drop": [capability(name) for name in caps.strs("drop")],
        },
        "ports": [
            {
                "name": port.opt_str("name"),
                "container_port": port.req_int("containerPort"),
                "host_port": port.opt_int("hostPort"),
                "protocol": port.text("protocol", "TCP"),
            }
            for port in c.objs("ports")
        ],
        "env": env,
        "env_from": env_from,
    }


_VOLUME_SOURCE_FIELD = {
    "secret": "secretName",
    "configMap": "name",
    "hostPath": "path",
    "persistentVolumeClaim": "claimName",
    "csi": "driver",
}


def _volume(v: Obj, secret_refs: set[str]) -> VolumeFacts:
    vtype = next((key for key in v.data if key != "name" and v.data[key] is not None), None)
    body = v.obj(vtype) if vtype else Obj({})
    source_field = _VOLUME_SOURCE_FIELD.get(vtype or "")
    source = body.opt_str(source_field) if source_field else None
    api_token = False
    audiences: list[str] = []
    if vtype == "secret" and source:
        secret_refs.add(source)
    elif vtype == "projected":
        for item in body.objs("sources"):
            if "serviceAccountToken" in item:
                audience = item.obj("serviceAccountToken").opt_str("audience")
                if audience:
                    audiences.append(audience)
                else:
                    api_token = True
            if "secret" in item and (name := item.obj("secret").opt_str("name")):
                secret_refs.add(name)
    return {
        "name": v.text("name"),
        "type": vtype,
        "source": source,
        "service_account_token": api_token,
        "token_audiences": audiences,
    }


_CONTAINER_KEYS: tuple[tuple[ContainerType, str], ...] = (
    ("init", "initContainers"),
    ("container", "containers"),
    ("ephemeral", "ephemeralContainers"),
)


def pod_spec(spec: Obj) -> PodSpecFacts:
    """What a pod spec (a Pod's, or a controller's template) says about identity,
    isolation and secrets."""
    secret_refs: set[str] = set()
    psc = spec.obj("securityContext")
    pod_host_process = psc.obj("windowsOptions").flag("hostProcess")
    containers = [
        _container(c, ctype, secret_refs, pod_host_process)
        for ctype, key in _CONTAINER_KEYS
        for c in spec.objs(key)
    ]
    volumes = [_volume(v, secret_refs) for v in spec.objs("volumes")]
    pull_secrets = spec.names("imagePullSecrets")
    secret_refs.update(pull_secrets)
    return {
        "service_account": spec.opt_str("serviceAccountName")
        or spec.opt_str("serviceAccount")
        or "default",
        "automount_service_account_token": spec.opt_bool("automountServiceAccountToken"),
        "host_network": spec.flag("hostNetwork"),
        "host_pid": spec.flag("hostPID"),
        "host_ipc": spec.flag("hostIPC"),
        "privileged": any(c["privileged"] for c in containers),
        "host_ports": sorted(
            {p["host_port"] for c in containers for p in c["ports"] if p["host_port"]}
        ),
        "images": sorted({c["image"] for c in containers if c["image"]}),
        "security_context": {
            "run_as_non_root": psc.opt_bool("runAsNonRoot"),
            "run_as_user": psc.opt_int("runAsUser"),
            "run_as_group": psc.opt_int("runAsGroup"),
            "seccomp_profile": psc.obj("seccompProfile").opt_str("type"),
        },
        "containers": containers,
        "volumes": volumes,
        "image_pull_secrets": pull_secrets,
        "secret_refs": sorted(secret_refs),
    }


def controller_ref(meta: Obj) -> ControllerRef | None:
    """The owner reference marked controller (else the first one), as {kind, name}."""
    refs = meta.objs("ownerReferences")
    controller = next((r for r in refs if r.opt_bool("controller") is True), None)
    if controller is None and refs:
        controller = refs[0]
    if controller is None:
        return None
    return {"kind": controller.text("kind"), "name": controller.text("name")}


def _workload(owner: ControllerRef | None, labels: dict[str, str], name: str) -> WorkloadRef:
    if owner is None:
        return {"kind": "Pod", "name": name, "inferred": False}
    template_hash = labels.get("pod-template-hash")
    suffix = f"-{template_hash}"
    if owner["kind"] == "ReplicaSet" and template_hash and owner["name"].endswith(suffix):
        return {"kind": "Deployment", "name": owner["name"][: -len(suffix)], "inferred": True}
    return {"kind": owner["kind"], "name": owner["name"], "inferred": False}


def pod(obj: Obj) -> dict[str, Any]:
    """A Pod's own facts beside its pod spec's (see PodFacts)."""
    meta = obj.obj("metadata")
    spec = obj.obj("spec")
    shared = pod_spec(spec)
    facts: dict[str, Any] = dict(shared)
    owner = controller_ref(meta)
    facts.update(
        {
            "service_account_token_mounted": any(
                v["service_account_token"] for v in shared["volumes"]
            ),
            "phase": obj.obj("status").opt_str("phase"),
            "node_name": spec.opt_str("nodeName"),
            "owner": owner,
            "workload": _workload(owner, meta.strmap("labels"), meta.text("name")),
        }
    )
    return facts


def timestamp(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return isoformat(parse_time(value))
    except ValueError:
        return None


def _template(template: Obj) -> dict[str, Any]:
    meta = template.obj("metadata")
    facts: dict[str, Any] = dict(pod_spec(template.obj("spec")))
    facts["labels"] = meta.strmap("labels")
    facts["annotations"] = meta.strmap("annotations")
    return facts


def controller(obj: Obj) -> dict[str, Any]:
    """A Deployment, StatefulSet, DaemonSet, ReplicaSet or Job: its pod template."""
    spec = obj.obj("spec")
    return {
        "owner": controller_ref(obj.obj("metadata")),
        "selector": spec.opt_selector("selector"),
        "replicas": spec.opt_int("replicas"),
        "template": _template(spec.obj("template")),
    }


def cron_job(obj: Obj) -> dict[str, Any]:
    """A CronJob: its Job template's pod template, schedule and last run."""
    spec = obj.obj("spec")
    job = spec.obj("jobTemplate").obj("spec")
    return {
        "owner": controller_ref(obj.obj("metadata")),
        "selector": job.opt_selector("selector"),
        "replicas": None,
        "template": _template(job.obj("template")),
        "schedule": spec.opt_str("schedule"),
        "suspend": spec.opt_bool("suspend"),
        "last_schedule_time": timestamp(obj.obj("status").opt_str("lastScheduleTime")),
    }
