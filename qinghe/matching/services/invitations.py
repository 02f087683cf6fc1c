"""Invitations: an enterprise invites a recommended talent to apply; the student answers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from qinghe.accounts.models import User
from qinghe.core.audit import audit_record
from qinghe.core.errors import ApplicationError, NotFound
from qinghe.core.roles import Role
from qinghe.jobs.models import Posting
from qinghe.notifications.models import Category, Channel
from qinghe.notifications.services import make_key, notify
from qinghe.talents.models import Consent, Talent
from qinghe.talents.services import consent_record

from .. import fetch
from ..models import (
    Invitation,
)

if TYPE_CHECKING:
    from qinghe.accounts.models import User


@transaction.atomic
def invitation_send(
    *,
    actor: User,
    posting: Posting,
    talent_id: int,
    message: str = "",
) -> Invitation:
    """An enterprise invites one of its posting's recommended talents to apply. Only a talent
    recommended for this posting, still consenting to matching, can be invited (anyone else
    is NotFound, like a missing one)."""
    from ..selectors import candidate_talent_ids

    if talent_id not in candidate_talent_ids(posting=posting):
        raise NotFound()
    if not fetch.open_postings().filter(pk=posting.pk).exists():
        raise ApplicationError("岗位已关闭，不能再邀请")
    message = (message or "").strip()
    if len(message) > 300:
        raise ValidationError({"message": "邀请留言不能超过 300 个字"})
    invitation, created = Invitation.objects.get_or_create(
        posting=posting,
        talent_id=talent_id,
        defaults={"enterprise": posting.enterprise, "invited_by": actor, "message": message},
    )
    if not created:
        raise ApplicationError("已向该人才发出过邀请")
    audit_record(
        action="create",
        actor=actor,
        target=invitation,
        summary=f"邀请推荐人才投递：{posting.title}",
    )
    _notify_invited(invitation)
    return invitation


@transaction.atomic
def invitation_respond(
    *,
    user: User,
    talent: Talent,
    invitation_id: int,
    accept: bool,
) -> Invitation:
    """The student accepts (sharing their information with the enterprise, recorded as a
    consent for that enterprise) or declines an invitation of their own."""
    invitation = (
        Invitation.objects.select_for_update(of=("self",))
        .select_related("enterprise", "posting")
        .filter(pk=invitation_id, talent=talent)
        .first()
    )
    if invitation is None:
        raise NotFound()
    if invitation.state != Invitation.State.PENDING:
        raise ApplicationError("该邀请已回复")
    if accept:
        invitation.consent = consent_record(
            talent=talent,
            purpose=Consent.Purpose.SHARE_ENTERPRISE,
            granted=True,
            actor=user,
            enterprise=invitation.enterprise.organisation,
        )
        invitation.state = Invitation.State.ACCEPTED
    else:
        invitation.state = Invitation.State.DECLINED
    invitation.decided_at = timezone.now()
    invitation.save()
    audit_record(
        action="update",
        actor=user,
        target=invitation,
        summary=f"{'接受' if accept else '婉拒'}企业投递邀请：{invitation.posting.title}",
    )
    if accept:
        _notify_accepted(invitation)
    return invitation


def _notify_invited(invitation: Invitation) -> None:
    """The student's message (inbox and e-mail), in the caller's transaction. Nothing when
    the talent has no active account."""
    user = Talent.objects.filter(pk=invitation.talent_id).values_list("user", flat=True).first()
    student = User.objects.filter(pk=user, is_active=True).first() if user else None
    if student is None:
        return
    posting = invitation.posting
    body = f"{invitation.enterprise.name}邀请你投递岗位“{posting.title}”。"
    if invitation.message:
        body += f"\n企业留言：{invitation.message}"
    notify(
        user=student,
        channels=(Channel.INBOX, Channel.EMAIL, Channel.WECHAT),
        category=Category.SYSTEM,
        subject=f"【青鹤】{invitation.enterprise.name}邀请你投递“{posting.title}”",
        body=body,
        key=make_key("invitation-sent", invitation.pk),
        template="matching.invitation_sent",
        data={"url": reverse("matching:for_me"), "invitation": invitation.pk},
    )


def _notify_accepted(invitation: Invitation) -> None:
    """Tells the enterprise's active HR users that the student accepted (their information is
    now shared with the enterprise; the candidates page shows it)."""
    posting = invitation.posting
    hr_users = User.objects.filter(
        organisation_id=invitation.enterprise.organisation_id,
        role=Role.ENTERPRISE_HR,
        is_active=True,
    ).order_by("pk")
    for user in hr_users:
        notify(
            user=user,
            channels=(Channel.INBOX, Channel.EMAIL),
            category=Category.SYSTEM,
            subject=f"【青鹤】推荐人才接受了“{posting.title}”的投递邀请",
            body=f"你们邀请的一位推荐人才接受了岗位“{posting.title}”的投递邀请，请登录青鹤平台查看。",
            key=make_key("invitation-accepted", invitation.pk),
            template="matching.invitation_accepted",
            data={
                "url": reverse("matching:candidates", args=[posting.pk]),
                "invitation": invitation.pk,
            },
        )
