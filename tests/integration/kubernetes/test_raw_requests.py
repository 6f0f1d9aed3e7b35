"""The collector's GETs (``api.getter``: the official ApiClient's ``param_serialize`` and
``call_api``, without the generated API classes) send what the generated methods send and
get back the same bytes and the same errors, for every list and discovery call it makes."""

from __future__ import annotations

import json

import pytest
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from postureapp.collectors.kubernetes import api as kapi
from postureapp.collectors.kubernetes.collector import METADATA_LIST_ACCEPT
from postureapp.collectors.kubernetes.kinds import BUILTIN_KINDS
from tests.kube import KubeAPIServer

from .conftest import CONTEXT


@pytest.fixture
def api(kubeconfig) -> client.ApiClient:
    with config.new_client_from_config(str(kubeconfig), CONTEXT, persist_config=False) as c:
        yield c


def _sent(server: KubeAPIServer, call, **kwargs) -> tuple[tuple, bytes]:
    """What one call sent (as the server recorded it) and the body it got back."""
    before = len(server.requests)
    response = call(_preload_content=False, _request_timeout=(5, 5), **kwargs)
    try:
        body = response.data
    finally:
        response.release_conn()
    (request,) = list(server.requests)[before:]
    sent = (request.method, request.path, request.query, request.accept, request.authenticated)
    return sent, body


@pytest.mark.parametrize("spec", BUILTIN_KINDS, ids=lambda spec: spec.kind)
def test_each_builtin_list_is_the_generated_methods_request(kube_server, api, spec) -> None:
    api_name, method = spec.list_method
    generated = getattr(getattr(client, api_name)(api), method)
    ours = kapi.getter(api, *kapi.list_path(spec.group, spec.versions[0], spec.plural))
    first = _sent(kube_server, generated, limit=2)
    assert _sent(kube_server, ours, limit=2) == first
    assert first[0][2] == {"limit": "2"}
    assert first[0][4] is True  # the kubeconfig's bearer token went with it


def test_a_continued_metadata_only_secrets_list_is_the_generated_request(kube_server, api) -> None:
    generated = client.CoreV1Api(api).list_secret_for_all_namespaces
    ours = kapi.getter(api, *kapi.list_path("", "v1", "secrets"), accept=METADATA_LIST_ACCEPT)

    def theirs(**kwargs):
        return generated(_headers={"Accept": METADATA_LIST_ACCEPT}, **kwargs)

    sent, body = _sent(kube_server, theirs, limit=1)
    assert _sent(kube_server, ours, limit=1) == (sent, body)
    page = json.loads(body)
    assert page["kind"] == "PartialObjectMetadataList"
    token = page["metadata"]["continue"]
    assert _sent(kube_server, ours, limit=1, _continue=token) == _sent(
        kube_server, theirs, limit=1, _continue=token
    )
    typed = kapi.getter(
        api,
        *kapi.list_path("", "v1", "secrets"),
        accept=METADATA_LIST_ACCEPT,
        field_selector="type=kubernetes.io/tls",
    )
    sent, body = _sent(kube_server, typed)
    assert (sent, body) == _sent(kube_server, theirs, field_selector="type=kubernetes.io/tls")
    assert sent[2] == {"fieldSelector": "type=kubernetes.io/tls"}


def test_discovery_and_custom_lists_are_the_generated_requests(kube_server, api) -> None:
    assert _sent(kube_server, kapi.getter(api, "/version/")) == _sent(
        kube_server, client.VersionApi(api).get_code
    )
    assert _sent(kube_server, kapi.getter(api, "/apis/")) == _sent(
        kube_server, client.ApisApi(api).get_api_versions
    )
    custom = client.CustomObjectsApi(api)
    group = {"group": "security.istio.io", "version": "v1"}
    assert _sent(kube_server, kapi.getter(api, "/apis/{group}/{version}", group)) == _sent(
        kube_server, custom.get_api_resources, **group
    )
    path = kapi.list_path("security.istio.io", "v1", "peerauthentications")
    assert _sent(kube_server, kapi.getter(api, *path), limit=5) == _sent(
        kube_server,
        custom.list_cluster_custom_object,
        group="security.istio.io",
        version="v1",
        plural="peerauthentications",
        limit=5,
    )


def test_path_parameters_are_quoted_as_the_client_quotes_them(kube_server, api) -> None:
    odd = {"group": "a b/c", "version": "v1"}
    with pytest.raises(ApiException) as ours:
        kapi.getter(api, "/apis/{group}/{version}", odd)(_request_timeout=(5, 5))
    with pytest.raises(ApiException) as generated:
        client.CustomObjectsApi(api).get_api_resources(
            _preload_content=False, _request_timeout=(5, 5), **odd
        )
    assert type(ours.value) is type(generated.value)
    assert ours.value.status == generated.value.status == 404
    (theirs, mine) = list(kube_server.requests)[-2:]
    assert mine.path == theirs.path


def test_errors_are_the_generated_methods_exceptions(kube_server, api) -> None:
    kube_server.forbid("pods")
    ours = kapi.getter(api, *kapi.list_path("", "v1", "pods"))
    with pytest.raises(ApiException) as mine:
        ours(_request_timeout=(5, 5), limit=1)
    with pytest.raises(ApiException) as theirs:
        client.CoreV1Api(api).list_pod_for_all_namespaces(
            _preload_content=False, _request_timeout=(5, 5), limit=1
        )
    assert type(mine.value) is type(theirs.value)
    assert mine.value.status == theirs.value.status == 403
    assert mine.value.body == theirs.value.body
    assert "forbidden" in str(mine.value.body)
