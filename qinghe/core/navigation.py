"""The main menu. Each entry names a route; an entry is shown only to roles whose policy in
``qinghe.core.policies`` lets them reach it, so the menu can never promise a forbidden page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _

from .policies import access_for


@dataclass(frozen=True)
class MenuItem:
    url_name: str
    label: Any
    hint: Any = ""


MENU: list[MenuItem] = [
    MenuItem("core:dashboard", _("工作台")),
    MenuItem("me:home", _("我的档案"), _("查看、更正、导出你的个人信息，管理授权")),
    MenuItem("talents:list", _("人才数据库"), _("鹤山籍学子从入学到就业的全程档案")),
    MenuItem("talents:import_list", _("调查导入"), _("导入教育局毕业生就业调查表")),
    MenuItem("jobs:search", _("找工作"), _("全职、实习、见习岗位，按专业、镇街、薪酬筛选")),
    MenuItem("enterprises:mine", _("我的企业"), _("企业信息、认证状态、同事账号、实习基地")),
    MenuItem("jobs:my_list", _("岗位管理"), _("发布全职、实习、见习岗位")),
    MenuItem("enterprises:review_list", _("企业审核"), _("核验企业的统一社会信用代码与信息")),
    MenuItem("jobs:staff_list", _("全部岗位"), _("每个岗位的企业与状态；审核、认定优质岗位")),
    MenuItem("enterprises:base_list", _("实习基地"), _("审核与认定实习基地，按年统计")),
    MenuItem("jobs:targets", _("年度目标"), _("优质岗位、实习基地、实习岗位、鹤山籍录用")),
    MenuItem("reference:index", _("参考数据"), _("专业目录、高校、双一流、区划、职业与行业分类")),
    MenuItem("core:audit_list", _("审计日志"), _("谁在何时对哪条记录做了什么")),
    MenuItem("admin:index", _("后台管理"), _("Django 管理后台")),
]


def menu_for(user: Any) -> list[MenuItem]:
    authenticated = bool(getattr(user, "is_authenticated", False))
    role = getattr(user, "role", None) if authenticated else None
    return [
        item
        for item in MENU
        if (access := access_for(item.url_name, "GET")) is not None
        and not access.public
        and access.allows(authenticated=authenticated, role=role)
    ]
