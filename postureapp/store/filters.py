"""The dashboard's filter language (what is typed after ``/``), parsed into SQL.

Nothing here imports Textual. A filter is free words (all must match), ``key:value``
terms, and either prefixed with ``-`` to exclude. Bad terms are reported as errors
and left out of the query, so typing is never interrupted and a mistyped term never
narrows the table to nothing in silence.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from postureapp.model import Severity

__all__ = [
    "FILTER_HELP",
    "FINDING_KEYS",
    "RESOURCE_KEYS",
    "FilterSpec",
    "Term",
    "filter_sql",
    "like",
    "parse_filter",
]

FILTER_HELP = """\
Free words match the title, resource name or uid, check id and scope (all words must
match). Terms narrow further; repeat a key to allow several values. Prefix a word or a
term with "-" to exclude it (-bob, -ns:kube-system); quote to keep spaces ("two words").

  sev:high        severity at least high (sev:=high for exactly high)
  status:fail     fail | pass | unknown | error | all  (default: everything but pass)
  ns:prod         namespace (exact; * and ? are wildcards: ns:*-prod)
  kind:Pod        resource kind (case-insensitive, wildcards allowed)
  provider:aws    kubernetes | aws | probe
  check:<id>      check id (wildcards allowed)
  scope:<s>       cluster or account/region (wildcards allowed)
  uid:<uid>       one resource
  exposed:yes     on a path from an internet-facing endpoint (yes | no)
  cause:<id>      the findings of one root cause (z folds rows by cause)"""

_ALIASES = {
    "sev": "sev",
    "severity": "sev",
    "status": "status",
    "ns": "ns",
    "namespace": "ns",
    "kind": "kind",
    "provider": "provider",
    "check": "check",
    "scope": "scope",
    "uid": "uid",
    "exposed": "exposed",
    "cause": "cause",
}
FINDING_KEYS = frozenset(_ALIASES.values())
# The resource browser (:res) has no findings columns to filter on.
RESOURCE_KEYS = frozenset({"ns", "kind", "provider", "scope", "uid"})
PROVIDERS = ("kubernetes", "aws", "probe")
_STATUSES = ("fail", "pass", "unknown", "error", "all")
# a key:value (the value possibly quoted), a possibly negated quoted phrase, or any run
# of non-spaces; an unterminated quote runs to the end, so a half-typed filter parses
_TOKEN = re.compile(r'-?[\w.-]+:"[^"]*"?|-?"[^"]*"?|\S+')
_KEY = re.compile(r"[A-Za-z]+")


@dataclass(frozen=True, slots=True)
class Term:
    key: str  # canonical key: sev, status, ns, kind, provider, check, scope, uid, exposed, cause
    value: str
    negate: bool = False


@dataclass(frozen=True, slots=True)
class FilterSpec:
    """A parsed filter: free words, excluded words, terms, and what could not be parsed."""

    source: str = ""
    words: tuple[str, ...] = ()
    terms: tuple[Term, ...] = ()
    errors: tuple[str, ...] = ()
    excluded: tuple[str, ...] = ()  # free words prefixed with "-"

    def values(self, key: str) -> list[Term]:
        return [term for term in self.terms if term.key == key]


def parse_filter(text: str, keys: Iterable[str] = FINDING_KEYS) -> FilterSpec:
    """Parse what was typed after ``/``; ``keys`` are the terms this table knows.

    Bad terms are reported in ``errors``, not raised, and are left out of the query.
    A term still being typed (``kind:`` with no value yet) is neither an error nor a
    condition.
    """
    allowed = frozenset(keys)
    words: list[str] = []
    excluded: list[str] = []
    terms: list[Term] = []
    errors: list[str] = []
    for token in _TOKEN.findall(text):
        negate = token.startswith("-")
        body = token[1:] if negate else token
        if body.startswith('"'):  # a quoted phrase: text to look for, never a term
            phrase = body.strip('"')
            if phrase:
                (excluded if negate else words).append(phrase)
            elif negate and body == "":
                errors.append("'-' needs a word or a key:value after it (-bob, -ns:dev)")
            continue
        if not body:
            errors.append("'-' needs a word or a key:value after it (-bob, -ns:dev)")
            continue
        key, sep, value = body.partition(":")
        value = value.strip('"') if value.startswith('"') else value
        canonical = _ALIASES.get(key.lower()) if sep else None
        if canonical is None:
            if sep and _KEY.fullmatch(key) and not re.search(r"[:/]", value):
                known = ", ".join(sorted(k for k, v in _ALIASES.items() if v in allowed))
                errors.append(f"unknown filter key {key!r} (try {known})")
            else:  # a plain word, or an ARN, a k8s:// uid, a URL: text to look for
                (excluded if negate else words).append(body)
            continue
        if canonical not in allowed:
            known = ", ".join(sorted(allowed))
            errors.append(f"{key}: does not apply here (this table knows {known})")
            continue
        if not value:
            continue  # still being typed
        term, error = _term(canonical, value, negate)
        if error:
            errors.append(error)
        elif term is not None:
            terms.append(term)
    return FilterSpec(text.strip(), tuple(words), tuple(terms), tuple(errors), tuple(excluded))


def _term(key: str, value: str, negate: bool) -> tuple[Term | None, str]:
    if key == "sev":
        exact = value.startswith("=")
        name = value.lstrip("=")
        try:
            Severity.parse(name)
        except ValueError as error:
            return None, str(error)
        return Term(key, ("=" if exact else "") + name.lower(), negate), ""
    if key == "status":
        value = value.lower()
        if value not in _STATUSES:
            return None, f"unknown status {value!r} (choose one of: {', '.join(_STATUSES)})"
        if value == "all" and negate:
            return None, "-status:all would hide everything"
    elif key == "provider":
        value = value.lower()
        if not _is_glob(value) and value not in PROVIDERS:
            return None, f"unknown provider {value!r} (choose one of: {', '.join(PROVIDERS)})"
    elif key == "exposed":
        value = value.lower()
        if value not in ("yes", "no"):
            return None, f"exposed takes yes or no, not {value!r}"
    return Term(key, value, negate), ""


def like(value: str) -> str:
    """A LIKE pattern matching ``value`` anywhere (with ESCAPE '\\')."""
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


_WILDCARD = re.compile(r"[*?\[]")


def _is_glob(value: str) -> bool:
    return bool(_WILDCARD.search(value))


def _match(column: str, value: str, params: list[Any], *, fold: bool = False) -> str:
    """Exact match, or GLOB when the value has wildcards (case-folded when ``fold``)."""
    if fold:
        column, value = f"lower({column})", value.lower()
    params.append(value)
    return f"{column} GLOB ?" if _is_glob(value) else f"{column} = ?"


# canonical key -> column of the finding table (temp.tui_findings)
FINDING_COLUMNS: Mapping[str, str] = {
    "ns": "namespace",
    "kind": "kind",
    "provider": "provider",
    "check": "check_id",
    "scope": "scope",
    "uid": "resource_uid",
    "cause": "cause",
}
FINDING_WORD_COLUMNS = ("title", "name", "resource_uid", "check_id", "scope")


def _term_sql(term: Term, params: list[Any], columns: Mapping[str, str]) -> str | None:
    if term.key == "sev":
        if term.value.startswith("="):
            params.append(term.value[1:])
            return "severity = ?"
        params.append(Severity(term.value).rank)
        return "severity_rank >= ?"
    if term.key == "status":
        if term.value == "all":
            return None
        params.append(term.value)
        return "status = ?"
    if term.key == "exposed":
        return "exposed = 1" if term.value == "yes" else "exposed = 0"
    return _match(columns[term.key], term.value, params, fold=term.key in ("kind", "provider"))


def _words_sql(word: str, params: list[Any], columns: tuple[str, ...]) -> str:
    pattern = like(word)
    params.extend([pattern] * len(columns))
    return "(" + " OR ".join(f"{column} LIKE ? ESCAPE '\\'" for column in columns) + ")"


def filter_sql(
    spec: FilterSpec,
    params: list[Any],
    *,
    columns: Mapping[str, str] = FINDING_COLUMNS,
    word_columns: tuple[str, ...] = FINDING_WORD_COLUMNS,
    hide_passes: bool = True,
) -> list[str]:
    """WHERE clauses (ANDed) for a filter; by default over ``temp.tui_findings``."""
    clauses = [_words_sql(word, params, word_columns) for word in spec.words]
    clauses += [f"NOT {_words_sql(word, params, word_columns)}" for word in spec.excluded]
    by_key: dict[tuple[str, bool], list[Term]] = {}
    for term in spec.terms:
        by_key.setdefault((term.key, term.negate), []).append(term)
    status_given = any(term.key == "status" and not term.negate for term in spec.terms)
    for (_, negate), terms in by_key.items():
        parts = [part for term in terms if (part := _term_sql(term, params, columns)) is not None]
        if not parts:
            continue
        joined = " OR ".join(parts)
        clauses.append(f"NOT ({joined})" if negate else f"({joined})")
    if hide_passes and not status_given:
        clauses.append("status != 'pass'")
    return clauses
