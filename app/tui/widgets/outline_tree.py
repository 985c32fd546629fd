"""The outline as a tree: each node with its status, its number (sections and steps,
from 1, as the memories and the CLI count them), its title and its words against its
target. A title too long for the pane is cut with "…", never the words."""

from __future__ import annotations

from rich.cells import cell_len
from rich.style import Style
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


def label_parts(
    node: NodeRecord,
    words: int | None,
    *,
    live: bool = False,
    modified: bool = False,
    number: int | None = None,
) -> tuple[Text, str, Text]:
    """``✓ 3 ``, ``Title``, ``* 120/150``: what comes before the title, the title, and
    what comes after it (``*``: text typed and not saved)."""
    status = "writing" if live else node.status
    mark, style = STATUS_STYLE.get(status, ("?", ""))
    head = Text()
    head.append(f"{mark} ", style=style)
    if number is not None:
        head.append(f"{number} ", style="bold")
    tail = Text()
    if modified:
        tail.append("*", style="bold yellow")
    got = "-" if words is None else str(words)
    tail.append(f" {got}/{node.target_words}", style="dim")
    return head, node.title or f"({node.level})", tail


def node_label(
    node: NodeRecord,
    words: int | None,
    *,
    live: bool = False,
    modified: bool = False,
    number: int | None = None,
) -> Text:
    """``✓ 3 Title 120/150`` (see ``label_parts``)."""
    head, title, tail = label_parts(node, words, live=live, modified=modified, number=number)
    return Text.assemble(head, title, tail)


def fitted(head: Text, title: str, tail: Text, room: int) -> Text:
    """The label in ``room`` cells: the title cut with "…" so the words still show."""
    spare = room - head.cell_len - tail.cell_len
    if cell_len(title) > spare:
        kept = ""
        for char in title:
            if cell_len(kept + char) > max(0, spare - 1):
                break
            kept += char
        title = kept + "…"
    return Text.assemble(head, title, tail)


class OutlineTree(Tree[int]):
    """Node data is the outline node's id; the root is the work."""

    BINDINGS = [
        Binding("home", "first", "First", show=False, tooltip="The outline's first row"),
        Binding("end", "last", "Last", show=False, tooltip="The outline's last row"),
    ]
    DEFAULT_CSS = """
    OutlineTree {
        width: 34%; min-width: 28; max-width: 60; border-right: solid $panel-lighten-2;
    }
    OutlineTree:focus { border-right: thick $accent; }
    OutlineTree.wide { width: 60%; max-width: 120; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("outline", id=id)
        self.show_root = False
        self.guide_depth = 2
        self._by_id: dict[int, TreeNode[int]] = {}
        self._pending: int | None = None
        self._shown: dict[int, tuple[NodeRecord, int | None, bool]] = {}  # node, words, live
        self._numbers: dict[int, int] = {}  # a section's (or step's) number, from 1
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
        sections = [n.id for n in nodes if n.id not in ids_with_children]
        self._numbers = {node_id: i for i, node_id in enumerate(sections, start=1)}
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

    def _parts(self, node_id: int) -> tuple[Text, str, Text]:
        node, words, live = self._shown[node_id]
        return label_parts(
            node,
            words,
            live=live,
            modified=node_id in self.modified,
            number=self._numbers.get(node_id),
        )

    def _label(self, node_id: int) -> Text:
        return Text.assemble(*self._parts(node_id))

    def render_label(self, node: TreeNode[int], base_style: Style, style: Style) -> Text:
        """The label, its title cut to the pane's width (the words stay in view)."""
        label = super().render_label(node, base_style, style)
        node_id = node.data
        if node_id is None or node_id not in getattr(self, "_shown", {}):  # the root
            return label
        depth, above = 0, node.parent
        while above is not None and above is not self.root:
            depth, above = depth + 1, above.parent
        # Each level of the tree is indented by a guide as wide as ``guide_depth``.
        room = self.scrollable_content_region.width - self.guide_depth * (depth + 1)
        if label.cell_len <= room:
            return label
        icon = label.cell_len - self._label(node_id).cell_len  # a branch's ▼
        short = fitted(*self._parts(node_id), room - icon)
        short.stylize(style)
        return Text.assemble(label[:icon], short)

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
