"""Kubernetes semantics over normalised resources (attrs documented in
:mod:`postureapp.collectors.kubernetes.normalise`)."""
