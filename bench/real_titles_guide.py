"""The labelling guide of the real job-board title set (bench/data/real_titles/), as code.

Two things live here, both written from the 2022 catalog (qinghe/reference/data/
occupations_2022.csv: names, definitions and its own listed job titles) and from reading the
postings, never from the classifier's answers:

- ``LABELS``: each short label a labeller writes, with the detailed occupations (2022 codes) a
  careful coder would accept for it, best first. A posting is right when the classifier's
  answer is any of them. docs: bench/data/real_titles/README.md explains each label in words.
- ``RULES``: the guide's keyword rules, applied mechanically to a title (first match wins):
  the second, independent labelling pass. The first pass was done by hand, reading the title
  and the start of the description. Where the passes disagree, the posting was read again in
  full and the final label decided (column ``final``).

Run ``.venv/bin/python bench/real_titles_guide.py`` to (re)compute pass B and the agreement
from the CSV; it never touches ``pass_a`` or ``final``.
"""

from __future__ import annotations

import csv
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "data" / "real_titles" / "titles.csv"

LABELS: dict[str, tuple[str, ...]] = {
    # finance and administration
    "KJ": ("2-06-03-00",),  # 会计、出纳、财务助理 -> 会计专业人员
    "SJ": ("2-06-04-00",),  # 审计、稽核 -> 审计专业人员
    "XZ": ("3-01-01-01", "3-01-02-02"),  # 行政、文员、前台、总经理助理 -> 行政办事员 / 秘书
    "DA": ("2-10-07-00", "3-01-01-01"),  # 文档、台账 -> 档案专业人员 / 行政办事员
    "GS": ("2-06-07-11", "3-01-01-01"),  # 工商注册代办 -> 经纪与代理专业人员 / 行政办事员
    "GD": (
        "3-01-02-02",
        "3-01-01-01",
    ),  # 业务跟单、订单处理（国内） -> 秘书（目录列"业务跟单"）/ 行政办事员
    # customer service
    "KF": ("4-04-05-03", "4-07-02-03"),  # 客服 -> 呼叫中心服务员 / 客户服务管理员
    # purchasing, logistics, trade
    "CG": ("4-01-01-00", "2-06-07-15"),  # 采购、招标、标书 -> 采购员 / 招标采购专业人员
    "WL": ("4-02-06-03", "2-02-30-02"),  # 物流专员 -> 物流服务师 / 物流工程技术人员
    "CK": ("4-02-06-01", "4-02-06-02"),  # 仓库管理、仓管 -> 仓储管理员 / 理货员
    "HD": ("4-02-05-03",),  # 货代、海运空运操作、船务 -> 货运代理服务员
    "DZ": ("2-06-07-01", "2-06-07-12", "4-02-05-03"),  # 单证 -> 国际商务 / 报关 / 货代
    "BG": ("2-06-07-12",),  # 报关 -> 报关人员
    "WM": ("2-06-07-01",),  # 外贸业务、外贸跟单、外销 -> 国际商务专业人员
    "GYL": ("4-02-06-05", "2-02-30-11"),  # 供应链 -> 供应链管理师 / 供应链工程技术人员
    "DD": ("4-02-02-05", "4-02-06-03"),  # 调度、运输专员 -> 道路运输调度员 / 物流服务师
    # sales, marketing, e-commerce, media
    "XS": ("4-01-02-01", "2-06-07-02"),  # 销售、业务员、电话销售 -> 营销员 / 市场营销专业人员
    "SZ": (
        "4-01-02-01",
        "2-06-07-02",
        "3-01-02-02",
    ),  # 销售助理、商务专员/助理 -> 营销员 / 市场营销 / 秘书
    "SC": ("2-06-07-02", "4-01-02-01"),  # 市场、商务拓展、BD -> 市场营销专业人员 / 营销员
    "DS": ("4-01-06-01", "4-01-06-02"),  # 电商运营、网店 -> 电子商务师 / 互联网营销师
    "MT": (
        "4-13-01-05",
        "2-10-02-05",
        "4-01-06-02",
    ),  # 新媒体、内容、社群运营、文案 -> 全媒体运营师 / 网络编辑 / 互联网营销师
    "YY": (
        "4-13-01-05",
        "4-01-06-01",
        "4-01-06-02",
        "2-06-07-03",
    ),  # 运营专员（互联网、平台、用户） -> 全媒体运营师 / 电子商务师 / 互联网营销师 / 商务策划
    "SP": ("4-01-06-01", "4-01-01-00"),  # 商品、货品专员 -> 电子商务师 / 采购员
    "PR": ("2-09-03-04",),  # 影视发行 -> 电影电视片发行人
    "ZT": ("2-06-01-03",),  # 价格专员 -> 价格专业人员
    # people, law, risk, finance
    "RS": (
        "2-06-08-01",
        "4-07-03-04",
    ),  # 人事、人力资源、薪酬、绩效、HRBP -> 人力资源管理专业人员 / 企业人力资源管理师
    "ZP": ("4-07-03-08", "2-06-08-01", "4-07-03-04"),  # 招聘、RPO -> 招聘师 / 人力资源
    "LT": ("4-07-03-07", "2-06-08-02", "4-07-03-08"),  # 猎头 -> 劳务经纪人 / 人力资源服务 / 招聘师
    "PX": ("4-07-03-05", "2-06-08-04"),  # 培训、讲师（职业技能） -> 职业培训师 / 职业技术实训指导
    "FW": ("2-07-09-00", "2-06-07-14"),  # 法务、法律顾问 -> 法律顾问 / 企业合规师
    "LS": ("2-07-04-00",),  # 律师 -> 律师
    "HG": ("2-06-07-14", "2-07-09-00"),  # 合规 -> 企业合规师 / 法律顾问
    "NK": ("2-06-07-14", "4-07-02-01", "2-06-04-00"),  # 内控 -> 企业合规师 / 风险管理师 / 审计
    "FK": (
        "4-07-02-01",
        "2-06-09-04",
        "4-07-02-04",
    ),  # 风控、贷后、清收 -> 风险管理师 / 信贷审核 / 信用管理师
    "TZ": ("2-06-11-03", "2-06-11-07"),  # 投资、基金 -> 证券投资 / 基金专业人员
    "JR": ("2-06-11-04",),  # 金融产品 -> 金融产品销售专业人员
    "ZQ": (
        "2-06-11-03",
        "3-01-02-02",
    ),  # 证券事务、董事会办公室 -> 证券投资（目录列"证券事务代表"）/ 秘书
    "WY": ("4-06-01-01",),  # 物业 -> 物业管理师
    "FY": ("2-10-05-00",),  # 翻译 -> 翻译
    "XM": ("2-02-30-04",),  # 项目助理、项目经理、项目执行 -> 项目管理工程技术人员
    "ZC": (
        "2-02-07-05",
        "2-02-32-01",
    ),  # 医疗器械/药品注册 -> 医学设备管理工程技术人员 / 制药工程技术人员
    # information technology
    "SD": (
        "2-02-10-03",
        "4-04-05-01",
        "2-02-38-03",
    ),  # 软件/大数据开发 -> 软件工程技术 / 程序设计员 / 大数据工程技术
    "FE": ("2-02-10-03", "4-04-05-01"),  # 前端开发 -> 软件工程技术 / 程序设计员
    "TS": ("4-04-05-02", "2-02-10-03"),  # 软件测试 -> 计算机软件测试员 / 软件工程技术
    "OP": ("2-02-10-08", "2-02-38-03", "2-02-38-04"),  # 运维 -> 信息系统运行维护 / 大数据 / 云计算
    "DB": ("4-04-05-04", "2-02-10-08"),  # 数据库管理 -> 数据库运行管理员 / 运行维护
    "AN": (
        "2-02-30-09",
        "4-07-02-05",
        "2-02-38-03",
        "2-06-02-00",
    ),  # 数据分析 -> 数据分析处理 / 商务数据分析师 / 大数据 / 统计
    "AI": ("2-02-38-01", "2-02-38-03"),  # 算法、机器学习、建模 -> 人工智能 / 大数据工程技术
    "AR": ("2-02-38-03", "2-02-10-03", "2-02-10-05"),  # 架构师 -> 大数据 / 软件 / 信息系统分析
    "CPM": (
        "2-02-34-01",
        "2-02-10-05",
    ),  # 产品经理（软件、互联网） -> 产品设计工程技术 / 信息系统分析
    "SOL": (
        "4-04-04-05",
        "2-02-10-05",
    ),  # 售前、解决方案、咨询顾问（IT） -> 数字化解决方案设计师 / 信息系统分析
    "JZ": ("2-02-10-08", "2-02-10-03"),  # 技术支持（IT） -> 运行维护 / 软件工程技术
    "XXAQ": (
        "4-04-04-02",
        "2-02-10-07",
    ),  # 网络信息安全管理员 -> 网络与信息安全管理员 / 信息安全工程技术
    "AT": ("4-04-05-05",),  # 数据标注 -> 人工智能训练师
    "TD": (
        "1-06-01-02",
        "2-02-38-03",
        "2-02-10-03",
    ),  # 技术总监、CTO、事业部总监 -> 企业经理 / 大数据 / 软件
    # production (two postings)
    "ASM7": (
        "6-24-02-02",
        "6-29-03-02",
    ),  # 电气装配接线 -> 高低压电器及成套设备装配工 / 电气设备安装工
    "ASM16": ("6-20-01-01", "6-20-02-01"),  # 压力容器装配 -> 装配钳工 / 锅炉设备制造工
}
# "X": the title names no occupation a coder could choose (e.g. "Intern实习生", a training
# course advertised as a job); such postings are kept in the file but left out of the figures.
UNLABELLED = "X"

# The guide's keyword rules (pass B): first match on the cleaned title wins.
RULES: tuple[tuple[str, str], ...] = (
    (r"实训生|特别助理|^intern", "X"),
    (r"测试", "TS"),
    (r"讲师|教师|培训", "PX"),
    (r"律师", "LS"),
    (r"法务|法律|诉讼|counsel|legal", "FW"),
    (r"合规", "HG"),
    (r"内控", "NK"),
    (r"风控|风险|贷后|清收", "FK"),
    (r"审计|稽核", "SJ"),
    (r"猎头", "LT"),
    (r"招聘|rpo", "ZP"),
    (r"人事|人力|hr|薪酬|绩效", "RS"),
    (r"会计|财务|出纳", "KJ"),
    (r"报关", "BG"),
    (r"单证", "DZ"),
    (r"货代|海运|空运|船务|航线|进口操作|出口操作|进出口操作", "HD"),
    (r"外贸|外销|国贸|国际贸易|merchandiser", "WM"),
    (r"供应链|supply chain", "GYL"),
    (r"采购|标书|招标|买手|供应商|purchas", "CG"),
    (r"仓库|仓管|仓储|理货", "CK"),
    (r"调度|运输|配送", "DD"),
    (r"物流", "WL"),
    (r"翻译", "FY"),
    (r"物业|管家", "WY"),
    (r"标注", "AT"),
    (r"运维|维护工程师", "OP"),
    (r"dba|数据库", "DB"),
    (r"架构", "AR"),
    (r"算法|建模|机器学习|人工智能", "AI"),
    (r"前端", "FE"),
    (r"分析|挖掘|统计", "AN"),
    (r"开发|研发|java|hadoop|spark|程序|软件工程师|大数据工程师|etl|python|php", "SD"),
    (r"售前|解决方案|咨询顾问", "SOL"),
    (r"产品经理|产品总监|产品助理|产品设计", "CPM"),
    (r"技术支持", "JZ"),
    (r"cto|技术总监|总监", "TD"),
    (r"电商|天猫|淘宝|京东|亚马逊|网店|跨境|o2o", "DS"),
    (r"新媒体|微信|内容|社群|文案|小红书|短视频|编辑", "MT"),
    (r"运营|营运", "YY"),
    (r"客服|呼叫|热线|接线|投诉|tmk|customer service|客户服务|售后|客户专员|客户维护", "KF"),
    (r"电话销售|销售代表|销售经理|销售员|业务员|销售$|销售专员|大客户|营销", "XS"),
    (r"销售助理|销售行政|商务", "SZ"),
    (r"市场|拓展|bd", "SC"),
    (r"跟单|订单", "GD"),
    (r"工商", "GS"),
    (r"项目", "XM"),
    (r"行政|文员|前台|秘书|助理|文职|后勤|办公室", "XZ"),
    (r"销售", "XS"),
)
_NOTES = re.compile(r"[（(【\[].*?[）)】\]]")


def rule_label(title: str) -> str:
    """The guide's keyword rules applied to one title: the first rule that matches wins;
    no match gives "X"."""
    cleaned = _NOTES.sub(" ", title).lower()
    for pattern, label in RULES:
        if re.search(pattern, cleaned):
            return label
    return UNLABELLED


def codes_of(labels: str) -> tuple[str, ...]:
    """The accepted codes of a label cell ("KF" or "XZ+KF"), in order, without repeats."""
    out: list[str] = []
    for label in labels.split("+"):
        for code in LABELS.get(label, ()):
            if code not in out:
                out.append(code)
    return tuple(out)


def main() -> int:
    with DATA.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    unknown = {
        part
        for row in rows
        for column in ("pass_a", "pass_b", "final")
        for part in row[column].split("+")
        if part and part != UNLABELLED and part not in LABELS
    }
    if unknown:
        print("unknown labels:", sorted(unknown), file=sys.stderr)
        return 1
    same = sum(row["pass_a"] == row["pass_b"] for row in rows)
    overlap = sum(
        bool(set(codes_of(row["pass_a"])) & set(codes_of(row["pass_b"])))
        or row["pass_a"] == row["pass_b"]
        for row in rows
    )
    print(f"postings: {len(rows)}")
    print(f"pass A = pass B (same label): {same} ({same / len(rows):.1%})")
    print(f"pass A and pass B accept a common occupation: {overlap} ({overlap / len(rows):.1%})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
