"""Read-only queries for the resource browser (``:res``) and the context switcher
(``:ctx``). Nothing here imports Textual.

The browser lists every resource of the shown snapshot, with or without findings, in
the shown context. Like the finding tables it works on a TEMP table of that snapshot
(``temp.tui_resources``, built on first use and again when the rows change), filters
and sorts in SQL, and fetches rows a page at a time by id.
"""

from __future__ import annotations

from array import array
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from postureapp.store.filters import FilterSpec, filter_sql

RESOURCE_COLUMNS = (
    "rid, uid, provider, scope, kind, name, namespace, created_at, first_seen, failing, findings"
)
# filter key -> column of temp.tui_resources
_FILTER_COLUMNS = {
    "ns": "namespace",
    "kind": "kind",
    "provider": "provider",
    "scope": "scope",
    "uid": "uid",
}
_WORD_COLUMNS = ("name", "uid", "kind", "scope", "namespace")
RESOURCE_SORTS: dict[str, str] = {
    "kind": "kind COLLATE NOCASE",
    "name": "name COLLATE NOCASE",
    "where": "scope || '/' || namespace",
    "provider": "provider",
    "failing": "failing",
    "age": "coalesce(created_at, first_seen)",
}
_AT = "r.valid_from <= :s AND (r.valid_to IS NULL OR r.valid_to > :s)"
_IN_SCOPE = "(r.scope = :scope OR substr(r.scope, 1, length(:scope) + 1) = :scope || '/')"


@dataclass(frozen=True, slots=True)
class Context:
    """A context ``:ctx`` can show: a kube cluster, an AWS account or account/region,
    or the probe's own results. ``name`` is what the scope filter matches."""

    name: str
    kind: str
    resources: int


def contexts(conn: Any, snapshot: Any) -> list[Context]:
    """The contexts of a snapshot, from its resources and its collector runs (a context
    whose collector read nothing is still listed, with 0 resources)."""
    if snapshot is None:
        return []
    counts: dict[tuple[str, str], int] = {}
    for provider, scope, number in conn.execute(
        f"SELECT provider, scope, count(*) FROM main.resources r WHERE {_AT} GROUP BY 1, 2",  # noqa: S608
        {"s": snapshot.id},
    ):
        counts[(provider or "", scope or "")] = number
    for run in snapshot.runs:
        provider = run.provider or run.collector
        if provider == "kubernetes":
            counts.setdefault(("kubernetes", run.scope or run.target), 0)
    found: dict[str, Context] = {}
    accounts: dict[str, int] = {}
    for (provider, scope), number in sorted(counts.items()):
        if not scope:
            continue
        if provider == "kubernetes":
            found[scope] = Context(scope, "kubernetes cluster", number)
        elif provider == "aws":
            account, _, region = scope.partition("/")
            accounts[account] = accounts.get(account, 0) + number
            if region:
                found[scope] = Context(scope, "aws region", number)
        else:
            found[scope] = Context(scope, f"{provider or 'other'} results", number)
    for account, number in accounts.items():
        found[account] = Context(account, "aws account", number)
    order = {"kubernetes cluster": 0, "aws account": 1, "aws region": 2}
    return sorted(found.values(), key=lambda c: (order.get(c.kind, 3), c.name))


class ResourceRows:
    """One filter/sort of the browser: ordered row ids, rows fetched by page."""

    PAGE = 100
    MAX_PAGES = 32

    def __init__(self, browser: ResourceQueries, ids: array, total: int) -> None:
        self._browser = browser
        self._builds = browser.builds
        self.ids = ids
        self.total = total
        self.generation = browser.generation
        self._pages: OrderedDict[int, list[dict[str, Any]]] = OrderedDict()

    def __len__(self) -> int:
        return len(self.ids)

    def widths(self) -> dict[str, int]:
        return self._browser.widths()

    def index_of(self, uid: str) -> int | None:
        if self._builds != self._browser.builds:
            return None
        found = self._browser.conn.execute(
            "SELECT rid FROM temp.tui_resources WHERE uid = ?", (uid,)
        ).fetchone()
        try:
            return self.ids.index(found[0]) if found else None
        except ValueError:
            return None

    def row(self, index: int) -> dict[str, Any] | None:
        if not 0 <= index < len(self.ids):
            return None
        number, offset = divmod(index, self.PAGE)
        page = self._pages.get(number)
        if page is None:
            page = self._fetch(number)
        else:
            self._pages.move_to_end(number)
        return page[offset] if offset < len(page) else None

    def _fetch(self, number: int) -> list[dict[str, Any]]:
        wanted = self.ids[number * self.PAGE : (number + 1) * self.PAGE].tolist()
        names = [c.strip() for c in RESOURCE_COLUMNS.split(",")]
        if self._builds != self._browser.builds:  # rebuilt: ids mean other rows now
            return [dict.fromkeys(names, "") | {"rid": rid} for rid in wanted]
        marks = ",".join("?" * len(wanted))
        cursor = self._browser.conn.execute(
            f"SELECT {RESOURCE_COLUMNS} FROM temp.tui_resources WHERE rid IN ({marks})",  # noqa: S608
            wanted,
        )
        by_id = {row[0]: dict(zip(names, row, strict=True)) for row in cursor}
        page = [by_id.get(rid) or dict.fromkeys(names, "") | {"rid": rid} for rid in wanted]
        self._pages[number] = page
        while len(self._pages) > self.MAX_PAGES:
            self._pages.popitem(last=False)
        return page


class ResourceQueries:
    """The browser's queries over a :class:`~postureapp.store.views.DashboardQueries`
    (its connection, shown snapshot, context and finding rows). Main thread only."""

    def __init__(self, queries: Any) -> None:
        self.queries = queries
        self.conn = queries.conn
        self.generation = -1  # the DashboardQueries generation the table was built for
        self.builds = 0
        self._total = 0
        self._widths: dict[str, int] = {}

    def _ensure(self) -> None:
        if self.generation == self.queries.generation:
            return
        snapshot = self.queries.snapshot
        scope = self.queries.scope
        self.conn.executescript(
            """
            DROP TABLE IF EXISTS temp.tui_resources;
            CREATE TEMP TABLE tui_resources (
                rid INTEGER PRIMARY KEY, uid TEXT NOT NULL, provider TEXT, scope TEXT,
                kind TEXT, name TEXT, namespace TEXT, created_at TEXT, first_seen TEXT,
                failing INTEGER NOT NULL DEFAULT 0, findings INTEGER NOT NULL DEFAULT 0
            );
            """
        )
        if snapshot is not None:
            where = _AT + (f" AND {_IN_SCOPE}" if scope else "")
            with self.conn:
                self.conn.execute(
                    "INSERT INTO temp.tui_resources (uid, provider, scope, kind, name,"  # noqa: S608
                    " namespace, created_at, first_seen, failing, findings)"
                    " SELECT r.uid, r.provider, r.scope, r.kind, r.name, r.namespace,"
                    " r.created_at, r.first_seen, coalesce(f.failing, 0), coalesce(f.total, 0)"
                    " FROM main.resources r LEFT JOIN ("
                    "  SELECT resource_uid, sum(status = 'fail' AND waiver != 1) AS failing,"
                    "  count(*) AS total FROM temp.tui_findings GROUP BY resource_uid"
                    " ) f ON f.resource_uid = r.uid"
                    f" WHERE {where} ORDER BY r.kind, r.name",
                    {"s": snapshot.id, "scope": scope},
                )
                self.conn.execute("CREATE INDEX temp.tui_resources_uid ON tui_resources(uid)")
        row = self.conn.execute(
            "SELECT count(*), max(length(kind)), max(length(name)),"
            " max(length(scope) + length(namespace) + (namespace != '')), max(failing)"
            " FROM temp.tui_resources"
        ).fetchone()
        self._total = row[0]
        self._widths = {
            "kind": row[1] or 0,
            "name": row[2] or 0,
            "where": row[3] or 0,
            "failing": len(str(row[4] or 0)),
        }
        self.generation = self.queries.generation
        self.builds += 1

    def widths(self) -> dict[str, int]:
        self._ensure()
        return dict(self._widths)

    def rows(self, spec: FilterSpec, sort: str = "kind", descending: bool = False) -> ResourceRows:
        """Resources matching ``spec`` (the filter language, resource keys only)."""
        self._ensure()
        params: list[Any] = []
        clauses = filter_sql(
            spec, params, columns=_FILTER_COLUMNS, word_columns=_WORD_COLUMNS, hide_passes=False
        )
        where = " AND ".join(clauses) or "1"
        if sort == "age":  # "older first" is the natural descending order of an age
            descending = not descending
        direction = "DESC" if descending else "ASC"
        order = f"{RESOURCE_SORTS[sort]} {direction}, kind COLLATE NOCASE, name COLLATE NOCASE, rid"
        sql = f"SELECT rid FROM temp.tui_resources WHERE {where} ORDER BY {order}"  # noqa: S608
        ids = array("q", (row[0] for row in self.conn.execute(sql, params)))
        return ResourceRows(self, ids, self._total)

    def facts(self, uid: str) -> dict[str, Any] | None:
        """A resource of the shown snapshot (or its last known version) with its
        collected attrs; collectors never keep a secret value in them."""
        snapshot = self.queries.snapshot
        return self.queries.resource(uid, snapshot.id if snapshot else 0)
