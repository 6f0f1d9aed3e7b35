"""Conformance of collected facts to their types (``postureapp.facts``).

``assert_conforms(resources)`` validates every resource's attrs against the TypedDict
registered for its kind, strictly: a wrong type, a missing key, an extra key, NaN or an
unregistered kind fails, naming the resource and the field. The collector and loader
tests call it on everything they produce, so the types cannot drift from the data.
"""

from __future__ import annotations

import math
import typing
from collections.abc import Iterable
from functools import cache
from typing import Any

import typing_extensions
from pydantic import ConfigDict, TypeAdapter, ValidationError

from postureapp.facts import KIND_FACTS
from postureapp.model import Resource

_STRICT = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


def _forbid_extras(tp: Any, seen: set[Any]) -> None:
    if tp in seen:
        return
    seen.add(tp)
    if typing_extensions.is_typeddict(tp):
        tp.__pydantic_config__ = _STRICT
        for hint in typing.get_type_hints(tp).values():
            _forbid_extras(hint, seen)
    for argument in typing.get_args(tp):
        _forbid_extras(argument, seen)


@cache
def _adapter(provider: str, kind: str) -> TypeAdapter[Any]:
    facts = KIND_FACTS[(provider, kind)]
    _forbid_extras(facts, set())
    return TypeAdapter(facts)


def _floats(value: Any) -> Iterable[float]:
    if isinstance(value, float):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _floats(item)
    elif isinstance(value, list):
        for item in value:
            yield from _floats(item)


def problems(resources: Iterable[Resource]) -> list[str]:
    """Every way these resources' attrs break their types, one line each."""
    found = []
    for resource in resources:
        key = (resource.provider, resource.kind)
        if key not in KIND_FACTS:
            found.append(f"{resource.uid}: no facts type registered for {key}")
            continue
        try:
            _adapter(*key).validate_python(resource.attrs)
        except ValidationError as error:
            for item in error.errors():
                where = ".".join(str(part) for part in item["loc"])
                found.append(f"{resource.uid}: {where}: {item['msg']}")
        if any(not math.isfinite(number) for number in _floats(resource.attrs)):
            found.append(f"{resource.uid}: a number is NaN or infinite")
    return found


def assert_conforms(resources: Iterable[Resource]) -> None:
    found = problems(resources)
    assert found == [], "\n".join(found[:40])
