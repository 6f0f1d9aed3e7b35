"""Secret checks: long-lived tokens, unrotated secrets, expiring certificates, and
credentials written into pod specs.

Secrets are collected as metadata only, so age is ``metadata.creationTimestamp``:
a secret whose data is rewritten in place keeps its creation time. Secrets rotated in
place by a controller are therefore not judged by age (see :func:`stale_exemption`);
details carry dates, never "N days ago", so they do not change from poll to poll.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from postureapp.checks.registry import Result, check
from postureapp.dates import day, when
from postureapp.domain.kubernetes.objects import PROVIDER, qualified
from postureapp.domain.kubernetes.tokens import is_legacy_token
from postureapp.domain.kubernetes.workloads import specs, workloads
from postureapp.domain.text import names_list
from postureapp.facts import facts_of
from postureapp.facts.kubernetes import CertificateFacts, SecretFacts
from postureapp.inventory import Inventory
from postureapp.model import Resource, Severity, Status, View

HELM_RELEASE_PREFIX = "sh.helm.release.v1."
# Controllers that own a Secret and rewrite its data in place when they rotate it.
ROTATING_OWNERS = frozenset(
    {"ExternalSecret", "SealedSecret", "VaultStaticSecret", "VaultDynamicSecret", "VaultPKISecret"}
)
_SECRETS_GOOD = "https://kubernetes.io/docs/concepts/security/secrets-good-practices/"


@check(
    id="k8s-secret-legacy-token",
    title="Long-lived service-account token Secret",
    view=View.SECRETS,
    severity=Severity.HIGH,
    provider=PROVIDER,
    requires=("Secret",),
    remediation="""
Move the client to short-lived tokens: a projected token volume (the default since 1.24),
or `kubectl create token <sa> -n <ns> --duration=1h` for a pipeline. Then delete the
Secret: `kubectl delete secret <name> -n <ns>`, and remove it from the ServiceAccount's
`secrets` list. The `kubernetes.io/legacy-token-last-used` label shows whether anything
still uses it; the LegacyServiceAccountTokenCleanUp feature deletes unused ones.""",
    frameworks={"ISO 27001:2022": ["A.5.17", "A.8.5"], "SOC 2": ["CC6.1"]},
    references=(
        "https://kubernetes.io/docs/concepts/configuration/secret/#serviceaccount-token-secrets",
        "https://kubernetes.io/docs/reference/access-authn-authz/service-accounts-admin/#legacy-serviceaccount-token-cleaner",
    ),
    controls=("k8s-short-lived-credentials",),
    no_benchmark="no CIS recommendation on legacy service-account token Secrets",
)
def legacy_token(inv: Inventory) -> Iterator[Result]:
    """Every Secret is judged; a service-account token Secret fails. It never expires,
    and whoever copies it is that ServiceAccount until it is deleted. High when last
    used within ``unused_days`` (something depends on it and holds a copy), medium when
    never or long ago (an easy delete), low once the API server has invalidated it."""
    unused = timedelta(days=int(inv.setting("unused_days", 90)))
    for secret in inv.of(PROVIDER, "Secret"):
        if not is_legacy_token(secret):
            yield Result(
                secret,
                Status.PASS,
                detail=f"Secret {qualified(secret)} is not a service-account token",
            )
            continue
        facts = facts_of(secret, SecretFacts)
        account = facts.get("service_account") or "(unknown)"
        last_used = when(facts.get("legacy_token_last_used"))
        invalid = when(facts.get("legacy_token_invalid_since"))
        evidence = {
            "service_account": f"{secret.namespace}/{account}",
            "last_used": day(last_used) if last_used else None,
            "invalid_since": day(invalid) if invalid else None,
        }
        detail = (
            f"legacy token Secret {qualified(secret)} of ServiceAccount "
            f"{secret.namespace}/{account}"
        )
        if invalid:
            severity = Severity.LOW
            detail += f", invalidated since {day(invalid)} but not deleted"
        elif last_used and inv.now - last_used <= unused:
            severity = None
            detail += f", last used {day(last_used)}"
        else:
            severity = Severity.MEDIUM
            detail += f", last used {day(last_used)}" if last_used else ", no recorded use"
        yield Result(secret, Status.FAIL, detail=detail, evidence=evidence, severity=severity)


def stale_exemption(secret: Resource) -> str | None:
    """Why a Secret's age says nothing about its rotation, or None."""
    if is_legacy_token(secret):
        return "a service-account token (judged by k8s-secret-legacy-token)"
    facts = facts_of(secret, SecretFacts)
    labels = facts.get("labels") or {}
    if secret.name.startswith(HELM_RELEASE_PREFIX) or (
        labels.get("owner") == "helm" and facts.get("type") in ("other", None)
    ):
        return "a Helm release record, not a credential"
    annotations = facts.get("annotations") or {}
    if annotations.get("cert-manager.io/certificate-name"):
        return "renewed in place by cert-manager (judged by k8s-cert-expiry)"
    owners = {ref.get("kind") for ref in facts.get("owner_references") or []}
    rotating = sorted(str(kind) for kind in owners & ROTATING_OWNERS)
    if rotating:
        return f"synced in place by its {rotating[0]} owner"
    return None


@check(
    id="k8s-secret-stale",
    title="Secret older than the rotation threshold",
    view=View.SECRETS,
    severity=Severity.MEDIUM,
    provider=PROVIDER,
    requires=("Secret",),
    remediation="""
Rotate the credential at its source (database password, API key, registry token), put
the new value in a new Secret (`kubectl create secret generic <name>-v2 -n <ns>
--from-literal=<key>=...`), point the workloads at it and delete the old one; or let an
operator (External Secrets, Vault Secrets Operator) own the Secret so rotation is
routine. Age is read from the creation time: a value replaced in place with `kubectl
apply` still looks old here, so waive the finding with the rotation date if you do that.""",
    frameworks={"ISO 27001:2022": ["A.5.17", "A.8.24"], "SOC 2": ["CC6.1"]},
    references=(_SECRETS_GOOD, "https://kubernetes.io/docs/concepts/configuration/secret/"),
    controls=("k8s-short-lived-credentials",),
    no_benchmark="no CIS recommendation on Secret rotation",
)
def stale_secret(inv: Inventory) -> Iterator[Result]:
    """Secrets created more than ``secret_rotation_days`` ago. Not judged: service-
    account tokens (k8s-secret-legacy-token), Helm release records
    (``sh.helm.release.v1.*``, type ``helm.sh/release.v1``: release state, not a
    credential), cert-manager TLS secrets (renewed in place; k8s-cert-expiry) and
    secrets owned by controllers that rotate in place (External Secrets, Sealed Secrets,
    Vault Secrets Operator)."""
    days = int(inv.setting("secret_rotation_days", 90))
    threshold = timedelta(days=days)
    for secret in inv.of(PROVIDER, "Secret"):
        if stale_exemption(secret):
            continue
        created = when(secret.created_at)
        kind = facts_of(secret, SecretFacts).get("type") or "type unknown"
        if created is None:
            yield Result(
                secret,
                Status.UNKNOWN,
                detail=f"Secret {qualified(secret)}: creation time not reported",
            )
            continue
        evidence = {"created": day(created), "type": kind, "threshold_days": days}
        if inv.now - created > threshold:
            yield Result(
                secret,
                Status.FAIL,
                detail=f"Secret {qualified(secret)} ({kind}) was created {day(created)}, "
                f"longer ago than the {days}-day rotation threshold",
                evidence=evidence,
            )
        else:
            yield Result(
                secret,
                Status.PASS,
                detail=f"Secret {qualified(secret)} ({kind}) was created {day(created)}",
                evidence=evidence,
            )


@check(
    id="k8s-cert-expiry",
    title="Certificate expired or expiring soon",
    view=View.SECRETS,
    severity=Severity.HIGH,
    provider=PROVIDER,
    requires=("Certificate",),
    remediation="""
See why cert-manager has not renewed it: `kubectl describe certificate <name> -n <ns>`,
then its CertificateRequest, Order and Challenge (`kubectl get
certificaterequests,orders,challenges -n <ns>`); fix the issuer or DNS/HTTP-01 solver,
and force a renewal with `cmctl renew <name> -n <ns>`. Set `renewBefore` so renewal
starts well before the warning window.""",
    frameworks={"ISO 27001:2022": ["A.8.24", "A.5.17"], "SOC 2": ["CC6.7", "CC7.1"]},
    references=(
        "https://cert-manager.io/docs/usage/certificate/",
        "https://cert-manager.io/docs/troubleshooting/",
    ),
    no_benchmark="no CIS recommendation on certificate expiry",
)
def certificate_expiry(inv: Inventory) -> Iterator[Result]:
    """cert-manager Certificates: expired is high, expiring within ``cert_warning_days``
    medium; no ``status.notAfter`` (never issued, or not reported) is unknown."""
    days = int(inv.setting("cert_warning_days", 30))
    for cert in inv.of(PROVIDER, "Certificate"):
        facts = facts_of(cert, CertificateFacts)
        names = names_list(facts.get("dns_names") or [facts.get("common_name") or "-"], 3)
        label = f"Certificate {qualified(cert)} ({names})"
        not_after = when(facts.get("not_after"))
        if not_after is None:
            yield Result(
                cert,
                Status.UNKNOWN,
                detail=f"{label}: no notAfter in its status (not issued yet, or not reported)",
            )
            continue
        evidence = {"not_after": day(not_after), "ready": facts.get("ready")}
        note = "; cert-manager reports it not Ready" if facts.get("ready") is False else ""
        if not_after <= inv.now:
            yield Result(
                cert,
                Status.FAIL,
                detail=f"{label} expired on {day(not_after)}{note}",
                evidence=evidence,
            )
        elif not_after - inv.now <= timedelta(days=days):
            yield Result(
                cert,
                Status.FAIL,
                detail=f"{label} expires on {day(not_after)}, within the {days}-day warning "
                f"window{note}",
                evidence=evidence,
                severity=Severity.MEDIUM,
                title="Certificate expiring soon",
            )
        else:
            yield Result(
                cert,
                Status.PASS,
                detail=f"{label} is valid until {day(not_after)}{note}",
                evidence=evidence,
            )


@check(
    id="k8s-env-literal-secret",
    title="Credential written literally in a pod's environment",
    view=View.SECRETS,
    severity=Severity.HIGH,
    provider=PROVIDER,
    requires=("Pod",),
    remediation="""
Move the value into a Secret and reference it: `kubectl create secret generic <app> -n
<ns> --from-literal=<VAR>=...`, then in the container `env: [{name: <VAR>, valueFrom:
{secretKeyRef: {name: <app>, key: <VAR>}}}]` (better: mount it as a file). Rotate the
value: it sits in the workload spec, its revision history and every backup of etcd,
readable by anyone who can get pods or deployments, and is not covered by secrets
encryption at rest.""",
    frameworks={
        "ISO 27001:2022": ["A.5.17", "A.8.12", "A.8.24"],
        "CIS Kubernetes": ["5.4.1"],
        "SOC 2": ["CC6.1"],
    },
    references=(
        "https://kubernetes.io/docs/tasks/inject-data-application/distribute-credentials-secure/",
        _SECRETS_GOOD,
    ),
    controls=("secrets-encryption",),
)
def env_literal_secret(inv: Inventory) -> Iterator[Result]:
    """Containers whose ``env`` holds a literal value that looks like a credential (the
    collector's ``looks_secret``), in its pod template or its pods. Only the variable
    name and the reason it looks secret are reported; the value is never read."""
    for workload, pods in workloads(inv).items():
        found = sorted(
            {
                f"{container.get('name')}: {env.get('name')} ({env.get('secret_hint')})"
                for _, spec in specs(workload, pods)
                for container in spec.get("containers") or []
                for env in container.get("env") or []
                if env.get("looks_secret")
            }
        )
        if found:
            yield Result(
                workload.uid,
                Status.FAIL,
                detail=f"{workload.label} sets credentials literally in its environment: "
                f"{names_list(found)}",
                evidence={"workload": workload.ref, "variables": found},
            )
        else:
            yield Result(
                workload.uid,
                Status.PASS,
                detail=f"{workload.label} has no secret-looking literal in its environment",
                evidence={"workload": workload.ref, "variables": []},
            )
