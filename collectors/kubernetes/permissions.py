"""The least privilege the Kubernetes collector needs, as a ClusterRole to apply.

:data:`CLUSTER_ROLE_YAML` grants get/list on exactly the resources the collector reads
(:mod:`postureapp.collectors.kubernetes.kinds`; a test keeps the two in step) plus the discovery
and version endpoints. Add-on groups that are not installed cost nothing: the
collector reads them only when discovery shows them.
"""

from __future__ import annotations

CLUSTER_ROLE_YAML = """\
# Read-only access for postureapp's Kubernetes collector.
#
# Be aware: "list" on secrets is enough to read every secret VALUE in the cluster,
# even though postureapp only ever asks for metadata (PartialObjectMetadataList) and
# learns a secret's type from server-side field selectors. Kubernetes RBAC cannot grant
# "metadata only". If you cannot accept that, drop "secrets" from the first rule:
# postureapp then reports the Secret kind as unknown (never as passing).
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: postureapp-reader
  labels:
    app.kubernetes.io/name: postureapp
rules:
  - apiGroups: [""]
    resources: [namespaces, serviceaccounts, pods, services, secrets]
    verbs: [get, list]
  - apiGroups: [rbac.authorization.k8s.io]
    resources: [roles, clusterroles, rolebindings, clusterrolebindings]
    verbs: [get, list]
  # Workload controllers: their pod templates are judged even with no pod running.
  - apiGroups: [apps]
    resources: [deployments, statefulsets, daemonsets, replicasets]
    verbs: [get, list]
  - apiGroups: [batch]
    resources: [jobs, cronjobs]
    verbs: [get, list]
  - apiGroups: [networking.k8s.io]
    resources: [ingresses, networkpolicies]
    verbs: [get, list]
  - apiGroups: [policy]
    resources: [poddisruptionbudgets]
    verbs: [get, list]
  - apiGroups: [admissionregistration.k8s.io]
    resources: [validatingwebhookconfigurations, mutatingwebhookconfigurations]
    verbs: [get, list]
  # Add-ons, read only when installed.
  - apiGroups: [security.istio.io]
    resources: [peerauthentications, authorizationpolicies]
    verbs: [get, list]
  - apiGroups: [networking.istio.io]
    resources: [destinationrules, envoyfilters]
    verbs: [get, list]
  - apiGroups: [gateway.networking.k8s.io]
    resources: [gateways, httproutes]
    verbs: [get, list]
  - apiGroups: [cert-manager.io]
    resources: [certificates]
    verbs: [get, list]
  - apiGroups: [templates.gatekeeper.sh]
    resources: [constrainttemplates]
    verbs: [get, list]
  - apiGroups: [kyverno.io]
    resources: [clusterpolicies, policies]
    verbs: [get, list]
  # Version and discovery (every authenticated user usually has these already).
  - nonResourceURLs: [/version, /version/, /api, /api/*, /apis, /apis/*]
    verbs: [get]
"""

# An example binding for postureapp running in-cluster as postureapp/postureapp.
CLUSTER_ROLE_BINDING_YAML = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: postureapp-reader
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: postureapp-reader
subjects:
  - kind: ServiceAccount
    name: postureapp
    namespace: postureapp
"""
