"""Staff find a person on the talent list by full name, by phone and by ID number (the last two
through the blind index, never shown unmasked), and the 院校 filter matches the school chosen,
not every school whose name contains the text."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from qinghe.core.roles import Role
from qinghe.reference.models import University
from qinghe.reference.text import name_key
from qinghe.talents.models import Education, PhoneNumber, Source, Talent
from qinghe.talents.selectors import talent_query
from qinghe.talents.tests.factories import make_id, make_talent

pytestmark = pytest.mark.django_db

WANG_ID = make_id("440784", "20030512", "111")
WANG_PHONE = "13912345678"


@pytest.fixture
def people(personas: Any) -> dict[str, Talent]:
    wang = make_talent(name="王伟", id_number=WANG_ID, phone=WANG_PHONE, university="中山大学")
    return {
        "wang": wang,
        "wangjie": make_talent(
            name="王伟杰",
            id_number=make_id("440784", "20030512", "222"),
            phone="13912340002",
            university="中山职业技术学院",
        ),
        "xiaowang": make_talent(
            name="李王伟",
            id_number=make_id("440784", "20030512", "333"),
            phone="13912340003",
            university="中山大学南方学院",
        ),
    }


def names(client: Client, **query: str) -> list[str]:
    response = client.get("/talents/", query)
    assert response.status_code == 200
    return [t.name for t in response.context["page"].object_list]


def test_a_full_name_matches_exactly_and_first_and_a_part_of_a_name_as_before(
    client_as: Any, people: dict[str, Talent]
) -> None:
    client = client_as(Role.HR_STAFF)
    assert names(client, q="王伟") == ["王伟", "李王伟", "王伟杰"]
    assert names(client, q="王伟杰") == ["王伟杰"]
    assert names(client, q="王") == ["李王伟", "王伟", "王伟杰"]


def test_an_id_number_finds_its_person_through_the_blind_index_and_is_shown_masked(
    client_as: Any, people: dict[str, Talent]
) -> None:
    client = client_as(Role.HR_STAFF)
    response = client.get("/talents/", {"q": WANG_ID})
    assert [t.name for t in response.context["page"].object_list] == ["王伟"]
    html = response.content.decode()
    # The search box is left empty (the export forms carry the query along, as they must).
    assert '<input class="form-control" name="q" value=""' in html
    assert f"按身份证号 440784********{WANG_ID[-4:]} 查找" in html
    # The lower-case x and spaces staff type still parse; an unknown number finds nobody.
    assert names(client, q=f" {WANG_ID[:6]} {WANG_ID[6:]} ") == ["王伟"]
    assert names(client, q=make_id("440784", "20010101", "999")) == []


def test_a_phone_finds_its_person_through_the_blind_index_and_is_shown_masked(
    client_as: Any, people: dict[str, Talent]
) -> None:
    client = client_as(Role.HR_STAFF)
    response = client.get("/talents/", {"q": WANG_PHONE})
    assert [t.name for t in response.context["page"].object_list] == ["王伟"]
    html = response.content.decode()
    # The search box is left empty (the export forms carry the query along, as they must).
    assert '<input class="form-control" name="q" value=""' in html
    assert "按手机号 139****5678 查找" in html
    assert names(client, q="+86 139-1234-5678") == ["王伟"]
    # A former number finds the person too: students change numbers.
    PhoneNumber.objects.filter(talent=people["wang"]).update(is_current=False)
    assert names(client, q=WANG_PHONE) == ["王伟"]
    assert names(client, q="13700000000") == []


def test_the_query_is_read_as_id_number_phone_or_name() -> None:
    id_query = talent_query(WANG_ID)
    assert id_query is not None and (id_query.kind, id_query.sensitive) == ("id_number", True)
    assert id_query.value != WANG_ID and WANG_ID not in id_query.shown
    phone_query = talent_query(WANG_PHONE)
    assert phone_query is not None and (phone_query.kind, phone_query.shown) == (
        "phone",
        "139****5678",
    )
    # Not a valid ID (bad check digit) nor a phone: searched as a name, which nobody has.
    bad = WANG_ID[:-1] + ("0" if WANG_ID[-1] != "0" else "1")
    for text in (bad, "王伟", "1391234"):
        query = talent_query(text)
        assert query is not None and (query.kind, query.value, query.sensitive) == (
            "name",
            text,
            False,
        )
    assert talent_query("  ") is None


def test_the_university_filter_matches_the_school_chosen(
    client_as: Any, people: dict[str, Talent]
) -> None:
    client = client_as(Role.HR_STAFF)
    assert names(client, university="中山大学") == ["王伟"]
    assert names(client, university="中山职业技术学院") == ["王伟杰"]
    assert names(client, university="中山") == []
    sysu = University.objects.create(
        source_id="10558", name="中山大学", name_key=name_key("中山大学")
    )
    Education.objects.filter(talent=people["wang"]).update(university=sysu)
    # A record whose typed name differs but whose school is the catalog's 中山大学.
    Education.objects.create(
        talent=people["xiaowang"], university=sysu, university_name="中大", source=Source.STAFF
    )
    assert names(client, university=str(sysu.pk)) == ["李王伟", "王伟"]
    assert names(client, university="中山大学") == ["李王伟", "王伟"]
    assert names(client, university=str(sysu.pk + 1000)) == []


@pytest.mark.parametrize("q", [make_id("440784", "20030512", "777"), "138 0013 8000"])
def test_a_search_by_id_number_or_phone_cannot_become_a_segment(personas: Any, q: str) -> None:
    from django.core.exceptions import ValidationError

    from qinghe.core.models import AuditLog
    from qinghe.talents.models import Segment
    from qinghe.talents.selectors import TalentFilter
    from qinghe.talents.services import segment_create

    audits = AuditLog.objects.count()
    with pytest.raises(ValidationError) as error:
        segment_create(owner=personas[Role.HR_STAFF], name="按号码", filters=TalentFilter(q=q))
    assert error.value.message_dict == {"q": ["按身份证号或手机号查找的结果不能保存为分组"]}
    assert (Segment.objects.count(), AuditLog.objects.count()) == (0, audits)
