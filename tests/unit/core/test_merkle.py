"""Merkle roots over decision records, checked against a hand-built tree."""

from __future__ import annotations

import hashlib

import pytest

from bankml.core.merkle import merkle_root

LEAVES = [hashlib.sha256(bytes([n])).hexdigest() for n in range(5)]


def _leaf(digest: str) -> bytes:
    return hashlib.sha256(b"\x00" + bytes.fromhex(digest)).digest()


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def test_five_leaves_make_the_hand_built_root() -> None:
    """((a b)(c d)) e: pairs left to right, the odd node carried up unchanged."""
    a, b, c, d, e = (_leaf(x) for x in LEAVES)

    assert merkle_root(LEAVES) == _node(_node(_node(a, b), _node(c, d)), e).hex()


def test_one_leaf_is_its_own_hashed_leaf() -> None:
    assert merkle_root(LEAVES[:1]) == _leaf(LEAVES[0]).hex()


@pytest.mark.parametrize("change", ["edit", "drop", "add", "swap"])
def test_any_change_changes_the_root(change: str) -> None:
    """Editing, dropping, adding or reordering a record gives another root."""
    changed = {"edit": [LEAVES[0], "f" * 64, *LEAVES[2:]], "drop": LEAVES[:-1],
               "add": [*LEAVES, LEAVES[0]], "swap": [LEAVES[1], LEAVES[0], *LEAVES[2:]]}[change]

    assert merkle_root(changed) != merkle_root(LEAVES)


def test_an_inner_node_cannot_pass_for_a_leaf() -> None:
    """Domain separation: the root of two leaves is not the leaf of their node's digest."""
    a, b = _leaf(LEAVES[0]), _leaf(LEAVES[1])

    assert merkle_root([_node(a, b).hex()]) != merkle_root(LEAVES[:2])


def test_an_empty_batch_has_no_root() -> None:
    with pytest.raises(ValueError, match="at least one record"):
        merkle_root([])
