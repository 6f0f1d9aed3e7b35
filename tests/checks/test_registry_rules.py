"""The rules a check's metadata meets when it registers: one framework table, ISO 27001
and SOC 2 in the shipped catalog, a benchmark or a reason, controls derived from the
checks that name them."""

from __future__ import annotations

import pytest

from postureapp.checks.frameworks import FrameworkError
from postureapp.checks.registry import Registry, Result
from postureapp.model import Severity, Status, View

FULL = {"CIS Kubernetes": "5.1.1", "ISO 27001:2022": ["A.8.2", "A.5.15"], "SOC 2": "CC6.1"}


def add(registry: Registry, check_id: str = "k8s-demo-check", provider="kubernetes", **meta):
    meta.setdefault("frameworks", FULL)

    @registry.check(
        id=check_id,
        title="Demo",
        view=View.IDENTITIES,
        severity=Severity.HIGH,
        provider=provider,
        remediation="Do the thing.",
        **meta,
    )
    def demo(inv):
        yield Result("k8s://c/_/Pod/p", Status.PASS)

    return registry.checks[check_id]


def test_references_are_normalised_to_lists_in_declared_order():
    meta = add(Registry(strict=True))
    assert meta.frameworks == {
        "CIS Kubernetes": ["5.1.1"],
        "ISO 27001:2022": ["A.8.2", "A.5.15"],
        "SOC 2": ["CC6.1"],
    }
    assert list(meta.frameworks) == ["CIS Kubernetes", "ISO 27001:2022", "SOC 2"]


@pytest.mark.parametrize(
    ("frameworks", "message"),
    [
        ({**FULL, "ISO27001": "A.8.2"}, "unknown framework 'ISO27001'"),
        ({**FULL, "CIS-K8s": "5.1.1"}, "unknown framework 'CIS-K8s'"),
        ({**FULL, "ISO 27001:2022": "8.2"}, "ISO 27001:2022 reference '8.2' is malformed"),
        ({**FULL, "SOC 2": ["CC6"]}, "SOC 2 reference 'CC6' is malformed"),
        ({**FULL, "SOC 2": []}, "SOC 2 lists no reference"),
        ({**FULL, "SOC 2": ["CC6.1", "CC6.1"]}, "lists a reference twice"),
    ],
)
def test_unknown_names_and_malformed_references_fail_in_any_registry(frameworks, message):
    for registry in (Registry(), Registry(strict=True)):
        with pytest.raises(FrameworkError, match=message):
            add(registry, frameworks=frameworks)


def test_the_shipped_rules_require_iso_and_soc2():
    for missing in ("ISO 27001:2022", "SOC 2"):
        frameworks = {k: v for k, v in FULL.items() if k != missing}
        with pytest.raises(FrameworkError, match=f"maps to no {missing}"):
            add(Registry(strict=True), frameworks=frameworks)
        # A test catalog may be partial.
        assert add(Registry(), frameworks=frameworks).frameworks.get(missing) is None


def test_a_plane_check_cites_its_benchmark_or_gives_a_reason():
    bare = {"ISO 27001:2022": "A.8.2", "SOC 2": "CC6.1"}
    with pytest.raises(FrameworkError, match=r"cite CIS Kubernetes, or say why.*no_benchmark"):
        add(Registry(strict=True), frameworks=bare)
    with pytest.raises(FrameworkError, match="cite CIS AWS or AWS FSBP"):
        add(Registry(strict=True), "aws-demo-check", "aws", frameworks=bare)
    with pytest.raises(FrameworkError, match="needs a reason"):
        add(Registry(strict=True), frameworks=bare, no_benchmark=" ")
    with pytest.raises(FrameworkError, match="cites CIS Kubernetes but also says no_benchmark"):
        add(Registry(strict=True), no_benchmark="nothing in section 5")
    meta = add(Registry(strict=True), frameworks=bare, no_benchmark="nothing in section 5")
    assert meta.no_benchmark == "nothing in section 5"
    # AWS FSBP is a benchmark of the AWS plane; paths and probe checks have none.
    add(Registry(strict=True), "aws-demo-check", "aws", frameworks={**bare, "AWS FSBP": "S3.8"})
    add(Registry(strict=True), "path-demo-check", "paths", frameworks=bare)
    with pytest.raises(FrameworkError, match="paths checks have no benchmark"):
        add(Registry(strict=True), "path-demo-check", "paths", frameworks=bare, no_benchmark="x")


def test_control_lists_are_derived_from_the_checks_in_catalog_order():
    registry = Registry(strict=True)
    add(registry, "k8s-first-check", controls=("ctl-b",))
    control = registry.control(
        id="ctl-b", title="B", frameworks={"ISO 27001:2022": "A.8.2", "SOC 2": "CC6.1"}
    )
    assert control.checks == ()  # what the definition holds; the registry derives the rest
    add(registry, "k8s-second-check", controls=("ctl-b", "ctl-missing"))
    add(registry, "k8s-third-check")
    assert registry.controls["ctl-b"].checks == ("k8s-first-check", "k8s-second-check")
    assert registry.validate() == ["check k8s-second-check cites unknown control ctl-missing"]


def test_the_shipped_rules_refuse_control_side_lists_and_empty_controls():
    frameworks = {"ISO 27001:2022": "A.8.2", "SOC 2": "CC6.1"}
    with pytest.raises(ValueError, match=r"controls=\(\.\.\.\) instead"):
        Registry(strict=True).control(id="c", title="t", frameworks=frameworks, checks=["x"])
    with pytest.raises(FrameworkError, match="control c: maps to no SOC 2"):
        Registry(strict=True).control(id="c", title="t", frameworks={"ISO 27001:2022": "A.8.2"})
    registry = Registry(strict=True)
    registry.control(id="lonely", title="t", frameworks=frameworks)
    registry.control(id="vouched", title="t", frameworks=frameworks, needs_attestation=True)
    assert registry.validate() == [
        "control lonely has no evidencing check and needs no attestation"
    ]


def test_controls_must_be_a_tuple_of_ids():
    with pytest.raises(ValueError, match="tuple of distinct control ids"):
        add(Registry(), controls="least-privilege")
    with pytest.raises(ValueError, match="tuple of distinct control ids"):
        add(Registry(), controls=("a", "a"))


def test_controls_follow_checks_copied_in_directly():
    """Tests assemble registries from shipped checks by assigning into ``checks``."""
    source = Registry()
    meta = add(source, "k8s-copied-check", controls=("ctl",))
    registry = Registry()
    registry.control(id="ctl", title="t", frameworks={"ISO 27001:2022": "A.8.2"})
    assert registry.controls["ctl"].checks == ()
    registry.checks[meta.id] = meta
    assert registry.controls["ctl"].checks == ("k8s-copied-check",)
