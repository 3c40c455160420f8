"""LibCST helpers shared by the Django and Alembic migration readers."""

from __future__ import annotations

from typing import Dict, Optional, Sequence, Tuple

import libcst as cst

from backendlint.api import string_value


def named_arguments(node: cst.Call, names: Sequence[str]) -> Dict[str, cst.BaseExpression]:
    """A call's arguments by parameter name: positional ones named by ``names`` (a
    ``*args``/``**kwargs`` argument skipped), keywords by their own name."""
    out: Dict[str, cst.BaseExpression] = {}
    position = 0
    for arg in node.args:
        if arg.star:
            continue
        if arg.keyword is not None:
            out[arg.keyword.value] = arg.value
        else:
            if position < len(names):
                out[names[position]] = arg.value
            position += 1
    return out


def assignment(small: cst.BaseSmallStatement) -> Tuple[Optional[str], Optional[cst.BaseExpression]]:
    """``(name, value)`` of ``name = value`` or ``name: T = value``; ``(None, None)`` otherwise."""
    if isinstance(small, cst.Assign) and len(small.targets) == 1 and isinstance(small.targets[0].target, cst.Name):
        return small.targets[0].target.value, small.value
    if isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name):
        return small.target.value, small.value
    return None, None


def string(node: Optional[cst.CSTNode]) -> Optional[str]:
    """The value of a (possibly implicitly concatenated) ``str`` literal, else ``None``."""
    return string_value(node, allow_bytes=False)
