"""Every rule's annotated fixtures: the exact set of (file, line, code) must match.

``tests/fixtures/<CODE>/`` holds realistic code; a line that must be flagged carries
``# expect: <CODE>`` (``-- expect:`` in SQL), a trap that must not carries
``# ok: <CODE>``. An extra finding fails the test as surely as a missing one.
"""

from __future__ import annotations

import pytest

from tests.helpers.lint import FIXTURES, annotations, found, lint

# Minimum (true positives, traps) each rule's fixtures must hold.
MINIMUMS = {
    "BL101": (25, 25),
    "BL401": (15, 15),
    "BL201": (20, 20),
    "BL301": (20, 20),
    "BL302": (20, 20),
    "BL102": (25, 25),
    "BL103": (25, 25),
    "BL501": (30, 30),
    "BL502": (30, 30),
    "BL503": (10, 10),
    "BL303": (20, 20),
}

RULE_DIRS = sorted(p for p in FIXTURES.iterdir() if p.is_dir() and p.name[:2] == "BL")


@pytest.mark.parametrize("rule_dir", RULE_DIRS, ids=[p.name for p in RULE_DIRS])
def test_fixture_findings_match_annotations(rule_dir):
    code = rule_dir.name
    expected, _ = annotations(rule_dir, code)
    result = lint(rule_dir, [code])
    actual = {key for key in found(result) if key[2] == code or key[2] in ("BL001", "BL003")}
    missing = sorted(expected - actual)
    extra = sorted(actual - expected)
    assert not missing and not extra, f"missed: {missing}\nunexpected: {extra}"


@pytest.mark.parametrize("code", sorted(MINIMUMS))
def test_fixture_sizes(code):
    expected, traps = annotations(FIXTURES / code, code)
    positives, negatives = MINIMUMS[code]
    assert len(expected) >= positives, f"{code}: only {len(expected)} true positives"
    assert len(traps) >= negatives, f"{code}: only {len(traps)} traps"


def test_every_rule_has_fixtures():
    from backendlint.registry import default_registry

    codes = {r.meta.code for r in default_registry().rules() if r.meta.origin == "backendlint"}
    assert codes <= {p.name for p in RULE_DIRS}
    assert codes <= set(MINIMUMS)
