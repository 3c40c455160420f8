"""Migration rules: no framework needed, dialect gating, the migration history, the
SQL classifier's sqlglot facts and the agreement of the two operation readers."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any, Dict, List

import libcst as cst
import pytest
import sqlglot.expressions as exp
from backendlint_rules import _migrations_django as django_reader
from backendlint_rules._migrations import sql_migration_kind
from backendlint_rules._migrations_sql import SqlState, classify, statements_of

from backendlint import api
from backendlint.api import Rule
from backendlint.discovery import SourceFile
from backendlint.engine.lint import Job, lint_file
from backendlint.project import facts, gather
from backendlint.project import migrations as history
from backendlint.sql.parse import parse_sql
from tests.helpers.lint import FIXTURES, found, lint, settings_for

ROOT = Path(__file__).resolve().parent.parent


def _write(root: Path, files: Dict[str, str]) -> None:
    for relpath, text in files.items():
        path = root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")


SHOP = {
    "shop/__init__.py": "",
    "shop/migrations/__init__.py": "",
    "shop/migrations/0001_initial.py": """
        from django.db import migrations, models


        class Migration(migrations.Migration):
            initial = True
            dependencies = []
            operations = [
                migrations.CreateModel(
                    name="Order",
                    fields=[
                        ("id", models.AutoField(primary_key=True)),
                        ("quantity", models.IntegerField()),
                        ("note", models.TextField(blank=True)),
                    ],
                ),
            ]
        """,
    "shop/migrations/0002_changes.py": """
        from django.db import migrations, models


        def backfill(apps, schema_editor):
            apps.get_model("shop", "Order").objects.update(quantity=0)


        class Migration(migrations.Migration):
            dependencies = [("shop", "0001_initial")]
            operations = [
                migrations.AlterField(model_name="order", name="quantity", field=models.BigIntegerField()),
                migrations.RemoveField(model_name="order", name="note"),
                migrations.AddIndex(model_name="order", index=models.Index(fields=["quantity"], name="qty_idx")),
                migrations.RunPython(backfill),
            ]
        """,
}
SHOP_FINDINGS = {
    ("shop/migrations/0002_changes.py", 11, "BL501"),
    ("shop/migrations/0002_changes.py", 12, "BL501"),
    ("shop/migrations/0002_changes.py", 13, "BL502"),
    ("shop/migrations/0002_changes.py", 14, "BL502"),
    ("shop/migrations/0002_changes.py", 14, "BL503"),
}

_NO_DJANGO = """
import importlib.abc, sys

class NoDjango(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "django" or name.startswith("django."):
            raise ImportError("django is not installed here")
        return None

sys.meta_path.insert(0, NoDjango())
for name in [n for n in sys.modules if n == "django" or n.startswith("django.")]:
    del sys.modules[name]
try:
    import django  # noqa: F401
except ImportError:
    pass
else:
    raise SystemExit("the import blocker does not work")
from backendlint.cli import main
sys.argv = ["backendlint", *sys.argv[1:]]
main()
"""


def test_django_migrations_are_judged_without_django(tmp_path):
    """Django's own code is never imported: the run succeeds with imports of django blocked."""
    _write(tmp_path, SHOP)
    proc = subprocess.run(
        [sys.executable, "-c", _NO_DJANGO, "check", str(tmp_path), "--select", "BL5", "--format", "json", "--no-cache"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1, proc.stderr
    payload = json.loads(proc.stdout)
    assert {(f["path"], f["line"], f["code"]) for f in payload["findings"]} == SHOP_FINDINGS
    assert "Traceback" not in proc.stderr


def test_one_changed_file_is_judged_against_the_whole_history(tmp_path):
    """A pre-commit hook lints only the new migration; the history still comes from the project."""
    _write(tmp_path, SHOP)
    result = lint(tmp_path, ["BL501"], paths=[tmp_path / "shop/migrations/0002_changes.py"])
    assert found(result) == {k for k in SHOP_FINDINGS if k[2] == "BL501"}


def test_suppression_comment_on_the_operation_line(tmp_path):
    files = dict(SHOP)
    files["shop/migrations/0002_changes.py"] = files["shop/migrations/0002_changes.py"].replace(
        'name="note"),', 'name="note"),  # backendlint: ignore[BL501]'
    )
    _write(tmp_path, files)
    assert ("shop/migrations/0002_changes.py", 12, "BL501") not in found(lint(tmp_path, ["BL501"]))


def test_locking_rule_is_off_for_other_databases(tmp_path):
    _write(tmp_path, SHOP)
    (tmp_path / "backendlint.toml").write_text('sql-dialect = "mysql"\n', encoding="utf-8")
    result = found(lint(tmp_path, ["BL501", "BL502", "BL503"]))
    assert {k[2] for k in result} == {"BL501", "BL503"}


def test_migrations_under_test_paths_are_skipped_unless_asked(tmp_path):
    files = {f"tests/{k}": v for k, v in SHOP.items()}
    _write(tmp_path, files)
    (tmp_path / "backendlint.toml").write_text('sql-dialect = "postgres"\n', encoding="utf-8")  # default test paths
    assert found(lint(tmp_path, ["BL501"])) == set()
    (tmp_path / "backendlint.toml").write_text("[rules.BL501]\ninclude-tests = true\n", encoding="utf-8")
    assert len(found(lint(tmp_path, ["BL501"]))) == 2


def test_files_that_are_not_migrations_are_not_judged(tmp_path):
    _write(tmp_path, {
        "tools/plan.py": """
            from django.db import migrations

            class Migration:  # a look-alike, not derived from django's Migration
                operations = [migrations.RemoveField(model_name="order", name="note")]
            """,
        "queries/report.sql": "DROP TABLE report_cache;\nCREATE INDEX report_idx ON orders (day);\n",
        "scripts/upgrade.py": """
            from alembic import op

            def upgrade():
                op.drop_column("orders", "note")
            """,
    })
    assert found(lint(tmp_path, ["BL501", "BL502", "BL503"])) == set()


# -- the migration history -------------------------------------------------------------------


def _history(files: Dict[str, str]) -> history.MigrationHistory:
    gatherer = history.MigrationsGatherer()
    per_file: Dict[str, Any] = {}
    for relpath, text in files.items():
        text = textwrap.dedent(text).lstrip("\n")
        if gatherer.wants(relpath, "python", text):
            facts = gatherer.read(relpath, "python", text, "postgres")
            if facts is not None:
                assert json.loads(json.dumps(facts)) == facts, "per-file facts must be JSON-able"
                per_file[relpath] = facts
    return gatherer.combine(per_file)


def _migration(dependencies: str, operations: str, extra: str = "") -> str:
    return (
        "from django.db import migrations, models\n\n\n"
        "class Migration(migrations.Migration):\n"
        f"    {extra}\n"
        f"    dependencies = {dependencies}\n"
        f"    operations = [\n{textwrap.indent(textwrap.dedent(operations).strip(), ' ' * 8)}\n    ]\n"
    )


_CREATE = """
migrations.CreateModel(name="Order", fields=[("id", models.AutoField(primary_key=True)), ("qty", models.IntegerField())]),
"""


def test_history_follows_renames_through_the_chain():
    found_history = _history({
        "shop/migrations/0001_initial.py": _migration("[]", _CREATE),
        "shop/migrations/0002_rename.py": _migration(
            '[("shop", "0001_initial")]',
            """
            migrations.RenameModel(old_name="Order", new_name="Purchase"),
            migrations.RenameField(model_name="purchase", old_name="qty", new_name="quantity"),
            migrations.AlterField(model_name="purchase", name="quantity", field=models.BigIntegerField()),
            """,
        ),
        "shop/migrations/0003_more.py": _migration(
            '[("shop", "0002_rename")]',
            'migrations.AlterField(model_name="purchase", name="quantity", field=models.BigIntegerField(null=True)),',
        ),
    })
    second = "shop/migrations/0002_rename.py"
    assert found_history.model_before(second, "0")["fields"]["qty"]["call"] == "django.db.models.IntegerField"
    assert found_history.model_before(second, "2")["fields"]["quantity"]["call"] == "django.db.models.IntegerField"
    third = found_history.model_before("shop/migrations/0003_more.py", "0")
    assert third["name"] == "Purchase"
    assert third["fields"]["quantity"]["call"] == "django.db.models.BigIntegerField"


def test_history_unknown_when_an_ancestor_is_missing():
    found_history = _history({
        "shop/migrations/0001_initial.py": _migration("[]", _CREATE),
        "shop/migrations/0003_alter.py": _migration(
            '[("shop", "0002_gone")]',
            'migrations.AlterField(model_name="order", name="qty", field=models.BigIntegerField()),',
        ),
    })
    assert found_history.model_before("shop/migrations/0003_alter.py", "0") is None


def test_history_separate_database_and_state_changes_only_the_state():
    found_history = _history({
        "shop/migrations/0001_initial.py": _migration("[]", _CREATE),
        "shop/migrations/0002_state.py": _migration(
            '[("shop", "0001_initial")]',
            """
            migrations.SeparateDatabaseAndState(
                database_operations=[migrations.RunSQL("SELECT 1")],
                state_operations=[migrations.RemoveField(model_name="order", name="qty")],
            ),
            migrations.AddField(model_name="order", name="qty", field=models.CharField(max_length=5)),
            """,
        ),
    })
    relpath = "shop/migrations/0002_state.py"
    assert found_history.model_before(relpath, "0/database_operations/0") is None  # RunSQL names no model
    assert "qty" in found_history.model_before(relpath, "0/state_operations/0")["fields"]
    assert "qty" not in found_history.model_before(relpath, "1")["fields"]


def test_history_merges_branches_and_follows_squashes():
    found_history = _history({
        "shop/migrations/0001_squashed_0004.py": _migration(
            "[]", _CREATE, extra='replaces = [("shop", "0001_initial"), ("shop", "0004_x")]'
        ),
        "shop/migrations/0005a_left.py": _migration(
            '[("shop", "0004_x")]', 'migrations.AddField(model_name="order", name="left", field=models.IntegerField(null=True)),'
        ),
        "shop/migrations/0005b_right.py": _migration(
            '[("shop", "0004_x")]', 'migrations.AddField(model_name="order", name="right", field=models.IntegerField(null=True)),'
        ),
        "shop/migrations/0006_merge.py": _migration(
            '[("shop", "0005a_left"), ("shop", "0005b_right"), ("auth", "0001_initial")]',
            'migrations.AlterField(model_name="order", name="left", field=models.IntegerField()),',
        ),
    })
    merged = found_history.model_before("shop/migrations/0006_merge.py", "0")
    assert {"id", "qty", "left", "right"} <= set(merged["fields"])


def test_history_keeps_unmanaged_and_constraint_state():
    found_history = _history({
        "shop/migrations/0001_initial.py": _migration(
            "[]",
            """
            migrations.CreateModel(name="View", fields=[("id", models.AutoField(primary_key=True))], options={"managed": False}),
            migrations.AddConstraint(
                model_name="view",
                constraint=models.CheckConstraint(condition=models.Q(id__isnull=False), name="view_id_nn"),
            ),
            migrations.DeleteModel(name="View"),
            """,
        ),
    })
    before_delete = found_history.model_before("shop/migrations/0001_initial.py", "2")
    assert before_delete["options"]["managed"] is False
    assert before_delete["constraints"]["view_id_nn"]["validated"] is True


def test_history_is_gathered_by_the_project_pass_and_cached(tmp_path, monkeypatch):
    _write(tmp_path, SHOP)
    reads = []
    original = history.read_django_migration
    monkeypatch.setattr(history, "read_django_migration", lambda text, relpath: reads.append(relpath) or original(text, relpath))
    settings = settings_for(tmp_path, ["BL501"])
    cache = tmp_path / ".cache"
    first = facts.gather_project(settings, ["migrations"], cache, "code").get("migrations")
    second = facts.gather_project(settings, ["migrations"], cache, "code").get("migrations")
    assert sorted(reads) == ["shop/migrations/0001_initial.py", "shop/migrations/0002_changes.py"]
    assert first == second
    assert first.model_before("shop/migrations/0002_changes.py", "0")["fields"]["quantity"]["call"] == "django.db.models.IntegerField"


def test_history_ignores_files_that_are_not_migrations():
    found_history = _history({"shop/models.py": "class Migration:\n    operations = []\n"})
    assert found_history.migrations == {}


# -- the two operation readers agree -------------------------------------------------------------


_ENCODED: List[Any] = []


class _Encoder(Rule):
    """Encodes each operation's arguments with the rule-side (LibCST) reader."""

    code = "XT501"
    name = "encoder"
    message = "x"

    def leave_Module(self, original_node: cst.Module) -> None:
        values = django_reader.Values(self.ctx)
        migration = django_reader.find_migration(values, original_node)
        if migration is None:
            return
        for node in migration.operations:
            operation = django_reader.read_operation(values, node)
            if operation is None:
                _ENCODED.append(None)
                continue
            encoded = {}
            for name, argument in operation.args.items():
                if name in django_reader.NESTED:
                    encoded[name] = len(django_reader.elements(argument))
                else:
                    encoded[name] = values.value(argument)
            _ENCODED.append((operation.name, encoded))


def _fixture_migrations() -> List[Path]:
    return sorted(p for p in FIXTURES.glob("BL50*/**/migrations/0*.py"))


@pytest.mark.parametrize("path", _fixture_migrations(), ids=lambda p: p.relative_to(FIXTURES).as_posix())
def test_project_pass_and_rules_encode_operations_alike(path):
    relpath = path.relative_to(FIXTURES).as_posix()
    text = path.read_text(encoding="utf-8")
    facts = history.read_django_migration(text, relpath)
    assert facts is not None
    _ENCODED.clear()
    settings = dataclasses.replace(settings_for(path.parent, ["BL"]), enabled=("XT501",))
    lint_file(SourceFile(path, relpath, "python"), Job(settings=settings, rules=(_Encoder,)))
    expected = []
    for op in facts["operations"]:
        known = op is not None and (op["qual"].startswith(django_reader.OPERATION_MODULES) or op["qual"] in django_reader.IGNORE_MARKERS)
        if not known:
            expected.append(None)
            continue
        kwargs = {k: (len(v) if k in history.NESTED and isinstance(v, list) else v) for k, v in op["kwargs"].items()}
        expected.append((op["op"], kwargs))
    assert _ENCODED == expected


def test_both_readers_name_positional_arguments_alike():
    for name, parameters in history.SIGNATURES.items():
        assert django_reader.SIGNATURES[name] == parameters


def test_one_table_of_operation_signatures():
    """The project pass and the rules name arguments from the one table the API holds."""
    assert history.SIGNATURES is api.DJANGO_OPERATION_SIGNATURES
    assert django_reader.SIGNATURES is api.DJANGO_OPERATION_SIGNATURES
    assert history.NESTED is django_reader.NESTED is api.DJANGO_NESTED_OPERATIONS


_ALIASED = """
from django.db import migrations as m, models
from django.db.migrations import AddField as Add

from ..fields import MoneyField


class Migration(m.Migration):
    dependencies = [("shop", "0001_initial")]
    operations = [
        Add("order", "total", MoneyField(null=True)),
        m.AddIndex(model_name="order", index=models.Index(fields=["total"], name="order_total_idx")),
        m.RunPython(m.RunPython.noop),
    ]
"""


def test_history_and_catalogue_read_the_same_operations():
    """One reader: both gatherers see the same operations, named through the imports
    (aliases and relative imports included), at the same lines."""
    relpath = "shop/migrations/0002_total.py"
    text = _ALIASED.lstrip("\n")
    read = history.read_django_migration(text, relpath)
    assert read is not None
    assert [op["op"] for op in read["operations"]] == ["AddField", "AddIndex", "RunPython"]
    added = read["operations"][0]["kwargs"]
    assert (added["model_name"], added["name"]) == ("order", "total")
    assert added["field"]["call"] == "shop.fields.MoneyField"
    catalogued = gather.read(relpath, "python", text, "postgres")["django_migration"]["ops"]
    assert [(op["op"], op["line"]) for op in catalogued] == [(op["op"], op["line"]) for op in read["operations"][:2]]
    assert catalogued[0]["field"]["type"] == "MoneyField"
    assert [item["column"] for item in catalogued[1]["index"]["items"]] == ["total"]


def test_project_pass_and_rules_resolve_relative_imports_alike(tmp_path):
    relpath = "shop/migrations/0002_total.py"
    _write(tmp_path, {"shop/__init__.py": "", "shop/migrations/__init__.py": "", relpath: _ALIASED})
    path = tmp_path / relpath
    _ENCODED.clear()
    settings = dataclasses.replace(settings_for(tmp_path, ["BL"]), enabled=("XT501",))
    lint_file(SourceFile(path, relpath, "python"), Job(settings=settings, rules=(_Encoder,)))
    read = history.read_django_migration(path.read_text(encoding="utf-8"), relpath)
    assert _ENCODED[0] == ("AddField", read["operations"][0]["kwargs"])
    assert _ENCODED[0][1]["field"]["call"] == "shop.fields.MoneyField"


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_history_reads_migrations_with_any_line_endings(newline):
    text = _migration("[]", _CREATE).replace("\n", newline)
    read = history.read_django_migration(text, "shop/migrations/0001_initial.py")
    assert read is not None
    assert [op["op"] for op in read["operations"]] == ["CreateModel"]


def test_history_skips_modules_that_define_no_migration_class():
    text = 'OPERATIONS = """\nclass Migration(migrations.Migration):\n    operations = []\n"""\n'
    assert history.read_django_migration(text, "shop/migrations/test_strings.py") is None
    assert history.read_django_migration("import x\nMigration = x.Migration\noperations = []\n", "a/migrations/0001_x.py") is None


# -- .sql migration files -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("relpath", "source", "kind"),
    [
        ("db/migrations/V3__add_index.sql", "", "up"),
        ("db/migrations/U3__add_index.sql", "", "down"),
        ("migrations/000004_users.up.sql", "", "up"),
        ("migrations/000004_users.down.sql", "", "down"),
        ("supabase/migrations/20240105093000_init.sql", "", "up"),
        ("prisma/migrations/20240105_init/migration.sql", "", "up"),
        ("sql/any_name.sql", "-- +goose Up\nSELECT 1;\n", "up"),
        ("queries/users.sql", "SELECT * FROM users;\n", None),
        ("schema.sql", "CREATE TABLE t (id int);\n", None),
    ],
)
def test_which_sql_files_are_migrations(relpath, source, kind):
    assert sql_migration_kind(relpath, source) == kind


# -- the SQL classifier and the sqlglot facts it relies on ---------------------------------------


def _statement(text: str) -> exp.Expression:
    parsed = parse_sql(text)
    assert parsed is not None and len(parsed.statements) == 1
    return parsed.statements[0]


def test_sqlglot_node_shapes():
    """The shapes the classifier reads (sqlglot 30); a change here must fail loudly."""
    alter_index = _statement("ALTER INDEX a_idx RENAME TO b_idx")
    assert isinstance(alter_index, exp.Alter) and alter_index.args["kind"] == "INDEX"
    not_valid = _statement("ALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY (a) REFERENCES u (id) NOT VALID")
    assert "NOT VALID" in not_valid.sql("postgres")
    assert "NOT VALID" not in not_valid.args["actions"][0].sql("postgres")
    default = _statement("ALTER TABLE t ADD COLUMN u uuid DEFAULT gen_random_uuid()")
    assert isinstance(default.args["actions"][0].args["constraints"][0].args["kind"].this, exp.Uuid)
    for text in (
        "ALTER TABLE t VALIDATE CONSTRAINT c",
        "ALTER TABLE t ADD CONSTRAINT u UNIQUE USING INDEX u_idx",
        "ALTER TABLE t RENAME CONSTRAINT a TO b",
        "ALTER SEQUENCE s RENAME TO s2",
        "REINDEX TABLE t",
        "VACUUM FULL t",
        "ALTER TYPE mood RENAME VALUE 'a' TO 'b'",
        "ALTER TABLE t ADD CHECK (a > 0)",
    ):
        assert isinstance(_statement(text), exp.Command), text
    set_not_null = _statement("ALTER TABLE t ALTER COLUMN a SET NOT NULL").args["actions"][0]
    assert isinstance(set_not_null, exp.AlterColumn) and set_not_null.args["allow_null"] is False
    create = _statement("CREATE INDEX CONCURRENTLY i ON t (a)")
    assert create.args["kind"] == "INDEX" and create.args["concurrently"] is True
    assert parse_sql("CLUSTER t USING i") is None


def _classify(script: str, transactional: bool = False) -> List[tuple]:
    state = SqlState()
    out = []
    for statement in statements_of(script, "postgres"):
        for change in classify(statement.text, statement.expression, state, transactional):
            out.append((statement.line_offset + 1, change[0]))
    return out


def test_classifier_exemptions_follow_the_file():
    script = """\
CREATE TABLE audit (id serial PRIMARY KEY, user_id int NOT NULL, note varchar(20));
CREATE INDEX audit_user_idx ON audit (user_id);
ALTER TABLE audit ADD CONSTRAINT audit_user_fk FOREIGN KEY (user_id) REFERENCES users (id);
ALTER TABLE audit ALTER COLUMN note TYPE varchar(200);
ALTER TABLE audit RENAME TO audits;
ALTER TABLE audits DROP COLUMN note;
ALTER TABLE users ALTER COLUMN note TYPE varchar(10) USING left(note, 10);
"""
    assert _classify(script) == [(7, "change_type")]


def test_classifier_transactions():
    script = "CREATE INDEX CONCURRENTLY a ON t (x);\nBEGIN;\nCREATE INDEX CONCURRENTLY b ON t (x);\nCOMMIT;\nDROP INDEX CONCURRENTLY c;\n"
    assert _classify(script) == [(3, "concurrent_in_transaction")]
    assert [k for _, k in _classify(script, transactional=True)] == ["concurrent_in_transaction"] * 3


def test_classifier_not_null_through_a_validated_check():
    script = (
        "ALTER TABLE t ADD CONSTRAINT t_a_nn CHECK (a IS NOT NULL) NOT VALID;\n"
        "ALTER TABLE t ALTER COLUMN a SET NOT NULL;\n"
        "ALTER TABLE t VALIDATE CONSTRAINT t_a_nn;\n"
        "ALTER TABLE t ALTER COLUMN a SET NOT NULL;\n"
    )
    assert _classify(script) == [(2, "set_not_null")]


def test_classifier_leaves_partly_known_commands_alone():
    assert _classify("REINDEX TABLE __hole1__;\nALTER TABLE __hole1__ DROP COLUMN x;\n") == [(2, "drop_column")]
