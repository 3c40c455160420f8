"""The schema catalogue gathered from tests/fixtures/catalog: exact tables, indexes,
relations and the leftmost-prefix answers rules rely on."""

from __future__ import annotations

import json

import pytest

from backendlint.project import facts
from backendlint.project.catalog import Catalog
from tests.helpers.lint import FIXTURES, settings_for

ROOT = FIXTURES / "catalog"


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    found = facts.gather_project(settings_for(ROOT, ["BL"]), ["catalog"], None, "test")
    result = found.get("catalog")
    assert isinstance(result, Catalog)
    return result


def indexes(catalog: Catalog, table: str):
    """``{(columns, unique, partial, method)}`` of a table."""
    found = catalog.table(table)
    assert found is not None, f"no table {table}"
    return {(i.columns, i.unique, i.partial, i.method) for i in found.indexes}


def columns(catalog: Catalog, table: str):
    found = catalog.table(table)
    assert found is not None, f"no table {table}"
    return [c.name for c in found.columns]


def relations(catalog: Catalog, model: str):
    found = catalog.model(model)
    assert found is not None, f"no model {model}"
    return {(r.name, r.kind, r.target, r.column, r.many, r.lazy) for r in found.relations}


# -- Django models ------------------------------------------------------------------------


def test_django_tables_and_indexes(catalog):
    assert columns(catalog, "shop_order") == [
        "id", "created", "modified", "owner_id", "customer_id", "status", "number", "placed_at",
    ]
    assert indexes(catalog, "shop_order") == {
        (("id",), True, False, "btree"),
        (("created",), False, False, "btree"),  # db_index=True on the abstract base
        (("owner_id",), False, False, "btree"),  # ForeignKey, inherited from OwnedModel
        (("customer_id",), False, False, "btree"),
        (("customer_id", "number"), True, False, "btree"),  # unique_together
        (("owner_id", "created"), False, False, "btree"),  # inherited Meta.indexes, -created
        (("customer_id",), True, True, "btree"),  # UniqueConstraint(condition=...)
        (("customer_id", "placed_at"), False, False, "btree"),  # AddIndex of a later migration
    }
    owner_created = next(i for i in catalog.indexes("shop_order") if i.columns == ("owner_id", "created"))
    assert owner_created.descending == (False, True)
    assert owner_created.name == "order_owner_created"
    assert owner_created.source.startswith("core/models.py:18")

    assert indexes(catalog, "shop_product") == {
        (("id",), True, False, "btree"),
        (("created",), False, False, "btree"),
        (("sku",), True, False, "btree"),
        (("category_id", "price"), False, False, "btree"),  # category has db_index=False
        (("attributes",), False, False, "gin"),
        (("lower(title)",), False, False, "btree"),
    }
    lower = next(i for i in catalog.indexes("shop_product") if i.columns == ("lower(title)",))
    assert lower.expressions == (True,) and lower.references == ("title",)

    assert indexes(catalog, "catalog_category") == {  # Meta.db_table
        (("id",), True, False, "btree"),
        (("slug",), False, False, "btree"),  # SlugField indexes by default
        (("parent_id",), False, False, "btree"),
    }
    assert indexes(catalog, "shop_tag") == {(("id",), True, False, "btree"), (("lower(name)",), True, False, "btree")}
    assert indexes(catalog, "accounts_profile") == {(("id",), True, False, "btree"), (("user_id",), True, False, "btree")}


def test_django_many_to_many_through_tables(catalog):
    assert columns(catalog, "shop_product_tags") == ["id", "product_id", "tag_id"]
    assert indexes(catalog, "shop_product_tags") == {
        (("id",), True, False, "btree"),
        (("product_id", "tag_id"), True, False, "btree"),
        (("product_id",), False, False, "btree"),
        (("tag_id",), False, False, "btree"),
    }
    assert catalog.table("shop_group_members") is None  # explicit through model instead
    group = catalog.model("shop.models.Group")
    assert group.relation("members").through == "shop_membership"


def test_django_inheritance_proxy_and_external_bases(catalog):
    digital = catalog.model("DigitalProduct")
    assert digital.table == "shop_digitalproduct" and digital.parents == ("shop.models.Product",)
    assert digital.pk == "product_ptr"
    assert columns(catalog, "shop_digitalproduct") == ["product_ptr_id", "download_url"]
    assert catalog.resolve_field(digital, "sku") == (catalog.model("shop.models.Product"), "sku")
    assert catalog.resolve_field(digital, "download_url") == (digital, "download_url")
    assert catalog.resolve_field(digital, "nope") is None

    published = catalog.model("PublishedProduct")
    assert published.proxy and published.table == "shop_product" and published.ordering == ("title",)
    assert catalog.model_for_table("shop_product").qualname == "shop.models.Product"

    user = catalog.model("accounts.User")  # Django label form
    assert user.qualname == "accounts.models.User" and not user.complete  # AbstractUser is not in the project
    assert catalog.table("accounts_user").complete  # ... but its migration lists every column
    assert (("username",), True, False, "btree") in indexes(catalog, "accounts_user")
    assert catalog.table("accounts_profile").complete

    assert catalog.model("TimeStampedModel").abstract
    assert catalog.table("core_timestampedmodel") is None
    assert catalog.model("ExternalReport").table == "reporting_daily"  # Meta.managed = False, db_table


def test_django_ordering_fields_and_columns(catalog):
    order = catalog.model("shop.Order")
    assert order.ordering == ("-created",)  # class Meta(OwnedModel.Meta) inherits it
    assert catalog.model("Product").ordering == ()  # a plain class Meta does not
    assert catalog.model("Category").ordering == ("name",)
    assert order.fields == ("id", "created", "modified", "status", "number", "placed_at")
    assert order.column_of("customer") == "customer_id"
    assert order.column_of("customer_id") == "customer_id"
    assert order.column_of("pk") == "id"
    assert order.app_label == "shop"


def test_django_relations(catalog):
    assert relations(catalog, "shop.models.Order") == {
        ("owner", "fk", "accounts.models.User", "owner_id", False, "select"),
        ("customer", "fk", "accounts.models.User", "customer_id", False, "select"),  # settings.AUTH_USER_MODEL
        ("lines", "reverse_fk", "shop.models.OrderLine", "", True, "select"),
    }
    lines = catalog.model("Order").relation("lines")
    assert lines.remote_column == "order_id"
    assert lines.query_name == "line"  # related_query_name
    assert catalog.model("Order").relation_by_query_name("line") is lines
    assert relations(catalog, "shop.models.Category") == {
        ("parent", "fk", "shop.models.Category", "parent_id", False, "select"),
        ("children", "reverse_fk", "shop.models.Category", "", True, "select"),
        ("product_set", "reverse_fk", "shop.models.Product", "", True, "select"),
    }
    assert catalog.model("Tag") is None  # a Django and a SQLAlchemy model share the name
    assert relations(catalog, "shop.Tag") >= {("product_set", "reverse_m2m", "shop.models.Product", "", True, "select")}
    user_relations = {r[0] for r in relations(catalog, "accounts.models.User")}
    assert user_relations == {"profile", "shop_order_owned", "orders", "membership_set", "shop_groups", "cards"}
    assert catalog.model("User").relation("profile").kind == "reverse_o2o"
    assert catalog.model("Product").relation("digitalproduct").many is False
    assert catalog.model("Product").relation("orderline_set").query_name == "orderline"


# -- SQLAlchemy / SQLModel ----------------------------------------------------------------


def test_sqlalchemy_declarative_tables(catalog):
    assert columns(catalog, "accounts") == ["created_at", "id", "email", "region"]  # mixin column first
    assert indexes(catalog, "accounts") == {
        (("id",), True, False, "btree"),
        (("created_at",), False, False, "btree"),
        (("email",), True, False, "btree"),
        (("lower(email)",), True, False, "btree"),  # module-level Index(func.lower(Account.email))
        (("region",), False, False, "btree"),  # db/indexes.sql
    }
    assert indexes(catalog, "invoices") == {
        (("id",), True, False, "btree"),
        (("created_at",), False, False, "btree"),
        (("account_id", "status"), False, False, "btree"),
        (("due_at",), False, True, "btree"),  # postgresql_where
        (("account_id", "number"), True, False, "btree"),
    }
    assert indexes(catalog, "events") == {
        (("id",), True, False, "btree"),
        (("account_id", "kind"), False, False, "btree"),  # module-level Index(Event.account_id, Event.kind)
        (("payload",), False, False, "gin"),  # db/indexes.sql
    }
    assert indexes(catalog, "invoice_tags") == {(("invoice_id", "tag_id"), True, False, "btree")}
    assert indexes(catalog, "customers") == {(("id",), True, False, "btree"), (("user_name",), False, False, "btree")}
    assert catalog.model("Customer").column_of("username") == "user_name"
    assert catalog.table("accounts").column("region").nullable is False
    assert catalog.table("invoices").column("due_at").nullable is True


def test_sqlalchemy_relations(catalog):
    assert relations(catalog, "billing.models.Account") == {
        ("invoices", "relationship", "billing.models.Invoice", "", True, "selectin"),
        ("events", "relationship", "billing.models.Event", "", True, "write_only"),
    }
    assert relations(catalog, "billing.models.Invoice") == {
        ("account", "relationship", "billing.models.Account", "account_id", False, "select"),
        ("tags", "relationship", "billing.models.Tag", "", True, "raise"),
    }
    assert catalog.model("Invoice").relation("tags").through == "invoice_tags"
    assert catalog.model("Invoice").relation("account").back_populates == "invoices"
    # backref("addresses", lazy="dynamic") adds the reverse side to Customer
    assert relations(catalog, "billing.legacy.Customer") == {
        ("addresses", "relationship", "billing.legacy.Address", "", True, "dynamic"),
    }
    assert relations(catalog, "billing.legacy.Address") == {
        ("customer", "relationship", "billing.legacy.Customer", "customer_id", False, "select"),
    }


def test_sqlalchemy_inheritance_and_sqlmodel(catalog):
    assert columns(catalog, "employees") == ["id", "kind", "reports"]  # single-table inheritance
    assert catalog.model("Manager").table == "employees"
    assert catalog.model_for_table("employees").name == "Employee"
    assert columns(catalog, "hero") == ["name", "secret_name", "id", "age", "team_id"]
    assert indexes(catalog, "hero") == {(("id",), True, False, "btree"), (("name",), False, False, "btree")}
    assert catalog.model("HeroCreate") is None  # no table=True
    assert relations(catalog, "Team") == {("heroes", "relationship", "billing.heroes.Hero", "", True, "joined")}
    assert relations(catalog, "Hero") == {("team", "relationship", "billing.heroes.Team", "team_id", False, "select")}
    assert catalog.model("Hero").framework == "sqlmodel"


# -- Django migrations, Alembic revisions, .sql files --------------------------------------


def test_django_migrations_replayed_in_order(catalog):
    # inventory has migrations only: CreateModel, RemoveIndex, RenameField, AlterField,
    # AddField, AddIndexConcurrently, RunSQL and AddConstraint, applied in order
    assert columns(catalog, "inventory_stock") == ["id", "sku", "counted_at", "warehouse_id", "on_hand"]
    assert indexes(catalog, "inventory_stock") == {
        (("id",), True, False, "btree"),
        (("warehouse_id",), False, False, "btree"),
        (("warehouse_id", "sku"), True, False, "btree"),
        (("on_hand",), False, False, "btree"),  # AlterField(db_index=True) after the rename
        (("sku",), True, True, "btree"),
        (("warehouse_id", "on_hand"), False, True, "btree"),  # RunSQL ... WHERE
    }  # stock_counted was removed by RemoveIndex
    assert indexes(catalog, "inventory_warehouse") == {
        (("id",), True, False, "btree"),
        (("code",), True, False, "btree"),
        (("region", "city"), False, False, "btree"),
    }
    assert columns(catalog, "inventory_warehouse") == ["id", "code", "city", "region"]


def test_alembic_upgrades_in_revision_order(catalog):
    assert columns(catalog, "ledger") == ["id", "account_id", "posted_at", "reference", "memo", "currency"]
    assert indexes(catalog, "ledger") == {
        (("id",), True, False, "btree"),
        (("account_id", "posted_at"), False, False, "btree"),
        (("reference",), True, True, "btree"),  # postgresql_where
        (("memo",), False, False, "gin"),  # op.execute("CREATE INDEX ... USING gin")
        (("currency",), False, False, "btree"),  # add_column(Column(index=True))
        (("account_id", "reference"), True, False, "btree"),  # create_unique_constraint
    }  # ix_ledger_posted (batch op) dropped by 9f8e7d, ix_ledger_memo_lower by 0c1d2e;
    # downgrade() bodies are ignored
    assert catalog.table("ledger").column("id").primary_key


def test_sql_files(catalog):
    assert columns(catalog, "audit_log") == ["id", "actor_id", "action", "target_table", "target_id", "happened_at"]
    assert indexes(catalog, "audit_log") == {
        (("id",), True, False, "btree"),
        (("target_table", "target_id", "happened_at"), True, False, "btree"),
        (("actor_id", "happened_at"), False, False, "btree"),
        (("happened_at",), False, True, "btree"),
    }  # audit_log_action is created and dropped again; REFERENCES creates no index on PostgreSQL
    actor_time = next(i for i in catalog.indexes("audit_log") if i.name == "audit_log_actor_time")
    assert actor_time.descending == (False, True)
    # indexes added by .sql files to ORM-managed tables
    assert (("region",), False, False, "btree") in indexes(catalog, "accounts")
    assert (("payload",), False, False, "gin") in indexes(catalog, "events")
    assert (("label",), True, False, "btree") in indexes(catalog, "tags")
    assert (("day",), True, False, "btree") in indexes(catalog, "reporting_daily")
    assert catalog.table("reporting_daily").managed  # the SQL file declares it


# -- index questions ------------------------------------------------------------------------


def test_leftmost_prefix_answers(catalog):
    assert catalog.serving_index("invoices", "account_id") is not None
    assert catalog.serving_index("invoices", "status") is None  # second column alone
    assert catalog.serving_index("invoices", "status", ["account_id"]).name == "ix_invoices_account_status"
    assert catalog.serving_index("invoices", "number", {"account_id"}).name == "uq_invoice_number"
    assert catalog.serving_index("invoices", "due_at").partial  # partial counts as serving
    assert catalog.serving_index("shop_order", "created", ["owner_id"]) is not None
    assert catalog.serving_index("shop_order", "number") is None
    assert catalog.serving_index("shop_product", "price") is None
    assert catalog.serving_index("shop_product", "price", ["category_id"]) is not None
    assert catalog.serving_index("shop_product", "attributes").method == "gin"
    assert catalog.serving_index("shop_product", "title") is None
    assert catalog.serving_index("shop_product", "title", wrapped=True).name == "product_title_lower"
    assert catalog.serving_index("shop_product", "sku", wrapped=True) is None
    assert catalog.serving_index("public.Shop_Product", "SKU") is not None  # names are normalised
    assert catalog.serving_index("no_such_table", "id") is None


def test_uniqueness_answers(catalog):
    assert catalog.is_unique("shop_order", ["id"])
    assert catalog.is_unique("shop_order", ["customer_id", "number", "status"])
    assert not catalog.is_unique("shop_order", ["customer_id"])  # only the partial constraint
    assert not catalog.is_unique("shop_order", ["number"])
    assert catalog.is_unique("accounts", ["email"])
    assert not catalog.is_unique("shop_tag", ["name"])  # an expression constraint on lower(name)
    assert catalog.is_unique("invoice_tags", ["tag_id", "invoice_id"])


def test_describe_and_json(catalog):
    text = "\n".join(catalog.describe())
    assert "table shop_order" in text
    assert "  index order_owner_created (owner_id, created DESC)  <- core/models.py:18" in text
    assert "model billing.models.Account (sqlalchemy) -> accounts" in text
    assert "  relationship invoices -> billing.models.Invoice (lazy=selectin, many)" in text
    data = json.loads(json.dumps(catalog.to_json()))
    names = [t["name"] for t in data["tables"]]
    assert names == sorted(names) and "shop_order" in names
    order = next(m for m in data["models"] if m["qualname"] == "shop.models.Order")
    assert order["ordering"] == ["-created"] and order["framework"] == "django"


def test_facts_are_json_and_cached(tmp_path):
    settings = settings_for(ROOT, ["BL"])
    cache = tmp_path / "cache"
    first = facts.gather_project(settings, ["catalog"], cache, "code")
    second = facts.gather_project(settings, ["catalog"], cache, "code")
    assert first.digest() == second.digest()
    assert second.get("catalog").describe() == first.get("catalog").describe()
    stored = json.loads(next((cache / "project").glob("catalog-*.json")).read_text())
    assert "shop/models.py" in stored and "billing/models.py" in stored


# -- backendlint schema ----------------------------------------------------------------------


def _schema(*args: str):
    from click.testing import CliRunner

    from backendlint.cli import main

    return CliRunner().invoke(main, ["schema", str(ROOT), "--config", str(ROOT / "backendlint.toml"), "--no-cache", *args])


def test_schema_command_text():
    result = _schema()
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "table ledger" in lines
    assert "  index ix_ledger_account_posted (account_id, posted_at)  <- alembic/versions/1a2b3c_create_ledger.py:25 op.create_index" in lines
    assert "model shop.models.Order (django) -> shop_order" in lines
    assert "  ordering -created" in lines


def test_schema_command_json():
    result = _schema("--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["root"] == str(ROOT)
    ledger = next(t for t in data["tables"] if t["name"] == "ledger")
    assert ["account_id", "posted_at"] in [i["columns"] for i in ledger["indexes"]]
    hero = next(m for m in data["models"] if m["name"] == "Hero")
    assert hero["relations"][0]["name"] == "team" and hero["relations"][0]["lazy"] == "select"


def test_schema_command_errors(tmp_path):
    from click.testing import CliRunner

    from backendlint.cli import main

    missing = CliRunner().invoke(main, ["schema", str(tmp_path / "nope")])
    assert missing.exit_code == 2 and "no such file or directory" in missing.output
    (tmp_path / "pyproject.toml").write_text("[tool.backendlint]\n", encoding="utf-8")
    (tmp_path / "app.py").write_text("print('hi')\n", encoding="utf-8")
    empty = CliRunner().invoke(main, ["schema", str(tmp_path), "--no-cache"])
    assert empty.exit_code == 0 and "no tables or models found" in empty.output
    (tmp_path / "pyproject.toml").write_text("[tool.backendlint]\nnope = 1\n", encoding="utf-8")
    bad = CliRunner().invoke(main, ["schema", str(tmp_path)])
    assert bad.exit_code == 2 and "nope" in bad.output


ODD_FILES = {
    "odd/models.py": """
from django.db import models
from django.db.models import *

def make():
    return []

class Weird(models.Model):
    exec("x = 1")
    a = models.CharField(**{"max_length": 3})
    b = models.ForeignKey(to=make(), on_delete=models.CASCADE)
    c = models.ManyToManyField(make)
    d = models.IntegerField(db_index=make())

    class Meta:
        indexes = make()
        ordering = make()
        unique_together = make()
        constraints = [models.Index(), models.UniqueConstraint(fields=make(), name="x")]
        db_table = 3

class Loop(Loop2):
    x = models.IntegerField()

class Loop2(Loop):
    y = models.IntegerField()

class Self(Self):
    z = models.ForeignKey("self", on_delete=models.CASCADE)
""",
    "odd/migrations/0001_x.py": """
from django.db import migrations, models
class Migration(migrations.Migration):
    operations = [
        migrations.CreateModel(name=make(), fields=make()),
        migrations.AddField("nope", "f", models.IntegerField()),
        migrations.RunSQL(make()),
        migrations.RunSQL(["CREATE INDEX ON", ("CREATE INDEX i ON t (a)", None)]),
        migrations.RemoveIndex(model_name="nope", name="x"),
    ] + make()
""",
    "odd/sa.py": """
import sqlalchemy as sa
from sqlalchemy.orm import relationship, declarative_base
Base = declarative_base()
class A(Base):
    __tablename__ = make()
    __table_args__ = make()
    id = sa.Column(sa.Integer, primary_key=make())
    r = relationship(lambda: make(), backref=make(), lazy=make(), secondary=make())
class B(A):
    __tablename__ = "b"
    __table_args__ = ({"schema": "x"},)
    x = sa.Column()
Index("ix", make())
sa.Table(make(), Base.metadata)
""",
    "odd/versions/1_x.py": """
from alembic import op
revision = make()
down_revision = ("a", "b")
def upgrade():
    op.create_index()
    op.create_index(make(), make(), make())
    op.create_table(make())
    op.drop_index()
    op.add_column("t", make())
    op.execute(make())
    with op.batch_alter_table(make()) as b:
        b.create_index("i", ["a"])
""",
    "odd/schema.sql": "CREATE TABLE (; CREATE INDEX ON ; ALTER TABLE x ADD CONSTRAINT; DROP INDEX; CREATE TABLE t AS SELECT 1;",
}


def test_odd_inputs_never_break_the_catalogue(tmp_path):
    for name, text in ODD_FILES.items():
        target = tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    found = facts.gather_project(settings_for(tmp_path, ["BL"]), ["catalog"], None, "test").get("catalog")
    assert isinstance(found, Catalog) and not found.problems
    assert found.table("odd_weird") is not None
    assert found.table("b") is not None
    found.describe()
    json.dumps(found.to_json())


def test_a_failing_combine_gives_an_empty_catalogue(monkeypatch):
    from backendlint.project import gather
    from backendlint.project.catalog import CatalogGatherer

    def explode(per_file):
        raise RuntimeError("boom")

    monkeypatch.setattr(gather, "combine", explode)
    catalog = CatalogGatherer().combine({})
    assert catalog.tables == {} and "boom" in catalog.problems[0]
    assert catalog.describe()[0].startswith("problem: internal error")


def test_swappable_models_declared_under_if(catalog):
    # oscar-style: the concrete class sits under `if not is_model_registered(...)` in a
    # models module that imports nothing from Django itself
    card = catalog.model("loyalty.Card")
    assert card is not None and card.table == "loyalty_card"
    assert indexes(catalog, "loyalty_card") == {
        (("id",), True, False, "btree"),
        (("number",), True, False, "btree"),
        (("holder_id",), False, False, "btree"),
    }
    assert ("cards", "reverse_fk", "loyalty.models.Card", "", True, "select") in relations(catalog, "accounts.models.User")
