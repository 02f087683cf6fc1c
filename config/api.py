"""The JSON API under /api/v1/. Access rules come from qinghe.core.policies, enforced by the
same middleware as the pages; session authentication with CSRF protects writes."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.security import django_auth

from qinghe.accounts.api import router as accounts_router
from qinghe.core.errors import ApplicationError
from qinghe.enterprises.api import router as enterprises_router
from qinghe.events.api import router as events_router
from qinghe.jobs.api import router as jobs_router
from qinghe.jobs.api_applications import router as applications_router
from qinghe.matching.api import router as matching_router
from qinghe.reference.api import router as reference_router
from qinghe.talents.api import router as talents_router

api = NinjaAPI(
    title="青鹤 Qinghe API",
    version="1",
    description="鹤山市“青鹤归巢”青年人才服务平台接口。每个操作的可访问角色见 qinghe/core/policies.py。",
    urls_namespace="api",
    auth=django_auth,
)


@api.exception_handler(ApplicationError)
def _application_error(request: HttpRequest, exc: ApplicationError) -> HttpResponse:
    return api.create_response(
        request, {"detail": exc.message, **exc.extra}, status=exc.status_code
    )


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    detail = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
    return api.create_response(request, {"detail": "输入有误", "errors": detail}, status=400)


api.add_router("/accounts", accounts_router, tags=["账号"])
api.add_router("/reference", reference_router, tags=["参考数据"])
api.add_router("/talents", talents_router, tags=["人才数据库"])
api.add_router("/enterprises", enterprises_router, tags=["企业"])
api.add_router("/jobs", jobs_router, tags=["岗位"])
api.add_router("/jobs", applications_router, tags=["投递与面试"])
api.add_router("/matching", matching_router, tags=["岗位匹配"])
api.add_router("/events", events_router, tags=["活动"])
