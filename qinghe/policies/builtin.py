"""The two Guangdong programmes built in, and the policies they rest on, as plain data.

Seeded by migration 0002 and put back by ``services.builtin_ensure()`` (a test flush removes
seeded rows). Staff edit the rules afterwards through the rule pages; the seed never
overwrites an existing programme or rule. Document numbers are given only where certain;
otherwise left blank."""

from __future__ import annotations

from typing import Any

GUIDE_TITLE = "广东省就业创业补贴申请办理指导清单"

POLICIES: list[dict[str, Any]] = [
    {
        "title": "国务院办公厅关于进一步做好高校毕业生等青年就业创业工作的通知",
        "level": "national",
        "issuer": "国务院办公厅",
        "doc_number": "国办发〔2022〕13号",
        "effective_from": "2022-05-05",
        "summary": "拓宽高校毕业生等青年就业渠道，支持自主创业和灵活就业，落实创业担保贷款、"
        "一次性创业补贴等扶持政策。",
        "full_text": "为进一步做好高校毕业生等青年就业创业工作，提出以下意见：多渠道开发就业岗位，"
        "支持高校毕业生自主创业，按规定给予一次性创业补贴、创业担保贷款及贴息、税费减免等政策，"
        "健全就业服务，加强困难群体帮扶。",
        "tags": ["毕业", "创业", "高校毕业生"],
    },
    {
        "title": GUIDE_TITLE,
        "level": "guangdong",
        "issuer": "广东省人力资源和社会保障厅",
        "doc_number": "",
        "effective_from": None,
        "summary": "列明青年创业补贴、一次性创业资助、创业带动就业补贴、创业租金补贴等就业创业"
        "补贴的申请条件、材料和办理流程。",
        "full_text": "一次性创业资助：符合条件的人员（在校生、毕业5年内的高校毕业生和留学回国人员、"
        "退役军人、登记失业人员、返乡创业人员、经营民宿农家乐的人员等）在本省初次创办企业或"
        "个体工商户，正常经营6个月以上、带动1人以上就业并为其连续缴纳社会保险费3个月以上的，"
        "可申请一次性创业资助1万元。创业带动就业补贴：创业主体招用员工并为其缴纳社会保险费3个月"
        "以上的，按招用人数给予补贴，招用3人（含3人）以下的每人2000元，招用3人以上的每增加1人"
        "给予3000元，总额最高不超过3万元。",
        "tags": ["创业", "就业", "补贴"],
    },
    {
        "title": "鹤山市人才发展政策（2021年）",
        "level": "heshan",
        "issuer": "中共鹤山市委人才工作领导小组",
        "doc_number": "",
        "effective_from": "2021-01-01",
        "summary": "鹤山市2021年出台的人才政策：对各类人才给予最高500万元奖励，并在住房、医疗、"
        "子女入学等方面提供保障。（概要描述）",
        "full_text": "鹤山市面向各类人才提供奖励与服务保障：人才奖励最高500万元；提供人才住房或"
        "住房补贴；就医绿色通道；人才子女入学安排。具体条件以正式文件为准。",
        "tags": ["人才引进", "购房", "子女入学", "医疗"],
    },
]

_ONE_OFF_RULES: list[dict[str, str]] = [
    {
        "code": "age_limit",
        "explanation": "创办人年龄：女性不超过55周岁，男性不超过60周岁",
        "expression": 'gender == "女" ? age <= 55 : (gender == "男" && age <= 60)',
    },
    {
        "code": "category",
        "explanation": "人员类别：在校生；毕业5年内的毕业生或留学回国人员；退役军人、登记失业人员、"
        "返乡创业人员或民宿农家乐经营者",
        "expression": 'category in ["在校生", "退役军人", "登记失业", "返乡创业", "民宿农家乐"] '
        '|| (category in ["毕业生", "留学回国"] && graduation_date != null '
        "&& as_of <= add_years(graduation_date, 5))",
    },
    {
        "code": "registered_6_months",
        "explanation": "企业或个体工商户注册满6个月",
        "expression": "add_months(registered_on, 6) <= as_of",
        "passes_from": "add_months(registered_on, 6)",
    },
    {
        "code": "registered_within_3_years",
        "explanation": "注册时间不超过3年",
        "expression": "as_of <= add_years(registered_on, 3)",
    },
    {
        "code": "insured_3_months",
        "explanation": "为创办人以外的员工连续缴纳社会保险费满3个月",
        "expression": "insured_months >= 3",
    },
    {
        "code": "not_abnormal",
        "explanation": "未列入经营异常名录",
        "expression": "!abnormal",
    },
    {
        "code": "not_funded_before",
        "explanation": "未享受过一次性创业资助",
        "expression": "!funded_before",
    },
]

_HIRING_RULES: list[dict[str, str]] = [
    {
        "code": "registered_within_3_years",
        "explanation": "注册时间不超过3年",
        "expression": "as_of <= add_years(registered_on, 3)",
    },
    {
        "code": "insured_3_months",
        "explanation": "为招用员工连续缴纳社会保险费满3个月",
        "expression": "insured_months >= 3",
    },
    {
        "code": "not_abnormal",
        "explanation": "未列入经营异常名录",
        "expression": "!abnormal",
    },
    {
        "code": "hires_at_least_1",
        "explanation": "招用1人以上",
        "expression": "hires >= 1",
    },
]

PROGRAMMES: list[dict[str, Any]] = [
    {
        "code": "one_off_startup",
        "name": "一次性创业资助",
        "policy": GUIDE_TITLE,
        "description": "在本省初次创业、正常经营并带动就业的创业者，一次性资助1万元。",
        "amount_expression": "10000",
        "amount_text": "10,000 元，一次性",
        "schedule": "once",
        "periods": 1,
        "materials": ["营业执照", "员工社保缴费证明"],
        "rules": _ONE_OFF_RULES,
    },
    {
        "code": "startup_hiring",
        "name": "创业带动就业补贴",
        "policy": GUIDE_TITLE,
        "description": "创业主体招用员工并缴纳社会保险费满3个月，按招用人数给予补贴。",
        "amount_expression": "min(min(hires, 3) * 2000 + max(hires - 3, 0) * 3000, 30000)",
        "amount_text": "前3人每人2,000元，第4人起每人3,000元，最高30,000元",
        "schedule": "once",
        "periods": 1,
        "materials": ["营业执照", "员工劳动合同", "员工社保缴费证明"],
        "rules": _HIRING_RULES,
    },
]


def seed(apps: Any) -> None:
    """Creates what is missing (never overwrites); takes a migration's or the real ``apps``."""
    policy_model = apps.get_model("policies", "Policy")
    programme_model = apps.get_model("policies", "Programme")
    rule_model = apps.get_model("policies", "Rule")
    version_model = apps.get_model("policies", "RuleVersion")
    from qinghe.jobs.search import document_tokens

    by_title: dict[str, Any] = {}
    for data in POLICIES:
        policy = policy_model.objects.filter(title=data["title"]).first()
        if policy is None:
            policy = policy_model.objects.create(
                **data,
                tag_index=" " + " ".join(data["tags"]) + " ",
                search_tokens=document_tokens(
                    data["title"],
                    data["issuer"],
                    data["doc_number"],
                    data["summary"],
                    data["full_text"],
                    " ".join(data["tags"]),
                ),
            )
        by_title[data["title"]] = policy
    for data in PROGRAMMES:
        if programme_model.objects.filter(code=data["code"]).exists():
            continue
        fields = {k: v for k, v in data.items() if k not in ("rules", "policy")}
        programme = programme_model.objects.create(**fields, policy=by_title.get(data["policy"]))
        for position, rule_data in enumerate(data["rules"], start=1):
            rule = rule_model.objects.create(
                programme=programme,
                position=position,
                passes_from=rule_data.get("passes_from", ""),
                code=rule_data["code"],
                explanation=rule_data["explanation"],
                expression=rule_data["expression"],
            )
            version_model.objects.create(
                rule=rule,
                version=1,
                code=rule.code,
                explanation=rule.explanation,
                expression=rule.expression,
                passes_from=rule.passes_from,
                note="内置规则",
            )
