"""A student who is in no survey claims, enters their own education (source: the student) and
at once gets recommendations; staff see the row as 学生填报 and verify it. Every refusal
proves nothing changed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from qinghe.accounts.models import User
from qinghe.core.models import AuditLog
from qinghe.core.roles import Role
from qinghe.enterprises.tests.factories import make_user
from qinghe.matching.models import Recommendation
from qinghe.reference.models import Major, MajorCategory, Occupation, University
from qinghe.reference.services import DATA_DIR, load_occupations
from qinghe.reference.text import build_search_text, name_key
from qinghe.talents import services_self
from qinghe.talents.models import Consent, Education, Source, Talent
from qinghe.talents.services import consent_record
from qinghe.talents.tests.factories import make_id
from qinghe.testing.world import World

pytestmark = pytest.mark.django_db

LAST = timezone.localdate().year + 8
NEW_ID = make_id("440784", "20040101", "456")


def university(name: str, source_id: str, *, dfc: bool = False) -> University:
    return University.objects.create(
        source_id=source_id,
        name=name,
        name_key=name_key(name),
        search_text=build_search_text(name),
        province="广东",
        city="广州",
        is_double_first_class=dfc,
    )


@pytest.fixture(scope="module")
def occupations(django_db_setup: Any, django_db_blocker: Any) -> Iterator[None]:
    """The 2022 occupation catalog the matching needs, loaded once for this module."""
    with django_db_blocker.unblock():
        load_occupations(data_dir=DATA_DIR)
    try:
        yield
    finally:
        with django_db_blocker.unblock():
            Occupation.objects.all().delete()


@pytest.fixture
def scut(db: Any) -> University:
    return university("华南理工大学", "10561", dfc=True)


@pytest.fixture
def vocational(db: Any) -> MajorCategory:
    return MajorCategory.objects.create(
        code="51",
        name="电子与信息大类",
        kind=MajorCategory.Kind.VOCATIONAL,
        search_text=build_search_text("电子与信息大类", code="51"),
    )


@pytest.fixture
def newcomer(db: Any) -> User:
    """A student in no survey, who signed up and claimed: a record they created, unverified."""
    user = make_user("xuezi_new")
    result = services_self.talent_claim(user=user, id_number=NEW_ID, name="区浩然")
    assert result.claim is None
    assert Talent.objects.get(user=user).verification == Talent.Verification.PENDING
    return user


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def rows() -> list[tuple[Any, ...]]:
    return list(
        Education.objects.order_by("pk").values_list(
            "pk",
            "talent_id",
            "university_id",
            "university_name",
            "major_id",
            "major_category_id",
            "major_name",
            "level",
            "enrolment_year",
            "graduation_year",
            "source",
            "source_ref",
            "verified_at",
        )
    )


VALID = {
    "university": "华南理工大学",
    "level": "bachelor",
    "major": "软件工程",
    "enrolment": "2021-09",
    "graduation": "2025-06",
}


# --- the service ------------------------------------------------------------------------------


def test_a_student_saves_their_own_education_with_the_student_as_source(
    newcomer: User, scut: University, world: World
) -> None:
    saved = services_self.self_education_save(user=newcomer, **VALID)
    talent = Talent.objects.get(user=newcomer)
    row = Education.objects.get(talent=talent)
    assert saved.education.pk == row.pk
    assert saved.matching_consent is False
    assert (row.university_id, row.university_name, row.is_double_first_class) == (
        scut.pk,
        "华南理工大学",
        True,
    )
    assert (row.major_id, row.major_category_id, row.major_name) == (
        world.ref.software_eng.pk,
        world.ref.computing.pk,
        "软件工程",
    )
    assert (row.level, row.enrolment_year, row.graduation_year) == ("bachelor", 2021, 2025)
    assert (row.source, row.source_ref) == (Source.STUDENT, str(newcomer.pk))
    assert row.verified_at is None and row.verified_by_id is None
    entry = AuditLog.objects.get(target_id=str(talent.pk), data__education=row.pk)
    assert (entry.action, entry.actor_id) == ("create", newcomer.pk)
    assert entry.summary == "学生填报教育经历：华南理工大学 软件工程 本科 2021–2025"


def test_saving_again_replaces_the_students_own_unverified_row(
    newcomer: User, scut: University, vocational: MajorCategory, world: World
) -> None:
    services_self.self_education_save(user=newcomer, **VALID)
    services_self.self_education_save(
        user=newcomer, **{**VALID, "level": "junior", "major": "电子与信息大类"}
    )
    row = Education.objects.get(talent__user=newcomer)
    assert (row.level, row.major_id, row.major_category_id, row.major_name) == (
        "junior",
        None,
        vocational.pk,
        "电子与信息大类",
    )
    actions = AuditLog.objects.filter(data__education=row.pk).order_by("pk")
    assert list(actions.values_list("action", flat=True)) == ["create", "update"]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"university": ""}, "university", "请填写就读院校"),
        ({"university": "不存在大学"}, "university", "未找到该院校，请从列表中选择院校的全称"),
        ({"university": "大" * 121}, "university", "院校名称不能超过 120 个字"),
        ({"level": "phd"}, "level", "请选择学历层次：专科、本科、硕士或博士"),
        ({"level": ""}, "level", "请选择学历层次：专科、本科、硕士或博士"),
        ({"major": ""}, "major", "请填写所学专业"),
        (
            {"major": "计算机类"},
            "major",
            "未找到该专业，请从列表中选择本科专业或高职专科专业大类",
        ),
        ({"major": "专" * 121}, "major", "专业名称不能超过 120 个字"),
        ({"enrolment": ""}, "enrolment", "请填写入学时间"),
        ({"enrolment": "21-09"}, "enrolment", "入学时间格式不正确，例如 2021 或 2021-09"),
        ({"enrolment": "1900-09"}, "enrolment", f"入学时间应在 1960–{LAST} 年之间"),
        ({"graduation": "2999"}, "graduation", f"毕业时间应在 1960–{LAST} 年之间"),
        ({"graduation": "2020-06"}, "graduation", "毕业时间不能早于入学时间"),
        ({"graduation": "2021-06", "enrolment": "2010"}, "graduation", "入学到毕业不能超过 10 年"),
    ],
)
def test_every_invalid_input_is_refused_and_nothing_is_saved(
    newcomer: User,
    scut: University,
    world: World,
    changes: dict[str, str],
    field: str,
    message: str,
) -> None:
    before = rows()
    audits = AuditLog.objects.count()
    with pytest.raises(services_self.ValidationError) as caught:
        services_self.self_education_save(user=newcomer, **{**VALID, **changes})
    errors = caught.value.message_dict
    assert list(errors) == [field]
    assert errors[field] == [message]
    assert rows() == before
    assert AuditLog.objects.count() == audits


def test_a_student_without_a_record_is_sent_to_claim_and_nothing_is_saved(
    scut: University, world: World
) -> None:
    lonely = make_user("xuezi_lonely")
    with pytest.raises(services_self.ApplicationError) as caught:
        services_self.self_education_save(user=lonely, **VALID)
    assert caught.value.message == "请先认领你的人才档案，再填写教育经历"
    assert rows() == []
    response = signed_in(lonely).get("/me/education/")
    assert (response.status_code, response["Location"]) == (302, "/me/claim/")


def test_survey_rows_are_never_touched_by_the_students_save(
    newcomer: User, scut: University, world: World
) -> None:
    talent = Talent.objects.get(user=newcomer)
    survey = Education.objects.create(
        talent=talent, university_name="广东工业大学", source=Source.SURVEY, source_ref="b1"
    )
    services_self.self_education_save(user=newcomer, **VALID)
    assert Education.objects.filter(talent=talent).count() == 2
    survey.refresh_from_db()
    assert (survey.university_name, survey.source) == ("广东工业大学", Source.SURVEY)


# --- the pages --------------------------------------------------------------------------------


def test_the_page_saves_and_a_student_without_matching_consent_is_told_how_to_enable_it(
    newcomer: User, scut: University, world: World
) -> None:
    client = signed_in(newcomer)
    page = client.get("/me/education/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'list="university-options"' in html and "/matching/for-me/preferences/" in html
    response = client.post("/me/education/", VALID, follow=True)
    assert response.redirect_chain == [("/me/#consents", 302)]
    assert "你还没有同意“岗位匹配与推荐”" in response.content.decode()
    assert Education.objects.filter(talent__user=newcomer, source=Source.STUDENT).count() == 1


def test_the_page_shows_refusals_in_chinese_and_saves_nothing(
    newcomer: User, scut: University, world: World
) -> None:
    response = signed_in(newcomer).post("/me/education/", {**VALID, "university": "不存在大学"})
    assert response.status_code == 200
    assert "未找到该院校，请从列表中选择院校的全称" in response.content.decode()
    assert rows() == []


def test_the_suggestions_search_the_catalog(
    newcomer: User, scut: University, vocational: MajorCategory, world: World
) -> None:
    university("中山大学", "10558", dfc=True)
    university("中山职业技术学院", "12345")
    Major.objects.filter(pk=world.ref.software_eng.pk).update(
        search_text=build_search_text("软件工程", code="080902")
    )
    client = signed_in(newcomer)
    hits = client.get("/me/education/universities.json", {"q": "中山"}).json()["results"]
    assert [h["name"] for h in hits] == ["中山大学", "中山职业技术学院"]
    hits = client.get("/me/education/universities.json", {"q": "hnlg"}).json()["results"]
    assert [h["name"] for h in hits] == ["华南理工大学"]
    assert client.get("/me/education/universities.json").json() == {"results": []}
    hits = client.get("/me/education/majors.json", {"q": "rjgc"}).json()["results"]
    assert [h["name"] for h in hits] == ["软件工程"]
    hits = client.get("/me/education/majors.json", {"q": "电子"}).json()["results"]
    assert [h["name"] for h in hits] == ["电子与信息大类"]


def test_staff_and_enterprises_cannot_reach_the_students_pages(
    client_as: Any, world: World
) -> None:
    for role in (Role.HR_STAFF, Role.ENTERPRISE_HR):
        client = client_as(role)
        assert client.get("/me/education/universities.json", {"q": "中山"}).status_code == 403
        assert client.post("/me/education/", VALID).status_code == 403
    assert rows() == []


# --- staff: 学生填报 and 核实 ------------------------------------------------------------------


def test_staff_see_the_row_as_entered_by_the_student_and_verify_it(
    newcomer: User, scut: University, world: World, personas: dict[str, User], client_as: Any
) -> None:
    saved = services_self.self_education_save(user=newcomer, **VALID)
    talent = Talent.objects.get(user=newcomer)
    staff = client_as(Role.HR_STAFF)
    html = staff.get(f"/talents/{talent.pk}/").content.decode()
    assert "学生填报" in html and "待核实" in html
    assert f"账号编号 {newcomer.pk}" in html
    response = staff.post(f"/talents/{talent.pk}/educations/{saved.education.pk}/verify/")
    assert (response.status_code, response["Location"]) == (302, f"/talents/{talent.pk}/")
    row = Education.objects.get(pk=saved.education.pk)
    assert row.verified_at is not None
    assert row.verified_by_id == personas[Role.HR_STAFF].pk
    entry = AuditLog.objects.get(
        actor=personas[Role.HR_STAFF], target_id=str(talent.pk), data__education=row.pk
    )
    assert (entry.action, entry.summary) == (
        "update",
        "核实学生填报的教育经历：华南理工大学 软件工程",
    )
    html = staff.get(f"/talents/{talent.pk}/").content.decode()
    assert "已核实" in html and 'data-testid="education-verify"' not in html
    # A second 核实 is refused and changes nothing.
    verified_at = row.verified_at
    audits = AuditLog.objects.count()
    staff.post(f"/talents/{talent.pk}/educations/{row.pk}/verify/")
    row.refresh_from_db()
    assert row.verified_at == verified_at
    assert AuditLog.objects.count() == audits
    # A new save after 核实 adds a new unverified row; the verified one stays as it was.
    services_self.self_education_save(user=newcomer, **{**VALID, "graduation": "2026"})
    assert Education.objects.filter(talent=talent).count() == 2
    row.refresh_from_db()
    assert (row.graduation_year, row.verified_at) == (2025, verified_at)


def test_only_rows_a_student_entered_are_verified_and_refusals_change_nothing(
    newcomer: User, scut: University, world: World, personas: dict[str, User], client_as: Any
) -> None:
    talent = Talent.objects.get(user=newcomer)
    survey = Education.objects.create(
        talent=talent, university_name="广东工业大学", source=Source.SURVEY, source_ref="b1"
    )
    with pytest.raises(services_self.ApplicationError) as caught:
        services_self.education_verify(
            viewer=personas[Role.HR_STAFF], talent=talent, education_id=survey.pk
        )
    assert caught.value.message == "该教育经历不是学生填报的，无需核实"
    saved = services_self.self_education_save(user=newcomer, **VALID)
    before = rows()
    audits = AuditLog.objects.filter(target_id=str(talent.pk)).count()
    # A liaison not assigned to the student, and an enterprise, cannot verify.
    with pytest.raises(services_self.PermissionDenied):
        services_self.education_verify(
            viewer=personas[Role.LIAISON], talent=talent, education_id=saved.education.pk
        )
    response = client_as(Role.ENTERPRISE_HR).post(
        f"/talents/{talent.pk}/educations/{saved.education.pk}/verify/"
    )
    assert response.status_code == 403
    assert rows() == before
    assert AuditLog.objects.filter(target_id=str(talent.pk)).count() == audits


# --- recommendations --------------------------------------------------------------------------


def test_a_consenting_student_has_recommendations_as_soon_as_the_education_is_saved(
    newcomer: User,
    scut: University,
    world: World,
    occupations: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    from qinghe.matching.services.majors import major_occupations_build
    from qinghe.matching.services.tags import postings_classify

    major_occupations_build(category_ids=[world.ref.computing.pk, world.ref.chemistry.pk])
    postings_classify()
    talent = Talent.objects.get(user=newcomer)
    consent_record(talent=talent, purpose=Consent.Purpose.MATCHING, granted=True, actor=newcomer)
    assert not Recommendation.objects.filter(talent=talent).exists()
    client = signed_in(newcomer)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/me/education/", VALID)
    assert (response.status_code, response["Location"]) == (302, "/matching/for-me/")
    titles = set(
        Recommendation.objects.filter(talent=talent).values_list("posting__title", flat=True)
    )
    assert titles == {world.posting_a.title}  # 软件开发工程师 for a 软件工程 graduate
    page = client.get("/matching/for-me/").content.decode()
    assert world.posting_a.title in page
