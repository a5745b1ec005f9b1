"""YAML documents, read safely: the one loader for every YAML file bankml reads.

PyYAML's safe loader builds no objects from tags, but it still expands aliases: a 1 KB
file of nested aliases (a "billion laughs") stands for billions of nodes, and whatever
walks the result (validation, line indexes, digests) runs out of time or memory, while
an alias to its own anchor makes a cycle that overflows the stack. Here aliases may add
at most `ALIAS_NODES` nodes to the document as written, and none may refer to the node
it sits in; a file beyond that is refused before anything walks it.
"""

from __future__ import annotations

from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from bankml.core.errors import InvalidInputError

ALIAS_NODES = 10_000  # nodes aliases may add, beyond those written


class _BoundedLoader(yaml.SafeLoader):
    """A safe loader that measures the document with every alias expanded."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.written = 0
        self.expanded: dict[int, int] = {}  # id(node) -> its size with aliases expanded

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            anchor = self.peek_event().anchor  # type: ignore[no-untyped-call]
            target = self.anchors.get(anchor)
            if target is not None and id(target) not in self.expanded:
                raise _RecursiveAliasError(anchor)
            return super().compose_node(parent, index)
        node = super().compose_node(parent, index)
        if node is None:
            return None
        self.written += 1
        if isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        elif isinstance(node, yaml.MappingNode):
            children = [part for pair in node.value for part in pair]
        else:
            children = []
        self.expanded[id(node)] = 1 + sum(self.expanded[id(child)] for child in children)
        return node


class _RecursiveAliasError(Exception):
    def __init__(self, anchor: str) -> None:
        self.anchor = anchor


def compose_yaml(text: str, *, source: str) -> tuple[Any, yaml.Node | None]:
    """The data of a YAML document and its node tree (for line numbers).

    Raises yaml.YAMLError for text that is not YAML, and InvalidInputError (rule
    `yaml.aliases_bounded`) for aliases beyond the budget or referring to themselves.
    """
    loader = _BoundedLoader(text)
    try:
        try:
            node = loader.get_single_node()
        except _RecursiveAliasError as cycle:
            raise InvalidInputError(source, f"alias *{cycle.anchor} refers to the node it is "
                                    "part of; YAML cycles are not accepted",
                                    rule="yaml.aliases_bounded") from None
        if node is None:
            return None, None
        added = loader.expanded[id(node)] - loader.written
        if added > ALIAS_NODES:
            raise InvalidInputError(source, f"its aliases expand to {added:,} more nodes than "
                                    f"are written, beyond the {ALIAS_NODES:,} accepted; write "
                                    "the repeated parts out, or repeat less",
                                    rule="yaml.aliases_bounded")
        return loader.construct_document(node), node
    finally:
        loader.dispose()


def load_yaml(text: str, *, source: str) -> Any:
    """The data of a YAML document; see `compose_yaml` for what is refused."""
    return compose_yaml(text, source=source)[0]


Shape = TypeVar("Shape", bound=BaseModel)


def parse_document(shape: type[Shape], text: str, *, source: str, rule: str) -> Shape:
    """YAML `text` validated as `shape`; an error names `source`, every offending field
    and `rule` (policy files, whose fields a person wrote)."""
    try:
        return shape.model_validate(load_yaml(text, source=source))
    except yaml.YAMLError as exc:
        raise InvalidInputError(source, f"is not valid YAML: {exc}", rule=rule) from exc
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'file'}: {e['msg']}"
                             for e in exc.errors())
        raise InvalidInputError(source, problems, rule=rule) from exc
