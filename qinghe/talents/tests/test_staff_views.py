from __future__ import annotations

import io
from typing import Any

import openpyxl
import pytest

from qinghe.core.models import AuditLog
from qinghe.core.roles import Role
from qinghe.outreach.models import LiaisonAssignment
from qinghe.talents.models import Consent, Segment, Source, Talent, ValueChange
from qinghe.talents.services import consent_record, talent_update
from qinghe.talents.tests.factories import make_id, make_talent

pytestmark = pytest.mark.django_db

RAW_ID = make_id("440784", "20030512", "123")
RAW_PHONE = "13912345678"


@pytest.fixture
def jiayi(personas: Any) -> Talent:
    return make_talent(
        name="黄嘉怡", id_number=RAW_ID, phone=RAW_PHONE, hukou_text="广东省鹤山市沙坪街道"
    )


def test_staff_list_shows_masked_values_only(client_as: Any, jiayi: Talent) -> None:
    html = client_as(Role.HR_STAFF).get("/talents/").content.decode()
    assert "黄**" in html
    assert "440784********" + RAW_ID[-4:] in html
    assert RAW_ID not in html and RAW_PHONE not in html


def test_filters_narrow_the_list(client_as: Any, jiayi: Talent) -> None:
    make_talent(
        name="李志伟",
        id_number=make_id("440106", "20020101", "555"),
        phone="13700001111",
        university="中山大学",
        graduation_year=2025,
    )
    client = client_as(Role.HR_STAFF)
    assert client.get("/talents/", {"university": "中山大学"}).context["page"].paginator.count == 1
    assert client.get("/talents/", {"native_evidence": "both"}).context["page"].paginator.count == 1
    assert client.get("/talents/", {"graduation_year": "2025"}).context["page"].paginator.count == 1
    assert client.get("/talents/", {"q": "黄"}).context["page"].paginator.count == 1
    assert client.get("/talents/").context["page"].paginator.count == 2


def test_school_and_year_filters_match_one_education_each(client_as: Any, personas: Any) -> None:
    """A cohort or a school lists each talent once, whatever its other educations; the two
    together match only a talent with one education of that school in that year."""
    from qinghe.talents.models import Education

    two = make_talent(name="陈思远", phone=None, university="中山大学", graduation_year=2020)
    Education.objects.create(
        talent=two, university_name="暨南大学", graduation_year=2024, source=Source.STAFF
    )
    Talent.objects.filter(pk=two.pk).update(graduation_year=2024)
    make_talent(name="何晓彤", phone=None, university="暨南大学", graduation_year=2020)
    client = client_as(Role.HR_STAFF)

    def listed(**params: str) -> list[str]:
        page = client.get("/talents/", params).context["page"]
        return [t.name for t in page.object_list]

    assert listed(graduation_year="2020") == ["陈思远", "何晓彤"]
    assert listed(graduation_year="2024") == ["陈思远"]
    assert listed(university="暨南大学") == ["陈思远", "何晓彤"]
    assert listed(university="暨南大学", graduation_year="2020") == ["何晓彤"]
    assert listed(university="中山大学", graduation_year="2024") == []
    assert listed(graduation_year="2019") == []


def test_the_listed_records_are_kept_until_a_record_is_saved_and_read_afresh_each_time(
    client_as: Any, jiayi: Talent
) -> None:
    """Which records a page lists (their ids) is kept like the counts (core/fragments.py,
    TALENTS, at most TALENT_COUNTS_SECONDS); the records themselves are read on each request
    through the same filters, so they show their current values and drop out once they no
    longer match."""

    other = make_talent(
        name="黄志伟", id_number=make_id("440106", "20020101", "555"), phone="13700001111"
    )
    outside = make_talent(
        name="李四", id_number=make_id("440106", "20020101", "777"), phone="13700002222"
    )
    client = client_as(Role.HR_STAFF)

    def listed() -> list[str]:
        return sorted(t.name for t in client.get("/talents/", {"q": "黄"}).context["page"])

    assert listed() == sorted(["黄嘉怡", "黄志伟"])
    # Writes that announce nothing (an import's bulk writes do not bump TALENTS): the kept
    # ids stay, and each listed record is read again.
    Talent.objects.filter(pk=other.pk).update(name="李志伟")
    Talent.objects.filter(pk=outside.pk).update(name="黄四")
    assert listed() == ["黄嘉怡"]  # no longer a match: not shown; 黄四 not among the kept
    Talent.objects.filter(pk=other.pk).update(name="黄志强")
    assert listed() == sorted(["黄嘉怡", "黄志强"])  # its current name
    # A record saved one at a time bumps TALENTS: the list is drawn again at once.
    make_talent(name="黄小明", id_number=make_id("440106", "20020101", "999"), phone=None)
    assert listed() == sorted(["黄四", "黄嘉怡", "黄小明", "黄志强"])


def test_talent_page_shows_native_evidence_and_timeline(client_as: Any, jiayi: Talent) -> None:
    response = client_as(Role.HR_STAFF).get(f"/talents/{jiayi.pk}/")
    html = response.content.decode()
    assert "身份证号与户籍均在鹤山" in html
    assert "教育经历：华南理工大学 软件工程 本科" in html


def test_unmasking_needs_a_reason_and_is_audited(client_as: Any, jiayi: Talent) -> None:
    client = client_as(Role.HR_STAFF)
    before = AuditLog.objects.filter(action="unmask").count()
    refused = client.post(f"/talents/{jiayi.pk}/unmask/", {"field": "id_number", "reason": ""})
    assert refused.status_code == 400 and RAW_ID not in refused.content.decode()
    assert AuditLog.objects.filter(action="unmask").count() == before
    response = client.post(
        f"/talents/{jiayi.pk}/unmask/", {"field": "id_number", "reason": "核对补贴申请"}
    )
    assert RAW_ID in response.content.decode()
    entry = AuditLog.objects.filter(action="unmask").latest("id")
    assert (entry.actor_label, entry.target_id, entry.reason, entry.data) == (
        "renshe",
        str(jiayi.pk),
        "核对补贴申请",
        {"field": "id_number"},
    )


def test_a_liaison_may_unmask_the_phone_but_not_the_id(
    client_as: Any, jiayi: Talent, personas: Any
) -> None:
    # Their own consenting student (see test_unmasking for the conditions).
    LiaisonAssignment.objects.create(talent=jiayi, liaison=personas[Role.LIAISON])
    consent_record(talent=jiayi, purpose=Consent.Purpose.LIAISON, granted=True, actor=None)
    client = client_as(Role.LIAISON)
    refused = client.post(f"/talents/{jiayi.pk}/unmask/", {"field": "id_number", "reason": "联系"})
    assert refused.status_code == 403 and RAW_ID not in refused.content.decode()
    assert not AuditLog.objects.filter(action="unmask").exists()
    allowed = client.post(f"/talents/{jiayi.pk}/unmask/", {"field": "phone", "reason": "电话回访"})
    assert RAW_PHONE in allowed.content.decode()


def test_education_staff_cannot_unmask_at_all(client_as: Any, jiayi: Talent) -> None:
    response = client_as(Role.EDU_STAFF).post(
        f"/talents/{jiayi.pk}/unmask/", {"field": "phone", "reason": "x x"}
    )
    assert response.status_code == 403
    assert not AuditLog.objects.filter(action="unmask").exists()


def test_masked_export_is_masked_escaped_and_logged_with_its_row_count(
    client_as: Any, jiayi: Talent
) -> None:
    talent_update(
        talent=jiayi, data={"high_school": "=cmd|' /C calc'!A0"}, source=Source.STAFF, actor=None
    )
    make_talent(name="=李志伟", id_number=make_id("440784", "20020101", "555"), phone="13700001111")
    response = client_as(Role.EDU_STAFF).get("/talents/export/")
    assert response.status_code == 200 and response["X-Row-Count"] == "2"
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[0][:4] == ["姓名", "性别", "身份证号", "手机号"]
    names = sorted(r[0] for r in rows[1:])
    assert names == ["'=***", "黄**"]
    flat = " ".join(str(v) for r in rows for v in r if v)
    assert RAW_ID not in flat and RAW_PHONE not in flat
    entry = AuditLog.objects.filter(action="export").latest("id")
    assert (entry.count, entry.actor_label) == (2, "jiaoyu")


def test_full_export_needs_permission_and_reason(client_as: Any, jiayi: Talent) -> None:
    edu = client_as(Role.EDU_STAFF).get("/talents/export/", {"unmask": "1", "reason": "核对"})
    assert edu.status_code == 302
    assert not AuditLog.objects.filter(action="export").exists()
    hr = client_as(Role.HR_STAFF)
    no_reason = hr.get("/talents/export/", {"unmask": "1"})
    assert no_reason.status_code == 302 and not AuditLog.objects.filter(action="export").exists()
    full = hr.get("/talents/export/", {"unmask": "1", "reason": "补贴核对"})
    sheet = openpyxl.load_workbook(io.BytesIO(full.content)).active
    assert [c.value for c in sheet[2]][:4] == [
        "黄嘉怡",
        "女" if int(RAW_ID[16]) % 2 == 0 else "男",
        RAW_ID,
        RAW_PHONE,
    ]
    assert AuditLog.objects.get(action="export").data["unmasked"] is True


def test_a_saved_segment_is_live(client_as: Any, jiayi: Talent, personas: Any) -> None:
    client = client_as(Role.LEAGUE_STAFF)
    response = client.post(
        "/talents/segments/new/", {"name": "2026届鹤山籍", "graduation_year": "2026"}
    )
    segment = Segment.objects.get(name="2026届鹤山籍")
    assert response["Location"] == f"/talents/segments/{segment.pk}/"
    assert client.get(f"/talents/segments/{segment.pk}/").context["page"].paginator.count == 1
    make_talent(
        name="李志伟",
        id_number=make_id("440784", "20040101", "555"),
        phone="13700001111",
        graduation_year=2026,
    )
    assert client.get(f"/talents/segments/{segment.pk}/").context["page"].paginator.count == 2
    # another user's segment is a 404, not a 403
    assert client_as(Role.HR_STAFF).get(f"/talents/segments/{segment.pk}/").status_code == 404


def test_a_segment_without_a_name_is_refused_and_nothing_saved(
    client_as: Any, jiayi: Talent
) -> None:
    client_as(Role.HR_STAFF).post("/talents/segments/new/", {"name": " ", "status": "graduating"})
    assert Segment.objects.count() == 0


def test_conflicting_sources_are_kept_side_by_side_and_resolved_by_staff(
    client_as: Any, jiayi: Talent, personas: Any
) -> None:
    from qinghe.talents.services import source_stamp, talent_apply_value

    talent_update(
        talent=jiayi,
        data={"wechat": "jiayi_wx"},
        source=Source.STUDENT,
        actor=personas[Role.STUDENT],
    )
    jiayi.refresh_from_db()
    outcome = talent_apply_value(
        talent=jiayi,
        field="wechat",
        value="other_wx",
        stamp=source_stamp(Source.SURVEY, 7, "调查"),
        authoritative=False,
    )
    jiayi.save()
    assert outcome == "conflict"
    jiayi.refresh_from_db()
    assert jiayi.wechat == "jiayi_wx"
    change = ValueChange.objects.get(talent=jiayi, state="conflict")
    html = client_as(Role.HR_STAFF).get(f"/talents/{jiayi.pk}/").content.decode()
    assert "jiayi_wx" in html and "other_wx" in html and "微信号" in html
    # a liaison cannot resolve; nothing changes
    assert (
        client_as(Role.LIAISON)
        .post(f"/talents/{jiayi.pk}/changes/{change.pk}/resolve/", {"choose": "new"})
        .status_code
        == 403
    )
    change.refresh_from_db()
    assert change.state == "conflict"
    client_as(Role.HR_STAFF).post(
        f"/talents/{jiayi.pk}/changes/{change.pk}/resolve/", {"choose": "new"}
    )
    jiayi.refresh_from_db()
    change.refresh_from_db()
    assert (jiayi.wechat, change.state, change.resolved_value) == ("other_wx", "resolved", "new")


def test_duplicates_are_listed_and_merged_keeping_every_record(
    client_as: Any, personas: Any
) -> None:
    a = make_talent(
        name="梁子晴",
        id_number=make_id("440784", "20030101", "222"),
        phone="13600002222",
        university="暨南大学",
    )
    b = make_talent(name="梁子晴", id_number=None, phone="13600002222", university="广东工业大学")
    client = client_as(Role.HR_STAFF)
    groups = client.get("/talents/duplicates/").context["groups"]
    assert [sorted(t.pk for t in g["talents"]) for g in groups] == [sorted([a.pk, b.pk])]
    response = client.post("/talents/merge/", {"talent": [a.pk, b.pk], "keep": a.pk})
    assert response["Location"] == f"/talents/{a.pk}/"
    b.refresh_from_db()
    assert b.merged_into_id == a.pk
    assert sorted(a.educations.values_list("university_name", flat=True)) == [
        "广东工业大学",
        "暨南大学",
    ]
    assert a.phones.count() == 1
    assert AuditLog.objects.filter(action="merge", target_id=str(a.pk)).count() == 1
    assert client.get("/talents/").context["page"].paginator.count == 1


def test_merge_is_refused_to_a_liaison_and_changes_nothing(client_as: Any, personas: Any) -> None:
    a = make_talent(name="梁子晴", phone="13600002222")
    b = make_talent(name="梁子晴", phone="13600002222", university="广东工业大学")
    assert (
        client_as(Role.LIAISON)
        .post("/talents/merge/", {"talent": [a.pk, b.pk], "keep": a.pk})
        .status_code
        == 403
    )
    b.refresh_from_db()
    assert b.merged_into_id is None and a.educations.count() == 1


def test_api_lists_masked_talents_for_staff_and_404s_for_others(
    client_as: Any, jiayi: Talent
) -> None:
    data = client_as(Role.HR_STAFF).get("/api/v1/talents/").json()
    assert data[0]["id_number"] == "440784********" + RAW_ID[-4:]
    assert data[0]["phone"] == "139****5678"
    assert client_as(Role.ENTERPRISE_HR).get(f"/api/v1/talents/{jiayi.pk}").status_code == 403
    assert client_as(Role.HR_STAFF).get("/api/v1/talents/999999").status_code == 404


def test_a_newer_destination_of_the_same_year_decides_the_status(personas: Any) -> None:
    from qinghe.talents.models import Destination
    from qinghe.talents.services import talent_recompute

    talent = make_talent(name="冯家乐", phone=None, graduation_year=2025)
    Destination.objects.create(talent=talent, kind="seeking", year=2025, source=Source.SURVEY)
    Destination.objects.create(
        talent=talent,
        kind="employed",
        employer="鹤山市人民医院",
        area="heshan",
        year=2025,
        source=Source.STAFF,
    )
    talent_recompute(talent=talent)
    talent.refresh_from_db()
    assert (talent.status, talent.returned_home) == ("employed_heshan", True)


def test_filter_by_alliance_chapter(client_as: Any, jiayi: Talent) -> None:
    from qinghe.accounts.models import Organisation

    chapter = Organisation.objects.get(name="青鹤联盟·华南理工大学分会")
    other = make_talent(
        name="李志伟", id_number=make_id("440784", "20020101", "555"), phone="13700001111"
    )
    Talent.objects.filter(pk=other.pk).update(chapter=chapter)
    page = client_as(Role.HR_STAFF).get("/talents/", {"chapter": str(chapter.pk)}).context["page"]
    assert [t.pk for t in page] == [other.pk]


def test_a_kept_page_lists_only_the_records_that_still_match(client_as: Any, personas: Any) -> None:
    """The page's ids are kept; its records are read again on each request, and one that left
    the cohort since (a bulk write: no new version) is not shown."""
    from qinghe.talents.models import Education

    gone = make_talent(name="甲子豪", phone=None, graduation_year=2021)
    make_talent(name="乙嘉欣", phone=None, graduation_year=2021)
    client = client_as(Role.HR_STAFF)

    def listed() -> list[str]:
        page = client.get("/talents/", {"graduation_year": "2021"}).context["page"]
        return [t.name for t in page.object_list]

    assert listed() == ["乙嘉欣", "甲子豪"]
    Education.objects.filter(talent=gone).update(graduation_year=2019)
    assert listed() == ["乙嘉欣"]
