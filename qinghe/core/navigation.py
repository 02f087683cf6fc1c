"""The main menu. Each entry names a route; an entry is shown only to roles whose policy in
``qinghe.core.policies`` lets them reach it, so the menu can never promise a forbidden page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext_lazy as _

from .policies import access_for

if TYPE_CHECKING:
    from qinghe.accounts.models import User


@dataclass(frozen=True)
class MenuItem:
    url_name: str
    label: Any
    hint: Any = ""
    group: str = ""
    # When set, only these roles see the entry even if the policy lets more in (a page whose
    # use for the others is narrow, e.g. chapter leaders reach 分会管理 from 我的分会).
    roles: frozenset[str] = frozenset()


GROUP_LABELS: dict[str, Any] = {
    "my": _("我的"),
    "enterprise": _("企业"),
    "talent": _("人才服务"),
    "recruit": _("招聘与岗位"),
    "analysis": _("分析"),
    "events": _("活动"),
    "system": _("系统"),
}


MENU: list[MenuItem] = [
    MenuItem("core:dashboard", _("工作台")),
    MenuItem("me:home", _("我的档案"), _("查看、更正、导出你的个人信息，管理授权"), group="my"),
    MenuItem(
        "talents:list", _("人才数据库"), _("鹤山籍学子从入学到就业的全程档案"), group="talent"
    ),
    MenuItem("talents:import_list", _("调查导入"), _("导入教育局毕业生就业调查表"), group="talent"),
    MenuItem(
        "jobs:search", _("找工作"), _("全职、实习、见习岗位，按专业、镇街、薪酬筛选"), group="my"
    ),
    MenuItem(
        "recruitment:my_applications", _("我的投递"), _("投递进度、面试安排与企业消息"), group="my"
    ),
    MenuItem(
        "matching:for_me",
        _("为你推荐"),
        _("按专业、学历、毕业时间与意向推荐岗位与实习，附理由"),
        group="my",
    ),
    MenuItem(
        "enterprises:mine",
        _("我的企业"),
        _("企业信息、认证状态、同事账号、实习基地"),
        group="enterprise",
    ),
    MenuItem(
        "matching:ent_postings",
        _("推荐人才"),
        _("为本企业岗位推荐同意匹配的学子，邀请投递"),
        group="enterprise",
    ),
    MenuItem("jobs:my_list", _("岗位管理"), _("发布全职、实习、见习岗位"), group="enterprise"),
    MenuItem(
        "recruitment:applicants",
        _("应聘管理"),
        _("本企业的应聘者、招聘阶段、面试安排"),
        group="enterprise",
    ),
    MenuItem(
        "enterprises:review_list",
        _("企业审核"),
        _("核验企业的统一社会信用代码与信息"),
        group="recruit",
    ),
    MenuItem(
        "jobs:staff_list",
        _("全部岗位"),
        _("每个岗位的企业与状态；审核、认定优质岗位"),
        group="recruit",
    ),
    MenuItem(
        "recruitment:staff_applications",
        _("投递与录用"),
        _("全部求职申请、各阶段人数与录用情况"),
        group="recruit",
    ),
    MenuItem(
        "enterprises:base_list", _("实习基地"), _("审核与认定实习基地，按年统计"), group="recruit"
    ),
    MenuItem(
        "plan:targets",
        _("年度目标"),
        _("优质岗位、实习基地、实习岗位、鹤山籍录用"),
        group="recruit",
    ),
    MenuItem(
        "board:board",
        _("十个一看板"),
        _("十项措施的全部指标、目标、责任单位、趋势与剩余"),
        group="analysis",
    ),
    MenuItem(
        "board:mine",
        _("我的看板"),
        _("本分会或本企业的年度数字，点击查看名单"),
        group="analysis",
    ),
    MenuItem(
        "board:funnel",
        _("返乡漏斗"),
        _("鹤山籍学子在校、毕业、就业、回鹤就业，按届别、院校、镇街；去向城市与行业"),
        group="analysis",
    ),
    MenuItem(
        "board:reports",
        _("月度报告"),
        _("每月 1 日生成的 PDF 与 Excel 报告，可随时生成与下载"),
        group="analysis",
    ),
    MenuItem(
        "matching:gap",
        _("紧缺人才分析"),
        _("在招岗位与未来三年毕业学子，按专业类与职业排行"),
        group="analysis",
    ),
    MenuItem(
        "matching:tags",
        _("匹配管理"),
        _("岗位职业标注与校正、专业对应职业、推荐公平性"),
        group="analysis",
    ),
    MenuItem(
        "outreach:workspace", _("我的学子"), _("联络记录、今日跟进、逾期与失联名单"), group="talent"
    ),
    MenuItem(
        "outreach:my_consultations",
        _("点单咨询"),
        _("向服务专员或人才驿站咨询政策、就业、安居等"),
        group="my",
    ),
    MenuItem(
        "outreach:consultations", _("咨询答复"), _("学子点单的咨询，超时提醒"), group="talent"
    ),
    MenuItem(
        "outreach:assignments",
        _("专员分配"),
        _("按高校、镇街分配服务专员，批量调整"),
        group="talent",
    ),
    MenuItem("outreach:figures", _("联络率"), _("各专员与总体的联络率、逾期跟进"), group="talent"),
    MenuItem(
        "outreach:campaigns",
        _("消息推送"),
        _("向人群分组推送资讯、政策、岗位、活动"),
        group="talent",
    ),
    MenuItem(
        "events:list", _("活动报名"), _("招聘会、宣讲会、直播带岗、研学与联盟活动"), group="events"
    ),
    MenuItem("events:mine", _("我的活动"), _("报名状态、候补排位与签到二维码"), group="events"),
    MenuItem(
        "events:manage",
        _("活动管理"),
        _("新建、审核、发布活动，报名名单与现场签到"),
        group="events",
    ),
    MenuItem(
        "fairs:list",
        _("云招聘会"),
        _("空中双选会展厅：各展位实时排队，与企业视频面谈；企业申请展位、管理队列"),
        group="events",
        roles=frozenset(
            {"student", "ambassador", "enterprise_hr", "hr_staff", "league_staff", "sysadmin"}
        ),
    ),
    MenuItem(
        "live:list",
        _("直播带岗"),
        _("企业直播推介岗位，现场提问，一键投递；直播结束后看回放与数据"),
        group="events",
        roles=frozenset(
            {"student", "ambassador", "enterprise_hr", "hr_staff", "league_staff", "sysadmin"}
        ),
    ),
    MenuItem(
        "live:manage", _("直播管理"), _("安排、开始、结束直播，设置回放，查看数据"), group="events"
    ),
    MenuItem(
        "video:mine",
        _("视频面试"),
        _("待进行与已结束的平台内视频面试，进入面试间"),
        group="my",
    ),
    MenuItem(
        "alliance:mine", _("青鹤联盟"), _("加入高校、城市与母校分会，收到的邀请"), group="events"
    ),
    MenuItem(
        "alliance:manage",
        _("分会管理"),
        _("新建、合并、撤销分会，审核入会申请，设负责人"),
        group="events",
        roles=frozenset({"league_staff", "sysadmin"}),
    ),
    MenuItem(
        "alliance:ambassador_rounds",
        _("大使评选"),
        _("年度高校引才大使：提名、入围、任命或投票"),
        group="events",
    ),
    MenuItem(
        "alliance:ambassador_home", _("大使工作"), _("本分会会员、活动报告与年度记录"), group="my"
    ),
    MenuItem(
        "alliance:story_manage",
        _("榜样故事"),
        _("返乡青年的故事：撰写、发布、撤下"),
        group="events",
    ),
    MenuItem("alliance:figures", _("联盟数据"), _("会员、分会、覆盖院校与城市"), group="analysis"),
    MenuItem(
        "policies:for_me",
        _("政策与补贴"),
        _("适合我的政策、补贴资格自查（不符合时说明原因与可满足日期）与申请"),
        group="my",
    ),
    MenuItem(
        "policies:my_applications", _("我的补贴申请"), _("申请进度、补充材料、发放"), group="my"
    ),
    MenuItem(
        "policies:staff_applications",
        _("补贴审核"),
        _("初审、复审（不同人员）、退回补充、不予通过、记录发放"),
        group="talent",
    ),
    MenuItem(
        "policies:staff_programmes",
        _("补贴项目与规则"),
        _("项目、资格规则（可编辑、有版本）、批量核查、政策发布"),
        group="talent",
    ),
    MenuItem(
        "policies:figures",
        _("补贴统计"),
        _("申请、批准、不予通过原因、发放金额、双一流占比"),
        group="analysis",
    ),
    MenuItem("cards:mine", _("鹤才青年卡"), _("申请、电子卡、续期、挂失与权益记录"), group="my"),
    MenuItem("stations:book", _("预约服务"), _("在人才驿站预约健康体检、政策咨询"), group="my"),
    MenuItem(
        "stations:my_specialist",
        _("我的服务专员"),
        _("人才驿站为你分配的服务专员，在线留言"),
        group="my",
    ),
    MenuItem("cards:manage", _("青年卡办理"), _("初审、审批、制卡、补卡"), group="talent"),
    MenuItem("stations:day", _("今日驿站"), _("预约、专窗排号、办理中的事项"), group="talent"),
    MenuItem("stations:list", _("人才驿站"), _("1+10+N 驿站网络与服务项目"), group="talent"),
    MenuItem(
        "stations:request_new",
        _("受理服务"),
        _("为人才受理政策咨询、补贴帮办、走访慰问等服务"),
        group="talent",
    ),
    MenuItem("stations:points", _("服务点"), _("人才服务中心新建、停用服务点"), group="talent"),
    MenuItem(
        "stations:specialists",
        _("专员分配"),
        _("按网格为持卡人和学子分配人才服务专员"),
        group="talent",
    ),
    MenuItem("stations:people", _("我服务的人"), _("分配给我的服务对象与待办事项"), group="talent"),
    MenuItem("cards:partner", _("青年卡核验"), _("扫码核验电子卡，登记权益使用"), group="my"),
    MenuItem("notifications:inbox", _("我的消息"), _("站内信、通知设置与退订"), group="my"),
    MenuItem(
        "reference:index",
        _("参考数据"),
        _("专业目录、高校、双一流、区划、职业与行业分类"),
        group="system",
    ),
    MenuItem(
        "notifications:undelivered",
        _("待确认消息"),
        _("发送结果未知的短信、邮件、微信消息：确认已送达或重新发送"),
        group="system",
    ),
    MenuItem(
        "scheduler:schedule",
        _("定时任务"),
        _("计划任务的下次执行时间、每次执行的结果与错误"),
        group="system",
    ),
    MenuItem("core:audit_list", _("审计日志"), _("谁在何时对哪条记录做了什么"), group="system"),
    MenuItem(
        "talents:unmasking",
        _("完整信息查看统计"),
        _("谁每天查看了多少学生的完整手机号、身份证号"),
        group="system",
    ),
    MenuItem("admin:index", _("后台管理"), _("直接维护各数据表（系统管理员）"), group="system"),
]


def menu_for(user: User) -> list[MenuItem]:
    authenticated = bool(getattr(user, "is_authenticated", False))
    role = getattr(user, "role", None) if authenticated else None
    return [
        item
        for item in MENU
        if (access := access_for(item.url_name, "GET")) is not None
        and not access.public
        and access.allows(authenticated=authenticated, role=role)
        and (not item.roles or role in item.roles)
    ]


@dataclass(frozen=True)
class MenuGroup:
    key: str
    label: Any
    items: list[MenuItem]


FLAT_MENU_MAX = 7  # up to this many entries fit in one row: no dropdowns


def menu_groups_for(user: User) -> list[MenuGroup]:
    """The viewer's menu in groups, in the order of MENU; ungrouped items stand alone."""
    groups: list[MenuGroup] = []
    by_key: dict[str, MenuGroup] = {}
    items = menu_for(user)
    for item in items:
        if not item.group or len(items) <= FLAT_MENU_MAX:
            groups.append(MenuGroup(key="", label=item.label, items=[item]))
            continue
        group = by_key.get(item.group)
        if group is None:
            group = MenuGroup(key=item.group, label=GROUP_LABELS[item.group], items=[])
            by_key[item.group] = group
            groups.append(group)
        group.items.append(item)
    return groups


_MENUS: dict[tuple[int, bool, str | None], tuple[list[MenuItem], list[MenuGroup]]] = {}


def menus_for(user: User) -> tuple[list[MenuItem], list[MenuGroup]]:
    """menu_for and menu_groups_for, worked out once per process for each role (they depend on
    the role and the policy table only, both fixed in code): every page's context asks."""
    from . import policies

    authenticated = bool(getattr(user, "is_authenticated", False))
    role = getattr(user, "role", None) if authenticated else None
    key = (id(policies.POLICIES), authenticated, role)
    found = _MENUS.get(key)
    if found is None:
        found = _MENUS[key] = (menu_for(user), menu_groups_for(user))
    return found
