"""The registry: entry points, validation of rule classes, duplicate codes."""

from __future__ import annotations

import pytest

from backendlint.api import Rule
from backendlint.registry import Registry, RegistryError, default_registry
from tests.test_engine import DOC


def _rule(**attrs):
    base = {"__doc__": DOC, "code": "XT200", "name": "test-rule", "message": "m"}
    return type("TestRule", (Rule,), {**base, **attrs})


def test_builtin_pack_comes_from_the_entry_point():
    registry = default_registry()
    assert "BL401" in registry.codes
    meta = registry.meta("silent-except")
    assert meta is not None and meta.code == "BL401" and meta.origin == "backendlint"
    assert registry.meta("BL001").name == "parse-error"


def test_duplicate_codes_and_names_are_refused():
    registry = Registry([(_rule(), "a")])
    with pytest.raises(RegistryError, match="duplicate rule code XT200"):
        registry.add(_rule(name="other-name"))
    with pytest.raises(RegistryError, match="duplicate rule name"):
        registry.add(_rule(code="XT201"))


@pytest.mark.parametrize(
    "attrs, needle",
    [
        ({"code": "bad"}, "invalid rule code"),
        ({"code": "BL050"}, "reserved for the engine"),
        ({"name": "Not_Kebab"}, "invalid rule name"),
        ({"message": ""}, "needs a message"),
        ({"__doc__": "Only a summary."}, "docstring lacks section"),
        ({"visit_NoSuchNode": lambda self, node: None}, "no LibCST node type"),
    ],
)
def test_invalid_rules_are_refused(attrs, needle):
    with pytest.raises(RegistryError, match=needle):
        Registry([(_rule(**attrs), "a")])


def test_selectors():
    registry = default_registry()
    assert registry.is_valid_selector("BL4") and registry.is_valid_selector("silent-except")
    assert not registry.is_valid_selector("BL9")
    assert registry.canonical("silent-except") == "BL401"
