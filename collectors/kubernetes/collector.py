"""The live Kubernetes collector: one kube context in, resources and a run record out.

It talks to the API server through the unchanged official ``kubernetes`` client
(kubeconfig contexts, or in-cluster config), pages every list across all namespaces,
reads optional add-ons only when discovery says they are installed, and never raises.

Secrets are read as metadata only: every secrets list carries ``Accept:
application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1``, and a Secret's type
is learned from server-side ``fieldSelector=type=<t>`` lists of the same kind, so no
secret value ever enters the process. An answer that is not a PartialObjectMetadataList
is discarded unread and the kind reported unknown.

Workload controllers (Deployments, StatefulSets, DaemonSets, ReplicaSets, Jobs,
CronJobs) are listed too: their pod templates are judged when no pod runs (scaled to
zero, a CronJob before its first run), and findings hang on objects the export holds.

What the run saw of each kind is recorded in three states (``CollectorRun.kinds`` and
``unknown``): *read* (listed; an empty list is an answer), *not served* (discovery says
the cluster has no such API or CRD, or the list answered 404: the kind's absence is a
fact) and *unreadable* (denied, failed, or a malformed object in the answer: unknown,
with the reason). A malformed object is dropped; its kind is unknown in this cluster.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from kubernetes import client, config
from kubernetes.config.config_exception import ConfigException

from postureapp.collectors.base import CollectResult, RunRecorder, current_abandon_signal
from postureapp.collectors.kubernetes import api as kapi
from postureapp.collectors.kubernetes._gc import gc_paused
from postureapp.collectors.kubernetes.kinds import BUILTIN_KINDS, OPTIONAL_KINDS, PRODUCTS, KindSpec
from postureapp.collectors.kubernetes.normalise import (
    OTHER_SECRET_TYPE,
    SECRET_TYPES,
    MalformedObject,
    cluster_resource,
    malformed_reason,
    normalise,
)
from postureapp.collectors.pool import DaemonPool
from postureapp.errors import InputError
from postureapp.facts.kubernetes import ClusterVersion
from postureapp.model import Resource, Target

METADATA_LIST_ACCEPT = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"
IN_CLUSTER = "in-cluster"

_SECRET_SPEC = next(spec for spec in BUILTIN_KINDS if spec.kind == "Secret")


def kubeconfig_path(explicit: str | os.PathLike[str] | None = None) -> str:
    """The kubeconfig to read: the given path, else ``$KUBECONFIG`` (possibly a
    ``:``-separated list), else ``~/.kube/config`` — resolved now, not at import."""
    if explicit:
        return os.fspath(explicit)
    return os.environ.get("KUBECONFIG") or os.path.expanduser("~/.kube/config")


def targets(contexts: list[str], kubeconfig: str | os.PathLike[str] | None = None) -> list[Target]:
    """One target per kube context; no contexts means the kubeconfig's current one.

    Without any kubeconfig, inside a pod (``KUBERNETES_SERVICE_HOST`` set), the
    target is the in-cluster service account.

    Raises:
        InputError: the kubeconfig cannot be read or lacks a named context.
    """
    path = kubeconfig_path(kubeconfig)
    options: dict[str, Any] = {"kubeconfig": path} if kubeconfig else {}
    try:
        available, current = config.list_kube_config_contexts(config_file=path)
    except (ConfigException, OSError, ValueError) as exc:
        if not contexts and not kubeconfig and os.environ.get("KUBERNETES_SERVICE_HOST"):
            return [Target("kubernetes", IN_CLUSTER, {"in_cluster": True})]
        raise InputError(
            f"cannot read kubeconfig {path}: {_first_line(exc)}; "
            "pass --kubeconfig or set KUBECONFIG"
        ) from None
    names = [context["name"] for context in available or []]
    if not contexts:
        if not current:
            raise InputError(
                f"kubeconfig {path} has no current context; pass --context "
                f"(available: {', '.join(names) or 'none'})"
            )
        contexts = [current["name"]]
    for name in contexts:
        if name not in names:
            raise InputError(
                f"context {name!r} not found in kubeconfig {path} "
                f"(available: {', '.join(names) or 'none'})"
            )
    return [Target("kubernetes", name, dict(options)) for name in dict.fromkeys(contexts)]


def _group_versions(data: dict[str, Any]) -> dict[str, list[str]]:
    """An APIGroupList as {group: [versions, preferred first]}."""
    groups = data.get("groups")
    if not isinstance(groups, list):
        raise kapi.Malformed("GET /apis: no 'groups' list in the APIGroupList")
    result: dict[str, list[str]] = {}
    for group in groups:
        if not isinstance(group, dict) or not group.get("name"):
            continue
        versions = [
            str(v["version"])
            for v in group.get("versions") or []
            if isinstance(v, dict) and v.get("version")
        ]
        preferred = (group.get("preferredVersion") or {}).get("version")
        if preferred in versions:
            versions.remove(preferred)
            versions.insert(0, preferred)
        result[str(group["name"])] = versions
    return result


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


class KubernetesCollector:
    """Reads one kube context per :meth:`collect` call.

    Args:
        page_size: ``limit`` of every list request.
        attempts: tries per request for 429, 5xx, timeouts and dropped connections.
        backoff: seconds before the first retry (doubling, jittered, capped).
        max_backoff: cap on one wait, also on a server's Retry-After.
        connect_timeout, read_timeout: per request, in seconds.
        workers: lists in flight at once (the API server serves them in parallel).
    """

    name = "kubernetes"
    provider = "kubernetes"

    def __init__(
        self,
        *,
        page_size: int = 500,
        attempts: int = 3,
        backoff: float = 0.5,
        max_backoff: float = 8.0,
        connect_timeout: float = 10.0,
        read_timeout: float = 60.0,
        workers: int = 4,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.page_size = page_size
        self.policy = kapi.RetryPolicy(attempts, backoff, max_backoff)
        self.timeout = (connect_timeout, read_timeout)
        self.workers = max(1, workers)
        self.sleep = sleep

    def collect(self, target: Target) -> CollectResult:
        """Everything readable from ``target``'s context. Never raises: a failed target
        gives a failed run and no resources."""
        recorder = RunRecorder(self.name, target.name, scope=target.name)
        try:
            resources = _Collection(self, target, recorder).run()
        except Exception as exc:  # the contract: a collector never raises
            recorder.fail(
                f"unexpected error collecting context {target.name!r}: "
                f"{type(exc).__name__}: {_first_line(exc)}"
            )
            resources = []
        if recorder.failed:
            resources = []
        return CollectResult(resources, recorder.finish(len(resources)))


@dataclass
class _Discovery:
    groups: dict[str, list[str]] | None  # group -> served versions, preferred first
    optional: list[tuple[KindSpec, str]]  # installed optional kinds with the version to read
    unknown_products: frozenset[str] = frozenset()  # their group's discovery failed

    def lists(self, spec: KindSpec) -> bool:
        """Whether to list a built-in kind: its group serves a version we read (or
        discovery failed, and only the list can tell)."""
        if self.groups is None or not spec.group:
            return True
        return bool(set(self.groups.get(spec.group, [])) & set(spec.versions))


def _unread_versions(spec: KindSpec, served: list[str]) -> str:
    return (
        f"{spec.qualified} is served only as {', '.join(f'{spec.group}/{v}' for v in served)}, "
        f"which postureapp does not read (it reads {', '.join(spec.versions)})"
    )


class _Collection:
    """One collect() call: its client, its bookkeeping, its fatal error if any."""

    def __init__(self, owner: KubernetesCollector, target: Target, recorder: RunRecorder):
        self.owner = owner
        self.target = target
        self.recorder = recorder
        self.scope = target.name
        self.fatal: str | None = None
        self.server = ""
        self._lock = threading.Lock()
        abandoned = current_abandon_signal()  # the engine gave up on this run: stop asking
        self.requester = kapi.Requester(
            owner.policy,
            owner.timeout,
            self._count,
            lambda: self.fatal is not None or abandoned.is_set(),
            owner.sleep,
        )

    # -- bookkeeping ---------------------------------------------------------------------

    def _count(self) -> None:
        with self._lock:
            self.recorder.call()

    def _set_fatal(self, message: str) -> None:
        with self._lock:
            if self.fatal is None:
                self.fatal = message

    def _unknown(self, kind: str, reason: str) -> None:
        with self._lock:
            self.recorder.mark_unknown(kind, reason)

    def _read(self, kind: str) -> None:
        with self._lock:
            self.recorder.mark_read(kind)

    def _not_served(self, kind: str) -> None:
        with self._lock:
            self.recorder.mark_not_served(kind)

    # -- the run ------------------------------------------------------------------------

    def run(self) -> list[Resource]:
        api_client = self._api_client()
        if api_client is None:
            return []
        try:
            with gc_paused():  # see _gc: 2-4x faster on large clusters
                return self._run(api_client)
        finally:
            api_client.close()

    def _api_client(self) -> client.ApiClient | None:
        configuration = client.Configuration()
        options = self.target.options
        try:
            if options.get("in_cluster"):
                config.load_incluster_config(client_configuration=configuration)
            else:
                config.load_kube_config(
                    config_file=kubeconfig_path(options.get("kubeconfig")),
                    context=self.target.name,
                    client_configuration=configuration,
                    persist_config=False,
                )
        except (ConfigException, OSError, ValueError) as exc:
            where = (
                "in-cluster config"
                if options.get("in_cluster")
                else (f"kubeconfig {kubeconfig_path(options.get('kubeconfig'))}")
            )
            self.recorder.fail(
                f"cannot load context {self.target.name!r} from {where}: {_first_line(exc)}"
            )
            return None
        configuration.retries = False  # retries are ours: bounded, with backoff
        configuration.connection_pool_maxsize = max(
            configuration.connection_pool_maxsize or 0, self.owner.workers + 2
        )
        self.server = configuration.host
        return client.ApiClient(configuration)

    def _run(self, api_client: client.ApiClient) -> list[Resource]:
        version = self._version(api_client)
        if self.fatal:
            self.recorder.fail(self.fatal)
            return []
        discovery = self._discover(api_client)
        tasks = self._tasks(api_client, discovery)
        results: dict[str, Any] = {}
        with DaemonPool(self.owner.workers, "kube-list") as pool:
            futures = {label: pool.submit(self._guarded, kind, fn) for label, kind, fn in tasks}
            for label, future in futures.items():
                results[label] = future.result()
        if self.fatal:
            self.recorder.fail(self.fatal)
            return []
        resources: list[Resource] = []
        for label, _kind, _fn in tasks:
            if not label.startswith("Secret") and results[label] is not None:
                resources.extend(results[label])
        resources.extend(self._secrets(results))
        resources.append(self._cluster(version, discovery))
        return resources

    def _guarded(self, kind: str, fn: Callable[[], Any]) -> Any:
        """Run one list; turn its failure into an unknown kind (or the fatal error)."""
        try:
            return fn()
        except kapi.Aborted:
            return None
        except kapi.Unauthorized as exc:
            self._set_fatal(self._unauthorized(exc))
        except kapi.Unreachable as exc:
            self._set_fatal(
                f"lost the API server at {self.server} for context {self.scope!r}: {exc}"
            )
        except kapi.Forbidden:
            self._unknown(kind, self._forbidden(kind))
        except kapi.NotFound:
            self._not_served(kind)  # the resource vanished since discovery (a CRD removed)
        except kapi.KubeError as exc:
            self._unknown(kind, str(exc))
        except Exception as exc:  # a bug or a surprise must not sink the other kinds
            self._unknown(kind, f"unexpected error: {type(exc).__name__}: {_first_line(exc)}")
        return None

    def _unauthorized(self, exc: Exception) -> str:
        return (
            f"credentials rejected (401) for context {self.scope!r} at {self.server}: {exc}; "
            "refresh the kubeconfig credentials (log in again) and retry"
        )

    def _forbidden(self, kind: str) -> str:
        spec = next((s for s in (*BUILTIN_KINDS, *OPTIONAL_KINDS) if s.kind == kind), None)
        resource = spec.qualified if spec else kind.lower()
        return f"forbidden (403): missing permission list {resource} (cluster scope)"

    # -- version and discovery ------------------------------------------------------------

    def _version(self, api_client: client.ApiClient) -> ClusterVersion | None:
        what = f"GET {self.server}/version"
        try:
            data = self.requester.get_json(kapi.getter(api_client, "/version/"), what)
        except kapi.Unauthorized as exc:
            self._set_fatal(self._unauthorized(exc))
            return None
        except kapi.Unreachable as exc:
            self._set_fatal(
                f"cannot reach the API server at {self.server} for context {self.scope!r}: {exc}"
            )
            return None
        except kapi.KubeError:
            return None  # the version is nice to have; the lists say whether we can read
        return {
            "git_version": data.get("gitVersion"),
            "major": data.get("major"),
            "minor": data.get("minor"),
            "platform": data.get("platform"),
        }

    def _discover(self, api_client: client.ApiClient) -> _Discovery:
        try:
            data = self.requester.get_json(
                kapi.getter(api_client, "/apis/"), f"GET {self.server}/apis"
            )
            groups = _group_versions(data)
        except kapi.Unauthorized as exc:
            self._set_fatal(self._unauthorized(exc))
            return _Discovery(None, [])
        except kapi.Unreachable as exc:
            self._set_fatal(
                f"lost the API server at {self.server} for context {self.scope!r}: {exc}"
            )
            return _Discovery(None, [])
        except kapi.KubeError as exc:
            for spec in OPTIONAL_KINDS:
                self._unknown(spec.kind, f"API discovery failed: {exc}")
            return _Discovery(None, [])
        custom = api_client
        resources_by_gv: dict[tuple[str, str], set[str] | None] = {}
        optional = []
        unknown_products = set()
        for spec in OPTIONAL_KINDS:
            if spec.group not in groups:
                self._not_served(spec.kind)
                continue
            served = groups[spec.group]
            version = next((v for v in served if v in spec.versions), None)
            if version is None:
                if self._elsewhere(custom, spec, served, resources_by_gv):
                    unknown_products.add(spec.product or "")
                continue
            names = self._resources(custom, spec.group, version, resources_by_gv)
            if names is None:
                self._unknown(spec.kind, f"discovery of {spec.group}/{version} failed")
                unknown_products.add(spec.product or "")
            elif spec.plural in names:
                optional.append((spec, version))
            else:
                self._not_served(spec.kind)
        for spec in BUILTIN_KINDS:
            if not spec.group:
                continue  # the core group is always served
            served = groups.get(spec.group, [])
            if not served:
                self._not_served(spec.kind)
            elif not set(served) & set(spec.versions):
                self._elsewhere(custom, spec, served, resources_by_gv)
        return _Discovery(groups, optional, frozenset(unknown_products))

    def _resources(
        self,
        custom: client.ApiClient,
        group: str,
        version: str,
        cache: dict[tuple[str, str], set[str] | None],
    ) -> set[str] | None:
        if (group, version) not in cache:
            cache[(group, version)] = self._group_resources(custom, group, version)
        return cache[(group, version)]

    def _elsewhere(
        self,
        custom: client.ApiClient,
        spec: KindSpec,
        served: list[str],
        cache: dict[tuple[str, str], set[str] | None],
    ) -> bool:
        """The group is served, but in no version we read: is this kind among its
        resources (then it is unknown: served in a version we cannot read) or not (not
        served)? True when the kind is unknown."""
        holders = []
        for version in served:
            names = self._resources(custom, spec.group, version, cache)
            if names is None:
                self._unknown(spec.kind, f"discovery of {spec.group}/{version} failed")
                return True
            if spec.plural in names:
                holders.append(version)
        if not holders:
            self._not_served(spec.kind)
            return False
        self._unknown(spec.kind, _unread_versions(spec, holders))
        return True

    def _group_resources(
        self, custom: client.ApiClient, group: str, version: str
    ) -> set[str] | None:
        try:
            data = self.requester.get_json(
                kapi.getter(
                    custom, "/apis/{group}/{version}", {"group": group, "version": version}
                ),
                f"GET {self.server}/apis/{group}/{version}",
            )
        except kapi.Unauthorized as exc:
            self._set_fatal(self._unauthorized(exc))
            return None
        except kapi.KubeError:
            return None
        resources = data.get("resources")
        if not isinstance(resources, list):
            return None
        names = {str(r.get("name")) for r in resources if isinstance(r, dict) and r.get("name")}
        return {name for name in names if "/" not in name}  # not subresources

    # -- the lists -----------------------------------------------------------------------

    def _tasks(
        self, api_client: client.ApiClient, discovery: _Discovery
    ) -> list[tuple[str, str, Callable[[], Any]]]:
        """(label, kind, work) for every list to make; labels are unique."""
        tasks: list[tuple[str, str, Callable[[], Any]]] = []
        for spec in BUILTIN_KINDS:
            if spec is _SECRET_SPEC or not discovery.lists(spec):
                continue
            call = kapi.getter(
                api_client, *kapi.list_path(spec.group, spec.versions[0], spec.plural)
            )
            tasks.append((spec.kind, spec.kind, partial(self._list_kind, spec, call, None)))
        tasks.append(("Secret", "Secret", partial(self._list_secrets, api_client, None)))
        for secret_type in SECRET_TYPES:
            tasks.append(
                (
                    f"Secret:{secret_type}",
                    "Secret",
                    partial(self._list_secrets, api_client, secret_type),
                )
            )
        for spec, version in discovery.optional:
            call = kapi.getter(api_client, *kapi.list_path(spec.group, version, spec.plural))
            tasks.append((spec.kind, spec.kind, partial(self._list_kind, spec, call, version)))
        # Big lists first, so the pool is not left waiting on one long tail.
        weight = {"Pod": 0, "Secret": 1, "RoleBinding": 2, "ServiceAccount": 3, "Service": 4}
        tasks.sort(key=lambda task: weight.get(task[1], 10))
        return tasks

    def _list_kind(
        self, spec: KindSpec, call: Callable[..., Any], version: str | None
    ) -> list[Resource]:
        api_version = spec.api_version(version)
        what = f"list {spec.qualified}"
        scope = self.scope

        malformed: list[str] = []

        def make_handler():
            found: list[Resource] = []
            malformed.clear()

            def handle(items: list[Any], page: dict[str, Any]) -> None:
                for item in items:
                    try:
                        found.append(normalise(scope, spec.kind, item, api_version))
                    except MalformedObject as exc:
                        malformed.append(str(exc))  # dropped: never judged

            return handle, found

        found = self.requester.collect(call, what, self.owner.page_size, make_handler)
        self._read(spec.kind)
        if malformed:
            self._unknown(spec.kind, malformed_reason(malformed))
        return found

    def _list_secrets(
        self, api_client: client.ApiClient, secret_type: str | None
    ) -> list[Resource] | set[tuple[str, str]]:
        """The metadata-only secrets list (``secret_type`` None: every secret, as
        resources) or one type's server-side filtered list (the set of (namespace, name))."""
        what = "list secrets (metadata only)" + (f", type={secret_type}" if secret_type else "")
        scope = self.scope

        call = kapi.getter(
            api_client,
            *kapi.list_path("", "v1", "secrets"),
            accept=METADATA_LIST_ACCEPT,
            field_selector=f"type={secret_type}" if secret_type else None,
        )

        malformed: list[str] = []

        def make_handler():
            found: list[Resource] = []
            keys: set[tuple[str, str]] = set()
            malformed.clear()

            def handle(items: list[Any], page: dict[str, Any]) -> None:
                if page.get("kind") != "PartialObjectMetadataList":
                    # Not what we asked for: whatever this holds is dropped unread.
                    items.clear()
                    page.clear()
                    raise kapi.Malformed(
                        f"{what}: the API server ignored the metadata-only request, so "
                        "secrets were not read"
                    )
                for item in items:
                    meta = item.get("metadata") if isinstance(item, dict) else None
                    if secret_type is not None:
                        if isinstance(meta, dict) and meta.get("name"):
                            keys.add((str(meta.get("namespace") or ""), str(meta["name"])))
                        continue
                    try:
                        found.append(normalise(scope, "Secret", {"metadata": meta}, "v1"))
                    except MalformedObject as exc:
                        malformed.append(str(exc))

            return handle, (keys if secret_type is not None else found)

        result = self.requester.collect(call, what, self.owner.page_size, make_handler)
        if secret_type is None:
            self._read("Secret")
            if malformed:
                self._unknown("Secret", malformed_reason(malformed))
        return result

    def _secrets(self, results: dict[str, Any]) -> list[Resource]:
        """Secrets with their type filled in from the per-type lists."""
        secrets: list[Resource] | None = results.get("Secret")
        if secrets is None:
            return []
        types: dict[tuple[str, str], str] = {}
        for secret_type in SECRET_TYPES:
            keys = results.get(f"Secret:{secret_type}")
            if keys is None:
                # The unknown reason was recorded by the failed type list.
                return secrets
            for key in keys:
                types[key] = secret_type
        for secret in secrets:
            key = (secret.namespace, secret.name)
            secret.attrs["type"] = types.get(key, OTHER_SECRET_TYPE)
            if secret.source_version:  # the type comes from another list than the object
                secret.source_version += f":{secret.attrs['type']}"
        return secrets

    def _cluster(self, version: ClusterVersion | None, discovery: _Discovery) -> Resource:
        groups = discovery.groups
        installed: dict[str, bool | None] = {}
        for product in PRODUCTS:
            if groups is None or product in discovery.unknown_products:
                installed[product] = None
            else:
                installed[product] = any(spec.product == product for spec, _ in discovery.optional)
        return cluster_resource(
            self.scope,
            {
                "source": "live",
                "context": self.scope,
                "server": self.server,
                "in_cluster": bool(self.target.options.get("in_cluster")),
                "version": version,
                "api_groups": None if groups is None else sorted(g for g in groups if g),
                "installed": installed,
                "crds": {spec.kind: spec.api_version(v) for spec, v in discovery.optional},
            },
        )
