"""The table of facts types and the typed reader (see :mod:`postureapp.facts`)."""

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
