"""An enterprise's invitation reaches the student's 我的消息, and the student's acceptance the
enterprise's, each with a link to the page where it is answered or used."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from qinghe.accounts.models import User
from qinghe.matching.services.invitations import invitation_respond, invitation_send
from qinghe.matching.services.recompute import recommendations_recompute_all
from qinghe.notifications.models import Channel, OutboxMessage

from .conftest import Matching


def inbox_rows(user: User) -> list[tuple[str, str, str]]:
    return [
        (m.subject, m.body, m.data.get("url", ""))
        for m in OutboxMessage.objects.filter(user=user, channel=Channel.INBOX).order_by("pk")
    ]


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_an_invitation_and_its_acceptance_reach_the_other_side(matching: Matching) -> None:
    w = matching.world
    recommendations_recompute_all()
    invitation = invitation_send(
        actor=w.hr_a, posting=w.posting_a, talent_id=matching.x.pk, message="欢迎来面试"
    )
    for_me = reverse("matching:for_me")
    assert inbox_rows(w.x) == [
        (
            f"【青鹤】{w.a.name}邀请你投递“软件开发工程师”",
            f"{w.a.name}邀请你投递岗位“软件开发工程师”。\n企业留言：欢迎来面试",
            for_me,
        )
    ]
    assert inbox_rows(w.y) == [] and inbox_rows(w.hr_a) == []
    page = signed_in(w.x).get(for_me)
    assert page.status_code == 200
    assert reverse("matching:invitation_respond", args=[invitation.pk]) in page.content.decode()
    # Another student's page has no such invitation to answer.
    other = signed_in(w.y).get(for_me).content.decode()
    assert reverse("matching:invitation_respond", args=[invitation.pk]) not in other

    invitation_respond(user=w.x, talent=matching.x, invitation_id=invitation.pk, accept=True)
    candidates = reverse("matching:candidates", args=[w.posting_a.pk])
    assert inbox_rows(w.hr_a) == [
        (
            "【青鹤】推荐人才接受了“软件开发工程师”的投递邀请",
            "你们邀请的一位推荐人才接受了岗位“软件开发工程师”的投递邀请，请登录青鹤平台查看。",
            candidates,
        )
    ]
    assert signed_in(w.hr_a).get(candidates).status_code == 200
    assert signed_in(w.hr_b).get(candidates).status_code == 404
    assert inbox_rows(w.hr_b) == []


def test_a_declined_invitation_tells_the_enterprise_nothing(matching: Matching) -> None:
    w = matching.world
    recommendations_recompute_all()
    invitation = invitation_send(actor=w.hr_a, posting=w.posting_a, talent_id=matching.x.pk)
    invitation_respond(user=w.x, talent=matching.x, invitation_id=invitation.pk, accept=False)
    assert inbox_rows(w.hr_a) == []
    assert len(inbox_rows(w.x)) == 1
