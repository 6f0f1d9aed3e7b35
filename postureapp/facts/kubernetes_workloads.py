"""Facts of what runs: Pods, and the controllers judged from their pod templates
(Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob).

A Pod's facts are its :class:`PodSpecFacts` (flat, beside the object's own), a
controller's are under ``template`` (:class:`PodTemplateFacts`): the same keys, so one
reader serves both. Only a Pod says whether a Kubernetes API token is really mounted
(``service_account_token_mounted``): the admission plugin adds that volume when the pod
is created, so a template never shows it.
"""

from __future__ import annotations

from typing import Literal

from typing_extensions import TypedDict

from postureapp.facts.base import register
from postureapp.facts.kubernetes import PROVIDER, LabelSelector, ObjectFacts


class SecretKeyRef(TypedDict):
    name: str | None
    key: str | None


class EnvVar(TypedDict):
    name: str
    # value (a literal) | secretKeyRef | configMapKeyRef | fieldRef | resourceFieldRef | other
    source: str
    secret: SecretKeyRef | None
    looks_secret: bool  # a *literal* value that looks like a credential; never the value
    secret_hint: str | None  # why: aws-access-key-id, private-key, jwt, secret-like-name...


class EnvFrom(TypedDict):
    kind: Literal["Secret", "ConfigMap"]
    name: str | None


class Capabilities(TypedDict):
    add: list[str]  # as written (upper-cased, CAP_ prefix dropped)
    drop: list[str]


class ContainerPort(TypedDict):
    name: str | None
    container_port: int
    host_port: int | None
    protocol: str


class ContainerFacts(TypedDict):
    name: str
    type: Literal["container", "init", "ephemeral"]
    image: str | None
    privileged: bool
    host_process: bool  # Windows HostProcess: the container runs as a process of the node
    allow_privilege_escalation: bool | None
    run_as_non_root: bool | None
    run_as_user: int | None
    read_only_root_filesystem: bool | None
    seccomp_profile: str | None
    capabilities: Capabilities
    ports: list[ContainerPort]
    env: list[EnvVar]
    env_from: list[EnvFrom]


class VolumeFacts(TypedDict):
    name: str
    type: str | None  # the volume source key: secret, configMap, hostPath, projected...
    # secret name, config map name, host path, claim name, CSI driver, or None
    source: str | None
    service_account_token: bool  # a projected token for the Kubernetes API
    token_audiences: list[str]  # explicit projected audiences (sts.amazonaws.com: IRSA)


class PodSecurityContext(TypedDict):
    run_as_non_root: bool | None
    run_as_user: int | None
    run_as_group: int | None
    seccomp_profile: str | None


class PodSpecFacts(TypedDict):
    service_account: str  # "default" when unset
    automount_service_account_token: bool | None  # the pod's own setting
    host_network: bool
    host_pid: bool
    host_ipc: bool
    privileged: bool  # securityContext.privileged on any container
    host_ports: list[int]  # sorted, unique
    images: list[str]  # sorted, unique
    security_context: PodSecurityContext
    containers: list[ContainerFacts]  # init, then app, then ephemeral containers
    volumes: list[VolumeFacts]
    image_pull_secrets: list[str]
    secret_refs: list[str]  # every Secret referenced, sorted


class ControllerRef(TypedDict):
    kind: str
    name: str


class WorkloadRef(TypedDict):
    kind: str
    name: str
    inferred: bool  # a ReplicaSet named <deployment>-<pod-template-hash>: the Deployment


class PodFacts(ObjectFacts, PodSpecFacts):
    service_account_token_mounted: bool  # a kube-api-access projected volume is present
    phase: str | None
    node_name: str | None
    owner: ControllerRef | None  # the controller owner reference
    workload: WorkloadRef  # the pod itself (kind Pod) when it has no owner


class PodTemplateFacts(PodSpecFacts):
    labels: dict[str, str]
    annotations: dict[str, str]


class WorkloadControllerFacts(ObjectFacts):
    owner: ControllerRef | None  # a ReplicaSet's Deployment, a Job's CronJob
    selector: LabelSelector | None
    replicas: int | None  # spec.replicas (None: unset, or a kind without replicas)
    template: PodTemplateFacts


class CronJobFacts(WorkloadControllerFacts):
    schedule: str | None
    suspend: bool | None
    last_schedule_time: str | None  # ISO 8601; None: it has not run yet


CONTROLLER_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob")

register(PROVIDER, "Pod", PodFacts)
for _kind in CONTROLLER_KINDS:
    register(PROVIDER, _kind, CronJobFacts if _kind == "CronJob" else WorkloadControllerFacts)
