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

from typing import Any, TypeVar, cast

from postureapp.model import Resource

T = TypeVar("T")

# (provider, kind) -> its TypedDict; filled by the plane modules below.
KIND_FACTS: dict[tuple[str, str], Any] = {}


def register(provider: str, kind: str, facts: type[T]) -> type[T]:
    """Declare the facts type of one kind (the conformance tests use this table)."""
    KIND_FACTS[(provider, kind)] = facts
    return facts


def facts_of(resource: Resource, facts: type[T]) -> T:
    """A resource's attrs as its facts type: free at run time, checked by mypy."""
    return cast(T, resource.attrs)


# Importing the plane modules fills KIND_FACTS.
from postureapp.facts import aws, kubernetes  # noqa: E402, F401
