"""Pod-spec semantics: what makes a container privileged-equivalent, and whether a pod
spec gets a Kubernetes API token.

Privileged-equivalent means the container can take the node: ``privileged: true``,
Windows HostProcess, or a capability that escapes the container's isolation (loading
kernel modules, ptrace, mounting, BPF, raw I/O, reading any file...). ``NET_ADMIN``
counts too (the issue's peers flag it), at a lower severity unless the pod shares the
node's network, where it rewrites the node's own routing and filtering. Init and
ephemeral containers count like the others: they run with the same kernel.
"""

from __future__ import annotations

from dataclasses import dataclass

from postureapp.facts.kubernetes import ServiceAccountFacts
from postureapp.facts.kubernetes_workloads import ContainerFacts, PodSpecFacts

# capability -> why it reaches past the container (CAP_ prefix dropped, upper case).
DANGEROUS_CAPABILITIES: dict[str, str] = {
    "ALL": "every capability",
    "SYS_ADMIN": "mount, namespaces and most of what root can do on the node",
    "SYS_MODULE": "loads kernel modules into the node's kernel",
    "SYS_PTRACE": "traces and injects into other processes",
    "SYS_RAWIO": "raw access to devices and I/O ports",
    "SYS_BOOT": "reboots the node and loads new kernels",
    "SYS_TIME": "sets the node's clock",
    "BPF": "loads eBPF programs into the node's kernel",
    "PERFMON": "kernel performance monitoring, an eBPF and side-channel foothold",
    "DAC_READ_SEARCH": "reads any file by handle, past the container's mount (shocker)",
    "MAC_ADMIN": "changes the node's mandatory access control (AppArmor, SELinux)",
    "MAC_OVERRIDE": "overrides the node's mandatory access control",
    "NET_ADMIN": "configures networking: interfaces, routes, iptables",
}
# Escapes only when the pod shares the node's network namespace.
NETWORK_ONLY = frozenset({"NET_ADMIN"})


@dataclass(frozen=True, slots=True)
class Privilege:
    """One way a container is privileged-equivalent."""

    container: str
    container_type: str  # container | init | ephemeral
    what: str  # "privileged", "HostProcess", "capability SYS_ADMIN"
    why: str
    node_level: bool  # False: NET_ADMIN in the pod's own network namespace

    def describe(self) -> str:
        where = "" if self.container_type == "container" else f" ({self.container_type})"
        return f"{self.container}{where}: {self.what}"


def privileges(spec: PodSpecFacts) -> list[Privilege]:
    """Every privileged-equivalent setting of a pod spec's containers (all types)."""
    found: list[Privilege] = []
    host_network = bool(spec.get("host_network"))
    for container in spec.get("containers") or []:
        found.extend(_container_privileges(container, host_network))
    return found


def _container_privileges(container: ContainerFacts, host_network: bool) -> list[Privilege]:
    name = str(container.get("name") or "(unnamed)")
    ctype = str(container.get("type") or "container")
    found = []
    if container.get("privileged"):
        found.append(Privilege(name, ctype, "privileged", "root on the node", True))
    if container.get("host_process"):
        found.append(Privilege(name, ctype, "HostProcess", "a process of the Windows node", True))
    capabilities = container.get("capabilities") or {"add": [], "drop": []}
    for cap in dict.fromkeys(capabilities.get("add") or []):
        why = DANGEROUS_CAPABILITIES.get(cap)
        if why is None:
            continue
        node_level = cap not in NETWORK_ONLY or host_network
        if cap in NETWORK_ONLY and not host_network:
            why += " in the pod's own network namespace"
        found.append(Privilege(name, ctype, f"capability {cap}", why, node_level))
    return found


def token_mounted(spec: PodSpecFacts, account: ServiceAccountFacts | None) -> bool:
    """Whether pods of this spec get a Kubernetes API token: the pod's own
    ``automountServiceAccountToken``, else its ServiceAccount's, else yes (the
    ServiceAccount admission plugin's default)."""
    if any(volume.get("service_account_token") for volume in spec.get("volumes") or []):
        return True  # a projected API token written out by hand
    own = spec.get("automount_service_account_token")
    if own is not None:
        return own
    inherited = account.get("automount_service_account_token") if account else None
    return True if inherited is None else inherited
