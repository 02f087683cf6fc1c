"""Job search benchmark: prints measured figures.

    .venv/bin/python bench/bench_job_search.py [--postings 20000] [--queries 500]

Fills a fresh database with 20,000 postings (bulk: 300 enterprises, realistic titles and
descriptions cut by jieba into ``search_tokens`` exactly as the services do), then runs 500
keyword searches, each with two filters, through the selector the search page uses
(``qinghe.jobs.selectors.posting_search``) and evaluates them the way the page does: the
count for the pager and the first page of 20 rows. Prints the median, p95 and p99 latency.

SQLite runs on a temporary file. PostgreSQL runs when BENCH_PG_URL is set (e.g.
postgres://qinghe:qinghe@127.0.0.1:5432/qinghe_bench): a temporary database is created on that
server, migrated (which creates the GIN index of jobs 0003) and dropped afterwards. Each
database runs in its own process (Django settings are per process); the timings exclude
start-up, migrations and loading.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from _shared import django_setup, pg_admin, with_database  # noqa: E402

GOAL_P99_MS = 50.0
PAGE_SIZE = 20

# Vocabulary for realistic postings in Heshan's industries.
ROLES = [
    ("软件开发工程师", "使用 Python 与 Java 开发企业管理系统后端，对接车间设备数据", "65"),
    ("嵌入式软件工程师", "负责智能家居控制模块嵌入式软件开发，C 语言，熟悉 STM32", "39"),
    ("硬件工程师", "电源板与控制板原理图设计、调试与认证", "39"),
    ("测试工程师", "产品功能测试、可靠性测试与自动化测试脚本开发", "39"),
    ("前端开发工程师", "开发管理后台与微信小程序前端页面", "65"),
    ("印前设计工程师", "负责书刊与包装印前排版、分色与拼版", "23"),
    ("印刷设备维修技术员", "负责印刷机的日常保养与故障排除", "23"),
    ("品质管理工程师", "建立质检标准，推进精益生产与客户验厂", "23"),
    ("机械设计工程师", "负责龙头、花洒结构设计与模具跟进，使用 SolidWorks 建模", "33"),
    ("数控车床操作工", "操作数控车床加工铜件，看懂图纸，能自检", "33"),
    ("表面处理工艺工程师", "负责电镀与 PVD 工艺参数优化、环保合规", "33"),
    ("涂料研发工程师", "水性树脂与涂料配方研发、性能测试与客户技术服务", "26"),
    ("化工工艺工程师", "负责反应釜工艺控制、工艺文件编写与节能降耗", "26"),
    ("分析检测员", "原料与成品理化检测，操作气相色谱与红外光谱", "26"),
    ("安全环保专员", "危化品管理、环评与安全生产标准化", "26"),
    ("食品研发工程师", "复合调味料新品研发、风味评估与工艺放大", "14"),
    ("食品质量检验员", "微生物与理化检验，执行 HACCP 体系", "14"),
    ("电商运营专员", "负责天猫、抖音店铺运营与直播选品", "14"),
    ("仓储物流主管", "管理立体仓库作业、库存准确率与仓储成本", "59"),
    ("物流调度专员", "城配线路规划与车辆调度，使用 TMS 系统", "59"),
    ("电气工程师", "充电桩电气设计与认证", "38"),
    ("电力电子工程师", "储能变流器拓扑设计、仿真与样机调试", "38"),
    ("会计", "负责总账、成本核算与纳税申报", "23"),
    ("人力资源专员", "招聘、培训与员工关系，负责校园招聘", "33"),
    ("外贸业务员", "开发欧美客户，参加广交会，英语流利", "33"),
    ("生产储备干部", "轮岗学习生产、仓储与品质，培养为车间主管", "14"),
]
PREFIXES = ["", "", "", "高级", "助理", "储备", "资深"]
SUFFIXES = ["", "", "（五金卫浴）", "（包装印刷）", "（新能源）", "（精细化工）", "（食品）"]
INDUSTRIES = {
    "C": ("制造业", None),
    "G": ("交通运输、仓储和邮政业", None),
    "I": ("信息传输、软件和信息技术服务业", None),
    "14": ("食品制造业", "C"),
    "23": ("印刷和记录媒介复制业", "C"),
    "26": ("化学原料和化学制品制造业", "C"),
    "33": ("金属制品业", "C"),
    "38": ("电气机械和器材制造业", "C"),
    "39": ("计算机、通信和其他电子设备制造业", "C"),
    "59": ("装卸搬运和仓储业", "G"),
    "65": ("软件和信息技术服务业", "I"),
}
TOWNS = [
    ("440784001", "沙坪街道"),
    ("440784101", "龙口镇"),
    ("440784102", "雅瑶镇"),
    ("440784103", "古劳镇"),
    ("440784104", "桃源镇"),
    ("440784105", "鹤城镇"),
    ("440784106", "共和镇"),
    ("440784107", "址山镇"),
    ("440784108", "宅梧镇"),
    ("440784112", "双合镇"),
]
ENTERPRISE_WORDS = [
    "华翔",
    "金峰",
    "鹤化",
    "雅瑶",
    "香厨",
    "中欧",
    "骏达",
    "捷通",
    "桃源",
    "鹤城",
    "智汇",
    "双合",
    "雅图",
    "宏达",
    "精工",
    "新材",
    "恒盛",
    "东方",
]
ENTERPRISE_KINDS = [
    "卫浴实业",
    "五金制品",
    "新材料科技",
    "涂料",
    "调味食品",
    "智能电子科技",
    "电子",
    "物流",
    "精密机械",
    "新能源电气",
    "软件科技",
    "印刷",
]
KEYWORDS = [
    "软件 开发",
    "软件开发",
    "工程师",
    "化工",
    "印刷",
    "会计",
    "机械 设计",
    "食品 检验",
    "物流",
    "电气",
    "嵌入式",
    "测试",
    "涂料 研发",
    "质量",
    "数控",
    "电商 运营",
    "仓储",
    "外贸",
    "安全",
    "人力资源",
    "硬件",
    "前端",
    "卫浴",
    "新能源",
    "Python",
    "研发",
    "储备 干部",
    "检测",
    "工艺",
    "调度",
]


# ---------------------------------------------------------------------------- worker side


def _load(postings: int, rng: random.Random) -> dict[str, Any]:
    import datetime as dt

    from django.db import connection, transaction
    from django.utils import timezone

    from qinghe.accounts.models import Organisation
    from qinghe.enterprises.models import Enterprise
    from qinghe.enterprises.uscc import make_uscc
    from qinghe.jobs import search
    from qinghe.jobs.models import Posting
    from qinghe.reference.models import Industry, Major, MajorCategory, Town

    started = time.perf_counter()
    with transaction.atomic():
        industries: dict[str, Industry] = {}
        for position, (code, (name, parent)) in enumerate(INDUSTRIES.items()):
            industries[code] = Industry.objects.create(
                code=code,
                name=name,
                level="division" if parent else "section",
                parent=industries.get(parent or ""),
                position=position,
            )
        towns = [Town.objects.create(code=c, name=n, county_code="440784") for c, n in TOWNS]
        computing = MajorCategory.objects.create(code="0809", name="计算机类", kind="undergrad")
        chemistry = MajorCategory.objects.create(code="0813", name="化工与制药类", kind="undergrad")
        software = Major.objects.create(code="080902", name="软件工程", category=computing)
        Major.objects.create(code="081301", name="化学工程与工艺", category=chemistry)

        enterprises = []
        for n in range(300):
            name = f"鹤山市{rng.choice(ENTERPRISE_WORDS)}{rng.choice(ENTERPRISE_KINDS)}有限公司{n}"
            org = Organisation(kind="enterprise", name=name)
            enterprises.append((org, name))
        Organisation.objects.bulk_create([o for o, _ in enterprises])
        divisions = [i for i in industries.values() if i.level == "division"]
        ents = Enterprise.objects.bulk_create(
            [
                Enterprise(
                    organisation=org,
                    uscc=make_uscc(f"91440784MA{n:07d}"),
                    name=name,
                    industry=rng.choice(divisions),
                    town=rng.choice(towns),
                    size="medium",
                    contact_name="人事部",
                    state="verified" if n % 10 else "pending",
                )
                for n, (org, name) in enumerate(enterprises)
            ]
        )
        today = timezone.localdate()
        now = timezone.now()
        rows = []
        for n in range(postings):
            title, text, _industry = rng.choice(ROLES)
            title = f"{rng.choice(PREFIXES)}{title}{rng.choice(SUFFIXES)}"
            enterprise = rng.choice(ents)
            fate = rng.random()
            state = "published" if fate < 0.85 else ("closed" if fate < 0.9 else "draft")
            closing = today + dt.timedelta(days=rng.randint(-20, 120))
            low = rng.choice([2500, 3000, 4000, 4500, 5000, 6000, 7000, 8000, 10000])
            description = (
                f"{text}。{rng.choice(['提供宿舍。', '五险一金。', '双休。', '有导师带教。'])}"
            )
            rows.append(
                Posting(
                    enterprise=enterprise,
                    kind=rng.choices(["job", "internship", "traineeship"], weights=[7, 2, 1])[0],
                    title=title,
                    description=description,
                    town=rng.choice(towns),
                    min_level=rng.choice(["", "junior", "bachelor", "bachelor", "master"]),
                    headcount=rng.randint(1, 10),
                    salary_min=low,
                    salary_max=low + rng.choice([1000, 2000, 3000]),
                    closing_date=closing,
                    state=state,
                    published_at=now - dt.timedelta(days=rng.randint(0, 300))
                    if state != "draft"
                    else None,
                    majors_unrestricted=n % 3 != 0,
                    working_hours="双休",
                    housing="宿舍",
                    meals="两餐",
                    social_insurance="五险一金",
                    leave="年假",
                    safety="培训",
                    search_tokens=search.document_tokens(title, description, enterprise.name),
                )
            )
        created = Posting.objects.bulk_create(rows, batch_size=2000)
        through = Posting.required_categories.through
        major_through = Posting.required_majors.through
        through.objects.bulk_create(
            [
                through(posting_id=p.pk, majorcategory_id=rng.choice([computing.pk, chemistry.pk]))
                for i, p in enumerate(created)
                if i % 3 == 0
            ],
            batch_size=5000,
        )
        major_through.objects.bulk_create(
            [
                major_through(posting_id=p.pk, major_id=software.pk)
                for i, p in enumerate(created)
                if i % 9 == 0
            ],
            batch_size=5000,
        )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    return {"load_seconds": time.perf_counter() - started}


def _filters(rng: random.Random) -> dict[str, Any]:
    options = {
        "kind": lambda: rng.choice(["job", "internship", "traineeship"]),
        "town": lambda: rng.choice(TOWNS)[0],
        "industry": lambda: rng.choice(["23", "26", "33", "39", "65", "C"]),
        "salary": lambda: str(rng.choice([4000, 5000, 6000, 8000])),
        "level": lambda: rng.choice(["junior", "bachelor", "master"]),
        "major": lambda: rng.choice(["080902", "0813"]),
    }
    return {name: options[name]() for name in rng.sample(sorted(options), 2)}


def worker(args: argparse.Namespace) -> dict[str, Any]:
    django_setup(args.database_url)
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    rng = random.Random(args.seed)
    info = _load(args.postings, rng)

    from types import SimpleNamespace

    from django.core.paginator import Paginator
    from django.db import connection

    from qinghe.jobs.models import Posting
    from qinghe.jobs.selectors import PostingFilter, posting_search

    viewer = SimpleNamespace(is_authenticated=True, role="student")
    queries = [{"q": rng.choice(KEYWORDS), **_filters(rng)} for _ in range(args.queries)]

    def run(params: dict[str, Any]) -> int:
        qs = posting_search(viewer=viewer, filters=PostingFilter.from_query(params))
        page = Paginator(qs, PAGE_SIZE).get_page(1)
        list(page.object_list)
        return page.paginator.count

    for params in queries[:20]:  # warm-up: jieba's dictionary, connection, plan caches
        run(params)
    times: list[float] = []
    hits: list[int] = []
    for params in queries:
        started = time.perf_counter()
        hits.append(run(params))
        times.append((time.perf_counter() - started) * 1000)
    plan = ""
    if connection.vendor == "postgresql":
        sample = posting_search(
            viewer=viewer,
            filters=PostingFilter.from_query(
                {"q": "软件 开发", "town": "440784001", "kind": "job"}
            ),
        )
        plan = sample.explain()
    times.sort()
    return {
        "postings": Posting.objects.count(),
        "queries": len(times),
        "median_ms": statistics.median(times),
        "p95_ms": times[int(0.95 * (len(times) - 1))],
        "p99_ms": times[int(0.99 * (len(times) - 1))],
        "max_ms": times[-1],
        "mean_hits": statistics.mean(hits),
        "plan_uses_gin": "jobs_posting_tokens_gin" in plan,
        **info,
    }


# ---------------------------------------------------------------------------- driver side


def run_worker(database_url: str, postings: int, queries: int, seed: int) -> dict[str, Any]:
    command = [
        sys.executable,
        __file__,
        "--worker",
        "--database-url",
        database_url,
        "--postings",
        str(postings),
        "--queries",
        str(queries),
        "--seed",
        str(seed),
    ]
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.base"}
    out = subprocess.run(command, check=True, capture_output=True, text=True, env=env, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def line(label: str, r: dict[str, Any]) -> str:
    ratio = r["p99_ms"] / GOAL_P99_MS
    verdict = "met" if r["p99_ms"] <= GOAL_P99_MS else "MISSED"
    extra = " (GIN index used)" if r.get("plan_uses_gin") else ""
    return (
        f"{label}: median {r['median_ms']:.1f} ms, p95 {r['p95_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms, "
        f"max {r['max_ms']:.1f} ms over {r['queries']} searches on {r['postings']} postings "
        f"(mean {r['mean_hits']:.0f} hits; load {r['load_seconds']:.1f} s){extra}; "
        f"goal p99 <= {GOAL_P99_MS:.0f} ms: {ratio:.2f}x the goal, {verdict}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--postings", type=int, default=20000)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args)))
        return 0

    print(
        f"job search: {args.postings} postings, {args.queries} keyword searches with two filters, "
        f"each evaluated as the page does (count + first {PAGE_SIZE} rows)"
    )
    with tempfile.TemporaryDirectory(prefix="qinghe-bench-jobs-") as tmp:
        sqlite = run_worker(
            f"sqlite:///{tmp}/bench.sqlite3", args.postings, args.queries, args.seed
        )
        print(line("sqlite", sqlite))
    server = os.environ.get("BENCH_PG_URL", "")
    if not server:
        print("postgresql: skipped (set BENCH_PG_URL)")
        return 0
    name = f"qinghe_bench_jobs_{os.getpid()}"
    try:
        pg_admin(server, f'CREATE DATABASE "{name}"')
    except Exception as exc:  # noqa: BLE001
        print(
            f"postgresql: skipped (cannot create a database on BENCH_PG_URL: {exc.__class__.__name__})"
        )
        return 0
    try:
        pg = run_worker(with_database(server, name), args.postings, args.queries, args.seed)
        print(line("postgresql", pg))
    finally:
        pg_admin(server, f'DROP DATABASE IF EXISTS "{name}"')
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
