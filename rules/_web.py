"""Web-framework knowledge: which functions handle requests, which calls put rows into a
response, which paginate, and which code runs as a batch job.

Covers Django (function views, class-based views, ``ListView``), Django REST framework
(``APIView``/generic views/viewsets, ``@api_view``, ``@action``, pagination), FastAPI,
Flask, Django Ninja, and the task queues (Celery, dramatiq, huey, rq, APScheduler).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

import libcst as cst

from backendlint.api import RuleContext, dotted_name

#: Route-decorator methods of FastAPI/Flask/Ninja applications and routers.
ROUTE_METHODS = frozenset({"get", "post", "put", "patch", "delete", "head", "options", "api_route", "route", "websocket"})
#: What those receivers resolve to.
ROUTE_RECEIVERS = (
    "fastapi.FastAPI()",
    "fastapi.APIRouter()",
    "fastapi.routing.APIRouter()",
    "flask.Flask()",
    "flask.Blueprint()",
    "ninja.NinjaAPI()",
    "ninja.Router()",
    "quart.Quart()",
    "quart.Blueprint()",
)
#: Receivers named like an application or router, when they are imported from elsewhere.
_ROUTER_NAME = re.compile(r"(?:^|_)(?:app|application|router|api|bp|blueprint|routes)$", re.IGNORECASE)
WEB_FRAMEWORK_ROOTS = ("fastapi", "flask", "ninja", "quart", "starlette")

#: Decorators that make a function a request handler.
VIEW_DECORATORS = frozenset(
    {
        "rest_framework.decorators.api_view",
        "rest_framework.decorators.action",
        "django.views.decorators.http.require_http_methods",
        "django.views.decorators.http.require_GET",
        "django.views.decorators.http.require_POST",
        "django.views.decorators.http.require_safe",
        "django.contrib.auth.decorators.login_required",
        "django.contrib.auth.decorators.permission_required",
        "django.contrib.auth.decorators.user_passes_test",
        "django.contrib.admin.views.decorators.staff_member_required",
        "django.views.decorators.cache.cache_page",
        "django.views.decorators.cache.never_cache",
        "django.views.decorators.csrf.csrf_exempt",
    }
)
#: Decorators that paginate what the handler returns.
PAGINATING_DECORATORS = frozenset({"ninja.pagination.paginate", "ninja.paginate"})
#: Methods of class-based views that build the response.
VIEW_METHODS = frozenset(
    {"get", "post", "put", "patch", "delete", "head", "list", "retrieve", "create", "update", "partial_update",
     "destroy", "get_context_data"}
)

#: Calls that put their arguments into a response as they are (the rows reach the client).
RESPONSE_CALLS = frozenset(
    {
        "django.http.JsonResponse",
        "django.http.response.JsonResponse",
        "django.http.HttpResponse",
        "django.shortcuts.render",
        "django.shortcuts.render_to_response",
        "django.template.response.TemplateResponse",
        "django.template.loader.render_to_string",
        "django.core.serializers.serialize",
        "rest_framework.response.Response",
        "flask.jsonify",
        "flask.render_template",
        "fastapi.responses.JSONResponse",
        "fastapi.responses.ORJSONResponse",
        "fastapi.responses.UJSONResponse",
        "starlette.responses.JSONResponse",
        "builtins.dict",
    }
)
#: Builtins that load every element of their argument.
MATERIALISING_BUILTINS = frozenset(
    {"builtins.list", "builtins.tuple", "builtins.sorted", "builtins.set", "builtins.frozenset"}
)
#: Calls and methods that paginate the query given to them.
PAGINATOR_CALLS = frozenset(
    {
        "django.core.paginator.Paginator",
        "fastapi_pagination.paginate",
        "fastapi_pagination.ext.sqlalchemy.paginate",
        "fastapi_pagination.ext.async_sqlalchemy.paginate",
        "fastapi_pagination.ext.sqlmodel.paginate",
        "fastapi_pagination.ext.django.paginate",
        "flask_sqlalchemy.pagination.Pagination",
    }
)
PAGINATOR_METHODS = frozenset({"paginate_queryset", "paginate", "get_page", "page"})

#: DRF classes whose GET lists the queryset.
DRF_LIST_VIEWS = frozenset(
    {
        "rest_framework.generics.ListAPIView",
        "rest_framework.generics.ListCreateAPIView",
        "rest_framework.viewsets.ModelViewSet",
        "rest_framework.viewsets.ReadOnlyModelViewSet",
        "rest_framework.mixins.ListModelMixin",
    }
)
DJANGO_LIST_VIEWS = frozenset(
    {
        "django.views.generic.ListView",
        "django.views.generic.list.ListView",
        "django.views.generic.list.BaseListView",
        "django.views.generic.list.MultipleObjectMixin",
    }
)
#: Bases that change nothing about listing and pagination.
NEUTRAL_BASE_ROOTS = ("rest_framework.", "django.views.", "django.contrib.auth.mixins.", "builtins.object")

#: Classes whose subclasses run as batch jobs.
BATCH_BASES = frozenset(
    {"django.core.management.base.BaseCommand", "django.core.management.BaseCommand",
     "django.core.management.base.LabelCommand", "django.core.management.base.AppCommand"}
)
#: Decorator names (last component) of task queues and schedulers.
BATCH_DECORATORS = frozenset(
    {"task", "shared_task", "periodic_task", "db_task", "db_periodic_task", "actor", "job", "scheduled_job", "cron"}
)
#: Paths of batch code: management commands, migrations, scripts, task-queue modules.
BATCH_PATH = re.compile(r"(?:^|/)(?:(?:management/commands|migrations|alembic|scripts|tasks|jobs|cron)/|tasks\.py$)")


@dataclass(frozen=True)
class FunctionRole:
    """What a function is, as far as data volume is concerned."""

    handler: bool = False
    batch: bool = False
    #: A route whose response model is a list (``response_model=list[X]``).
    list_endpoint: bool = False
    #: The framework paginates what it returns (Ninja ``@paginate``).
    paginated: bool = False


def function_role(node: cst.FunctionDef, ctx: RuleContext, in_class: bool) -> FunctionRole:
    handler = batch = list_endpoint = paginated = False
    for decorator in node.decorators:
        expression = decorator.decorator
        call = expression if isinstance(expression, cst.Call) else None
        func = call.func if call is not None else expression
        qualified = ctx.qualname(func) or ""
        written = dotted_name(func) or ""
        last = written.rsplit(".", 1)[-1]
        if qualified in VIEW_DECORATORS:
            handler = True
        elif qualified in PAGINATING_DECORATORS:
            paginated = True
        elif _is_route(func, ctx):
            handler = True
            list_endpoint = list_endpoint or _lists(call)
        elif last in BATCH_DECORATORS and not qualified.startswith(("rest_framework", "django")):
            batch = True
    params = [p.name.value for p in node.params.params]
    if in_class:
        name = node.name.value
        if name in VIEW_METHODS and (len(params) >= 2 and params[1] in ("request", "req") or name == "get_context_data"):
            handler = True
    elif params and params[0] in ("request", "req"):
        handler = True
    if handler and node.returns is not None and _is_list_type(node.returns.annotation):
        list_endpoint = True
    return FunctionRole(handler and not batch, batch, list_endpoint, paginated)


def _is_route(func: cst.CSTNode, ctx: RuleContext) -> bool:
    if not isinstance(func, cst.Attribute) or func.attr.value not in ROUTE_METHODS:
        return False
    receiver = ctx.resolve(func.value) or ""
    if receiver in ROUTE_RECEIVERS:
        return True
    name = dotted_name(func.value)
    if name is None or not _ROUTER_NAME.search(name.rsplit(".", 1)[-1]):
        return False
    imports = ctx.tracker.imports.aliases.values() if ctx.tracker else ()
    return any(target.split(".", 1)[0] in WEB_FRAMEWORK_ROOTS for target in imports)


def _lists(call: Optional[cst.Call]) -> bool:
    if call is None:
        return False
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value in ("response_model", "response"):
            return _is_list_type(arg.value)
    return False


def _is_list_type(node: cst.CSTNode) -> bool:
    """``list[X]``, ``List[X]``, ``typing.Sequence[X]``..."""
    if isinstance(node, cst.Subscript):
        name = (dotted_name(node.value) or "").rsplit(".", 1)[-1]
        return name in ("list", "List", "Sequence", "Iterable", "tuple", "Tuple", "set", "Set")
    return False


def is_batch_class(node: cst.ClassDef, ctx: RuleContext) -> bool:
    for base in node.bases:
        qualified = ctx.qualname(base.value) or ""
        written = dotted_name(base.value) or ""
        if qualified in BATCH_BASES or written.rsplit(".", 1)[-1] == "BaseCommand":
            return True
    return False
