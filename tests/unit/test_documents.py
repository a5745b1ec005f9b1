"""Every YAML file bankml reads goes through one loader that bounds aliases."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from bankml.core.errors import BankmlError
from bankml.documents import ALIAS_NODES, load_yaml
from bankml.explain.reasons import load_catalogue
from bankml.governance.policy_files import load_access_policy, load_policy
from bankml.settings import load_settings
from bankml.training.spec import parse_spec
from bankml.validation.policy import parse_policy

SRC = Path(__file__).parents[2] / "src" / "bankml"
YAML_CALL = re.compile(r"yaml\.(safe_load|load|compose|full_load|unsafe_load)|"
                       r"YamlConfigSettingsSource\(")


def bomb(depth: int) -> str:
    """A billion laughs: about 1 KB standing for 9**depth nodes."""
    lines = ["l0: &l0 [ha, ha, ha, ha, ha, ha, ha, ha, ha]"]
    lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, depth + 1)]
    return "\n".join(lines) + "\n"


CYCLE = "model: &cycle [1, *cycle]\n"


def _file(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


READERS: dict[str, Callable[[Path, str], object]] = {
    "pipeline spec": lambda tmp, text: parse_spec(text, source="spec.yaml", folder=tmp),
    "tier policy": lambda tmp, text: load_policy(_file(tmp, "tier-1.yaml", text)),
    "access policy": lambda tmp, text: load_access_policy(
        _file(tmp, "access.yaml", text).parent),
    "validation policy": lambda tmp, text: parse_policy(text, source="credit.yaml"),
    "reason catalogue": lambda tmp, text: load_catalogue(text, inputs=["x"]),
    "settings file": lambda tmp, text: (_file(tmp, "bankml.yaml", text), load_settings()),
}


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize("text", [bomb(6), CYCLE], ids=["alias-bomb", "self-reference"])
def test_every_reader_refuses_unbounded_aliases(reader: str, text: str,
                                                tmp_path: Path) -> None:
    """A billion-laughs file, or an anchor aliased inside itself, is refused by every YAML
    reader with one rule, before anything walks the expanded tree."""
    with pytest.raises(BankmlError) as caught:
        READERS[reader](tmp_path, text)

    assert caught.value.rule == "yaml.aliases_bounded"


def test_a_deep_bomb_is_refused_at_once() -> None:
    """Depth 9 (billions of nodes) costs no more than reading its 1 KB."""
    with pytest.raises(BankmlError, match=r"expand to [\d,]+ more nodes"):
        load_yaml(bomb(9), source="bomb.yaml")


def test_modest_aliases_still_load() -> None:
    """Anchors and merge keys that add fewer nodes than the budget read as usual."""
    text = "base: &base {impute: median, scale: true}\nnumeric:\n  <<: *base\n  scale: false\n"

    assert load_yaml(text, source="spec.yaml") == {
        "base": {"impute": "median", "scale": True},
        "numeric": {"impute": "median", "scale": False}}
    assert ALIAS_NODES >= 1_000


def test_no_module_reads_yaml_around_the_shared_loader() -> None:
    """Only documents.py calls PyYAML's loaders (or pydantic-settings' YAML source)."""
    assert (SRC / "documents.py").is_file()
    callers = sorted(str(path.relative_to(SRC)) for path in SRC.rglob("*.py")
                     if YAML_CALL.search(path.read_text(encoding="utf-8")))

    assert callers == []
