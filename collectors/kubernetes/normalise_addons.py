"""Normalisers for the add-on kinds read when installed: Istio's PeerAuthentication and
AuthorizationPolicy, Gateway API Gateway and HTTPRoute, cert-manager Certificate,
Gatekeeper ConstraintTemplate and Kyverno ClusterPolicy/Policy; see
:mod:`postureapp.facts.kubernetes` for what each writes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from postureapp.collectors.kubernetes._shape import Obj, Shape, describe, finite
from postureapp.collectors.kubernetes.normalise_pods import timestamp


def _workload_selector(spec: Obj) -> dict[str, str] | None:
    sel = spec.opt_obj("selector")
    return None if sel is None else sel.strmap("matchLabels")


def peer_authentication(obj: Obj) -> dict[str, Any]:
    spec = obj.obj("spec")
    port_level = spec.obj("portLevelMtls")
    modes = {}
    for port, setting in port_level.data.items():
        if not isinstance(setting, Mapping):
            raise Shape(f"{port_level.where(str(port))} is {describe(setting)}, expected an object")
        modes[str(port)] = Obj(setting, (*port_level.path, str(port))).opt_str("mode") or "UNSET"
    return {
        "selector": _workload_selector(spec),
        "mtls_mode": spec.obj("mtls").opt_str("mode") or "UNSET",
        "port_level_mtls": modes,
    }


def authorization_policy(obj: Obj) -> dict[str, Any]:
    spec = obj.obj("spec")
    rules = [finite(rule.data, rule.path) for rule in spec.objs("rules")]
    refs = [finite(ref.data, ref.path) for ref in spec.objs("targetRefs")]
    single = spec.opt_obj("targetRef")
    if not refs and single:
        refs = [finite(single.data, single.path)]
    return {
        "action": spec.opt_str("action") or "ALLOW",
        "selector": _workload_selector(spec),
        "target_refs": [dict(ref) for ref in refs],
        "provider": spec.obj("provider").opt_str("name"),
        "rules": [dict(rule) for rule in rules],
        "rule_count": len(rules),
    }


def gateway(obj: Obj) -> dict[str, Any]:
    spec = obj.obj("spec")
    listeners = []
    for listener in spec.objs("listeners"):
        tls = listener.opt_obj("tls")
        listeners.append(
            {
                "name": listener.opt_str("name"),
                "protocol": listener.opt_str("protocol"),
                "port": listener.opt_int("port"),
                "hostname": listener.opt_str("hostname"),
                "tls_mode": tls.opt_str("mode") if tls else None,
                "certificate_refs": [
                    {
                        "kind": ref.opt_str("kind") or "Secret",
                        "name": ref.opt_str("name"),
                        "namespace": ref.opt_str("namespace"),
                    }
                    for ref in (tls.objs("certificateRefs") if tls else [])
                ],
                "allowed_routes_from": listener.obj("allowedRoutes")
                .obj("namespaces")
                .opt_str("from"),
            }
        )
    return {
        "gateway_class": spec.opt_str("gatewayClassName"),
        "listeners": listeners,
        "addresses": [
            value
            for address in obj.obj("status").objs("addresses")
            if (value := address.opt_str("value"))
        ],
    }


def http_route(obj: Obj) -> dict[str, Any]:
    spec = obj.obj("spec")
    rules = spec.objs("rules")
    return {
        "hostnames": spec.strs("hostnames"),
        "parent_refs": [
            {
                "kind": ref.opt_str("kind") or "Gateway",
                "name": ref.opt_str("name"),
                "namespace": ref.opt_str("namespace"),
                "section_name": ref.opt_str("sectionName"),
                "port": ref.opt_int("port"),
            }
            for ref in spec.objs("parentRefs")
        ],
        "backends": [
            {
                "kind": ref.opt_str("kind") or "Service",
                "name": ref.opt_str("name"),
                "namespace": ref.opt_str("namespace"),
                "port": ref.opt_int("port"),
            }
            for rule in rules
            for ref in rule.objs("backendRefs")
        ],
        "rule_count": len(rules),
    }


def _condition(status: Obj, kind: str) -> bool | None:
    for condition in status.objs("conditions"):
        if condition.opt_str("type") == kind:
            return {"True": True, "False": False}.get(condition.text("status"))
    return None


def certificate(obj: Obj) -> dict[str, Any]:
    spec = obj.obj("spec")
    status = obj.obj("status")
    issuer = spec.obj("issuerRef")
    key = spec.obj("privateKey")
    return {
        "secret_name": spec.opt_str("secretName"),
        "common_name": spec.opt_str("commonName"),
        "dns_names": spec.strs("dnsNames"),
        "issuer_ref": {
            "name": issuer.opt_str("name"),
            "kind": issuer.opt_str("kind") or "Issuer",
            "group": issuer.opt_str("group") or "cert-manager.io",
        },
        "duration": spec.opt_str("duration"),
        "renew_before": spec.opt_str("renewBefore"),
        "private_key": {
            "algorithm": key.opt_str("algorithm"),
            "size": key.opt_int("size"),
            "rotation_policy": key.opt_str("rotationPolicy"),
        },
        "not_before": timestamp(status.opt_str("notBefore")),
        "not_after": timestamp(status.opt_str("notAfter")),
        "renewal_time": timestamp(status.opt_str("renewalTime")),
        "ready": _condition(status, "Ready"),
    }


def constraint_template(obj: Obj) -> dict[str, Any]:
    spec = obj.obj("spec")
    return {
        "constraint_kind": spec.obj("crd").obj("spec").obj("names").opt_str("kind"),
        "targets": [target.text("target") for target in spec.objs("targets")],
        "created": obj.obj("status").opt_bool("created"),
    }


_KYVERNO_RULE_TYPES = ("validate", "mutate", "generate", "verifyImages")


def kyverno_policy(obj: Obj) -> dict[str, Any]:
    spec = obj.obj("spec")
    status = obj.obj("status")
    rules = [
        {
            "name": rule.opt_str("name"),
            "types": [t for t in _KYVERNO_RULE_TYPES if t in rule],
            "failure_action": rule.obj("validate").opt_str("failureAction"),
        }
        for rule in spec.objs("rules")
    ]
    ready = status.opt_bool("ready")
    return {
        "validation_failure_action": spec.opt_str("validationFailureAction"),
        "background": spec.opt_bool("background"),
        "rules": rules,
        "rule_count": len(rules),
        "ready": ready if ready is not None else _condition(status, "Ready"),
    }
