"""Domain knowledge: what Kubernetes and AWS objects mean, as pure functions.

RBAC grants, exposure, service-mesh modes, token and credential semantics, IAM policy
evaluation, scopes and thresholds live here, so that the checks, the identity graph and
the readers of their results share one reading of each rule. Nothing here registers a
check, does I/O or reads the clock (callers pass ``inv.now``). Layers, each importing
only those before it: model -> domain -> graph -> checks -> engine -> store -> views,
exports, TUI -> CLI.
"""
