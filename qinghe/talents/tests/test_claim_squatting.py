"""Claiming is not a way into a stranger's record: a survey never merges into a record a
student created and staff have not verified, the student's own view of an unverified record
holds only what they typed, a claim of a record the city holds needs a code sent to a phone on
file (or staff), and the real owner can always take their ID back from a squatter."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from qinghe.accounts.models import PhoneVerification, User
from qinghe.accounts.services import user_create
from qinghe.accounts.sms import CODE_RE, MemorySmsSender
from qinghe.core.errors import ApplicationError
from qinghe.core.models import AuditLog
from qinghe.core.roles import Role
from qinghe.notifications.models import OutboxMessage
from qinghe.talents import claims, services_self
from qinghe.talents.models import ImportRow, Talent, TalentClaim

from .factories import make_talent
from .fixtures import surveys
from .fixtures.surveys import HEADER

pytestmark = pytest.mark.django_db

REAL_ID = surveys.make_id("440784", "20030918", "246")
REAL_NAME = "冯晓琳"
REAL_PHONE = "13711223344"
PASSWORD = "Heshan-home-2026"


def student_account(username: str, phone: str, name: str = "") -> User:
    return user_create(
        username=username,
        password=PASSWORD,
        role=Role.STUDENT,
        display_name=name or username,
        phone=phone,
    )


def survey_row() -> list[object]:
    return [
        1, REAL_NAME, "女", REAL_ID, REAL_PHONE, "中山大学", "计算机科学与技术", "本科", "2021-09",
        2025, "签就业协议形式就业", "鹤山市人民医院", "广东省江门市鹤山市",
        "广东省鹤山市沙坪街道", "家住沙坪", "王老师",
    ]  # fmt: skip


@pytest.fixture(autouse=True)
def reference(db: Any) -> None:
    surveys.load_reference_sample()


@pytest.fixture
def survey_file(tmp_path: Path) -> Path:
    path = tmp_path / "2025届调查.xlsx"
    path.write_bytes(surveys.xlsx_of([survey_row()], header=HEADER))
    return path


def import_survey(path: Path) -> None:
    call_command("import_survey", str(path), source="教育局 2025 届调查", stdout=_Null())


class _Null:
    def write(self, *_: Any) -> None:
        pass


@pytest.fixture
def squatter(db: Any) -> User:
    return student_account("maoren", "13800138999", "冒认者")


@pytest.fixture
def squatted(squatter: User) -> Talent:
    """A student claims an ID nobody holds yet, under a made-up name: a pending record."""
    result = services_self.talent_claim(user=squatter, id_number=REAL_ID, name="王小明")
    assert result.created is True
    return result.talent


def survey_values() -> list[str]:
    """Every value of the survey row a leak would show, and its parts."""
    return [
        REAL_NAME, REAL_PHONE, "137****3344", "中山大学", "计算机科学与技术", "鹤山市人民医院",
        "沙坪", "家住沙坪", "王老师", "2025", "survey", "毕业生调查",
    ]  # fmt: skip


def test_a_survey_does_not_reach_a_squatters_export(
    squatter: User, squatted: Talent, survey_file: Path
) -> None:
    import_survey(survey_file)

    squatted.refresh_from_db()
    data = json.loads(services_self.self_export_json(talent=squatted, user=squatter))
    text = json.dumps(data, ensure_ascii=False)
    for value in survey_values():
        assert value not in text, value
    assert data["phones"] == []
    assert data["educations"] == []
    assert data["destinations"] == []
    assert data["imports"] == []
    assert data["value_changes"] == []
    assert {p["field"]: p["value"] for p in data["profile"] if p["value"]} == {
        "name": "王小明",
        "id_number": REAL_ID,
        "birth_date": "2003-09-18",
        "gender": "女",
    }
    # The record itself holds nothing of the survey either.
    assert (squatted.name, squatted.phones.count(), squatted.educations.count()) == (
        "王小明",
        0,
        0,
    )
    assert squatted.destinations.count() == 0
    assert squatted.import_rows.count() == 0
    # 我的档案 reads the same data.
    client = Client()
    client.force_login(squatter)
    page = client.get("/me/").content.decode()
    for value in (REAL_NAME, REAL_PHONE, "中山大学", "鹤山市人民医院", "家住沙坪"):
        assert value not in page, value


def test_staff_see_the_held_survey_row_on_the_talent_and_import_pages(
    client_as: Any, squatted: Talent, survey_file: Path
) -> None:
    import_survey(survey_file)

    row = ImportRow.objects.get()
    assert (row.outcome, row.talent_id, row.held_for_id) == ("held", None, squatted.pk)
    batch = row.batch
    assert (batch.created, batch.updated, batch.unchanged, batch.rejected, batch.held) == (
        0,
        0,
        0,
        0,
        1,
    )
    assert batch.summary_line == "rows=1 created=0 updated=0 unchanged=0 rejected=0 held=1"
    staff = client_as(Role.HR_STAFF)
    page = staff.get(f"/talents/{squatted.pk}/").content.decode()
    assert 'data-testid="held-rows"' in page
    assert "暂缓合并的调查数据（1 行）" in page
    assert "137****3344" in page and "中山大学" in page and "冯*" in page
    assert REAL_PHONE not in page
    imports = staff.get(f"/talents/imports/{batch.pk}/").content.decode()
    assert "暂缓合并（1 行）" in imports and f"/talents/{squatted.pk}/" in imports


@pytest.fixture
def sms(settings: Any) -> Iterator[type[MemorySmsSender]]:
    settings.SMS_SENDER = "qinghe.accounts.sms.MemorySmsSender"
    MemorySmsSender.clear()
    yield MemorySmsSender
    MemorySmsSender.clear()


def last_code(sms: type[MemorySmsSender], phone: str) -> str:
    message = [m for m in sms.outbox if m.phone == phone][-1]
    match = CODE_RE.search(message.text)
    assert match is not None
    return match.group(1)


def audit_trail(since: int) -> list[tuple[str, str, str]]:
    return list(
        AuditLog.objects.filter(pk__gt=since)
        .exclude(action="login")
        .order_by("pk")
        .values_list("action", "target_type", "data__claim")
    )


def test_the_real_owner_takes_the_id_back_with_a_code_to_the_survey_phone(
    squatter: User, squatted: Talent, survey_file: Path, sms: type[MemorySmsSender]
) -> None:
    import_survey(survey_file)
    owner = student_account("benren", "13800138777", REAL_NAME)
    mark = AuditLog.objects.order_by("-pk").values_list("pk", flat=True).first() or 0

    result = services_self.talent_claim(user=owner, id_number=REAL_ID, name=REAL_NAME)
    assert result.claim is not None and result.claim.state == "awaiting_code"
    assert claims.claim_phone_choices(claim=result.claim) == ["137****3344"]
    client = Client()
    client.force_login(owner)
    page = client.get("/me/claim/verify/").content.decode()
    assert "137****3344" in page and "中山大学" not in page and REAL_PHONE not in page

    response = client.post("/me/claim/verify/", {"action": "send", "phone": "0"})
    assert response.status_code == 302
    assert [m.phone for m in sms.outbox] == [REAL_PHONE]
    response = client.post(
        "/me/claim/verify/", {"action": "confirm", "code": last_code(sms, REAL_PHONE)}
    )
    assert response["Location"] == "/me/"

    owned = Talent.objects.get(user=owner)
    squatted.refresh_from_db()
    assert (owned.name, owned.id_number, owned.verification) == (REAL_NAME, REAL_ID, "verified")
    assert [(p.number, p.source) for p in owned.phones.all()] == [(REAL_PHONE, "survey")]
    assert [e.university_name for e in owned.educations.all()] == ["中山大学"]
    assert [d.employer for d in owned.destinations.all()] == ["鹤山市人民医院"]
    assert (squatted.user_id, squatted.id_index, squatted.verification) == (
        None,
        None,
        "rejected",
    )
    assert squatted.verification_reason == "身份证号经本人短信验证档案登记的手机号属于他人"
    assert services_self.own_talent(user=squatter) is None
    row = ImportRow.objects.get()
    assert (row.outcome, row.talent_id, row.held_for_id) == ("updated", owned.pk, None)
    assert (row.batch.held, row.batch.updated) == (0, 1)
    assert audit_trail(mark) == [
        ("create", "talents.talentclaim", "requested"),
        ("update", "talents.talentclaim", "code_sent"),
        ("update", "talents.talent", "evicted"),
        ("create", "talents.talent", "owner_record"),
        ("update", "talents.talent", "linked"),
    ]
    evicted = AuditLog.objects.get(data__claim="evicted")
    assert (evicted.target_id, evicted.actor_id, evicted.data["squatter"]) == (
        str(squatted.pk),
        owner.pk,
        squatter.pk,
    )
    told = OutboxMessage.objects.filter(user=squatter).order_by("channel")
    assert [(m.channel, m.subject, m.body) for m in told] == [
        ("inbox", claims.SQUATTER_NOTICE_SUBJECT, claims.SQUATTER_NOTICE_BODY),
        ("sms", claims.SQUATTER_NOTICE_SUBJECT, claims.SQUATTER_NOTICE_BODY),
    ]
    # The owner now reads the survey's data as their own.
    data = json.loads(services_self.self_export_json(talent=owned, user=owner))
    assert [p["number"] for p in data["phones"]] == [REAL_PHONE]


@pytest.fixture
def on_file(db: Any) -> Talent:
    """A record a survey brought in, not yet claimed, with a phone on file."""
    return make_talent(name=REAL_NAME, id_number=REAL_ID, phone=REAL_PHONE)


def test_an_id_and_a_name_alone_show_and_link_nothing(
    on_file: Talent, sms: type[MemorySmsSender]
) -> None:
    claimant = student_account("chaoxie", "13800138555", "抄写者")
    client = Client()
    client.force_login(claimant)
    before = snapshot()

    response = client.post("/me/claim/", {"id_number": REAL_ID, "name": REAL_NAME})
    assert response["Location"] == "/me/claim/verify/"
    page = client.get("/me/claim/verify/").content.decode()
    for value in (REAL_PHONE, "华南理工大学", "软件工程", REAL_ID, "2003-09-18"):
        assert value not in page
    assert client.get("/me/").status_code == 302
    assert client.get("/me/export.json")["Location"] == "/me/claim/"
    # No code asked for yet: refused, nothing linked.
    no_code = client.post("/me/claim/verify/", {"action": "confirm", "code": "123456"})
    assert "请先获取验证码" in no_code.content.decode()
    client.post("/me/claim/verify/", {"action": "send", "phone": "0"})
    code = last_code(sms, REAL_PHONE)
    wrong = "000000" if code != "000000" else "111111"
    refused = client.post("/me/claim/verify/", {"action": "confirm", "code": wrong})
    assert "验证码不正确，还可尝试 4 次" in refused.content.decode()

    assert snapshot() == before
    assert PhoneVerification.objects.get().attempts == 1
    assert services_self.claim_attempts_today(user=claimant) == 1
    assert AuditLog.objects.filter(actor=claimant, data__claim="refused").count() == 1
    assert TalentClaim.objects.get().state == "awaiting_code"
    assert services_self.own_talent(user=claimant) is None


def test_a_code_expires_after_ten_minutes(on_file: Talent, sms: type[MemorySmsSender]) -> None:
    claimant = student_account("wanle", "13800138556")
    services_self.talent_claim(user=claimant, id_number=REAL_ID, name=REAL_NAME)
    sent_at = timezone.now()
    claims.claim_code_send(user=claimant, choice=0, now=sent_at)
    with pytest.raises(ValidationError) as error:
        claims.claim_code_confirm(
            user=claimant,
            code=last_code(sms, REAL_PHONE),
            now=sent_at + timedelta(minutes=10, seconds=1),
        )
    assert error.value.message_dict == {"code": ["验证码已过期，请重新获取"]}
    on_file.refresh_from_db()
    assert on_file.user_id is None


def test_code_sends_are_limited_per_account(on_file: Talent, sms: type[MemorySmsSender]) -> None:
    claimant = student_account("duoci", "13800138557")
    services_self.talent_claim(user=claimant, id_number=REAL_ID, name=REAL_NAME)
    # The daily count starts at midnight in Shanghai and the audit rows carry the real time:
    # keep the simulated 20 minutes on the real day, even when the test runs just before
    # midnight.
    start = timezone.now()
    if timezone.localdate(start + timedelta(minutes=21)) != timezone.localdate(start):
        start -= timedelta(minutes=25)
    with pytest.raises(ApplicationError):
        claims.claim_code_send(user=claimant, choice=0, now=start)
        claims.claim_code_send(user=claimant, choice=0, now=start + timedelta(seconds=30))
    assert len(sms.outbox) == 1  # the phone's one-a-minute limit
    for n in range(1, 5):
        claims.claim_code_send(user=claimant, choice=0, now=start + timedelta(minutes=2 * n))
    with pytest.raises(ApplicationError) as error:
        claims.claim_code_send(user=claimant, choice=0, now=start + timedelta(minutes=20))
    assert error.value.message == "今天已获取 5 次认领验证码，请明天再试或申请工作人员核实"
    assert len(sms.outbox) == 5


def test_a_wrong_name_opens_no_claim_and_shows_no_phone(on_file: Talent) -> None:
    claimant = student_account("cuoming", "13800138558")
    with pytest.raises(ApplicationError) as error:
        services_self.talent_claim(user=claimant, id_number=REAL_ID, name="冯小林")
    assert error.value.message == services_self.CLAIM_REFUSED
    assert TalentClaim.objects.count() == 0


def test_without_a_phone_on_file_staff_decide_and_the_student_sees_nothing_before(
    client_as: Any, personas: Any
) -> None:
    record = make_talent(name=REAL_NAME, id_number=REAL_ID, phone=None)
    claimant = student_account("wuhao", "13800138559")
    result = services_self.talent_claim(user=claimant, id_number=REAL_ID, name=REAL_NAME)
    assert result.claim is not None and result.claim.state == "awaiting_staff"
    client = Client()
    client.force_login(claimant)
    page = client.get("/me/claim/verify/").content.decode()
    assert claims.CLAIM_SENT_TO_STAFF in page and "华南理工大学" not in page
    assert services_self.own_talent(user=claimant) is None

    staff = client_as(Role.HR_STAFF)
    detail = staff.get(f"/talents/{record.pk}/").content.decode()
    assert 'data-testid="claims-awaiting"' in detail and "wuhao" in detail
    response = staff.post(
        f"/talents/{record.pk}/verify/",
        {"claim": result.claim.pk, "decision": "approved", "reason": "核对身份证原件"},
    )
    assert response.status_code == 302
    record.refresh_from_db()
    assert record.user_id == claimant.pk
    claim = TalentClaim.objects.get()
    assert (claim.state, claim.decided_by_id, claim.reason) == (
        "approved",
        personas[Role.HR_STAFF].pk,
        "核对身份证原件",
    )
    linked = AuditLog.objects.get(data__claim="linked")
    assert (linked.actor_id, linked.data["method"]) == (personas[Role.HR_STAFF].pk, "staff")


def test_staff_give_the_owner_a_squatted_id_when_no_survey_holds_it(
    client_as: Any, squatter: User, squatted: Talent
) -> None:
    owner = student_account("benren2", "13800138560", REAL_NAME)
    result = services_self.talent_claim(user=owner, id_number=REAL_ID, name=REAL_NAME)
    assert result.claim is not None and result.claim.state == "awaiting_staff"
    squatted.refresh_from_db()
    assert squatted.user_id == squatter.pk  # nothing changes before staff decide

    client_as(Role.HR_STAFF).post(
        f"/talents/{squatted.pk}/verify/",
        {"claim": result.claim.pk, "decision": "approved", "reason": "户籍证明"},
    )
    owned = Talent.objects.get(user=owner)
    squatted.refresh_from_db()
    assert (owned.id_number, owned.name, owned.verification) == (REAL_ID, REAL_NAME, "verified")
    assert (squatted.user_id, squatted.id_index, squatted.verification) == (None, None, "rejected")
    assert OutboxMessage.objects.filter(user=squatter, channel="inbox").count() == 1


def test_a_refused_staff_decision_changes_nothing_but_the_claim(
    client_as: Any, squatter: User, squatted: Talent
) -> None:
    owner = student_account("benren3", "13800138561", REAL_NAME)
    result = services_self.talent_claim(user=owner, id_number=REAL_ID, name=REAL_NAME)
    assert result.claim is not None
    before = snapshot()
    client_as(Role.HR_STAFF).post(
        f"/talents/{squatted.pk}/verify/",
        {"claim": result.claim.pk, "decision": "rejected", "reason": "无法核实"},
    )
    assert snapshot() == before
    assert TalentClaim.objects.get().state == "rejected"
    assert OutboxMessage.objects.count() == 0


def snapshot() -> list[tuple[Any, ...]]:
    return list(
        Talent.objects.order_by("pk").values_list(
            "pk", "user_id", "name", "id_index", "verification", "updated_at"
        )
    )


def test_a_student_who_cannot_receive_the_code_asks_staff_and_sees_nothing_meanwhile(
    on_file: Talent, sms: type[MemorySmsSender]
) -> None:
    claimant = student_account("huanhao", "13800138562", REAL_NAME)
    client = Client()
    client.force_login(claimant)
    client.post("/me/claim/", {"id_number": REAL_ID, "name": REAL_NAME})
    response = client.post("/me/claim/verify/", {"action": "staff"})
    assert response["Location"] == "/me/claim/verify/"
    claim = TalentClaim.objects.get()
    assert claim.state == "awaiting_staff"
    page = client.get("/me/claim/verify/").content.decode()
    assert claims.CLAIM_SENT_TO_STAFF in page and "137****3344" not in page
    # No code can be asked for any more, and nothing is linked.
    client.post("/me/claim/verify/", {"action": "send", "phone": "0"})
    assert sms.outbox == []
    on_file.refresh_from_db()
    assert on_file.user_id is None
    assert AuditLog.objects.filter(data__claim="to_staff").count() == 1
