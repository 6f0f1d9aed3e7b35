"""A small, read-only Kubernetes API server for tests and the demo.

No real kube-apiserver can run where the tests run, so this one speaks enough of the
real HTTP API for the official ``kubernetes`` client (and kubectl-style tools) to read a
cluster from it: ``/version``, discovery (``/api``, ``/api/v1``, ``/apis``,
``/apis/<group>[/<version>]``), lists and gets for core and group resources, cluster
scoped and namespaced, ``limit``/``continue`` paging with opaque tokens (410 *Expired*
on a bad or compacted one), ``labelSelector`` and ``fieldSelector``, metadata-only
answers (``Accept: application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1``)
and ``metav1.Status`` errors shaped like the real ones. Only GET is served.

Custom resources appear in discovery only when the estate "installs" them: when an
object of their group/version was loaded or added, when a
``CustomResourceDefinition`` object defines them, or through :meth:`KubeAPIServer.install`.
A known CRD bundle (Istio, Gateway API, cert-manager, Gatekeeper, Kyverno) is served
whole once one of its kinds is installed, as a real installation would.

Failure injection (:meth:`KubeAPIServer.fail` for 5xx/429 N times,
:meth:`~KubeAPIServer.drop_connection`, :meth:`~KubeAPIServer.die` after N pages,
:meth:`~KubeAPIServer.expire_continue` and :meth:`~KubeAPIServer.compact` for 410,
:meth:`~KubeAPIServer.delay` for timeouts, :meth:`~KubeAPIServer.garble` for a truncated
body, ``honour_metadata_accept = False`` for a proxy that strips Accept parameters),
per-resource 403 (:meth:`~KubeAPIServer.forbid`), a bearer token (401 on a wrong one)
and optional HTTPS (``ssl_context``) let tests exercise every error path over real HTTP.
:attr:`KubeAPIServer.requests` records what clients asked (path, query, Accept).

Example::

    with KubeAPIServer(fixture_objects(), token="t0ken") as server:
        server.write_kubeconfig(tmp_path / "kubeconfig", context="demo")
        server.forbid("secrets")
        ...

The server keeps references to the object dicts it is given (it only copies the top
level and ``metadata``), so large generated estates load without a deep copy.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import contextlib
import hmac
import itertools
import json
import re
import socket
import ssl
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qsl, unquote, urlsplit

import yaml

METADATA_LIST_ACCEPT = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"

DEFAULT_TOKEN = "posture-test-token"
DEFAULT_USER = "system:serviceaccount:posture:posture-reader"
ANONYMOUS_USER = "system:anonymous"

DEFAULT_VERSION = {
    "major": "1",
    "minor": "31",
    "gitVersion": "v1.31.4",
    "gitCommit": "a78aa47129b8539636eb86a9d00e31b2720fe06b",
    "gitTreeState": "clean",
    "buildDate": "2024-12-10T18:27:16Z",
    "goVersion": "go1.22.9",
    "compiler": "gc",
    "platform": "linux/amd64",
}

_ALL_VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
_NAMESPACE_UUID = uuid.UUID("6c1b7d4e-3f0a-4a8e-9d7b-2f1e0c5a9b31")


class Headers(Protocol):
    """Request headers, looked up case-insensitively (an http.client.HTTPMessage)."""

    def get(self, name: str, default: None = None) -> str | None: ...


# -- resource types --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ResourceType:
    """One servable resource: what discovery advertises and the paths it answers."""

    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool
    builtin: bool = True  # built-in lists omit apiVersion/kind on items, as the real one does
    short_names: tuple[str, ...] = ()
    field_labels: tuple[str, ...] = ()  # fieldSelector fields beyond metadata.name/namespace
    status: bool = False  # advertise a /status subresource

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def group_version(self) -> tuple[str, str]:
        return (self.group, self.version)

    @property
    def list_kind(self) -> str:
        return f"{self.kind}List"

    @property
    def qualified(self) -> str:
        """``secrets`` or ``peerauthentications.security.istio.io``, as RBAC errors say."""
        return f"{self.plural}.{self.group}" if self.group else self.plural


def _rt(group: str, version: str, kind: str, plural: str, namespaced: bool, **kw: Any):
    return ResourceType(group, version, kind, plural, namespaced, **kw)


_POD_FIELDS = (
    "spec.nodeName",
    "spec.serviceAccountName",
    "spec.restartPolicy",
    "spec.schedulerName",
    "status.phase",
    "status.podIP",
)

BUILTIN_TYPES: tuple[ResourceType, ...] = (
    _rt("", "v1", "Namespace", "namespaces", False, short_names=("ns",), status=True,
        field_labels=("status.phase",)),
    _rt("", "v1", "Pod", "pods", True, short_names=("po",), status=True,
        field_labels=_POD_FIELDS),
    _rt("", "v1", "ServiceAccount", "serviceaccounts", True, short_names=("sa",)),
    _rt("", "v1", "Secret", "secrets", True, field_labels=("type",)),
    _rt("", "v1", "Service", "services", True, short_names=("svc",), status=True),
    _rt("", "v1", "ConfigMap", "configmaps", True, short_names=("cm",)),
    _rt("", "v1", "Node", "nodes", False, short_names=("no",), status=True),
    _rt("", "v1", "Endpoints", "endpoints", True, short_names=("ep",)),
    _rt("apps", "v1", "Deployment", "deployments", True, short_names=("deploy",), status=True),
    _rt("apps", "v1", "ReplicaSet", "replicasets", True, short_names=("rs",), status=True),
    _rt("apps", "v1", "DaemonSet", "daemonsets", True, short_names=("ds",), status=True),
    _rt("apps", "v1", "StatefulSet", "statefulsets", True, short_names=("sts",), status=True),
    _rt("batch", "v1", "Job", "jobs", True, status=True),
    _rt("batch", "v1", "CronJob", "cronjobs", True, short_names=("cj",), status=True),
    _rt("rbac.authorization.k8s.io", "v1", "Role", "roles", True),
    _rt("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", False),
    _rt("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", True),
    _rt("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", False),
    _rt("networking.k8s.io", "v1", "Ingress", "ingresses", True, short_names=("ing",),
        status=True),
    _rt("networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", True,
        short_names=("netpol",)),
    _rt("networking.k8s.io", "v1", "IngressClass", "ingressclasses", False),
    _rt("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", True,
        short_names=("pdb",), status=True),
    _rt("admissionregistration.k8s.io", "v1", "ValidatingWebhookConfiguration",
        "validatingwebhookconfigurations", False),
    _rt("admissionregistration.k8s.io", "v1", "MutatingWebhookConfiguration",
        "mutatingwebhookconfigurations", False),
    _rt("apiextensions.k8s.io", "v1", "CustomResourceDefinition",
        "customresourcedefinitions", False, short_names=("crd",), status=True),
)  # fmt: skip

# Custom resources the fixtures may "install"; a group/version is served whole.
KNOWN_CRD_TYPES: tuple[ResourceType, ...] = (
    _rt("security.istio.io", "v1", "PeerAuthentication", "peerauthentications", True,
        builtin=False, short_names=("pa",)),
    _rt("security.istio.io", "v1", "AuthorizationPolicy", "authorizationpolicies", True,
        builtin=False, short_names=("ap",)),
    _rt("security.istio.io", "v1", "RequestAuthentication", "requestauthentications", True,
        builtin=False, short_names=("ra",)),
    _rt("networking.istio.io", "v1", "DestinationRule", "destinationrules", True,
        builtin=False, short_names=("dr",)),
    _rt("networking.istio.io", "v1", "VirtualService", "virtualservices", True,
        builtin=False, short_names=("vs",)),
    _rt("networking.istio.io", "v1", "Gateway", "gateways", True, builtin=False,
        short_names=("gw",)),
    _rt("networking.istio.io", "v1alpha3", "EnvoyFilter", "envoyfilters", True,
        builtin=False),
    _rt("gateway.networking.k8s.io", "v1", "GatewayClass", "gatewayclasses", False,
        builtin=False, short_names=("gc",), status=True),
    _rt("gateway.networking.k8s.io", "v1", "Gateway", "gateways", True, builtin=False,
        short_names=("gtw",), status=True),
    _rt("gateway.networking.k8s.io", "v1", "HTTPRoute", "httproutes", True, builtin=False,
        status=True),
    _rt("cert-manager.io", "v1", "Certificate", "certificates", True, builtin=False,
        short_names=("cert", "certs"), status=True),
    _rt("cert-manager.io", "v1", "Issuer", "issuers", True, builtin=False, status=True),
    _rt("cert-manager.io", "v1", "ClusterIssuer", "clusterissuers", False, builtin=False,
        status=True),
    _rt("templates.gatekeeper.sh", "v1", "ConstraintTemplate", "constrainttemplates", False,
        builtin=False, short_names=("constraints",), status=True),
    _rt("kyverno.io", "v1", "ClusterPolicy", "clusterpolicies", False, builtin=False,
        short_names=("cpol",), status=True),
    _rt("kyverno.io", "v1", "Policy", "policies", True, builtin=False, short_names=("pol",),
        status=True),
)  # fmt: skip


def _version_priority(version: str) -> tuple[int, int, int]:
    """Kubernetes version ordering: v2 > v1 > v1beta2 > v1beta1 > v1alpha1 > other."""
    match = re.fullmatch(r"v(\d+)(?:(alpha|beta)(\d+))?", version)
    if not match:
        return (0, 0, 0)
    major, stage, minor = match.groups()
    rank = {"alpha": 1, "beta": 2, None: 3}[stage]
    return (rank, int(major), int(minor or 0))


def _guess_plural(kind: str) -> str:
    lower = kind.lower()
    if lower.endswith("s"):
        return lower  # Gatekeeper constraint kinds: plural is the lowercased kind
    if lower.endswith("y") and lower[-2:-1] not in "aeiou":
        return lower[:-1] + "ies"
    return lower + "s"


# -- storage ---------------------------------------------------------------------------


class _Entry:
    """One stored object and its lazily cached JSON renderings."""

    __slots__ = ("_full", "_item", "_meta", "key", "obj")

    def __init__(self, key: tuple[str, str], obj: dict[str, Any]) -> None:
        self.key = key
        self.obj = obj
        self._full: str | None = None
        self._item: str | None = None
        self._meta: str | None = None

    def full(self) -> str:
        if self._full is None:
            self._full = json.dumps(self.obj, separators=(",", ":"))
        return self._full

    def item(self, builtin: bool) -> str:
        """The object as a list item: built-in lists leave out apiVersion and kind."""
        if not builtin:
            return self.full()
        if self._item is None:
            stripped = {k: v for k, v in self.obj.items() if k not in ("apiVersion", "kind")}
            self._item = json.dumps(stripped, separators=(",", ":"))
        return self._item

    def partial(self) -> str:
        """PartialObjectMetadata: metadata only; ``data`` and ``spec`` never leave."""
        if self._meta is None:
            partial = {
                "kind": "PartialObjectMetadata",
                "apiVersion": "meta.k8s.io/v1",
                "metadata": self.obj.get("metadata") or {},
            }
            self._meta = json.dumps(partial, separators=(",", ":"))
        return self._meta


class _Store:
    """The objects of one resource type, kept in etcd key order (namespace, name)."""

    def __init__(self) -> None:
        self.entries: dict[tuple[str, str], _Entry] = {}
        self._sorted: list[tuple[str, str]] | None = []

    def put(self, entry: _Entry) -> None:
        if entry.key not in self.entries:
            self._sorted = None
        self.entries[entry.key] = entry

    def pop(self, key: tuple[str, str]) -> _Entry:
        entry = self.entries.pop(key)
        self._sorted = None
        return entry

    def keys(self) -> list[tuple[str, str]]:
        if self._sorted is None:
            self._sorted = sorted(self.entries)
        return self._sorted


# -- selectors -------------------------------------------------------------------------


class _BadRequest(Exception):
    pass


_SET_REQUIREMENT = re.compile(r"^\s*([^\s!=,()]+)\s+(in|notin)\s*\(([^)]*)\)\s*$")
_EQ_REQUIREMENT = re.compile(r"^\s*([^\s!=,()]+)\s*(==|!=|=)\s*([^\s!=,()]*)\s*$")
_KEY = re.compile(r"^\s*(!?)\s*([^\s!=,()]+)\s*$")


def _split_top_level(text: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [part for part in parts if part.strip()]


def parse_label_selector(text: str) -> Callable[[Mapping[str, str]], bool]:
    """A predicate on a label map for ``=``, ``==``, ``!=``, ``in``, ``notin``, ``key``
    and ``!key`` requirements, joined by commas (all must hold)."""
    tests: list[Callable[[Mapping[str, str]], bool]] = []
    for requirement in _split_top_level(text):
        if match := _SET_REQUIREMENT.match(requirement):
            key, op, raw = match.groups()
            values = frozenset(v.strip() for v in raw.split(",") if v.strip())
            tests.append(partial(_label_in, key=key, values=values, negate=op != "in"))
        elif match := _EQ_REQUIREMENT.match(requirement):
            key, op, value = match.groups()
            tests.append(partial(_label_is, key=key, value=value, negate=op == "!="))
        elif match := _KEY.match(requirement):
            negate, key = match.groups()
            tests.append(partial(_label_set, key=key, negate=bool(negate)))
        else:
            raise _BadRequest(f"unable to parse requirement: {requirement.strip()!r}")
    return lambda labels: all(test(labels) for test in tests)


def _label_in(labels: Mapping[str, str], key: str, values: frozenset[str], negate: bool) -> bool:
    return (labels.get(key) in values) != negate


def _label_is(labels: Mapping[str, str], key: str, value: str, negate: bool) -> bool:
    return (labels.get(key) == value) != negate


def _label_set(labels: Mapping[str, str], key: str, negate: bool) -> bool:
    return (key in labels) != negate


def _field_is(obj: Mapping[str, Any], path: str, value: str, negate: bool) -> bool:
    return (_field_value(obj, path) == value) != negate


def _field_value(obj: Mapping[str, Any], path: str) -> str:
    value: Any = obj
    for part in path.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return "" if value is None else str(value)


def parse_field_selector(text: str, rt: ResourceType) -> Callable[[Mapping[str, Any]], bool]:
    allowed = {"metadata.name", "metadata.namespace", *rt.field_labels}
    tests: list[Callable[[Mapping[str, Any]], bool]] = []
    for requirement in _split_top_level(text):
        match = _EQ_REQUIREMENT.match(requirement)
        if not match:
            raise _BadRequest(f"invalid selector: {requirement.strip()!r}")
        path, op, value = match.groups()
        if path not in allowed:
            raise _BadRequest(f"field label not supported: {path}")
        tests.append(partial(_field_is, path=path, value=value, negate=op == "!="))
    return lambda obj: all(test(obj) for test in tests)


# -- failure injection -----------------------------------------------------------------


@dataclass
class Fault:
    """One injected misbehaviour. The first ``after`` matching requests pass untouched,
    the next ``times`` ones (forever when None) get the fault.

    ``resource`` is a plural (``pods``), ``version`` for ``/version``, ``discovery`` for
    the discovery documents, or ``*`` for every request.
    """

    action: str  # "status" | "drop" | "die" | "expire" | "delay" | "garble"
    resource: str
    times: int | None = 1
    after: int = 0
    status: int = 503
    retry_after: int | None = None
    seconds: float = 0.0
    seen: int = 0
    fired: int = 0

    def matches(self, resource: str, has_continue: bool) -> bool:
        if self.resource not in ("*", resource):
            return False
        return has_continue or self.action != "expire"

    def take(self) -> bool:
        if self.seen < self.after:
            self.seen += 1
            return False
        if self.times is not None and self.fired >= self.times:
            return False
        self.fired += 1
        return True


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """What a client asked, for tests to assert on (never the token itself)."""

    method: str
    path: str
    query: dict[str, str]
    accept: str
    authenticated: bool


class _Drop(Exception):
    """Close the connection without answering."""


@dataclass
class _Reply:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


_REASONS = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    406: "NotAcceptable",
    410: "Expired",
    429: "TooManyRequests",
    500: "InternalError",
    502: "InternalError",
    503: "ServiceUnavailable",
    504: "Timeout",
}

_DEFAULT_MESSAGES = {
    404: "the server could not find the requested resource",
    429: "Too many requests, please try again later.",
    500: "Internal error occurred: injected failure",
    502: "Internal error occurred: bad gateway",
    503: "the server is currently unable to handle the request",
    504: "the server was unable to return a response in the time allotted",
}

_EXPIRED_MESSAGE = (
    "The provided continue parameter is too old to display a consistent list result. "
    "You can start a new list without the continue parameter."
)


def _status(code: int, message: str, details: dict[str, Any] | None = None) -> _Reply:
    body: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": _REASONS.get(code, "Unknown"),
        "code": code,
    }
    if details is not None:
        body["details"] = details
    return _Reply(code, json.dumps(body).encode())


def _json(data: Any) -> _Reply:
    return _Reply(200, json.dumps(data, separators=(",", ":")).encode())


# -- the server ------------------------------------------------------------------------


class KubeAPIServer:
    """A read-only Kubernetes API server on 127.0.0.1, started and stopped by its owner.

    Args:
        objects: the estate (dicts as in ``kubectl get -o json``).
        token: the bearer token clients must send; None disables authentication.
            No token at all makes the client ``system:anonymous`` (``/version`` only).
        user: the user name 403 messages name.
        version: what ``/version`` answers.
        now: the creationTimestamp given to objects that lack one.
        port: 0 picks a free port.
        ssl_context: serve HTTPS with this server-side context (e.g. from trustme).
    """

    def __init__(
        self,
        objects: Iterable[Mapping[str, Any]] = (),
        *,
        token: str | None = DEFAULT_TOKEN,
        user: str = DEFAULT_USER,
        version: Mapping[str, str] | None = None,
        now: datetime | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        ssl_context: ssl.SSLContext | None = None,
        recorded: int = 100_000,
    ) -> None:
        self.token = token
        self.ssl_context = ssl_context
        self.user = user
        self.version = dict(version or DEFAULT_VERSION)
        self.host = host
        self._port = port
        self._now = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
        self._lock = threading.RLock()
        self._rv = itertools.count(1000)
        self._current_rv = 999
        self._compacted_rv = 0
        self._types: dict[tuple[str, str, str], ResourceType] = {}  # (group, version, plural)
        self._by_kind: dict[tuple[str, str], ResourceType] = {}  # (apiVersion, kind)
        self._stores: dict[ResourceType, _Store] = {}
        self._installed: set[tuple[str, str]] = set()
        self._unserved: set[tuple[str, str]] = set()
        self._forbidden: set[tuple[str, str, str]] = set()  # (group, plural, verb)
        self._faults: list[Fault] = []
        # The most recent ``recorded`` requests, for tests to assert on (bounded: the
        # demo runs for hours and keeps only a few).
        self.requests: deque[RecordedRequest] = deque(maxlen=recorded)
        # False mimics a proxy that strips Accept parameters: metadata-only requests then
        # get full objects, which a careful client must refuse to read.
        self.honour_metadata_accept = True
        self.dead = False
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        for rt in BUILTIN_TYPES:
            self._register(rt)
        for rt in KNOWN_CRD_TYPES:
            self._register(rt)
        for obj in objects:
            self._put(obj, must_exist=None)

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> KubeAPIServer:
        if self._httpd is not None:
            return self
        self.dead = False
        self._httpd = _HTTPServer((self.host, self._port), _Handler, self)
        self._port = self._httpd.server_address[1]
        if self.ssl_context is not None:
            self._httpd.socket = self.ssl_context.wrap_socket(self._httpd.socket, server_side=True)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"kube-api-{self._port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        httpd.shutdown()
        httpd.server_close()
        httpd.close_connections()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> KubeAPIServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        scheme = "https" if self.ssl_context is not None else "http"
        return f"{scheme}://{self.host}:{self._port}"

    def write_kubeconfig(
        self,
        path: str | Path,
        context: str = "posture-test",
        token: str | None = None,
        ca_pem: bytes | None = None,
    ) -> Path:
        """Write a kubeconfig whose only context points at this server (``ca_pem``: the
        CA to trust when it serves HTTPS)."""
        return write_kubeconfig(
            path, {context: (self.url, token or self.token)}, context, ca_pem=ca_pem
        )

    # -- the estate --------------------------------------------------------------------

    def add(self, *objects: Mapping[str, Any]) -> None:
        """Create objects; an object that already exists is an error (as a POST is)."""
        for obj in objects:
            self._put(obj, must_exist=False)

    def replace(self, obj: Mapping[str, Any]) -> None:
        """Replace an existing object (keeping its uid and creationTimestamp if unset)."""
        self._put(obj, must_exist=True)

    def apply(self, obj: Mapping[str, Any]) -> None:
        """Create or replace."""
        self._put(obj, must_exist=None)

    def remove(
        self, kind: str, name: str, namespace: str | None = None, api_version: str | None = None
    ) -> dict[str, Any]:
        """Delete one object and return it. Raises KeyError when it does not exist."""
        rt = self._type_for_kind(kind, api_version)
        key = (namespace or "" if rt.namespaced else "", name)
        with self._lock:
            store = self._stores[rt]
            if key not in store.entries:
                raise KeyError(f"{kind} {namespace + '/' if namespace else ''}{name} not found")
            self._current_rv = next(self._rv)
            return store.pop(key).obj

    def get(
        self, kind: str, name: str, namespace: str | None = None, api_version: str | None = None
    ) -> dict[str, Any] | None:
        """The stored object (the server's own dict: copy it before changing it, then
        :meth:`replace`), or None."""
        rt = self._type_for_kind(kind, api_version)
        key = (namespace or "" if rt.namespaced else "", name)
        with self._lock:
            entry = self._stores[rt].entries.get(key)
            return None if entry is None else entry.obj

    def objects(self) -> Iterator[dict[str, Any]]:
        """Every stored object, as :meth:`get` returns them."""
        with self._lock:
            stores = [store for store in self._stores.values() if store.entries]
            entries = [entry for store in stores for entry in store.entries.values()]
        return (entry.obj for entry in entries)

    def install(self, api_version: str) -> None:
        """Serve a group/version (its known CRDs) even with no object of it yet."""
        group, _, version = api_version.rpartition("/")
        with self._lock:
            self._installed.add((group, version))

    def unserve(self, api_version: str) -> None:
        """Stop serving a built-in group/version (``policy/v1``, as on a cluster too old
        to have it): discovery no longer lists it and its paths answer 404."""
        group, _, version = api_version.rpartition("/")
        with self._lock:
            self._unserved.add((group, version))

    def compact(self) -> None:
        """Like an etcd compaction: every continue token issued so far now expires (410)."""
        with self._lock:
            self._current_rv = next(self._rv)
            self._compacted_rv = self._current_rv

    # -- authorization and faults ------------------------------------------------------

    def forbid(
        self, resource: str, verbs: Iterable[str] = ("get", "list", "watch"), group: str = ""
    ) -> None:
        """Answer 403 for these verbs on this resource (plural), in every namespace."""
        with self._lock:
            for verb in verbs:
                self._forbidden.add((group, resource, verb))

    def allow(self, resource: str, group: str = "") -> None:
        with self._lock:
            self._forbidden = {f for f in self._forbidden if f[:2] != (group, resource)}

    def fail(
        self,
        resource: str,
        status: int = 503,
        times: int | None = 1,
        after: int = 0,
        retry_after: int | None = None,
    ) -> Fault:
        """Answer ``status`` (a metav1.Status) ``times`` times, after ``after`` good
        answers, then behave again."""
        return self._add_fault(
            Fault("status", resource, times, after, status=status, retry_after=retry_after)
        )

    def drop_connection(self, resource: str, times: int | None = 1, after: int = 0) -> Fault:
        """Close the connection without answering (the client sees a reset)."""
        return self._add_fault(Fault("drop", resource, times, after))

    def die(self, resource: str, after: int = 0) -> Fault:
        """After ``after`` answers for ``resource``, stop listening and drop every
        connection: the server is gone until :meth:`start` is called again."""
        return self._add_fault(Fault("die", resource, 1, after))

    def expire_continue(self, resource: str, times: int | None = 1, after: int = 0) -> Fault:
        """Answer 410 Expired to requests that carry a continue token."""
        return self._add_fault(Fault("expire", resource, times, after))

    def delay(self, resource: str, seconds: float, times: int | None = 1, after: int = 0):
        """Sleep before answering, to trip client read timeouts."""
        return self._add_fault(Fault("delay", resource, times, after, seconds=seconds))

    def garble(self, resource: str, times: int | None = 1, after: int = 0) -> Fault:
        """Answer 200 with a truncated JSON body."""
        return self._add_fault(Fault("garble", resource, times, after))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def _add_fault(self, fault: Fault) -> Fault:
        with self._lock:
            self._faults.append(fault)
        return fault

    def requests_for(self, path_prefix: str) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.path.startswith(path_prefix)]

    # -- internals: registry and store -------------------------------------------------

    def _register(self, rt: ResourceType) -> ResourceType:
        key = (rt.group, rt.version, rt.plural)
        existing = self._types.get(key)
        if existing is not None:
            return existing
        self._types[key] = rt
        self._by_kind.setdefault((rt.api_version, rt.kind), rt)
        self._stores[rt] = _Store()
        return rt

    def _type_for_kind(self, kind: str, api_version: str | None) -> ResourceType:
        if api_version is not None:
            rt = self._by_kind.get((api_version, kind))
            if rt is None:
                raise KeyError(f"no resource type {api_version} {kind}")
            return rt
        matches = [rt for (_, k), rt in self._by_kind.items() if k == kind]
        if len(matches) != 1:
            raise KeyError(f"kind {kind!r} is {'ambiguous' if matches else 'unknown'}")
        return matches[0]

    def _type_for_object(self, api_version: str, kind: str, namespaced: bool) -> ResourceType:
        rt = self._by_kind.get((api_version, kind))
        if rt is not None:
            return rt
        group, _, version = api_version.rpartition("/")
        return self._register(
            ResourceType(group, version, kind, _guess_plural(kind), namespaced, builtin=not group)
        )

    def _register_crd(self, crd: Mapping[str, Any]) -> None:
        spec = crd.get("spec") or {}
        names = spec.get("names") or {}
        group, kind, plural = spec.get("group"), names.get("kind"), names.get("plural")
        if not (group and kind and plural):
            return
        for version in spec.get("versions") or []:
            if not version.get("served", True):
                continue
            rt = ResourceType(
                group,
                version["name"],
                kind,
                plural,
                spec.get("scope") == "Namespaced",
                builtin=False,
                short_names=tuple(names.get("shortNames") or ()),
            )
            self._register(rt)
            self._installed.add(rt.group_version)

    def _put(self, obj: Mapping[str, Any], must_exist: bool | None) -> None:
        api_version, kind = obj.get("apiVersion"), obj.get("kind")
        metadata = dict(obj.get("metadata") or {})
        name = metadata.get("name")
        if not (api_version and kind and name):
            raise ValueError(f"object needs apiVersion, kind and metadata.name: {obj!r:.200}")
        with self._lock:
            rt = self._type_for_object(api_version, kind, bool(metadata.get("namespace")))
            if rt.namespaced:
                metadata.setdefault("namespace", "default")
            else:
                metadata.pop("namespace", None)
            key = (metadata.get("namespace", ""), name)
            store = self._stores[rt]
            previous = store.entries.get(key)
            if must_exist is True and previous is None:
                raise KeyError(f"{kind} {'/'.join(filter(None, key))} does not exist")
            if must_exist is False and previous is not None:
                raise ValueError(f"{kind} {'/'.join(filter(None, key))} already exists")
            old_meta = previous.obj.get("metadata", {}) if previous else {}
            metadata.setdefault(
                "uid",
                old_meta.get("uid")
                or str(uuid.uuid5(_NAMESPACE_UUID, f"{api_version}/{kind}/{key[0]}/{name}")),
            )
            metadata.setdefault(
                "creationTimestamp",
                old_meta.get("creationTimestamp") or self._now.isoformat().replace("+00:00", "Z"),
            )
            self._current_rv = next(self._rv)
            metadata["resourceVersion"] = str(self._current_rv)
            stored = dict(obj)
            stored["metadata"] = metadata
            store.put(_Entry(key, stored))
            if not rt.builtin:
                self._installed.add(rt.group_version)
            if kind == "CustomResourceDefinition" and api_version.startswith("apiextensions."):
                self._register_crd(stored)

    def _served_types(self) -> list[ResourceType]:
        """Built-ins unless unserved; custom resources when their group/version is installed."""
        with self._lock:
            return [
                rt
                for rt in self._types.values()
                if (rt.builtin or rt.group_version in self._installed)
                and rt.group_version not in self._unserved
            ]

    def _find_faults(self, resource: str, has_continue: bool) -> list[Fault]:
        with self._lock:
            return [f for f in self._faults if f.matches(resource, has_continue) and f.take()]

    # -- internals: request handling ---------------------------------------------------

    def handle(self, method: str, raw_path: str, headers: Headers) -> _Reply:
        """Answer one request (called from handler threads). May raise _Drop."""
        parts = urlsplit(raw_path)
        path = unquote(parts.path).rstrip("/") or "/"
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        authorization = headers.get("Authorization") or ""
        accept = headers.get("Accept") or ""
        with self._lock:
            self.requests.append(RecordedRequest(method, path, query, accept, bool(authorization)))
        if self.dead:
            raise _Drop
        resource = self._resource_of(path)
        for fault in self._find_faults(resource, bool(query.get("continue"))):
            reply = self._apply_fault(fault)
            if reply is not None:
                return reply
        if method != "GET":
            return _status(405, f"{method} is not allowed: this test server is read-only")
        user = self._authenticate(authorization)
        if user is None:
            return _status(401, "Unauthorized")
        if path in ("/healthz", "/livez", "/readyz"):
            return _Reply(200, b"ok", "text/plain")
        if path == "/version":
            return _json(self.version)
        if user == ANONYMOUS_USER:
            return _status(
                403,
                f'forbidden: User "{user}" cannot get path "{path}"',
                {},
            )
        try:
            return self._route(path, query, accept, user)
        except _BadRequest as exc:
            return _status(400, str(exc))

    def _authenticate(self, authorization: str) -> str | None:
        if self.token is None:
            return self.user
        if not authorization:
            return ANONYMOUS_USER
        scheme, _, credential = authorization.partition(" ")
        presented = credential.strip().encode("utf-8", "surrogateescape")
        if scheme.lower() == "bearer" and hmac.compare_digest(presented, self.token.encode()):
            return self.user
        return None

    def _resource_of(self, path: str) -> str:
        if path == "/version":
            return "version"
        segments = [s for s in path.split("/") if s]
        if not segments or segments[0] not in ("api", "apis"):
            return path
        rest = segments[2:] if segments[0] == "api" else segments[3:]
        if not rest:
            return "discovery"
        if rest[0] == "namespaces" and len(rest) >= 3:
            return rest[2]
        return rest[0]

    def _apply_fault(self, fault: Fault) -> _Reply | None:
        if fault.action == "delay":
            time.sleep(fault.seconds)
            return None
        if fault.action == "drop":
            raise _Drop
        if fault.action == "die":
            self._die()
            raise _Drop
        if fault.action == "expire":
            return _status(410, _EXPIRED_MESSAGE)
        if fault.action == "garble":
            return _Reply(200, b'{"kind":"List","apiVersion":"v1","metadata":{},"items":[{"meta')
        reply = _status(fault.status, _DEFAULT_MESSAGES.get(fault.status, "injected failure"))
        if fault.retry_after is not None:
            reply.headers["Retry-After"] = str(fault.retry_after)
        return reply

    def _die(self) -> None:
        self.dead = True
        httpd = self._httpd
        if httpd is not None:
            # shutdown() waits for serve_forever, which runs in another thread.
            threading.Thread(target=self._stop_listening, args=(httpd,), daemon=True).start()

    def _stop_listening(self, httpd: _HTTPServer) -> None:
        httpd.shutdown()
        httpd.server_close()
        httpd.close_connections()
        if self._httpd is httpd:
            self._httpd = None

    def _route(self, path: str, query: dict[str, str], accept: str, user: str) -> _Reply:
        if path == "/api":
            return _json(
                {
                    "kind": "APIVersions",
                    "versions": ["v1"],
                    "serverAddressByClientCIDRs": [
                        {"clientCIDR": "0.0.0.0/0", "serverAddress": f"{self.host}:{self.port}"}
                    ],
                }
            )
        if path == "/apis":
            return _json(self._group_list())
        segments = [s for s in path.split("/") if s]
        if segments[:2] == ["api", "v1"]:
            group, version, rest = "", "v1", segments[2:]
        elif segments[0] == "apis" and len(segments) == 2:
            group_doc = self._group(segments[1])
            if group_doc is None:
                return _status(404, _DEFAULT_MESSAGES[404], {})
            return _json(group_doc)
        elif segments[0] == "apis" and len(segments) >= 3:
            group, version, rest = segments[1], segments[2], segments[3:]
        else:
            return _status(404, _DEFAULT_MESSAGES[404], {})
        served = [rt for rt in self._served_types() if rt.group_version == (group, version)]
        if not served:
            return _status(404, _DEFAULT_MESSAGES[404], {})
        if not rest:
            return _json(self._resource_list(group, version, served))
        by_plural = {rt.plural: rt for rt in served}
        namespace = None
        if rest[0] == "namespaces" and len(rest) >= 3:
            namespace, rest = rest[1], rest[2:]
        rt = by_plural.get(rest[0])
        if rt is None or (namespace is not None and not rt.namespaced) or len(rest) > 2:
            return _status(404, _DEFAULT_MESSAGES[404], {})
        name = rest[1] if len(rest) == 2 else None
        verb = "get" if name else "list"
        if query.get("watch") in ("true", "1"):
            return _status(405, "watch is not supported by this test server")
        if (rt.group, rt.plural, verb) in self._forbidden:
            return self._forbidden_reply(user, verb, rt, namespace, name)
        partial = self._wants_partial(accept, is_list=name is None)
        if partial and not self.honour_metadata_accept:
            partial = False
        if partial is None:
            accepted = f"application/json, {METADATA_LIST_ACCEPT}"
            return _status(406, f"only the following media types are accepted: {accepted}")
        if name is not None:
            return self._get(rt, namespace, name, partial)
        return self._list(rt, namespace, query, partial)

    def _forbidden_reply(
        self, user: str, verb: str, rt: ResourceType, namespace: str | None, name: str | None
    ) -> _Reply:
        subject = f'{rt.qualified} "{name}"' if name else rt.qualified
        where = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
        message = (
            f'{subject} is forbidden: User "{user}" cannot {verb} resource "{rt.plural}" '
            f'in API group "{rt.group}" {where}'
        )
        details: dict[str, Any] = {"kind": rt.plural}
        if rt.group:
            details["group"] = rt.group
        if name:
            details["name"] = name
        return _status(403, message, details)

    @staticmethod
    def _wants_partial(accept: str, is_list: bool) -> bool | None:
        """False for full objects, True for metadata only, None when nothing acceptable."""
        if not accept.strip():
            return False
        wanted = "PartialObjectMetadataList" if is_list else "PartialObjectMetadata"
        for entry in accept.split(","):
            media, *raw_params = (p.strip() for p in entry.split(";"))
            params = dict(p.partition("=")[::2] for p in raw_params if "=" in p)
            if media not in ("application/json", "application/*", "*/*"):
                continue
            as_kind = params.get("as")
            if as_kind is None:
                return False
            if (
                as_kind == wanted
                and params.get("g") == "meta.k8s.io"
                and params.get("v") in ("v1", "v1beta1")
            ):
                return True
        return None

    def _get(self, rt: ResourceType, namespace: str | None, name: str, partial: bool) -> _Reply:
        key = (namespace or "" if rt.namespaced else "", name)
        with self._lock:
            entry = self._stores[rt].entries.get(key)
        if entry is None or (rt.namespaced and namespace is None):
            return _status(
                404, f'{rt.qualified} "{name}" not found', {"name": name, "kind": rt.plural}
            )
        body = entry.partial() if partial else entry.full()
        return _Reply(200, body.encode())

    def _list(
        self, rt: ResourceType, namespace: str | None, query: dict[str, str], partial: bool
    ) -> _Reply:
        try:
            limit = int(query.get("limit") or 0)
        except ValueError:
            raise _BadRequest(f"invalid limit: {query.get('limit')!r}") from None
        label_test = (
            parse_label_selector(query["labelSelector"]) if query.get("labelSelector") else None
        )
        field_test = (
            parse_field_selector(query["fieldSelector"], rt) if query.get("fieldSelector") else None
        )
        with self._lock:
            store = self._stores[rt]
            keys = store.keys()
            entries = store.entries
            list_rv = self._current_rv
            compacted = self._compacted_rv
            start = 0
            if query.get("continue"):
                decoded = _decode_continue(query["continue"])
                if decoded is None or decoded[0] < compacted:
                    return _status(410, _EXPIRED_MESSAGE)
                list_rv, start_key = decoded
                start = bisect.bisect_left(keys, start_key)
            # Materialise the page under the lock so concurrent edits cannot tear it.
            selected: list[_Entry] = []
            next_key = None
            remaining = None
            for index in range(start, len(keys)):
                entry = entries[keys[index]]
                if namespace is not None and entry.key[0] != namespace:
                    continue
                if label_test and not label_test(
                    (entry.obj.get("metadata") or {}).get("labels") or {}
                ):
                    continue
                if field_test and not field_test(entry.obj):
                    continue
                if limit and len(selected) == limit:
                    next_key = entry.key
                    if not (label_test or field_test or namespace):
                        remaining = len(keys) - index
                    break
                selected.append(entry)
        metadata: dict[str, Any] = {"resourceVersion": str(list_rv)}
        if next_key is not None:
            metadata["continue"] = _encode_continue(list_rv, next_key)
            if remaining is not None:
                metadata["remainingItemCount"] = remaining
        if partial:
            head = {"kind": "PartialObjectMetadataList", "apiVersion": "meta.k8s.io/v1"}
            items = ",".join(entry.partial() for entry in selected)
        else:
            head = {"kind": rt.list_kind, "apiVersion": rt.api_version}
            items = ",".join(entry.item(rt.builtin) for entry in selected)
        body = (
            f'{{"kind":"{head["kind"]}","apiVersion":"{head["apiVersion"]}",'
            f'"metadata":{json.dumps(metadata)},"items":[{items}]}}'
        )
        return _Reply(200, body.encode())

    # -- discovery documents -----------------------------------------------------------

    def _group_versions(self) -> dict[str, list[str]]:
        groups: dict[str, set[str]] = {}
        for rt in self._served_types():
            if rt.group:
                groups.setdefault(rt.group, set()).add(rt.version)
        return {
            group: sorted(versions, key=_version_priority, reverse=True)
            for group, versions in groups.items()
        }

    @staticmethod
    def _group_doc(group: str, versions: list[str]) -> dict[str, Any]:
        entries = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
        return {"name": group, "versions": entries, "preferredVersion": entries[0]}

    def _group_list(self) -> dict[str, Any]:
        groups = self._group_versions()
        return {
            "kind": "APIGroupList",
            "apiVersion": "v1",
            "groups": [self._group_doc(g, v) for g, v in sorted(groups.items())],
        }

    def _group(self, group: str) -> dict[str, Any] | None:
        versions = self._group_versions().get(group)
        if not versions:
            return None
        return {"kind": "APIGroup", "apiVersion": "v1", **self._group_doc(group, versions)}

    @staticmethod
    def _resource_list(group: str, version: str, served: list[ResourceType]) -> dict[str, Any]:
        resources = []
        for rt in sorted(served, key=lambda r: r.plural):
            resource = {
                "name": rt.plural,
                "singularName": rt.kind.lower(),
                "namespaced": rt.namespaced,
                "kind": rt.kind,
                "verbs": _ALL_VERBS,
            }
            if rt.short_names:
                resource["shortNames"] = list(rt.short_names)
            resources.append(resource)
            if rt.status:
                resources.append(
                    {
                        "name": f"{rt.plural}/status",
                        "singularName": "",
                        "namespaced": rt.namespaced,
                        "kind": rt.kind,
                        "verbs": ["get", "patch", "update"],
                    }
                )
        return {
            "kind": "APIResourceList",
            "apiVersion": "v1",
            "groupVersion": f"{group}/{version}" if group else version,
            "resources": resources,
        }


def _encode_continue(rv: int, key: tuple[str, str]) -> str:
    start = f"{key[0]}/{key[1]}\x00"
    raw = json.dumps({"v": "meta.k8s.io/v1", "rv": rv, "start": start}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_continue(token: str) -> tuple[int, tuple[str, str]] | None:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data = json.loads(raw)
        namespace, _, name = data["start"].rstrip("\x00").partition("/")
        if data.get("v") != "meta.k8s.io/v1" or not isinstance(data["rv"], int):
            return None
        return data["rv"], (namespace, name)
    except (binascii.Error, ValueError, KeyError, TypeError, AttributeError):
        return None


# -- HTTP plumbing ---------------------------------------------------------------------


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], handler: type, api: KubeAPIServer) -> None:
        self.api = api
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hung up mid-answer (a timeout, a cancelled poll) is normal for an
        # API server; socketserver would print a traceback over the demo's dashboard.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._connections_lock:
            connections, self._connections = list(self._connections), set()
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _HTTPServer

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # tests assert on KubeAPIServer.requests instead

    def _answer(self) -> None:
        if self.command != "GET":
            self.close_connection = True  # a request body, if any, is never read
        try:
            reply = self.server.api.handle(self.command, self.path, self.headers)
        except _Drop:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(reply.body)

    do_GET = _answer
    do_POST = _answer
    do_PUT = _answer
    do_PATCH = _answer
    do_DELETE = _answer


def kubeconfig_dict(
    contexts: Mapping[str, tuple[str, str | None]],
    current: str | None = None,
    ca_pem: bytes | None = None,
) -> dict[str, Any]:
    """A kubeconfig with one cluster and user per context: ``{context: (url, token)}``."""
    config: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "clusters": [],
        "users": [],
        "contexts": [],
        "current-context": current or next(iter(contexts), ""),
    }
    for name, (url, token) in contexts.items():
        cluster: dict[str, Any] = {"server": url}
        if ca_pem is not None:
            cluster["certificate-authority-data"] = base64.b64encode(ca_pem).decode()
        config["clusters"].append({"name": name, "cluster": cluster})
        config["users"].append({"name": name, "user": {"token": token} if token else {}})
        config["contexts"].append({"name": name, "context": {"cluster": name, "user": name}})
    return config


def write_kubeconfig(
    path: str | Path,
    contexts: Mapping[str, tuple[str, str | None]],
    current: str | None = None,
    ca_pem: bytes | None = None,
) -> Path:
    """Write a kubeconfig file (mode 0600, like kubectl) and return its path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    config = kubeconfig_dict(contexts, current, ca_pem)
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    path.chmod(0o600)
    return path
