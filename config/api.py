"""The JSON API under /api/v1/. Access rules come from qinghe.core.policies, enforced by the
same middleware as the pages; session authentication with CSRF protects writes."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import ValidationError as InputError
from ninja.security import django_auth

from qinghe.accounts.api import router as accounts_router
from qinghe.alliance.api import router as alliance_router
from qinghe.cards.api import router as cards_router
from qinghe.core.errors import ApplicationError
from qinghe.enterprises.api import router as enterprises_router
from qinghe.events.api import router as events_router
from qinghe.jobs.api import router as jobs_router
from qinghe.matching.api import router as matching_router
from qinghe.plan.api import router as plan_router
from qinghe.policies.api import router as policies_router
from qinghe.policies.api import subsidies_router
from qinghe.recruitment.api import router as recruitment_router
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


# Pydantic's messages are English; the clients are Chinese. Types not listed keep their text.
_INPUT_MESSAGES: dict[str, str] = {
    "missing": "必填",
    "greater_than_equal": "不能小于 {ge}",
    "greater_than": "必须大于 {gt}",
    "less_than_equal": "不能大于 {le}",
    "less_than": "必须小于 {lt}",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "int_from_float": "应为整数",
    "float_parsing": "应为数字",
    "float_type": "应为数字",
    "bool_parsing": "应为 true 或 false",
    "bool_type": "应为 true 或 false",
    "string_type": "应为文本",
    "string_too_short": "至少 {min_length} 个字符",
    "string_too_long": "最多 {max_length} 个字符",
    "date_parsing": "应为日期（YYYY-MM-DD）",
    "date_from_datetime_parsing": "应为日期（YYYY-MM-DD）",
    "date_type": "应为日期（YYYY-MM-DD）",
    "datetime_parsing": "应为日期时间（ISO 8601）",
    "datetime_from_date_parsing": "应为日期时间（ISO 8601）",
    "datetime_type": "应为日期时间（ISO 8601）",
    "time_parsing": "应为时间（HH:MM）",
    "list_type": "应为列表",
    "dict_type": "应为对象",
    "model_attributes_type": "应为对象",
    "json_invalid": "不是有效的 JSON",
    "literal_error": "取值不在允许范围内",
    "enum": "取值不在允许范围内",
}


def _input_error_out(error: dict[str, Any]) -> dict[str, Any]:
    template = _INPUT_MESSAGES.get(str(error.get("type", "")))
    message = str(error.get("msg", ""))
    # a validator's own (Chinese) message, behind pydantic's English prefix
    message = message.removeprefix("Value error, ")
    if template is not None:
        try:
            message = template.format(**error.get("ctx", {}))
        except (KeyError, IndexError):
            message = template.split("{")[0].strip() or message
    return {"loc": list(error.get("loc", [])), "type": error.get("type", ""), "msg": message}


@api.exception_handler(InputError)
def _input_error(request: HttpRequest, exc: InputError) -> HttpResponse:
    """Parameters or body that do not fit the schema (wrong type, out of range): 422, in the
    same shape as the services' ValidationError above."""
    errors = [_input_error_out(error) for error in exc.errors]
    return api.create_response(request, {"detail": "输入有误", "errors": errors}, status=422)


api.add_router("/accounts", accounts_router, tags=["账号"])
api.add_router("/reference", reference_router, tags=["参考数据"])
api.add_router("/talents", talents_router, tags=["人才数据库"])
api.add_router("/enterprises", enterprises_router, tags=["企业"])
api.add_router("/jobs", jobs_router, tags=["岗位"])
api.add_router("/jobs", recruitment_router, tags=["投递与面试"])
api.add_router("/jobs", plan_router, tags=["年度目标"])
api.add_router("/matching", matching_router, tags=["岗位匹配"])
api.add_router("/events", events_router, tags=["活动"])
api.add_router("/chapters", alliance_router, tags=["青鹤联盟"])
api.add_router("/card", cards_router, tags=["鹤才青年卡"])
api.add_router("/policies", policies_router, tags=["政策库"])
api.add_router("/subsidies", subsidies_router, tags=["补贴"])
