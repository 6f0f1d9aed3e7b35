"""Kubernetes uids read back: by the store's views, the exports' labels and root causes."""

from __future__ import annotations

import pytest

from postureapp.export.common import uid_label
from postureapp.model import k8s_uid, split_k8s_uid
from postureapp.store.views import parse_uid


@pytest.mark.parametrize(
    "cluster", ["prod", "arn:aws:eks:eu-west-1:111122223333:cluster/prod", "gke_p_z_c"]
)
def test_a_k8s_uid_reads_back_whatever_its_cluster_is_named(cluster):
    """EKS contexts are named by the cluster's ARN, which holds a "/"."""
    namespaced = k8s_uid(cluster, "Pod", "web", "shop")
    assert split_k8s_uid(namespaced) == (cluster, "shop", "Pod", "web")
    assert parse_uid(namespaced) == ("Pod", "web", "shop", cluster, "kubernetes")
    assert uid_label(namespaced) == "Pod shop/web"
    cluster_wide = k8s_uid(cluster, "ClusterRole", "admin")
    assert split_k8s_uid(cluster_wide) == (cluster, "", "ClusterRole", "admin")
    assert uid_label(cluster_wide) == "ClusterRole admin"
    itself = k8s_uid(cluster, "Cluster", cluster)  # the cluster's own object
    assert split_k8s_uid(itself) == (cluster, "", "Cluster", cluster)
    assert parse_uid(itself)[:4] == ("Cluster", cluster, "", cluster)
    assert split_k8s_uid("arn:aws:iam::1:role/x") is None
    assert split_k8s_uid("k8s://prod") is None
