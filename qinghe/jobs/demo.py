"""Demo data for the recruitment half: Heshan enterprises in the industries the city is known
for (printing, hardware and sanitary ware, fine chemicals, food, electronics, logistics), about
80 postings, three internship bases and this year's targets.

Idempotent: enterprises are matched on their USCC, postings on (enterprise, title), bases on
their enterprise; running it twice creates nothing new. Writes go through the services, so
the events and the audit trail read as they would in real use."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from qinghe.accounts.demo import DEMO_PASSWORD
from qinghe.accounts.models import Organisation, User
from qinghe.accounts.services import user_create
from qinghe.core.roles import Role
from qinghe.enterprises import services as enterprise_services
from qinghe.enterprises.models import Enterprise, InternshipBase
from qinghe.enterprises.uscc import make_uscc
from qinghe.plan import services as plan_services
from qinghe.plan.models import YearTarget
from qinghe.reference.models import Industry, MajorCategory, Town

from . import services
from .models import Posting
from .services import PostingData


@dataclass(frozen=True)
class DemoEnterprise:
    name: str
    industry: str  # GB/T 4754 division
    town: str  # town name
    park: str
    size: str
    description: str
    state: str = Enterprise.State.VERIFIED
    is_key: bool = False
    hr_username: str = ""


ENTERPRISES: list[DemoEnterprise] = [
    DemoEnterprise(
        "鹤山市雅图仕印刷有限公司",
        "23",
        "沙坪街道",
        "industrial_city",
        "xlarge",
        "大型出版物与包装印刷企业，产品出口欧美，设有印前、印刷、装订、品质、设备维护等岗位，配套员工宿舍与食堂。",
        is_key=True,
        hr_username="qiye",
    ),
    DemoEnterprise(
        "鹤山市华翔卫浴实业有限公司",
        "33",
        "址山镇",
        "other",
        "large",
        "生产龙头、花洒与卫浴五金，拥有电镀、铸造、机加工与装配车间，省级工程技术研究中心。",
        is_key=True,
        hr_username="qiye_huaxiang",
    ),
    DemoEnterprise(
        "鹤山市金峰五金制品有限公司",
        "33",
        "共和镇",
        "",
        "medium",
        "不锈钢厨房五金与建筑五金制造，自动化冲压与焊接产线。",
        hr_username="qiye_jinfeng",
    ),
    DemoEnterprise(
        "鹤山市鹤化新材料科技有限公司",
        "26",
        "鹤城镇",
        "fine_chemical",
        "medium",
        "位于精细化工产业园，生产水性涂料树脂与胶粘剂，设有研发中心和分析检测实验室。",
        is_key=True,
        hr_username="qiye_hehua",
    ),
    DemoEnterprise(
        "鹤山市雅瑶涂料有限公司",
        "26",
        "雅瑶镇",
        "fine_chemical",
        "small",
        "工业防腐涂料与木器漆生产，为家具和钢结构企业配套。",
        hr_username="qiye_yayao",
    ),
    DemoEnterprise(
        "鹤山市古劳香厨调味食品有限公司",
        "14",
        "古劳镇",
        "",
        "large",
        "酱油、蚝油与复合调味料生产，产品销往全国，有中央厨房与食品安全检测中心。",
        is_key=True,
        hr_username="qiye_xiangchu",
    ),
    DemoEnterprise(
        "鹤山市龙口茶业有限公司",
        "15",
        "龙口镇",
        "",
        "small",
        "鹤山红茶与古劳茶种植、加工与销售，带动周边农户种茶。",
        hr_username="qiye_longkou",
    ),
    DemoEnterprise(
        "鹤山市中欧智能电子科技有限公司",
        "39",
        "雅瑶镇",
        "zhongou",
        "large",
        "位于中欧（江门）合作区，研发生产智能家居控制模块与电源板，有 SMT 产线和嵌入式软件团队。",
        is_key=True,
        hr_username="qiye_zhongou",
    ),
    DemoEnterprise(
        "鹤山市骏达电子有限公司",
        "39",
        "共和镇",
        "industrial_city",
        "medium",
        "PCB 组装与线材加工，为家电企业配套。",
        hr_username="qiye_junda",
    ),
    DemoEnterprise(
        "鹤山市捷通物流有限公司",
        "59",
        "沙坪街道",
        "",
        "medium",
        "珠三角西岸仓储与城配物流，自营立体仓库，服务本地制造企业。",
        hr_username="qiye_jietong",
    ),
    DemoEnterprise(
        "鹤山市桃源精密机械有限公司",
        "34",
        "桃源镇",
        "",
        "medium",
        "数控机床零部件与自动化设备制造，提供学徒制培养。",
        hr_username="qiye_taoyuan",
    ),
    DemoEnterprise(
        "鹤山市鹤城新能源电气有限公司",
        "38",
        "鹤城镇",
        "industrial_city",
        "large",
        "储能变流器与充电桩制造，省级专精特新企业。",
        is_key=True,
        hr_username="qiye_hecheng",
    ),
    DemoEnterprise(
        "鹤山市智汇软件科技有限公司",
        "65",
        "沙坪街道",
        "zhongou",
        "small",
        "为本地制造企业开发 MES、仓储管理与小程序，团队以返乡青年为主。",
        hr_username="qiye_zhihui",
    ),
    DemoEnterprise(
        "鹤山市双合纺织服饰有限公司",
        "18",
        "双合镇",
        "",
        "medium",
        "牛仔服装设计与加工，自有电商品牌。",
        state=Enterprise.State.PENDING,
        hr_username="qiye_shuanghe",
    ),
    DemoEnterprise(
        "鹤山市宅梧农产品供应链有限公司",
        "13",
        "宅梧镇",
        "",
        "micro",
        "宅梧特色农产品收购、分拣与冷链配送。",
        state=Enterprise.State.REJECTED,
        hr_username="qiye_zhaiwu",
    ),
]

FACTS: dict[str, dict[str, Any]] = {
    "factory": {
        "working_hours": "8:00–17:30，午休 1.5 小时，月休 6 天；旺季加班按劳动法支付加班费，每月不超过 36 小时",
        "housing": "免费提供 4 人间宿舍（空调、热水、独立卫生间），不住宿每月补贴 300 元",
        "meals": "厂内食堂，每天两餐免费",
        "social_insurance": "入职当月缴纳五险，转正后缴纳住房公积金（5%）",
        "leave": "法定节假日、带薪年休假 5 天起，春节假期 10–15 天",
        "safety": "岗前三级安全教育，配发劳保用品，车间通风降噪，每年职业健康体检",
    },
    "office": {
        "working_hours": "9:00–18:00，双休，弹性打卡",
        "housing": "不提供宿舍，每月住房补贴 800 元；可协助申请鹤山人才公寓",
        "meals": "每月餐补 400 元",
        "social_insurance": "入职即缴五险一金，公积金比例 8%",
        "leave": "法定节假日、带薪年休假 7 天起、生日假 1 天",
        "safety": "办公室岗位，定期体检",
    },
    "intern": {
        "working_hours": "8:30–17:30，周末双休，不安排夜班",
        "housing": "免费提供实习生宿舍",
        "meals": "工作日免费午餐",
        "social_insurance": "购买实习期间意外伤害保险和雇主责任险",
        "leave": "按学校实习安排请假，法定节假日休息",
        "safety": "实习生不安排危险作业岗位，配带教导师",
    },
}

# (title, kind, description, majors/categories, min level, salary range, facts, headcount)
ROLES: dict[str, list[tuple[str, str, str, list[str], str, tuple[int, int], str, int]]] = {
    "23": [
        (
            "印前设计工程师",
            "job",
            "负责书刊与包装印前排版、分色与拼版，与海外客户沟通设计稿。",
            ["081703", "0817"],
            "bachelor",
            (5500, 8000),
            "factory",
            3,
        ),
        (
            "印刷设备维修技术员",
            "job",
            "负责海德堡、小森印刷机的日常保养与故障排除。",
            ["0802"],
            "junior",
            (5000, 7000),
            "factory",
            5,
        ),
        (
            "品质管理工程师",
            "job",
            "建立印刷品质检标准，推进精益生产与客户验厂。",
            [],
            "bachelor",
            (6000, 9000),
            "factory",
            2,
        ),
        (
            "印刷工艺实习生",
            "internship",
            "在导师带领下参与印刷工艺改进与色彩管理项目。",
            ["0817"],
            "junior",
            (2500, 3000),
            "intern",
            10,
        ),
        (
            "跟单文员（见习）",
            "traineeship",
            "处理英文订单与生产排期，见习期满可转正。",
            [],
            "junior",
            (3200, 3800),
            "office",
            4,
        ),
    ],
    "33": [
        (
            "机械设计工程师（五金卫浴）",
            "job",
            "负责龙头、花洒结构设计与模具跟进，使用 SolidWorks 建模。",
            ["080202", "0802"],
            "bachelor",
            (6000, 10000),
            "factory",
            3,
        ),
        (
            "表面处理工艺工程师",
            "job",
            "负责电镀与 PVD 工艺参数优化、环保合规。",
            ["0813", "0804"],
            "bachelor",
            (6500, 9500),
            "factory",
            2,
        ),
        (
            "数控车床操作工",
            "job",
            "操作数控车床加工铜件，看懂图纸，能自检。",
            [],
            "secondary",
            (4800, 6500),
            "factory",
            10,
        ),
        (
            "外贸业务员",
            "job",
            "开发欧美与中东卫浴客户，参加广交会。",
            ["0502", "120202"],
            "bachelor",
            (5000, 12000),
            "office",
            2,
        ),
        (
            "机械设计实习生",
            "internship",
            "参与新品结构设计与样品测试。",
            ["0802"],
            "bachelor",
            (2500, 3200),
            "intern",
            6,
        ),
    ],
    "26": [
        (
            "涂料研发工程师",
            "job",
            "水性树脂与涂料配方研发、性能测试与客户技术服务。",
            ["081301", "0813", "0703"],
            "bachelor",
            (7000, 11000),
            "factory",
            3,
        ),
        (
            "化工工艺工程师",
            "job",
            "负责反应釜工艺控制、工艺文件编写与节能降耗。",
            ["0813"],
            "bachelor",
            (6500, 9000),
            "factory",
            2,
        ),
        (
            "分析检测员",
            "job",
            "原料与成品理化检测，操作气相色谱与红外光谱。",
            ["0703", "0813"],
            "junior",
            (4500, 6000),
            "factory",
            3,
        ),
        (
            "安全环保专员",
            "job",
            "危化品管理、环评与安全生产标准化。",
            [],
            "bachelor",
            (5500, 8000),
            "factory",
            1,
        ),
        (
            "化工研发实习生",
            "internship",
            "协助配方实验、数据整理与小试放大。",
            ["0813", "0703"],
            "bachelor",
            (2800, 3500),
            "intern",
            8,
        ),
        (
            "质检见习生",
            "traineeship",
            "见习原料检验与质量记录，见习期 6 个月。",
            [],
            "junior",
            (3000, 3500),
            "intern",
            4,
        ),
    ],
    "14": [
        (
            "食品研发工程师",
            "job",
            "复合调味料新品研发、风味评估与工艺放大。",
            ["082701", "0827"],
            "bachelor",
            (6000, 9000),
            "factory",
            2,
        ),
        (
            "食品质量检验员",
            "job",
            "微生物与理化检验，执行 HACCP 体系。",
            ["0827", "0830", "0710"],
            "junior",
            (4500, 6000),
            "factory",
            4,
        ),
        (
            "生产储备干部",
            "job",
            "轮岗学习酿造、灌装与仓储，培养为车间主管。",
            [],
            "bachelor",
            (5000, 7000),
            "factory",
            5,
        ),
        (
            "电商运营专员",
            "job",
            "负责天猫、抖音店铺运营与直播选品。",
            ["120202", "0503"],
            "junior",
            (5000, 8000),
            "office",
            2,
        ),
        (
            "食品检测实习生",
            "internship",
            "在检测中心实习，学习国标检测方法。",
            ["0827"],
            "junior",
            (2400, 3000),
            "intern",
            8,
        ),
    ],
    "15": [
        (
            "茶叶加工技术员",
            "job",
            "红茶萎凋、揉捻、发酵工艺控制与品质评审。",
            [],
            "junior",
            (4200, 5500),
            "factory",
            2,
        ),
        (
            "新媒体运营（见习）",
            "traineeship",
            "运营鹤山红茶公众号与短视频账号。",
            ["0503"],
            "junior",
            (3000, 3600),
            "office",
            1,
        ),
    ],
    "39": [
        (
            "嵌入式软件工程师",
            "job",
            "负责智能家居控制模块嵌入式软件开发，C 语言，熟悉 STM32 与 Wi-Fi 模组。",
            ["080701", "080901", "0807", "0809"],
            "bachelor",
            (8000, 13000),
            "office",
            4,
        ),
        (
            "硬件工程师",
            "job",
            "电源板与控制板原理图设计、调试与认证。",
            ["0807", "0806"],
            "bachelor",
            (7500, 12000),
            "office",
            3,
        ),
        (
            "SMT 工艺工程师",
            "job",
            "贴片产线工艺优化、良率提升与新品导入。",
            ["0807", "0802"],
            "junior",
            (6000, 8500),
            "factory",
            2,
        ),
        (
            "测试工程师",
            "job",
            "产品功能测试、可靠性测试与自动化测试脚本开发。",
            ["0807", "0809"],
            "junior",
            (5500, 8000),
            "office",
            3,
        ),
        (
            "电子工程实习生",
            "internship",
            "参与硬件调试与测试工装制作。",
            ["0807"],
            "junior",
            (2800, 3500),
            "intern",
            10,
        ),
        (
            "软件开发实习生",
            "internship",
            "参与嵌入式与上位机软件开发。",
            ["0809"],
            "bachelor",
            (3000, 4000),
            "intern",
            6,
        ),
    ],
    "59": [
        (
            "仓储物流主管",
            "job",
            "管理立体仓库作业、库存准确率与仓储成本。",
            ["120601", "1206"],
            "bachelor",
            (6000, 8500),
            "factory",
            2,
        ),
        (
            "物流调度专员",
            "job",
            "城配线路规划与车辆调度，使用 TMS 系统。",
            ["1206"],
            "junior",
            (4800, 6500),
            "office",
            3,
        ),
        (
            "物流管理实习生",
            "internship",
            "在仓库与调度中心轮岗实习。",
            ["1206"],
            "junior",
            (2500, 3000),
            "intern",
            6,
        ),
    ],
    "34": [
        (
            "数控编程工程师",
            "job",
            "UG 编程与加工工艺编制，五轴加工经验优先。",
            ["0802"],
            "junior",
            (6500, 9000),
            "factory",
            2,
        ),
        (
            "设备装配调试技术员",
            "job",
            "自动化设备装配、气动与电气调试。",
            ["0802", "0806"],
            "junior",
            (5000, 7000),
            "factory",
            4,
        ),
        (
            "机电一体化学徒（见习）",
            "traineeship",
            "师带徒培养，见习期满考取技能等级证书。",
            [],
            "secondary",
            (3200, 4000),
            "intern",
            6,
        ),
    ],
    "38": [
        (
            "电力电子工程师",
            "job",
            "储能变流器拓扑设计、仿真与样机调试。",
            ["080601", "0806"],
            "master",
            (10000, 16000),
            "office",
            3,
        ),
        (
            "电气工程师",
            "job",
            "充电桩电气设计与 CE、UL 认证。",
            ["0806"],
            "bachelor",
            (7000, 11000),
            "office",
            3,
        ),
        (
            "生产计划员",
            "job",
            "主生产计划与物料需求计划编制。",
            ["1202", "1206"],
            "bachelor",
            (5000, 7000),
            "office",
            1,
        ),
        (
            "电气实习生",
            "internship",
            "参与产品测试与电气图纸整理。",
            ["0806"],
            "bachelor",
            (3000, 3600),
            "intern",
            8,
        ),
    ],
    "65": [
        (
            "软件开发工程师",
            "job",
            "使用 Python 与 Java 开发 MES、WMS 系统后端，对接车间设备。",
            ["080902", "080901", "0809"],
            "bachelor",
            (7000, 12000),
            "office",
            3,
        ),
        (
            "前端开发工程师",
            "job",
            "开发管理后台与微信小程序前端。",
            ["0809"],
            "junior",
            (6000, 10000),
            "office",
            2,
        ),
        (
            "实施顾问",
            "job",
            "在客户工厂实施信息化系统，培训用户。",
            [],
            "junior",
            (5500, 8000),
            "office",
            2,
        ),
        (
            "软件测试实习生",
            "internship",
            "编写测试用例，参与自动化测试。",
            ["0809"],
            "junior",
            (2800, 3500),
            "intern",
            4,
        ),
    ],
    "18": [
        ("服装设计师", "job", "牛仔系列设计与打版跟进。", [], "junior", (5000, 8000), "office", 2)
    ],
    "13": [
        (
            "冷链配送专员",
            "job",
            "农产品冷链配送与温控记录。",
            [],
            "secondary",
            (4500, 5500),
            "factory",
            2,
        )
    ],
}
# Which enterprise has which roles: printing and food share the "23"/"14" lists, etc.
GENERAL = [
    (
        "会计",
        "job",
        "负责总账、成本核算与纳税申报。",
        ["120203K", "120204"],
        "bachelor",
        (5000, 7000),
        "office",
        1,
    ),
    (
        "人力资源专员",
        "job",
        "招聘、培训与员工关系，负责校园招聘。",
        ["120206", "1202"],
        "bachelor",
        (4800, 6500),
        "office",
        1,
    ),
]


def _org_code(index: int) -> str:
    return f"MA4W{1000 + index * 37:04d}X"


def _hr_user(org: Organisation, username: str, display: str) -> User:
    user = User.objects.filter(username=username).first()
    if user is None:
        user = user_create(
            username=username,
            password=DEMO_PASSWORD,
            role=Role.ENTERPRISE_HR,
            display_name=display,
            organisation=org,
            validate=False,
        )
    return user


def seed_recruitment(*, stdout: Any = None, scale: int = 0, seed: int = 2026) -> dict[str, int]:
    """Creates the demo enterprises, postings, internship bases and this year's targets."""
    towns = {t.name: t for t in Town.objects.filter(county_code="440784")}
    industries = {i.code: i for i in Industry.objects.filter(level=Industry.Level.DIVISION)}
    if not towns or not industries:
        if stdout is not None:
            stdout.write("recruitment demo skipped: load reference data first (make reference)")
        return {"enterprises": 0, "postings": 0, "bases": 0}
    staff = User.objects.filter(role=Role.HR_STAFF).order_by("id").first()
    if staff is None:
        if stdout is not None:
            stdout.write("recruitment demo skipped: no hr_staff persona")
        return {"enterprises": 0, "postings": 0, "bases": 0}
    rng = random.Random(seed)
    now = timezone.now()
    today = timezone.localdate(now)
    created = {"enterprises": 0, "postings": 0, "bases": 0}
    enterprises: list[tuple[Enterprise, User, DemoEnterprise]] = []
    for index, spec in enumerate(ENTERPRISES):
        with transaction.atomic():
            uscc = make_uscc("91440784" + _org_code(index))
            enterprise = Enterprise.objects.filter(uscc=uscc).first()
            org, _ = Organisation.objects.get_or_create(
                kind=Organisation.Kind.ENTERPRISE, name=spec.name, defaults={"code": uscc}
            )
            if org.code != uscc:
                Organisation.objects.filter(pk=org.pk).update(code=uscc)
            hr = _hr_user(org, spec.hr_username, f"{spec.name[3:5]}人事")
            if enterprise is None:
                enterprise = Enterprise.objects.create(
                    organisation=org,
                    uscc=uscc,
                    name=spec.name,
                    industry=industries[spec.industry],
                    town=towns[spec.town],
                    park=spec.park,
                    size=spec.size,
                    address=f"鹤山市{spec.town}",
                    description=spec.description,
                    contact_name=hr.display_name or "人事部",
                    contact_phone=f"0750-88{index:02d}{rng.randint(1000, 9999)}",
                )
                created["enterprises"] += 1
                if spec.state == Enterprise.State.VERIFIED:
                    enterprise_services.enterprise_transition(
                        actor=staff, enterprise=enterprise, action="verify"
                    )
                elif spec.state == Enterprise.State.REJECTED:
                    enterprise_services.enterprise_transition(
                        actor=staff,
                        enterprise=enterprise,
                        action="reject",
                        reason="营业执照经营范围与填报行业不一致，请核对后重新提交",
                    )
                if spec.is_key:
                    enterprise_services.enterprise_set_key(
                        actor=staff, enterprise=enterprise, is_key=True
                    )
                enterprise.refresh_from_db()
        enterprises.append((enterprise, hr, spec))

    categories = {c.code: c for c in MajorCategory.objects.all()}
    from qinghe.reference.models import Major

    majors = {m.code: m for m in Major.objects.all()}
    for enterprise, hr, spec in enterprises:
        if enterprise.state == Enterprise.State.REJECTED:
            continue  # a rejected enterprise drafts nothing until it resubmits
        roles = list(ROLES.get(spec.industry, []))
        if spec.size in ("medium", "large", "xlarge"):
            roles += GENERAL
        for n, (title, kind, description, codes, level, (low, high), facts, headcount) in enumerate(
            roles
        ):
            if Posting.objects.filter(enterprise=enterprise, title=title).exists():
                continue
            data = PostingData(
                kind=kind,
                title=title,
                description=f"{description}\n\n{spec.name}：{spec.description}",
                town=enterprise.town,
                headcount=headcount,
                min_level=level,
                salary_min=low,
                salary_max=high,
                start_date=today + dt.timedelta(days=30 + 7 * n),
                natives_first=rng.random() < 0.35,
                majors=[majors[c] for c in codes if c in majors],
                categories=[categories[c] for c in codes if c in categories],
                **FACTS[facts],
            )
            with transaction.atomic():
                fate = rng.random()
                published_at = now - dt.timedelta(
                    days=rng.randint(1, min(120, max(1, today.timetuple().tm_yday - 1)))
                )
                if fate < 0.08:  # past its closing date: published, then expired
                    data.closing_date = today - dt.timedelta(days=rng.randint(1, 20))
                    published_at = now - dt.timedelta(days=60)
                else:
                    data.closing_date = today + dt.timedelta(days=rng.randint(20, 120))
                posting = services.posting_create(actor=hr, enterprise=enterprise, data=data)
                created["postings"] += 1
                if enterprise.state != Enterprise.State.VERIFIED or fate > 0.93:
                    continue  # stays a draft
                services.posting_submit(
                    actor=hr, posting=posting, now=published_at - dt.timedelta(days=2)
                )
                if fate > 0.88:
                    continue  # waits in the review queue
                services.posting_approve(actor=staff, posting=posting, now=published_at)
                if fate < 0.08:
                    services.postings_expire(now=now)
                elif 0.08 <= fate < 0.11:
                    services.posting_close(
                        actor=hr, posting=posting, now=now - dt.timedelta(days=1)
                    )
                elif kind == "job" and low >= 5000 and rng.random() < 0.55:
                    services.posting_certify_quality(
                        actor=staff,
                        posting=posting,
                        criteria=["contract", "insurance", "growth", "industry"],
                        note="材料齐全，经电话核实劳动合同与社保缴纳",
                        now=min(now, published_at + dt.timedelta(days=3)),
                    )

    base_plan = [
        ("鹤山市雅图仕印刷有限公司", 60, True),
        ("鹤山市中欧智能电子科技有限公司", 40, True),
        ("鹤山市古劳香厨调味食品有限公司", 30, False),
    ]
    by_name = {e.name: (e, hr) for e, hr, _ in enterprises}
    for name, capacity, certify in base_plan:
        enterprise, hr = by_name[name]
        if (
            enterprise.state != Enterprise.State.VERIFIED
            or InternshipBase.objects.filter(enterprise=enterprise).exists()
        ):
            continue
        base = enterprise_services.internship_base_apply(
            actor=hr,
            enterprise=enterprise,
            description=f"{name}实习基地：提供生产、研发、质量与管理岗位实习，每名实习生配一名带教导师，免费食宿，购买实习保险。",
            capacity=capacity,
            requested_from=dt.date(today.year, 1, 1),
            requested_to=dt.date(today.year + 2, 12, 31),
        )
        created["bases"] += 1
        if certify:
            enterprise_services.internship_base_transition(
                actor=staff,
                base=base,
                action="certify",
                valid_from=dt.date(today.year, 1, 1),
                valid_to=dt.date(today.year + 2, 12, 31),
                reason="现场核查通过",
            )
    if not YearTarget.objects.filter(year=today.year).exists():
        plan_services.year_target_set(
            actor=staff,
            year=today.year,
            values={
                "quality_jobs": 500,
                "internship_bases": 10,
                "internship_posts": 500,
                "native_hires": 300,
            },
        )
    if stdout is not None:
        stdout.write(
            "recruitment demo: enterprises +{enterprises}, postings +{postings}, internship bases +{bases}".format(
                **created
            )
        )
    return created
