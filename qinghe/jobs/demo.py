"""Demo data for the recruitment half: Heshan enterprises in the industries the city is known
for (printing, hardware and sanitary ware, building ceramics, fine chemicals, food, tea,
electronics, new energy, furniture, textiles, flowers, logistics), about 100 postings at
Heshan salaries, three internship bases and this year's targets (data in data/demo/).

Idempotent: enterprises are matched on their USCC, postings on (enterprise, title), bases on
their enterprise; running it twice creates nothing new. Writes go through the services, so
the events and the audit trail read as they would in real use."""

from __future__ import annotations

import datetime as dt
import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone

from qinghe.accounts.demo import DEMO_PASSWORD, demo_password_hash
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


# One role a demo enterprise recruits for:
# (title, kind, description, majors/categories, min level, salary range, facts, headcount)
Role_ = tuple[str, str, str, list[str], str, tuple[int, int], str, int]
DATA_FILE = Path(__file__).resolve().parent / "data" / "demo" / "recruitment.json"


def _role(row: dict[str, Any]) -> Role_:
    low, high = row["salary"]
    return (
        row["title"],
        row["kind"],
        row["description"],
        list(row["codes"]),
        row["min_level"],
        (int(low), int(high)),
        row["facts"],
        int(row["headcount"]),
    )


def load_demo_data(
    path: Path = DATA_FILE,
) -> tuple[list[DemoEnterprise], dict[str, dict[str, Any]], dict[str, list[Role_]], list[Role_]]:
    """The demo enterprises, the facts of each kind of workplace, the roles per industry
    (GB/T 4754 division) and the roles every medium or larger enterprise has, from the JSON
    data file (no literal data in code)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return (
        [DemoEnterprise(**row) for row in data["enterprises"]],
        data["facts"],
        {industry: [_role(r) for r in rows] for industry, rows in data["roles"].items()},
        [_role(r) for r in data["general"]],
    )


# Loaded once, at import: seed_demo and its tests read the same data.
ENTERPRISES, FACTS, ROLES, GENERAL = load_demo_data()


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
            password_hash=demo_password_hash(),
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
                "recruitment_events": 10,
            },
        )
    if stdout is not None:
        stdout.write(
            "recruitment demo: enterprises +{enterprises}, postings +{postings}, internship bases +{bases}".format(
                **created
            )
        )
    return created
