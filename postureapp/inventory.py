"""The inventory of one poll: every resource seen, indexed, plus what could not be seen.

Checks read only this. Knowing what is *missing* matters as much as what is present:
a kind that a collector could not read (403, AccessDenied, a failed target) is
recorded per provider and scope, so a check that needs it reports *unknown*.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from postureapp.model import CollectorRun, Resource, RunStatus, split_unknown_key, utcnow

# A run that failed before it knew its scope blinds every scope of its provider.
ALL_KINDS = "*"


@dataclass
class Inventory:
    resources: list[Resource]
    runs: list[CollectorRun] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)  # thresholds from the config
    now: datetime = field(default_factory=utcnow)
    # provider -> collector name, so runs can be matched to the resources they produce
    collector_providers: dict[str, str] = field(default_factory=dict)
    _excluded_scopes: frozenset[tuple[str, str]] = frozenset()

    def __post_init__(self) -> None:
        self._by_uid: dict[str, Resource] = {}
        self._by_kind: dict[tuple[str, str], list[Resource]] = defaultdict(list)
        self._scopes: dict[str, set[str]] = defaultdict(set)
        for resource in self.resources:
            if (resource.provider, resource.scope) in self._excluded_scopes:
                continue
            self._by_uid[resource.uid] = resource
            self._by_kind[(resource.provider, resource.kind)].append(resource)
            self._scopes[resource.provider].add(resource.scope)
        self._narrowed: dict[frozenset[tuple[str, str]], Inventory] = {}
        self._derived: dict[str, Any] = {}
        self._unknown: dict[tuple[str, str], dict[str, str]] = defaultdict(dict)
        self._kinds: dict[tuple[str, str], dict[str, str]] = defaultdict(dict)
        self._blind_providers: dict[str, str] = {}
        for run in self.runs:
            provider = run.provider or self.collector_providers.get(run.collector, run.collector)
            if run.scope:
                self._kinds[(provider, run.scope)].update(run.kinds)
            if run.status is RunStatus.FAILED:
                reason = f"{run.collector} on {run.target} failed: {run.error}"
                if run.scope:
                    self._unknown[(provider, run.scope)][ALL_KINDS] = reason
                    self._scopes[provider].add(run.scope)
                else:
                    self._blind_providers.setdefault(provider, reason)
            elif run.unknown:
                for key, reason in run.unknown.items():
                    kind, within = split_unknown_key(key)
                    scope = f"{run.scope}/{within}" if within else run.scope
                    self._scopes[provider].add(scope)
                    self._unknown[(provider, scope)][kind] = reason

    # -- reading -------------------------------------------------------------------

    def get(self, uid: str) -> Resource | None:
        return self._by_uid.get(uid)

    def of(self, provider: str, kind: str, scope: str | None = None) -> list[Resource]:
        """Every resource of one kind, optionally limited to one scope."""
        found = self._by_kind.get((provider, kind), [])
        if scope is None:
            return found
        return [r for r in found if r.scope == scope]

    def scopes(self, provider: str) -> set[str]:
        return set(self._scopes.get(provider, ()))

    def __iter__(self) -> Iterator[Resource]:
        return iter(self._by_uid.values())

    def __len__(self) -> int:
        return len(self._by_uid)

    def derived(self, key: str, build: Callable[[Inventory], Any]) -> Any:
        """A value computed once from this inventory and shared by the checks that read
        it (the identity graph: five path checks, one build)."""
        if key not in self._derived:
            self._derived[key] = build(self)
        return self._derived[key]

    def release(self) -> None:
        """Forget the derived values and narrowed views: they refer back to this
        inventory, and the cycle would keep the whole index alive until a collection."""
        for narrowed in self._narrowed.values():
            narrowed.release()
        self._narrowed.clear()
        self._derived.clear()

    def setting(self, name: str, default: Any = None) -> Any:
        return self.settings.get(name, default)

    # -- what is missing -------------------------------------------------------------

    def why_unknown(self, provider: str, scope: str, kinds: Iterable[str]) -> str | None:
        """Why any of ``kinds`` is missing in this scope, or None when all were read."""
        if provider in self._blind_providers:
            return self._blind_providers[provider]
        unknown: dict[str, str] = {}
        # A run records its own scope; AWS resources live in "<account>/<region>" scopes
        # below the run's "<account>", so gaps recorded on a prefix apply to all below it.
        for candidate in _scope_prefixes(provider, scope):
            unknown.update(self._unknown.get((provider, candidate), {}))
        if ALL_KINDS in unknown:
            return unknown[ALL_KINDS]
        reasons = [f"{kind}: {unknown[kind]}" for kind in kinds if kind in unknown]
        return "; ".join(reasons) or None

    def kind_states(self, provider: str, scope: str) -> dict[str, str]:
        """What the runs of this scope recorded of each kind they looked for: "read" or
        "not-served" (``CollectorRun.kinds``); unreadable kinds are in :meth:`why_unknown`.
        Empty when no run said (an inventory built by hand)."""
        found: dict[str, str] = {}
        for candidate in _scope_prefixes(provider, scope):
            found.update(self._kinds.get((provider, candidate), {}))
        return found

    def gaps(self, provider: str, scope: str) -> str | None:
        """Why this scope was not fully seen (any kind missing), or None."""
        if provider in self._blind_providers:
            return self._blind_providers[provider]
        unknown: dict[str, str] = {}
        for candidate in _scope_prefixes(provider, scope):
            unknown.update(self._unknown.get((provider, candidate), {}))
        if ALL_KINDS in unknown:
            return unknown[ALL_KINDS]
        return "; ".join(f"{kind}: {why}" for kind, why in sorted(unknown.items())) or None

    def blind_providers(self) -> dict[str, str]:
        """Providers with a failed target whose scope is not even known."""
        return dict(self._blind_providers)

    def without_scopes(self, excluded: Iterable[tuple[str, str]]) -> Inventory:
        """The same inventory minus some (provider, scope) pairs, for a check that cannot
        judge those scopes. Built once per set: many checks need the same kinds, and a
        partial poll would otherwise re-index the whole estate for each of them."""
        excluded = frozenset(excluded) | self._excluded_scopes
        if excluded not in self._narrowed:
            self._narrowed[excluded] = Inventory(
                resources=self.resources,
                runs=self.runs,
                settings=self.settings,
                now=self.now,
                collector_providers=self.collector_providers,
                _excluded_scopes=excluded,
            )
        return self._narrowed[excluded]


def _scope_prefixes(provider: str, scope: str) -> list[str]:
    """AWS scopes nest ("<account>" above "<account>/<region>"); others do not (an EKS
    context name such as "arn:aws:eks:...:cluster/prod" holds a "/" of its own)."""
    if provider != "aws":
        return [scope]
    parts = scope.split("/")
    return ["/".join(parts[:end]) for end in range(1, len(parts) + 1)]
