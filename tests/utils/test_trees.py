"""Typed results saved and loaded: a round trip keeps every type, and a file naming a type
it was not asked for is refused."""
from dataclasses import dataclass

import numpy as np
import pytest

from bki_lab.utils.trees import load_tree, save_tree


@dataclass(frozen=True)
class Leaf:
    name: str
    mask: np.ndarray
    counts: dict


@dataclass(frozen=True)
class Node:
    leaves: tuple
    score: float | None
    extra: list


def test_a_tree_of_dataclasses_comes_back_equal_with_its_types(tmp_path):
    a = Leaf("a", np.array([True, False, True]), {0: 3, 1: 5})
    b = Leaf("b", np.arange(4, dtype=np.float32) / 3, {"x": (1, 2)})
    node = Node((a, b), None, [np.int64(7), 0.25, "s", (True,)])
    save_tree(node, tmp_path / "n.npz")
    back = load_tree(tmp_path / "n.npz", types={"Node": Node, "Leaf": Leaf})
    assert isinstance(back, Node) and isinstance(back.leaves, tuple) and back.score is None
    assert back.extra == [7, 0.25, "s", (True,)]
    for x, y in zip(back.leaves, node.leaves):
        assert isinstance(x, Leaf) and x.name == y.name and x.counts == y.counts
        assert x.mask.dtype == y.mask.dtype and np.array_equal(x.mask, y.mask)
    assert list(back.leaves[0].counts) == [0, 1]                # int keys stay ints


def test_a_type_not_asked_for_is_refused(tmp_path):
    save_tree(Leaf("a", np.zeros(2), {}), tmp_path / "l.npz")
    with pytest.raises(ValueError, match="unexpected type 'Leaf'"):
        load_tree(tmp_path / "l.npz", types={"Node": Node})
    np.savez(tmp_path / "other.npz", x=np.zeros(2))
    with pytest.raises(ValueError, match="no saved result"):
        load_tree(tmp_path / "other.npz", types={})


def test_what_cannot_be_saved_is_refused_and_nothing_is_left(tmp_path):
    with pytest.raises(TypeError, match="set"):
        save_tree(Node((), 1.0, [{1, 2}]), tmp_path / "x.npz")
    assert list(tmp_path.iterdir()) == []
