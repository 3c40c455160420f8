"""Query chains: Django QuerySets and SQLAlchemy selects recognised in expressions."""

from __future__ import annotations

from typing import List

import libcst as cst
from backendlint_rules._orm import query_chain, sqlalchemy_execution

from tests.test_engine import _rule, _run

SEEN: List[tuple] = []


def _record(self, node: cst.Call) -> None:
    if isinstance(node.func, cst.Name) and node.func.value == "show":
        chain = query_chain(node.args[0].value, self.ctx)
        SEEN.append(None if chain is None else (chain.framework, chain.model_name, chain.methods, chain.certain))


Recorder = _rule("XQ001", {"visit_Call": _record})

SOURCE = '''
import boto3
from sqlalchemy import select
from shop.models import Order

def django_view(request, bucket):
    show(Order.objects.filter(status="paid").order_by("-created")[:20])
    qs = Order.objects.select_related("customer")
    qs = qs.filter(total__gt=10)
    show(qs.values("id"))
    show(self.model.objects.all())
    show(bucket.objects.filter(Prefix="x"))
    show(boto3.resource("s3").Bucket("b").objects.all())
    show(orders.objects.all())

async def alchemy(session, db):
    show(select(Order).where(Order.id == 1).limit(5))
    show(session.query(Order).filter_by(id=1).first())
    show(db.session.query(Order).all())
    show(api.query(Order))
    show(await session.scalars(select(Order)))
'''


def test_chains(tmp_path):
    SEEN.clear()
    result = _run(tmp_path, SOURCE, Recorder)
    assert not result.findings, result.findings
    assert SEEN == [
        ("django", "Order", ("filter", "order_by"), False),
        ("django", "Order", ("select_related", "filter", "values"), False),
        ("django", "self.model", ("all",), False),
        None,
        None,
        None,
        ("sqlalchemy", "Order", ("where", "limit"), True),
        ("sqlalchemy", "Order", ("filter_by", "first"), False),
        ("sqlalchemy", "Order", ("all",), False),
        None,
        None,
    ]


EXECUTIONS: List[tuple] = []


def _record_execution(self, node: cst.Call) -> None:
    if isinstance(node.func, cst.Name) and node.func.value == "show":
        found = sqlalchemy_execution(node.args[0].value, self.ctx)
        EXECUTIONS.append(
            None if found is None else (found.method, found.chain.methods if found.chain else None, found.result_methods)
        )


ExecutionRecorder = _rule("XQ002", {"visit_Call": _record_execution})

EXECUTION_SOURCE = '''
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from shop.models import Order

async def endpoint(session: AsyncSession, client):
    show((await session.execute(select(Order).where(Order.status == "paid"))).scalars().all())
    stmt = select(Order).order_by(Order.id).limit(10)
    result = await session.scalars(stmt)
    show(result)
    rows = result.all()
    show(rows)
    show(session.execute(text("SELECT 1")).first())
    show(client.execute(select(Order)).fetchall())
    show(client.execute("x").all())
    show(Order.objects.filter(a=1))
    show(sorted(rows))
'''


def test_sqlalchemy_executions(tmp_path):
    EXECUTIONS.clear()
    result = _run(tmp_path, EXECUTION_SOURCE, ExecutionRecorder)
    assert not result.findings, result.findings
    assert EXECUTIONS == [
        ("execute", ("where",), ("scalars", "all")),
        ("scalars", ("order_by", "limit"), ()),
        ("scalars", ("order_by", "limit"), ("all",)),
        ("execute", None, ("first",)),
        ("execute", (), ("fetchall",)),
        None,
        None,
        None,
    ]


def test_subscripts_are_kept(tmp_path):
    SEEN.clear()
    source = "from shop.models import Order\nqs = Order.objects.all()[:10]\nshow(qs.values('id'))\nshow(Order.objects.filter(a=1)[0])\n"
    SUBSCRIPTS.clear()
    _run(tmp_path, source, SubscriptRecorder)
    assert SUBSCRIPTS == [1, 1]


SUBSCRIPTS: List[int] = []


def _record_subscripts(self, node: cst.Call) -> None:
    if isinstance(node.func, cst.Name) and node.func.value == "show":
        SUBSCRIPTS.append(len(query_chain(node.args[0].value, self.ctx).subscripts))


SubscriptRecorder = _rule("XQ003", {"visit_Call": _record_subscripts})
