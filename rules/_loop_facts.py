"""Loops as the n-plus-one rule sees them: the names a loop binds, which names derive
from them, whether the number of iterations depends on data at all (literal and
constant collections, models, settings, ``range(<literal>)``), whether the loop is a
batching loop, and which statements of a body run at most once per loop (those
followed by ``return``/``break``/``raise``)."""

from __future__ import annotations

import dataclasses
import re
import weakref
from typing import Dict, FrozenSet, Iterator, List, Optional, Sequence, Set, Tuple

import libcst as cst

from backendlint.api import RuleContext, dotted_name

#: Iterables that list models, fields, apps or tables: their length is fixed by code.
CONSTANT_CALLS = frozenset(
    {
        "django.apps.apps.get_models",
        "django.apps.apps.get_app_configs",
        "django.db.models.get_models",
        "django.contrib.admin.site._registry.items",
    }
)
#: ``<x>.<attr>`` / ``<x>.<attr>()`` that enumerate schema, not data.
SCHEMA_ATTRIBUTES = frozenset(
    {
        "get_fields", "fields", "concrete_fields", "local_fields", "local_concrete_fields", "many_to_many",
        "related_objects", "private_fields", "get_models", "get_app_configs", "sorted_tables", "table_names",
        "get_table_names", "get_columns", "choices", "labels", "names", "__members__",
    }
)
#: Functions that cut an iterable into batches (last segment of the called name).
BATCH_FUNCTIONS = frozenset(
    {
        "batched", "chunked", "chunks", "ichunked", "grouper", "sliced", "batch", "batches", "in_batches",
        "chunk", "chunker", "chunkify", "iter_chunks", "chunk_list", "split_every", "partition_all",
        "paginate", "iter_batches", "page_range", "windowed",
    }
)
_BATCH_NAME = re.compile(r"(?:^|_)(?:chunk|batch|slice|shard|partition)(?:es|s)?$")
_UPPER = re.compile(r"^_?[A-Z][A-Z0-9_]*$")
_CAMEL = re.compile(r"^_?[A-Z][a-z0-9]+[A-Za-z0-9]*$")
#: Builtins that pass an iterable through unchanged (for classification).
PASS_THROUGH = frozenset(
    {"builtins.list", "builtins.tuple", "builtins.set", "builtins.frozenset", "builtins.sorted", "builtins.reversed",
     "builtins.iter", "builtins.enumerate"}
)


def names_of(target: cst.CSTNode) -> List[str]:
    """Names bound by a loop target (``a``, ``(i, a)``, ``[k, *rest]``)."""
    if isinstance(target, cst.Name):
        return [target.value]
    if isinstance(target, (cst.Tuple, cst.List)):
        found: List[str] = []
        for element in target.elements:
            found.extend(names_of(element.value))
        return found
    if isinstance(target, cst.StarredElement):
        return names_of(target.value)
    return []


def is_upper_constant(name: str) -> bool:
    return bool(_UPPER.match(name)) and len(name.strip("_")) > 1


def unwrap_builtin(node: cst.CSTNode, ctx: RuleContext) -> cst.CSTNode:
    """``sorted(list(x))`` -> ``x`` (first argument of pass-through builtins)."""
    for _ in range(6):
        if isinstance(node, cst.Call) and node.args and ctx.qualname(node.func) in PASS_THROUGH:
            node = node.args[0].value
            continue
        break
    return node


def classify_iterable(node: cst.CSTNode, ctx: RuleContext, depth: int = 0) -> str:
    """``constant`` (fixed by code), ``batch`` (cuts data into batches) or ``unknown``."""
    if depth > 6:
        return "unknown"
    if isinstance(node, (cst.Tuple, cst.List, cst.Set)):
        if not node.elements or any(isinstance(e, cst.StarredElement) for e in node.elements):
            return "unknown"  # an empty literal is filled later; a starred one is data
        return "constant"
    if isinstance(node, cst.Dict):
        return "constant" if node.elements and not any(isinstance(e, cst.StarredDictElement) for e in node.elements) else "unknown"
    if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
        return "constant"
    if isinstance(node, cst.Name):
        return _classify_name(node, ctx, depth)
    if isinstance(node, cst.Attribute):
        return _classify_attribute(node, ctx)
    if isinstance(node, cst.Call):
        return _classify_call(node, ctx, depth)
    if isinstance(node, cst.Subscript):
        value = node.value
        if isinstance(value, cst.Name) and is_upper_constant(value.value):
            return "constant"
        return "unknown"
    return "unknown"


def _classify_name(node: cst.Name, ctx: RuleContext, depth: int) -> str:
    bindings = ctx.bindings(node.value)
    if bindings:
        binding = bindings[-1]
        if binding.kind in ("assign", "annotation") and binding.value is not None and len(bindings) == 1:
            return classify_iterable(binding.value, ctx, depth + 1)
        if is_upper_constant(node.value) and all(b.kind == "assign" for b in bindings):
            return "constant"
        if binding.kind == "def":
            return "constant"  # iterating a class: an Enum
        return "unknown"
    if is_upper_constant(node.value):
        return "constant"
    if _CAMEL.match(node.value) and ctx.qualname(node) is not None:
        return "constant"  # an imported Enum / choices class
    return "unknown"


def _classify_attribute(node: cst.Attribute, ctx: RuleContext) -> str:
    qualified = ctx.qualname(node) or ""
    if qualified.startswith("django.conf.settings."):
        return "constant"
    attr = node.attr.value
    if is_upper_constant(attr):
        return "constant"
    if attr in SCHEMA_ATTRIBUTES and _schema_receiver(node.value):
        return "constant"
    if attr == "page_range":
        return "batch"
    return "unknown"


def _schema_receiver(node: cst.CSTNode) -> bool:
    """``Model._meta`` / ``Choices`` / ``metadata`` / ``apps``: the attribute is schema."""
    name = dotted_name(node) or ""
    last = name.rsplit(".", 1)[-1]
    return last in ("_meta", "metadata", "apps", "introspection", "inspector") or bool(_CAMEL.match(last))


def _classify_call(node: cst.Call, ctx: RuleContext, depth: int) -> str:
    qualified = ctx.qualname(node.func) or ""
    called = dotted_name(node.func) or ""
    last = called.rsplit(".", 1)[-1]
    if qualified in CONSTANT_CALLS:
        return "constant"
    if qualified == "builtins.range":
        if len(node.args) >= 3:
            return "batch"
        if all(_constant_number(a.value, ctx) for a in node.args):
            return "constant"
        return "unknown"
    if qualified in PASS_THROUGH and node.args:
        return classify_iterable(node.args[0].value, ctx, depth + 1)
    if qualified == "builtins.zip" and node.args:
        kinds = {classify_iterable(a.value, ctx, depth + 1) for a in node.args}
        return "constant" if kinds == {"constant"} else "unknown"
    if last in BATCH_FUNCTIONS or qualified.rsplit(".", 1)[-1] in BATCH_FUNCTIONS:
        return "batch"
    if last in ("items", "keys", "values") and isinstance(node.func, cst.Attribute) and not node.args:
        return classify_iterable(node.func.value, ctx, depth + 1)
    if last in SCHEMA_ATTRIBUTES and isinstance(node.func, cst.Attribute) and _schema_receiver(node.func.value):
        return "constant"
    if last == "get_table_names":
        return "constant"
    return "unknown"


def _constant_number(node: cst.CSTNode, ctx: RuleContext) -> bool:
    if isinstance(node, cst.Integer):
        return True
    if isinstance(node, cst.UnaryOperation):
        return _constant_number(node.expression, ctx)
    if isinstance(node, cst.BinaryOperation):
        return _constant_number(node.left, ctx) and _constant_number(node.right, ctx)
    if isinstance(node, cst.Name):
        if is_upper_constant(node.value):
            return True
        bindings = ctx.bindings(node.value)
        return len(bindings) == 1 and isinstance(bindings[0].value, cst.Integer)
    if isinstance(node, cst.Attribute):
        return is_upper_constant(node.attr.value) or (ctx.qualname(node) or "").startswith("django.conf.settings.")
    return False


def batch_named(names: Sequence[str]) -> bool:
    """A loop variable called like a batch (``chunk``, ``id_batch``, ``slices``)."""
    return any(_BATCH_NAME.search(n) for n in names)


# -- dependence on loop variables -----------------------------------------------------

_FIELDS: Dict[type, Tuple[str, ...]] = {}
_TRIVIA_FIELDS = frozenset(
    {"lpar", "rpar", "comma", "semicolon", "lbracket", "rbracket", "lbrace", "rbrace", "colon", "equal", "dot",
     "header", "footer", "leading_lines", "trailing_whitespace", "star", "operator", "newline", "asynchronous",
     "whitespace_before", "whitespace_after"}
)


def children(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """The child nodes of ``node`` without formatting trivia (much cheaper than
    ``node.children``, which runs a visitor)."""
    names = _FIELDS.get(type(node))
    if names is None:
        names = tuple(
            f.name for f in dataclasses.fields(node) if f.name not in _TRIVIA_FIELDS and not f.name.startswith("whitespace")
        )
        _FIELDS[type(node)] = names
    for name in names:
        value = getattr(node, name)
        if isinstance(value, cst.CSTNode):
            yield value
        elif isinstance(value, (tuple, list)):
            for item in value:
                if isinstance(item, cst.CSTNode):
                    yield item



def walk(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """Every expression node under ``node`` (attribute names and keywords excluded)."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        if isinstance(current, cst.Attribute):
            stack.append(current.value)
            continue
        if isinstance(current, cst.Arg):
            stack.append(current.value)
            continue
        if isinstance(current, (cst.Lambda, cst.FunctionDef, cst.ClassDef)):
            continue
        stack.extend(children(current))


def free_names(node: cst.CSTNode) -> Set[str]:
    return {n.value for n in walk(node) if isinstance(n, cst.Name)}


_UNPACKED: weakref.WeakKeyDictionary[RuleContext, Dict[str, cst.CSTNode]] = weakref.WeakKeyDictionary()


def note_unpacking(ctx: RuleContext, target: cst.CSTNode, value: cst.CSTNode) -> None:
    """``a, b = value``: the context keeps no value for ``a`` and ``b``; remember it here."""
    if isinstance(target, (cst.Tuple, cst.List)):
        found = _UNPACKED.setdefault(ctx, {})
        for name in names_of(target):
            found[name] = value


def value_of(ctx: RuleContext, name: str) -> Optional[cst.CSTNode]:
    """The value of the latest simple binding of ``name`` (through tuple unpacking too)."""
    bindings = ctx.bindings(name)
    if not bindings:
        return None
    binding = bindings[-1]
    if binding.value is None and binding.kind == "assign":
        return _UNPACKED.get(ctx, {}).get(name)
    return binding.value


def depends_on(node: cst.CSTNode, names: FrozenSet[str], ctx: RuleContext, depth: int = 0,
               seen: Optional[Set[str]] = None, any_binding: bool = False) -> bool:
    """Whether ``node`` reads one of ``names``, directly or through local names bound to
    expressions that do (``stmt = select(X).where(X.id == row.id)``). Names are followed
    through their latest binding, or through every binding with ``any_binding``."""
    if not names:
        return False
    seen = set() if seen is None else seen
    for name in free_names(node):
        if name in names:
            return True
        if depth >= 4 or name in seen:
            continue
        seen.add(name)
        bindings = ctx.bindings(name)
        if not bindings:
            continue
        chosen = bindings if any_binding else bindings[-1:]
        for binding in chosen:
            value = value_of(ctx, name) if binding is bindings[-1] else binding.value
            if binding.kind == "for" and isinstance(value, cst.For):
                value = value.iter
            elif binding.kind == "augassign" and isinstance(value, cst.AugAssign):
                value = value.value
            if binding.kind in ("param", "def") or value is None:
                continue
            if depends_on(value, names, ctx, depth + 1, seen, any_binding):
                return True
    return False


# -- statements that run at most once per loop ----------------------------------------


def _body_statements(node: cst.CSTNode) -> Sequence[cst.CSTNode]:
    body = getattr(node, "body", None)
    if isinstance(body, cst.IndentedBlock):
        return body.body
    if isinstance(body, cst.SimpleStatementSuite):
        return (body,)
    return ()


def _is_exit(statement: cst.CSTNode, nested_loop: bool) -> bool:
    if isinstance(statement, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
        for small in statement.body:
            if isinstance(small, (cst.Return, cst.Raise)):
                return True
            if isinstance(small, cst.Break) and not nested_loop:
                return True
    return False


def _blocks(statement: cst.CSTNode) -> List[Tuple[Sequence[cst.CSTNode], bool]]:
    """(statements, is a nested loop body) for each block of a compound statement."""
    found: List[Tuple[Sequence[cst.CSTNode], bool]] = []
    if isinstance(statement, (cst.For, cst.While)):
        found.append((_body_statements(statement), True))
        if statement.orelse is not None:
            found.append((_body_statements(statement.orelse), False))
        return found
    if isinstance(statement, cst.If):
        found.append((_body_statements(statement), False))
        orelse = statement.orelse
        while orelse is not None:
            found.append((_body_statements(orelse), False))
            orelse = orelse.orelse if isinstance(orelse, cst.If) else None
        return found
    if isinstance(statement, (cst.Try, cst.TryStar)):
        found.append((_body_statements(statement), False))
        for handler in statement.handlers:
            found.append((_body_statements(handler), False))
        if statement.orelse is not None:
            found.append((_body_statements(statement.orelse), False))
        if statement.finalbody is not None:
            found.append((_body_statements(statement.finalbody), False))
        return found
    if isinstance(statement, (cst.With, cst.Match)):
        if isinstance(statement, cst.Match):
            for case in statement.cases:
                found.append((_body_statements(case), False))
        else:
            found.append((_body_statements(statement), False))
    return found


def once_statements(loop: cst.CSTNode) -> FrozenSet[int]:
    """Ids of the statements in a loop body that are followed, in their own block or an
    enclosing one, by ``return``/``break``/``raise``: they run at most once per loop."""
    marked: Set[int] = set()
    if isinstance(loop, (cst.For, cst.While)):
        _scan(_body_statements(loop), False, False, marked)
    return frozenset(marked)


def _scan(statements: Sequence[cst.CSTNode], once: bool, nested_loop: bool, marked: Set[int]) -> None:
    exit_at: Optional[int] = None
    for index, statement in enumerate(statements):
        if _is_exit(statement, nested_loop):
            exit_at = index
            break
    for index, statement in enumerate(statements):
        here = once or (exit_at is not None and index <= exit_at)
        if here:
            marked.add(id(statement))
        for block, is_loop in _blocks(statement):
            _scan(block, here, nested_loop or is_loop, marked)


def _all_nodes(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        if isinstance(current, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
            continue
        stack.extend(children(current))


def source_text(node: cst.CSTNode, limit: int = 60) -> str:
    """Short source text of an expression, arguments elided (``Book.objects.filter(...)``)."""
    text = _short(node, 0)
    return text if len(text) <= limit else text[: limit - 3] + "..."


_MODULE = cst.Module(body=[])


def _short(node: cst.CSTNode, depth: int) -> str:
    if depth > 10:
        return "..."
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return f"{_short(node.value, depth + 1)}.{node.attr.value}"
    if isinstance(node, cst.Call):
        return f"{_short(node.func, depth + 1)}({'...' if node.args else ''})"
    if isinstance(node, cst.Await):
        return f"await {_short(node.expression, depth + 1)}"
    if isinstance(node, cst.Subscript):
        return f"{_short(node.value, depth + 1)}[...]"
    text = _MODULE.code_for_node(node)
    return " ".join(text.split())


def loop_names(frame_targets: Sequence[cst.CSTNode]) -> Dict[str, int]:
    """Name -> index of the comprehension clause (or 0) that binds it."""
    found: Dict[str, int] = {}
    for index, target in enumerate(frame_targets):
        for name in names_of(target):
            found.setdefault(name, index)
    return found


#: Calls whose result comes from the database (for the state of while loops).
FETCH_METHODS = frozenset(
    {
        "fetchone", "fetchall", "fetchmany", "fetchrow", "fetchval", "fetch", "fetch_one", "fetch_all", "fetch_val",
        "first", "last", "one", "one_or_none", "scalar", "scalar_one", "scalar_one_or_none", "scalars", "execute",
        "afirst", "alast", "latest", "earliest", "alatest", "aearliest", "values_list", "iterator", "in_bulk",
    }
)


def _from_database(value: cst.CSTNode) -> bool:
    for node in walk(value):
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
            name = node.func.attr.value
            if name in FETCH_METHODS:
                return True
            if name in ("get", "aget", "get_one") and (
                any(a.keyword is not None for a in node.args)
                or (len(node.args) >= 2 and (dotted_name(node.args[0].value) or "a")[:1].isupper())
            ):
                return True  # Model.objects.get(pk=...) / session.get(Model, key), not dict.get(key)
    return False


SLEEPS = frozenset({"time.sleep", "asyncio.sleep", "gevent.sleep", "trio.sleep", "anyio.sleep"})


def polls(loop: cst.CSTNode, ctx: RuleContext) -> bool:
    """A while loop that sleeps: it polls for a change (a job's state), it does not walk rows."""
    body = getattr(loop, "body", None)
    if body is None:
        return False
    for node in _all_nodes(body):
        if isinstance(node, cst.Call):
            name = ctx.qualname(node.func) or dotted_name(node.func) or ""
            if name in SLEEPS or name.endswith(".sleep") or name == "sleep":
                return True
    return False


def database_state(loop: cst.CSTNode) -> FrozenSet[str]:
    """Names a while loop re-assigns from database results (``cursor_id = row.next_id``
    after ``row = cur.execute(...).fetchone()``): a query that depends on them walks the
    rows one query at a time. State from elsewhere (a random code, a counter) does not."""
    assignments: List[Tuple[List[str], cst.CSTNode]] = []
    body = getattr(loop, "body", None)
    nodes = list(_all_nodes(body)) if body is not None else []
    test = getattr(loop, "test", None)
    if test is not None:
        nodes.extend(_all_nodes(test))
    for node in nodes:
        if isinstance(node, cst.Assign):
            names = [n for t in node.targets for n in names_of(t.target)]
            assignments.append((names, node.value))
        elif isinstance(node, (cst.AugAssign, cst.AnnAssign)) and node.value is not None:
            assignments.append((names_of(node.target), node.value))
        elif isinstance(node, cst.NamedExpr):
            assignments.append((names_of(node.target), node.value))
        elif isinstance(node, cst.For):
            assignments.append((names_of(node.target), node.iter))
    derived: Set[str] = set()
    changed = True
    while changed:
        changed = False
        for names, value in assignments:
            if not names or set(names) <= derived:
                continue
            if (free_names(value) & derived) or _from_database(value):
                derived.update(names)
                changed = True
    return frozenset(derived)


def only_in_slices(node: cst.CSTNode, names: FrozenSet[str], ctx: RuleContext, depth: int = 0) -> bool:
    """Whether every use of ``names`` in ``node`` (directly or through local names) is a
    bound of a slice (``ids[i:i + 500]``): the loop walks the data in batches."""
    found = False
    stack: List[Tuple[cst.CSTNode, bool]] = [(node, False)]
    while stack:
        current, in_slice = stack.pop()
        if isinstance(current, cst.Name):
            if current.value in names:
                if not in_slice:
                    return False
                found = True
            elif depth < 3 and not in_slice:
                bindings = ctx.bindings(current.value)
                value = bindings[-1].value if bindings and bindings[-1].kind == "assign" else None
                if value is not None and depends_on(value, names, ctx):
                    if not only_in_slices(value, names, ctx, depth + 1):
                        return False
                    found = True
            continue
        if isinstance(current, cst.Attribute):
            stack.append((current.value, in_slice))
            continue
        if isinstance(current, (cst.Lambda, cst.FunctionDef, cst.ClassDef)):
            continue
        inside = in_slice or isinstance(current, cst.Slice)
        stack.extend((child, inside) for child in children(current))
    return found


def memoised(statement: cst.CSTNode) -> bool:
    """An ``if`` whose body assigns what its test reads (``if key not in cache: cache[key] = ...``,
    ``if event != last_event: last_event = event``): a cache, the query runs per distinct key."""
    if not isinstance(statement, cst.If):
        return False
    read = {d for n in walk(statement.test) if (d := dotted_name(n)) is not None}
    if not read:
        return False
    blocks = [statement.body]
    if statement.orelse is not None:
        blocks.append(statement.orelse)
    for block in blocks:
        for node in _all_nodes(block):
            targets: List[cst.CSTNode] = []
            if isinstance(node, cst.Assign):
                targets = [t.target for t in node.targets]
            elif isinstance(node, (cst.AugAssign, cst.AnnAssign)):
                targets = [node.target]
            for target in targets:
                for element in _flatten(target):
                    base = element.value if isinstance(element, cst.Subscript) else element
                    name = dotted_name(base)
                    if name is not None and name in read:
                        return True
    return False


def _flatten(target: cst.CSTNode) -> List[cst.CSTNode]:
    if isinstance(target, (cst.Tuple, cst.List)):
        return [e for element in target.elements for e in _flatten(element.value)]
    return [target]
