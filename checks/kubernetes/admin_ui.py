"""Admin UIs exposed outside the cluster: a Service fronting a product's administration
interface (recognised by name, image and ports, see :data:`ADMIN_UIS`), traced to what
exposes it (its own type, externalIPs, an Ingress or HTTPRoute backend)."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from postureapp.checks.registry import Result, check
from postureapp.domain.kubernetes.exposure import ServiceExposure
from postureapp.domain.kubernetes.objects import (
    PROVIDER,
    labels_match,
    pods_by_namespace,
    qualified,
    selected_pods,
)
from postureapp.domain.kubernetes.workloads import workloads
from postureapp.facts import facts_of
from postureapp.facts.kubernetes import ServiceFacts
from postureapp.facts.kubernetes_workloads import (
    PodFacts,
    PodSpecFacts,
    PodTemplateFacts,
    WorkloadControllerFacts,
)
from postureapp.inventory import Inventory
from postureapp.model import Resource, Severity, Status, View

# -- admin UIs -------------------------------------------------------------------------


@dataclass(frozen=True)
class AdminUI:
    """How to recognise one product's admin UI behind a Service."""

    product: str
    name: re.Pattern[str] | None  # on the Service name
    image: re.Pattern[str] | None  # on the images of the pods it selects
    ports: frozenset[int]  # distinctive enough to recognise the product alone
    needs_ports: frozenset[int]  # the UI is served on these ports only...
    needs_port_names: frozenset[str]  # ...or ports of these names


def _ui(
    product: str,
    name: str = "",
    image: str = "",
    ports: Iterable[int] = (),
    needs_ports: Iterable[int] = (),
    needs_port_names: Iterable[str] = (),
) -> AdminUI:
    return AdminUI(
        product,
        re.compile(name, re.I) if name else None,
        re.compile(image, re.I) if image else None,
        frozenset(ports),
        frozenset(needs_ports),
        frozenset(needs_port_names),
    )


ADMIN_UIS: tuple[AdminUI, ...] = (
    _ui("Kubernetes dashboard", r"kubernetes-dashboard|^k8s-dashboard$", r"kubernetesui/dashboard"),
    _ui("Argo CD", r"argocd-server$"),
    _ui("Argo Workflows", r"^(?:[\w-]+-)?argo(?:-workflows)?-server$", r"argoproj/argocli", [2746]),
    _ui("Grafana", r"^(?:[\w-]+-)?grafana$",
        r"(?:^|/)grafana/grafana(?:-enterprise|-oss)?(?::|@|$)"),
    _ui("Prometheus", r"^(?:[\w-]+-)?prometheus(?:-server|-k8s|-operated)?$",
        r"(?:^|/)(?:prom|prometheus)/prometheus(?::|@|$)"),
    _ui("Alertmanager", r"alertmanager(?:-main|-operated)?$",
        r"(?:^|/)(?:prom|prometheus)/alertmanager(?::|@|$)", [9093]),
    _ui("Kibana", r"kibana", r"kibana", [5601]),
    _ui("Jenkins", r"^(?:[\w-]+-)?jenkins$", r"(?:^|/)jenkins(?:/jenkins)?(?::|@|$)"),
    _ui("Vault UI", r"^(?:[\w-]+-)?vault(?:-ui|-active|-standby)?$",
        r"(?:^|/)(?:hashicorp/)?vault(?::|@|$)", [8200]),
    _ui("pgAdmin", r"pgadmin", r"dpage/pgadmin"),
    _ui("Consul UI", r"consul-ui$|^(?:[\w-]+-)?consul(?:-server)?$",
        r"(?:^|/)(?:hashicorp/)?consul(?::|@|$)", [8500]),
    _ui("RabbitMQ management", r"rabbitmq", r"rabbitmq", [15672],
        needs_ports=[15672], needs_port_names=["management", "http-stats"]),
    _ui("Traefik dashboard", r"traefik", r"(?:^|/)traefik(?::|@|$)",
        needs_ports=[8080, 9000], needs_port_names=["traefik", "dashboard", "admin"]),
    _ui("Portainer", r"portainer", r"portainer/portainer"),
    _ui("phpMyAdmin", r"phpmyadmin", r"phpmyadmin"),
    _ui("Adminer", r"^adminer$", r"(?:^|/)adminer(?::|@|$)"),
    _ui("Kafka UI", r"kafka-ui", r"(?:provectuslabs|kafbat)/kafka-ui"),
    _ui("Longhorn UI", r"longhorn-frontend", r"longhornio/longhorn-ui"),
    _ui("Hubble UI", r"^hubble-ui$", r"cilium/hubble-ui"),
    _ui("Headlamp", r"headlamp", r"headlamp"),
)  # fmt: skip

# A Service or port plainly named for administration.
_GENERIC_ADMIN = re.compile(r"(?:^|[-_.])(?:admin|console|dashboard)(?:$|[-_.])", re.I)


@dataclass
class _ServiceFacts:
    ports: set[int] = field(default_factory=set)
    port_names: set[str] = field(default_factory=set)
    images: list[str] = field(default_factory=list)


def _facts(service: Resource, pods: list[PodSpecFacts]) -> _ServiceFacts:
    facts = _ServiceFacts()
    facts.images = sorted({str(image) for pod in pods for image in pod.get("images") or []})
    named: dict[str, set[int]] = defaultdict(set)
    for pod in pods:
        for container in pod.get("containers") or []:
            for cport in container.get("ports") or []:
                if cport.get("name") and isinstance(cport.get("container_port"), int):
                    named[str(cport["name"])].add(cport["container_port"])
    for port in facts_of(service, ServiceFacts).get("ports") or []:
        if isinstance(port.get("port"), int):
            facts.ports.add(port["port"])
        if port.get("name"):
            facts.port_names.add(str(port["name"]))
        target = port.get("target_port")
        if isinstance(target, int):
            facts.ports.add(target)
        elif isinstance(target, str):
            if target.isdigit():
                facts.ports.add(int(target))
            else:
                facts.port_names.add(target)
                facts.ports.update(named.get(target, ()))
    return facts


def _repository(image: str) -> str:
    """``quay.io/prometheus/prometheus:v2.54.1`` -> ``quay.io/prometheus/prometheus``."""
    name = image.split("@", 1)[0]
    head, _, tag = name.rpartition(":")
    return head if head and "/" not in tag else name


def recognise_admin_ui(
    service: Resource, pods: list[Resource] | list[PodSpecFacts]
) -> tuple[str, str] | None:
    """(product, how it was recognised) when the Service fronts an admin UI; ``pods``
    are the pods it selects (or their specs: templates of workloads with none running)."""
    facts = _facts(service, [facts_of(p, PodFacts) if isinstance(p, Resource) else p for p in pods])
    for ui in ADMIN_UIS:
        why = None
        if ui.name and ui.name.search(service.name):
            why = f"service name {service.name}"
        elif ui.image:
            image = next((i for i in facts.images if ui.image.search(i)), None)
            if image:
                why = f"image {_repository(image)}"  # no tag: upgrades are not changes
        if why is None and ui.ports & facts.ports:
            why = f"port {min(ui.ports & facts.ports)}"
        if why is None:
            continue
        if (ui.needs_ports or ui.needs_port_names) and not (
            ui.needs_ports & facts.ports or ui.needs_port_names & facts.port_names
        ):
            continue
        return ui.product, why
    if _GENERIC_ADMIN.search(service.name):
        return "admin interface", f"service name {service.name}"
    named = sorted(name for name in facts.port_names if _GENERIC_ADMIN.search(name))
    if named:
        return "admin interface", f"port name {named[0]}"
    return None


@check(
    id="k8s-admin-ui-exposed",
    title="Admin UI exposed outside the cluster",
    view=View.ENDPOINTS,
    severity=Severity.CRITICAL,
    provider=PROVIDER,
    requires=("Service", "Pod"),
    remediation="""
Take the admin UI off the outside: make its Service `type: ClusterIP`, remove it from
Ingress/HTTPRoute backends, drop `externalIPs`. Reach it with `kubectl port-forward
svc/<name> -n <ns> <port>` or through an identity-aware proxy (SSO, MFA) on a separate,
restricted entry point. Keep its own authentication on regardless.""",
    frameworks={"ISO 27001:2022": ["A.8.20", "A.8.22", "A.8.2"], "SOC 2": ["CC6.6", "CC6.1"]},
    references=(
        "https://kubernetes.io/docs/tasks/access-application-cluster/web-ui-dashboard/",
        "https://kubernetes.io/docs/tasks/access-application-cluster/port-forward-access-application-cluster/",
    ),
    controls=("no-exposed-admin-interfaces",),
    no_benchmark="no CIS recommendation on exposed admin UIs",
)
def admin_ui_exposed(inv: Inventory) -> Iterator[Result]:
    """Services fronting an admin UI (Kubernetes dashboard, Argo CD, Grafana,
    Prometheus, Alertmanager, Kibana, Jenkins, Vault, pgAdmin, Consul, RabbitMQ
    management, Traefik dashboard and others in :data:`ADMIN_UIS`, or a Service/port
    named admin, console or dashboard), recognised by name, the selected pods' images,
    and ports. FAIL when a LoadBalancer, NodePort, externalIPs, Ingress or HTTPRoute
    exposes it; PASS when it is reachable only inside the cluster. Other Services are
    not judged here. Workloads with no pod running are recognised by their pod
    template. An exposure already proven fails even when Ingresses or HTTPRoutes could
    not be read; a UI with none proven is then unknown. A cluster that does not serve
    the Gateway API has no HTTPRoute: that is an answer, not a gap."""
    selected = _Selected(inv)
    exposure = ServiceExposure(inv)
    for service in inv.of(PROVIDER, "Service"):
        found = recognise_admin_ui(service, selected.specs(service))
        if found is None:
            continue
        product, why = found
        exposed = exposure.of(service)
        evidence = {"product": product, "recognised_by": why, "exposed_by": exposed}
        name = f"{product} (recognised by {why}) behind Service {qualified(service)}"
        if exposed:
            yield Result(
                service,
                Status.FAIL,
                detail=f"{name} is exposed by {'; '.join(exposed)}",
                evidence=evidence,
            )
            continue
        gap = inv.why_unknown(PROVIDER, service.scope, ("Ingress", "HTTPRoute"))
        if gap:
            yield Result(
                service,
                Status.UNKNOWN,
                detail=f"{name} is not exposed by its own type; whether an Ingress or "
                f"HTTPRoute exposes it cannot be told ({gap})",
                evidence=evidence,
            )
            continue
        yield Result(
            service,
            Status.PASS,
            detail=f"{name} is reachable only inside the cluster",
            evidence=evidence,
        )


class _Selected:
    """What a Service selects: running pods, and the templates of workloads that have
    none running (scaled to zero) whose template labels it matches."""

    def __init__(self, inv: Inventory) -> None:
        self.pods = pods_by_namespace(inv)
        self.idle: dict[tuple[str, str], list[PodTemplateFacts]] = defaultdict(list)
        for workload, pods in workloads(inv).items():
            if workload.controller is not None and not pods:
                template = facts_of(workload.controller, WorkloadControllerFacts).get("template")
                if template is not None:
                    self.idle[(workload.scope, workload.namespace)].append(template)

    def specs(self, service: Resource) -> list[PodSpecFacts]:
        found: list[PodSpecFacts] = [
            facts_of(pod, PodFacts) for pod in selected_pods(service, self.pods)
        ]
        selector = facts_of(service, ServiceFacts).get("selector") or {}
        if selector:
            found.extend(
                template
                for template in self.idle.get((service.scope, service.namespace), [])
                if labels_match(selector, template.get("labels") or {})
            )
        return found
