"""Controls whose evidence spans both planes.

Least privilege, audit logging and secrets encryption cannot be judged from one API:
the cluster shows RBAC but not whether the managed control plane logs audit events;
AWS shows EKS logging and envelope encryption but not RBAC. Checks of both planes
name a control here in their ``controls=(...)`` (its evidence list is derived from
them), so with only one plane polled the other plane's evidence is simply absent — the
control reports what it saw, and stays *unknown* when it saw nothing.
"""

from postureapp.checks.registry import control

control(
    id="least-privilege",
    title="Least privilege for every identity, in the cluster and in the cloud",
    description="No workload or person holds admin-equivalent or escalation rights it "
    "does not need; one identity per service keeps a breach's blast radius small.",
    frameworks={"ISO 27001:2022": ["A.5.15", "A.5.18", "A.8.2"], "SOC 2": ["CC6.1", "CC6.3"]},
)

control(
    id="one-identity-per-service",
    title="One identity per service",
    description="Each microservice runs as its own service account, never the namespace "
    "default nor one shared with other services, so its rights and its audit trail are "
    "its own.",
    frameworks={"ISO 27001:2022": ["A.5.16", "A.8.2"], "SOC 2": ["CC6.1"]},
)

control(
    id="audit-logging",
    title="Audit trail of control-plane and API activity",
    description="Every API call to the cloud and the cluster's control plane is logged "
    "somewhere the actor cannot erase (non-repudiation).",
    frameworks={"ISO 27001:2022": ["A.8.15", "A.8.16"], "SOC 2": ["CC7.2", "CC7.3"]},
)

control(
    id="secrets-encryption",
    title="Secrets encrypted at rest and kept out of plain configuration",
    description="Kubernetes Secrets are envelope-encrypted with a KMS key, and no "
    "credential sits literally in a pod spec, where secrets encryption does not reach.",
    frameworks={"ISO 27001:2022": ["A.8.24", "A.5.33"], "SOC 2": ["CC6.1", "CC6.7"]},
)

control(
    id="backup-restore-tested",
    title="Backups exist and a restore has been tested recently",
    description="Backup plans cover the databases, and someone restored one and says "
    "so (posture attest backup-restore-tested --by ... --expires ...).",
    frameworks={"ISO 27001:2022": ["A.8.13"], "SOC 2": ["A1.2", "A1.3"]},
    needs_attestation=True,
)

control(
    id="rate-limiting",
    title="Public endpoints limit request rates",
    description="Every public endpoint sits behind a rate limit (AWS WAF rate-based rules, "
    "API Gateway throttling, ingress-nginx limits, Istio local rate limiting), so brute "
    "force and floods hit a limit instead of the service.",
    frameworks={"ISO 27001:2022": ["A.8.6", "A.8.20"], "SOC 2": ["CC6.6", "A1.1"]},
)

control(
    id="cascading-failure-protection",
    title="Exposed services are protected against cascading failure",
    description="Each exposed service has a circuit breaker (Istio outlier detection or "
    "connection-pool limits) and a PodDisruptionBudget; coverage is the share of exposed "
    "services protected.",
    frameworks={"ISO 27001:2022": ["A.8.14", "A.5.30"], "SOC 2": ["A1.1", "A1.2"]},
)

control(
    id="request-traceability",
    title="A request can be followed through every service",
    description="Central logging (a log shipper on every node, log groups with a deliberate "
    "retention), distributed tracing (a trace collector, X-Ray on API stages) and the "
    "control plane's api, audit and authenticator logs.",
    frameworks={"ISO 27001:2022": ["A.8.15", "A.8.16"], "SOC 2": ["CC7.2", "CC7.3"]},
)

control(
    id="tls-at-proxies",
    title="TLS is handled deliberately at every proxy",
    description="Where TLS terminates is known for each exposed endpoint, and no public "
    "TLS endpoint forwards to its backends in cleartext (bridging without re-encryption); "
    "re-encryption or passthrough (tunnelling) keep the whole path encrypted.",
    frameworks={"ISO 27001:2022": ["A.8.20", "A.8.21", "A.8.24"], "SOC 2": ["CC6.7"]},
)

control(
    id="trust-domains",
    title="Trust domains are separate and their identity providers known",
    description="Each cluster, account and mesh is its own trust domain; workloads get "
    "identities from a known issuer (an EKS issuer registered in IAM, the mesh CA), and "
    "trust across domains is explicit. The governance screen lists the domains seen.",
    frameworks={"ISO 27001:2022": ["A.5.16", "A.8.2", "A.8.22"], "SOC 2": ["CC6.1"]},
)

# The two controls below cite probe checks: with `--probe` they carry what an attacker
# would see; without it they rest on configuration alone and say so in their coverage.
control(
    id="no-exposed-admin-interfaces",
    title="No admin or debug interface is reachable from outside",
    description="Admin UIs, admin ports, the Kubernetes API and debug or configuration "
    "endpoints (/actuator/env, /debug/pprof/, /.env) are not exposed, and where probes "
    "ran, none answered without credentials.",
    frameworks={"ISO 27001:2022": ["A.8.9", "A.8.20", "A.8.22"], "SOC 2": ["CC6.6"]},
)

control(
    id="encryption-in-transit",
    title="Public endpoints speak current TLS with a valid certificate",
    description="Every public host is served over TLS 1.2 or later with a trusted, "
    "unexpired certificate, redirects plain HTTP to HTTPS and sends HSTS.",
    frameworks={"ISO 27001:2022": ["A.8.20", "A.8.24"], "SOC 2": ["CC6.7"]},
)
