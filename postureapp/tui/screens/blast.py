"""Blast radius: from an identity, endpoint or workload, what reaches it from the
internet and everything it can reach, drawn as a tree with each hop's evidence.

The graph is built from the shown snapshot's stored resources in a worker (once per
snapshot, cached by the app); this screen only draws it. Every name and evidence string
came from outside, so each label is a ``Text``, never markup.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Footer, Static, Tree
from textual.widgets.tree import TreeNode

from postureapp.graph.reach import TreeItem, blast_tree
from postureapp.tui import text as fmt

_KIND_STYLES = {
    "endpoint": "bold #F5A623",
    "workload": "bold",
    "service-account": "bold cyan",
    "k8s-role": "cyan",
    "iam-role": "bold magenta",
    "iam-user": "bold magenta",
    "iam-group": "bold magenta",
    "k8s-user": "bold cyan",
    "k8s-group": "bold cyan",
    "aws-resource": "magenta",
    "capability": "bold red",
    "section": "bold underline",
    "route": "#F5A623",
    "grant": "",
    "credential": "",
}
_KIND_NAMES = {
    "endpoint": "endpoint",
    "workload": "workload",
    "service-account": "service account",
    "k8s-role": "role",
    "iam-role": "IAM role",
    "iam-user": "IAM user",
    "iam-group": "IAM group",
    "k8s-user": "User",
    "k8s-group": "Group",
    "aws-resource": "resource",
    "capability": "can",
    "section": "",
    "route": "",
    "grant": "",
    "credential": "credential",
}


def item_label(item: TreeItem) -> Text:
    """``exposes  workload  shop/web  — selector app=web`` as safe, styled text."""
    if item.kind == "unknown":
        return unknown_label(item)
    label = Text()
    if item.relation and item.kind != "capability":
        label.append(f"{item.relation} ", "dim italic")
    kind = _KIND_NAMES.get(item.kind, item.kind)
    if kind:
        label.append(f"{kind} ", "dim" if item.kind != "capability" else "bold red")
    label.append_text(fmt.safe(item.name, _KIND_STYLES.get(item.kind, "")))
    if item.evidence:
        label.append("  — ", "dim")
        # A stale credential is the answer the on-call engineer is looking for.
        stale = item.kind == "credential" and item.critical
        label.append_text(fmt.safe(item.evidence, "bold red" if stale else "dim"))
    return label


def unknown_label(item: TreeItem) -> Text:
    """``? may reach an IAM role through EKS Pod Identity: unknown — <reason>``: where the
    graph could not continue, set apart from what was seen (the reason is outside text)."""
    label = Text("? ", "bold reverse yellow")
    label.append_text(fmt.safe(item.name, "bold yellow"))
    reason = item.evidence.removeprefix("unknown — ")
    label.append(": unknown — ", "yellow")
    label.append_text(fmt.safe(reason, "italic yellow"))
    return label


class BlastRadius(Screen):
    """The tree from one node; escape goes back to the view it was opened from."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss_screen", "Back"),
        Binding("e", "expand_all", "Expand all"),
    ]

    def __init__(self, uid: str, title: str = "") -> None:
        super().__init__()
        self.uid = uid
        self.title_text = title or uid

    def compose(self) -> ComposeResult:
        heading = Text("BLAST RADIUS ", "bold reverse")
        heading.append("  ")
        heading.append_text(fmt.safe(self.title_text, "bold"))
        yield Static(heading, id="blast-title")
        yield Static(Text("building the identity graph…", "dim"), id="blast-status")
        tree: Tree[str] = Tree(Text("…"), id="blast-tree")
        tree.show_root = True
        yield tree
        yield Footer()

    def on_mount(self) -> None:
        graph = self.app.graph_for_shown()  # type: ignore[attr-defined]
        if graph is not None:
            self.show(graph)
        self.query_one(Tree).focus()

    def show(self, graph: Any, error: str = "") -> None:
        """Draw the tree (called on mount, and by the app when the graph is built)."""
        status = self.query_one("#blast-status", Static)
        tree = self.query_one(Tree)
        if error:
            status.update(fmt.safe(f"could not build the graph: {error}", "bold red"))
            return
        root = blast_tree(graph, self.uid)
        if root is None:
            status.update(
                Text(
                    "this resource is not an endpoint, workload, identity or group of the graph "
                    "(nothing to draw)",
                    "dim",
                )
            )
            tree.root.set_label(fmt.safe(self.uid))
            return
        gap = graph.gaps.get(root.uid)
        note = Text("e expands everything · escape goes back", "dim")
        if gap:
            note = fmt.safe(f"incomplete: {gap}", "bold yellow")
        status.update(note)
        tree.clear()
        tree.root.set_label(item_label(root))
        tree.root.data = root.uid
        for child in root.children:
            self._add(tree.root, child, depth=1)
        tree.root.expand()

    def _add(self, parent: TreeNode[str], item: TreeItem, depth: int) -> None:
        label = item_label(item)
        if not item.children:
            parent.add_leaf(label, data=item.uid)
            return
        node = parent.add(label, data=item.uid, expand=depth < 8)
        for child in item.children:
            self._add(node, child, depth + 1)

    def action_expand_all(self) -> None:
        self.query_one(Tree).root.expand_all()

    def action_dismiss_screen(self) -> None:
        self.app.pop_screen()
