"""Reading an API object strictly: every field the normalisers use is checked against the
shape Kubernetes gives it, and anything else (a string where a list belongs, a null in a
list, NaN, a float port) raises :class:`Shape` naming the field, so the object is
dropped and its kind marked unknown rather than judged from a guess.

A field that is absent or ``null`` is unset (Kubernetes' Go types make no difference
between the two); only a present value of the wrong type is malformed. Fields the
normalisers do not read are not looked at. Paths are built only when an error is
raised (an object keeps a link to its parent, not its path), so the happy path costs a
type test per field; objects are tested as ``dict`` first, the type ``json.loads``
makes, because an ``isinstance`` test against the ``Mapping`` ABC costs several times
more and the normalisers make one per nested object, half a million on 10,000 pods.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from postureapp.facts.kubernetes import LabelSelector


class Shape(ValueError):
    """A field without its Kubernetes shape; ``str()`` is ``<path> is <what>, expected <type>``."""


def is_object(value: Any) -> bool:
    """A JSON object: a ``dict`` from ``json.loads``, or any other mapping."""
    return type(value) is dict or isinstance(value, Mapping)


def describe(value: Any) -> str:
    """What a JSON value is, for an error message (never the value itself)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "NaN" if math.isnan(value) else "a number" if math.isfinite(value) else "infinite"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__


def _join(path: tuple[str | int, ...]) -> str:
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text


def finite(value: Any, path: tuple[str | int, ...], depth: int = 0) -> Any:
    """A verbatim JSON value, checked for NaN and infinities all the way down."""
    if isinstance(value, float) and not math.isfinite(value):
        raise Shape(f"{_join(path)} is {describe(value)}, expected a finite number")
    if depth > 64:
        raise Shape(f"{_join(path)} is nested too deep")
    if is_object(value):
        for key, item in value.items():
            if not isinstance(key, str):
                raise Shape(f"{_join(path)} has a key that is {describe(key)}")
            finite(item, (*path, key), depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            finite(item, (*path, index), depth + 1)
    return value


class Obj:
    """One JSON object of the API answer, at ``path`` (for messages only)."""

    __slots__ = ("_parent", "_where", "data")

    def __init__(
        self,
        data: Mapping[str, Any],
        path: tuple[str | int, ...] = (),
        _parent: Obj | None = None,
    ) -> None:
        self.data = data
        self._where = path  # below ``_parent`` when it is set
        self._parent = _parent

    @property
    def path(self) -> tuple[str | int, ...]:
        if self._parent is None:
            return self._where
        return (*self._parent.path, *self._where)

    def __bool__(self) -> bool:
        return bool(self.data)

    def __contains__(self, key: str) -> bool:
        return self.data.get(key) is not None

    def where(self, key: str | int) -> str:
        return _join((*self.path, key))

    def wrong(self, key: str, value: Any, expected: str) -> Shape:
        return Shape(f"{self.where(key)} is {describe(value)}, expected {expected}")

    # -- scalars -------------------------------------------------------------------------

    def opt_str(self, key: str) -> str | None:
        value = self.data.get(key)
        if value is None or isinstance(value, str):
            return value
        raise self.wrong(key, value, "a string")

    def text(self, key: str, default: str = "") -> str:
        value = self.data.get(key)  # opt_str inlined: the most called reader
        if value is None:
            return default
        if isinstance(value, str):
            return value
        raise self.wrong(key, value, "a string")

    def req_str(self, key: str) -> str:
        value = self.opt_str(key)
        if not value:
            raise Shape(f"{self.where(key)} is missing")
        return value

    def opt_bool(self, key: str) -> bool | None:
        value = self.data.get(key)
        if value is None or isinstance(value, bool):
            return value
        raise self.wrong(key, value, "a boolean")

    def flag(self, key: str) -> bool:
        """A boolean whose unset value is false (hostNetwork, privileged...)."""
        value = self.data.get(key)
        if value is None or isinstance(value, bool):
            return value is True
        raise self.wrong(key, value, "a boolean")

    def opt_int(self, key: str) -> int | None:
        value = self.data.get(key)
        if value is None or (isinstance(value, int) and not isinstance(value, bool)):
            return value
        raise self.wrong(key, value, "an integer")

    def req_int(self, key: str) -> int:
        value = self.opt_int(key)
        if value is None:
            raise Shape(f"{self.where(key)} is missing")
        return value

    def int_or_str(self, key: str) -> int | str | None:
        """An IntOrString (ports, budgets)."""
        value = self.data.get(key)
        if value is None or isinstance(value, str):
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise self.wrong(key, value, "an integer or a string")

    # -- containers ------------------------------------------------------------------------

    def obj(self, key: str) -> Obj:
        """A nested object; an empty one when unset."""
        value = self.data.get(key)
        if value is None:
            return Obj({}, (key,), self)
        if type(value) is dict or isinstance(value, Mapping):
            return Obj(value, (key,), self)
        raise self.wrong(key, value, "an object")

    def opt_obj(self, key: str) -> Obj | None:
        return None if self.data.get(key) is None else self.obj(key)

    def _list(self, key: str) -> list[Any]:
        value = self.data.get(key)
        if value is None:
            return []
        if isinstance(value, list):
            return value
        raise self.wrong(key, value, "a list")

    def objs(self, key: str) -> list[Obj]:
        """A list of objects; a null or a scalar in it is malformed."""
        items = self.data.get(key)
        if not items:  # unset, null, or an empty list: the common case, checked first
            if items is None or isinstance(items, list):
                return []
            raise self.wrong(key, items, "a list")
        if not isinstance(items, list):
            raise self.wrong(key, items, "a list")
        found = []
        for index, item in enumerate(items):
            if not (type(item) is dict or isinstance(item, Mapping)):
                raise Shape(f"{self.where(key)}[{index}] is {describe(item)}, expected an object")
            found.append(Obj(item, (key, index), self))
        return found

    def strs(self, key: str) -> list[str]:
        items = self._list(key)
        for index, item in enumerate(items):
            if not isinstance(item, str):
                raise Shape(f"{self.where(key)}[{index}] is {describe(item)}, expected a string")
        return list(items)

    def strmap(self, key: str) -> dict[str, str]:
        """A map of strings (labels, annotations, selectors)."""
        value = self.data.get(key)
        if value is None:
            return {}
        if not (type(value) is dict or isinstance(value, Mapping)):
            raise self.wrong(key, value, "an object")
        for name, item in value.items():
            if not isinstance(item, str):
                raise Shape(f"{self.where(key)}.{name} is {describe(item)}, expected a string")
        return dict(value)

    def verbatim_list(self, key: str) -> list[Any]:
        """A list kept as written (checked for NaN only)."""
        return list(finite(self._list(key), (*self.path, key)))

    # -- shared shapes ---------------------------------------------------------------------

    def selector(self, key: str) -> LabelSelector:
        """A metav1.LabelSelector as plain, snake_case JSON (unset: select everything)."""
        return selector_of(self.obj(key))

    def opt_selector(self, key: str) -> LabelSelector | None:
        return None if self.data.get(key) is None else self.selector(key)

    def names(self, key: str) -> list[str]:
        """The ``name`` of each reference in a list (imagePullSecrets, secrets)."""
        return [name for ref in self.objs(key) if (name := ref.opt_str("name"))]


def selector_of(sel: Obj) -> LabelSelector:
    """A metav1.LabelSelector object as plain, snake_case JSON."""
    return {
        "match_labels": sel.strmap("matchLabels"),
        "match_expressions": [
            {
                "key": expr.text("key"),
                "operator": expr.text("operator"),
                "values": expr.strs("values"),
            }
            for expr in sel.objs("matchExpressions")
        ],
    }
