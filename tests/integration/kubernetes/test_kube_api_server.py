"""The test API server speaks the Kubernetes HTTP API the way clients expect."""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request

import pytest
from kubernetes import client, config

from postureapp.demo.kube_api import METADATA_LIST_ACCEPT
from tests.kube import KubeAPIServer
from tests.kube.estate import CANARY_SECRET_B64

from .conftest import CONTEXT, TOKEN

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def get(server: KubeAPIServer, path: str, accept: str | None = None, token: str | None = TOKEN):
    request = urllib.request.Request(server.url + path)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    if accept:
        request.add_header("Accept", accept)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.fixture
def api(kubeconfig) -> client.ApiClient:
    with config.new_client_from_config(str(kubeconfig), CONTEXT, persist_config=False) as c:
        yield c


def test_the_official_client_reads_typed_objects(api) -> None:
    pods = client.CoreV1Api(api).list_namespaced_pod("payments", label_selector="app=payments-api")
    assert sorted(p.metadata.name for p in pods.items) == [
        "payments-api-7d9f8b6c5d-q8w7e",
        "payments-api-7d9f8b6c5d-x2x9k",
    ]
    assert pods.items[0].spec.security_context.run_as_non_root is True
    version = client.VersionApi(api).get_code()
    assert version.git_version == "v1.31.4"
    binding = client.RbacAuthorizationV1Api(api).read_cluster_role_binding("ci-deployer-admin")
    assert binding.role_ref.name == "cluster-admin"
    assert binding.metadata.uid and binding.metadata.resource_version


def test_version_and_discovery(kube_server) -> None:
    assert get(kube_server, "/version/")[1]["gitVersion"] == "v1.31.4"
    core = get(kube_server, "/api/v1")[1]
    pods = next(r for r in core["resources"] if r["name"] == "pods")
    assert core["kind"] == "APIResourceList" and pods["namespaced"] and "list" in pods["verbs"]
    assert pods["kind"] == "Pod"
    groups = {g["name"]: g for g in get(kube_server, "/apis")[1]["groups"]}
    assert "security.istio.io" in groups and "kyverno.io" not in groups
    assert groups["rbac.authorization.k8s.io"]["preferredVersion"]["version"] == "v1"
    istio = get(kube_server, "/apis/security.istio.io/v1")[1]
    assert {r["name"] for r in istio["resources"]} >= {"peerauthentications"}
    assert get(kube_server, "/apis/kyverno.io/v1")[0] == 404
    assert get(kube_server, "/api")[1]["versions"] == ["v1"]


def test_lists_are_envelopes_with_server_set_metadata(kube_server) -> None:
    status, body = get(kube_server, "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings")
    assert status == 200
    assert body["kind"] == "ClusterRoleBindingList"
    assert body["apiVersion"] == "rbac.authorization.k8s.io/v1"
    assert body["metadata"]["resourceVersion"].isdigit()
    item = body["items"][0]
    assert "kind" not in item  # built-in list items carry no type meta, as on a real server
    assert item["metadata"]["uid"] and item["metadata"]["creationTimestamp"]
    custom = get(kube_server, "/apis/security.istio.io/v1/peerauthentications")[1]
    assert custom["kind"] == "PeerAuthenticationList"
    assert custom["items"][0]["kind"] == "PeerAuthentication"
    namespaced = get(
        kube_server, "/apis/security.istio.io/v1/namespaces/payments/peerauthentications"
    )
    assert [i["metadata"]["name"] for i in namespaced[1]["items"]] == ["payments-permissive"]


def test_paging_and_a_bad_continue_token(kube_server) -> None:
    names, token = [], ""
    while True:
        body = get(kube_server, f"/api/v1/pods?limit=3{'&continue=' + token if token else ''}")[1]
        names += [i["metadata"]["name"] for i in body["items"]]
        token = body["metadata"].get("continue")
        if not token:
            break
    assert len(names) == len(set(names)) == 8
    status, error = get(kube_server, "/api/v1/pods?limit=3&continue=bm90LWEtdG9rZW4")
    assert status == 410 and error["reason"] == "Expired" and error["kind"] == "Status"


def test_compaction_expires_issued_tokens(kube_server) -> None:
    token = get(kube_server, "/api/v1/pods?limit=2")[1]["metadata"]["continue"]
    kube_server.compact()
    assert get(kube_server, f"/api/v1/pods?limit=2&continue={token}")[0] == 410


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("app=payments-api", 2),
        ("app==payments-api", 2),
        ("app!=payments-api", 6),
        ("pod-template-hash", 4),
        ("!pod-template-hash", 4),
        ("app in (web, legacy-app)", 2),
        ("app notin (web,legacy-app),pod-template-hash", 2),
    ],
)
def test_label_selectors(kube_server, selector: str, expected: int) -> None:
    query = urllib.parse.quote(selector)
    assert len(get(kube_server, f"/api/v1/pods?labelSelector={query}")[1]["items"]) == expected


def test_field_selectors(kube_server) -> None:
    tls = get(kube_server, "/api/v1/secrets?fieldSelector=type%3Dkubernetes.io/tls")[1]
    assert [i["metadata"]["name"] for i in tls["items"]] == ["web-tls"]
    named = get(kube_server, "/api/v1/pods?fieldSelector=metadata.namespace%3Dlegacy")[1]
    assert len(named["items"]) == 1
    status, error = get(kube_server, "/api/v1/pods?fieldSelector=spec.bogus%3Dx")
    assert status == 400 and "field label not supported: spec.bogus" in error["message"]


def test_metadata_only_lists_never_send_data(kube_server) -> None:
    status, body = get(kube_server, "/api/v1/secrets", accept=METADATA_LIST_ACCEPT)
    assert status == 200
    assert body["kind"] == "PartialObjectMetadataList"
    assert body["apiVersion"] == "meta.k8s.io/v1"
    assert {tuple(sorted(i)) for i in body["items"]} == {("apiVersion", "kind", "metadata")}
    assert body["items"][0]["kind"] == "PartialObjectMetadata"
    # Metadata still carries annotations, as on a real server: a Secret created with
    # `kubectl apply` keeps its data in last-applied-configuration, which is why the
    # collector drops that annotation.
    for item in body["items"]:
        item["metadata"].get("annotations", {}).pop(LAST_APPLIED, None)
    assert CANARY_SECRET_B64 not in json.dumps(body)
    # ... while a plain list of secrets carries the values.
    assert CANARY_SECRET_B64 in json.dumps(get(kube_server, "/api/v1/secrets")[1])


def test_errors_are_metav1_status(kube_server) -> None:
    status, body = get(kube_server, "/api/v1/pods", token="wrong")
    assert (status, body["reason"], body["kind"]) == (401, "Unauthorized", "Status")
    status, body = get(kube_server, "/api/v1/pods", token=None)
    assert status == 403 and 'User "system:anonymous"' in body["message"]
    kube_server.forbid("secrets")
    status, body = get(kube_server, "/api/v1/secrets")
    assert status == 403
    assert body["message"] == (
        'secrets is forbidden: User "system:serviceaccount:posture:posture-reader" cannot list '
        'resource "secrets" in API group "" at the cluster scope'
    )
    status, body = get(kube_server, "/api/v1/namespaces/payments/pods/nope")
    assert status == 404 and body["message"] == 'pods "nope" not found'
    assert get(kube_server, "/apis/example.com/v1/things")[0] == 404
    request = urllib.request.Request(kube_server.url + "/api/v1/pods", method="DELETE")
    request.add_header("Authorization", f"Bearer {TOKEN}")
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=5)
    assert caught.value.code == 405


def test_injected_failures(kube_server) -> None:
    kube_server.fail("pods", status=503, times=2)
    assert [get(kube_server, "/api/v1/pods")[0] for _ in range(3)] == [503, 503, 200]
    kube_server.fail("services", status=429, retry_after=1)
    request = urllib.request.Request(kube_server.url + "/api/v1/services")
    request.add_header("Authorization", f"Bearer {TOKEN}")
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=5)
    assert caught.value.headers["Retry-After"] == "1"


def test_the_estate_changes_while_running(kube_server) -> None:
    before = get(kube_server, "/api/v1/namespaces/payments/serviceaccounts")[1]
    kube_server.add(
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": "new", "namespace": "payments"},
        }
    )
    after = get(kube_server, "/api/v1/namespaces/payments/serviceaccounts")[1]
    assert len(after["items"]) == len(before["items"]) + 1
    assert int(after["metadata"]["resourceVersion"]) > int(before["metadata"]["resourceVersion"])
    account = kube_server.get("ServiceAccount", "new", "payments")
    kube_server.replace({**account, "automountServiceAccountToken": False})
    assert (
        kube_server.get("ServiceAccount", "new", "payments")["metadata"]["uid"]
        == (account["metadata"]["uid"])
    )
    kube_server.remove("ServiceAccount", "new", "payments")
    assert get(kube_server, "/api/v1/namespaces/payments/serviceaccounts/new")[0] == 404
    with pytest.raises(ValueError, match="already exists"):
        kube_server.add({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "legacy"}})


def test_a_custom_resource_definition_installs_its_group(kube_server) -> None:
    kube_server.add(
        {
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": "clusterpolicies.kyverno.io"},
            "spec": {
                "group": "kyverno.io",
                "names": {"kind": "ClusterPolicy", "plural": "clusterpolicies"},
                "scope": "Cluster",
                "versions": [{"name": "v1", "served": True, "storage": True}],
            },
        }
    )
    status, body = get(kube_server, "/apis/kyverno.io/v1/clusterpolicies")
    assert status == 200 and body["items"] == []


def test_die(kube_server) -> None:
    kube_server.die("pods", after=1)
    assert get(kube_server, "/api/v1/pods")[0] == 200
    with pytest.raises((OSError, http.client.HTTPException)):  # connection dropped
        get(kube_server, "/api/v1/pods")
    assert kube_server.dead
    with pytest.raises(OSError):  # and nothing answers any more (refused or reset)
        get(kube_server, "/version")


def test_a_client_hanging_up_mid_answer_prints_nothing_over_the_demo(capsys):
    """socketserver prints a traceback when a handler fails; a client that hung up (a
    poll cancelled, a timeout) is normal and would scribble over the demo's dashboard."""
    with KubeAPIServer([]) as server:
        httpd = server._httpd
        for hang_up in (BrokenPipeError(32, "Broken pipe"), ConnectionResetError(104, "reset")):
            try:
                raise hang_up
            except ConnectionError:
                httpd.handle_error(None, ("127.0.0.1", 1))
        assert capsys.readouterr().err == ""
        try:
            raise ValueError("a real fault in the emulator")
        except ValueError:
            httpd.handle_error(None, ("127.0.0.1", 1))
        assert "a real fault in the emulator" in capsys.readouterr().err
