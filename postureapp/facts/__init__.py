"""Typed facts: the ``attrs`` of every kind, as the normalisers write them and the checks,
the domain layer and the identity graph read them.

One ``TypedDict`` per kind (``postureapp.facts.kubernetes``, ``postureapp.facts.aws``,
``postureapp.facts.probe``) is the contract that used to be a long docstring: a reader
takes a resource's facts with :func:`facts_of`, and the type checker rejects a key the
normaliser does not write. Attrs stay plain dicts at run time (they are stored and
exported as JSON as they are); the conformance tests validate every collector's and
every offline loader's output against these types, strictly, extra keys included.

Why TypedDicts rather than dataclasses or pydantic models: the facts are JSON in the
cache and the exports, checks read a few keys of thousands of objects per poll, and a
TypedDict costs nothing at run time while mypy checks every key read.
"""

from __future__ import annotations

# Importing the plane modules fills KIND_FACTS.
from postureapp.facts import (  # noqa: F401
    aws,
    aws_organizations,
    kubernetes,
    kubernetes_workloads,
)
from postureapp.facts.base import KIND_FACTS, facts_of, register

__all__ = ["KIND_FACTS", "facts_of", "register"]
