"""The world the cross-app tests speak of: enterprise A (雅图仕, whose HR is the persona
陈嘉豪 "qiye"), enterprise B (华翔卫浴, HR "qiye_b"), a pending enterprise C, student X (the
persona 李晓彤 "xuezi") and student Y, and postings of A and B in several states."""

from __future__ import annotations

from dataclasses import dataclass

from qinghe.accounts.models import User
from qinghe.core.roles import Role
from qinghe.enterprises.models import Enterprise
from qinghe.enterprises.tests.factories import (
    Ref,
    make_enterprise,
    make_posting,
    make_user,
)
from qinghe.jobs.models import Posting


@dataclass
class World:
    ref: Ref
    a: Enterprise
    b: Enterprise
    c: Enterprise
    hr_a: User
    hr_b: User
    hr_c: User
    x: User
    y: User
    posting_a: Posting
    draft_a: Posting
    review_a: Posting
    posting_b: Posting
    draft_b: Posting


def make_world(personas: dict[str, User], ref: Ref) -> World:
    """Enterprise A of the HR persona, B and a pending C; students X (the student persona)
    and Y; postings of A and B in several states."""
    hr_a = personas[Role.ENTERPRISE_HR]
    assert hr_a.organisation is not None  # the HR persona belongs to enterprise A
    a = make_enterprise(ref, name=hr_a.organisation.name, n=1, organisation=hr_a.organisation)
    b = make_enterprise(
        ref, name="鹤山市华翔卫浴实业有限公司", n=2, hr_username="qiye_b", town=ref.gonghe
    )
    c = make_enterprise(
        ref,
        name="鹤山市双合纺织服饰有限公司",
        n=3,
        state=Enterprise.State.PENDING,
        hr_username="qiye_c",
    )
    return World(
        ref=ref,
        a=a,
        b=b,
        c=c,
        hr_a=hr_a,
        hr_b=User.objects.get(username="qiye_b"),
        hr_c=User.objects.get(username="qiye_c"),
        x=personas[Role.STUDENT],
        y=make_user("xuezi_y"),
        posting_a=make_posting(a, title="软件开发工程师"),
        draft_a=make_posting(a, title="印前设计工程师", state=Posting.State.DRAFT),
        review_a=make_posting(a, title="品质管理工程师", state=Posting.State.REVIEW),
        posting_b=make_posting(
            b, title="机械设计工程师（五金卫浴）", description="龙头花洒结构设计。"
        ),
        draft_b=make_posting(b, title="外贸业务员", state=Posting.State.DRAFT),
    )
