"""The outline as a tree: each node with its target and actual words and status."""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from storage.records import NodeRecord

STATUS_STYLE = {
    "planned": ("·", "dim"),
    "writing": ("✎", "bold yellow"),
    "done": ("✓", "green"),
    "stale": ("!", "bold red"),
}


def node_label(
    node: NodeRecord, words: int | None, *, live: bool = False, modified: bool = False
) -> Text:
    """``✓ Title 120/150``; ``modified``: a ``*`` after the title for text not saved."""
    status = "writing" if live else node.status
    mark, style = STATUS_STYLE.get(status, ("?", ""))
    label = Text()
    label.append(f"{mark} ", style=style)
    label.append(node.title or f"({node.level})")
    if modified:
        label.append("*", style="bold yellow")
    got = "-" if words is None else str(words)
    label.append(f" {got}/{node.target_words}", style="dim")
    return label


class OutlineTree(Tree[int]):
    """Node data is the outline node's id; the root is the work."""

    BINDINGS = [
        Binding("home", "first", "First", show=False),
        Binding("end", "last", "Last", show=False),
    ]
    DEFAULT_CSS = """
    OutlineTree {
        width: 34%; min-width: 28; max-width: 60; border-right: solid $panel-lighten-2;
    }
    OutlineTree.wide { width: 60%; max-width: 120; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("outline", id=id)
        self.show_root = False
        self.guide_depth = 2
        self._by_id: dict[int, TreeNode[int]] = {}
        self._pending: int | None = None
        self._shown: dict[int, tuple[NodeRecord, int | None, bool]] = {}  # node, words, live
        self.modified: set[int] = set()  # sections with text typed and not saved

    def show(
        self, nodes: list[NodeRecord], words: dict[int, int], *, live: int | None = None
    ) -> None:
        """Rebuild from ``nodes`` (pre-order with depths), keeping the cursor's node."""
        keep = self.selected_id
        self.clear()
        self._by_id.clear()
        self._shown = {n.id: (n, words.get(n.id), n.id == live) for n in nodes}
        parents: dict[int | None, TreeNode[int]] = {None: self.root}
        ids_with_children = {n.parent_id for n in nodes}
        for n in nodes:
            parent = parents.get(n.parent_id, self.root)
            label = self._label(n.id)
            if n.id in ids_with_children:
                branch = parent.add(label, data=n.id, expand=True)
                parents[n.id] = branch
                self._by_id[n.id] = branch
            else:
                self._by_id[n.id] = parent.add_leaf(label, data=n.id)
        target = keep if keep in self._by_id else None
        if target is None and nodes:
            target = next((n.id for n in nodes if n.id not in ids_with_children), nodes[0].id)
        if target is not None:
            self.select_id(target)

    @property
    def selected_id(self) -> int | None:
        if self._pending is not None:
            return self._pending
        node = self.cursor_node
        return node.data if node is not None else None

    def select_id(self, node_id: int) -> None:
        # Tree lines are laid out on the next refresh, and the cursor needs them.
        self._pending = node_id
        self.call_after_refresh(self._move_to_pending)

    def _move_to_pending(self) -> None:
        # A node not in the tree yet (just added) stays pending until the next ``show``.
        node = self._by_id.get(self._pending) if self._pending is not None else None
        if node is not None:
            self._pending = None
            self.move_cursor(node)

    def action_first(self) -> None:
        self.move_cursor_to_line(0)

    def action_last(self) -> None:
        self.move_cursor_to_line(self.last_line)

    def _label(self, node_id: int) -> Text:
        node, words, live = self._shown[node_id]
        return node_label(node, words, live=live, modified=node_id in self.modified)

    def relabel(self, node: NodeRecord, words: int | None, *, live: bool) -> None:
        self._shown[node.id] = (node, words, live)
        tree_node = self._by_id.get(node.id)
        if tree_node is not None:
            tree_node.set_label(self._label(node.id))

    def mark_modified(self, node_ids: set[int]) -> None:
        """Mark the sections whose text was typed and not saved (and no others)."""
        changed, self.modified = node_ids ^ self.modified, set(node_ids)
        for node_id in changed:
            tree_node = self._by_id.get(node_id)
            if tree_node is not None and node_id in self._shown:
                tree_node.set_label(self._label(node_id))
