"""The student's say on what an application shares: which phone (the sign-up phone offered and
pre-selected by default, a number on their record, or none) and whether the e-mail goes too.
The snapshot stores exactly that choice; the enterprise sees only it; a phone that is not the
student's is refused with nothing written."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from qinghe.accounts.phones import phone_index
from qinghe.core.models import AuditLog
from qinghe.notifications.models import OutboxMessage
from qinghe.recruitment.models import Application, ApplicationEvent
from qinghe.talents.models import Consent, PhoneNumber, Source, Talent
from qinghe.testing.recruiting import X_PHONE, Y_PHONE, claim_talent
from qinghe.testing.world import World

pytestmark = pytest.mark.django_db

SIGNUP_PHONE = "13612340009"
OLD_PHONE = "13712340008"


@pytest.fixture
def x_talent(world: World) -> Talent:
    world.x.phone = SIGNUP_PHONE
    world.x.phone_index = phone_index(SIGNUP_PHONE)
    world.x.save(update_fields=["phone", "phone_index"])
    talent = claim_talent(world.x, name="李晓彤", seq="102", phone=X_PHONE)
    talent.phones.update(first_seen="2026-01-02T00:00:00Z")
    PhoneNumber.objects.create(
        talent=talent,
        number=OLD_PHONE,
        number_index=phone_index(OLD_PHONE),
        is_current=False,
        source=Source.SURVEY,
    )
    return talent


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def counts() -> tuple[int, int, int, int, int]:
    return (
        Application.objects.count(),
        ApplicationEvent.objects.count(),
        Consent.objects.count(),
        AuditLog.objects.count(),
        OutboxMessage.objects.count(),
    )


def test_the_apply_form_offers_the_signup_phone_first_and_preselected(
    world: World, x_talent: Talent
) -> None:
    body = client_for(world.x).get(f"/jobs/{world.posting_a.pk}/apply/").content.decode()
    current = x_talent.phones.get(is_current=True)
    old = x_talent.phones.get(is_current=False)
    assert (
        'name="share_phone" value="account" id="id_share_phone_1" checked>'
        f'<label class="form-check-label" for="id_share_phone_1">注册手机号 {SIGNUP_PHONE}</label>'
    ) in body
    assert (
        f'name="share_phone" value="{current.pk}" id="id_share_phone_2">'
        f'<label class="form-check-label" for="id_share_phone_2">档案中的当前号码 {X_PHONE}</label>'
    ) in body
    assert (
        f'name="share_phone" value="{old.pk}" id="id_share_phone_3">'
        f'<label class="form-check-label" for="id_share_phone_3">档案中的号码 {OLD_PHONE}</label>'
    ) in body
    assert 'name="share_phone" value="none" id="id_share_phone_none">' in body
    assert 'name="share_email" value="1" id="id_share_email" checked>' in body


def test_the_snapshot_stores_the_chosen_record_phone_without_the_email_and_the_enterprise_sees_that(
    world: World, x_talent: Talent
) -> None:
    old = x_talent.phones.get(is_current=False)
    response = client_for(world.x).post(
        f"/jobs/{world.posting_a.pk}/apply/", {"consent": "1", "share_phone": str(old.pk)}
    )
    application = Application.objects.get()
    assert response.status_code == 302
    assert (application.shared_snapshot["phone"], application.shared_snapshot["email"]) == (
        OLD_PHONE,
        "",
    )
    page = client_for(world.hr_a).get(f"/jobs/mine/applicants/{application.pk}/")
    body = page.content.decode()
    assert page.status_code == 200
    assert f'<dt class="col-sm-3">手机号</dt><dd class="col-sm-9">{OLD_PHONE}</dd>' in body
    assert '<dt class="col-sm-3">电子邮箱</dt><dd class="col-sm-9">—</dd>' in body
    for unshared in (SIGNUP_PHONE, X_PHONE, "x@example.cn", x_talent.email):
        assert unshared not in body


def test_the_page_can_share_no_phone_and_the_email(world: World, x_talent: Talent) -> None:
    client_for(world.x).post(
        f"/jobs/{world.posting_a.pk}/apply/",
        {"consent": "1", "share_phone": "none", "share_email": "1"},
    )
    snapshot = Application.objects.get().shared_snapshot
    assert (snapshot["phone"], snapshot["email"]) == ("", x_talent.email)


def test_the_api_offers_the_signup_phone_and_without_a_choice_shares_as_before(
    world: World, x_talent: Talent
) -> None:
    client = client_for(world.x)
    preview = client.get(f"/api/v1/jobs/{world.posting_a.pk}/apply").json()
    assert preview["phone_default"] == "account"
    assert [(c["value"], c["number"]) for c in preview["phone_choices"]] == [
        ("account", SIGNUP_PHONE),
        (str(x_talent.phones.get(is_current=True).pk), X_PHONE),
        (str(x_talent.phones.get(is_current=False).pk), OLD_PHONE),
    ]
    assert (preview["shared"]["phone"], preview["shared"]["email"]) == (X_PHONE, x_talent.email)
    response = client.post(
        f"/api/v1/jobs/{world.posting_a.pk}/apply",
        json.dumps({"consent": True}),
        content_type="application/json",
    )
    assert response.status_code == 200
    shared = response.json()["shared"]
    assert (shared["phone"], shared["email"]) == (X_PHONE, x_talent.email)


def test_the_api_shares_the_signup_phone_when_chosen(world: World, x_talent: Talent) -> None:
    response = client_for(world.x).post(
        f"/api/v1/jobs/{world.posting_a.pk}/apply",
        json.dumps({"consent": True, "share_phone": "account", "share_email": False}),
        content_type="application/json",
    )
    assert response.status_code == 200
    snapshot = Application.objects.get().shared_snapshot
    assert (snapshot["phone"], snapshot["email"]) == (SIGNUP_PHONE, "")


def test_the_page_shares_the_preselected_signup_phone(world: World, x_talent: Talent) -> None:
    client_for(world.x).post(
        f"/jobs/{world.posting_a.pk}/apply/",
        {"consent": "1", "share_phone": "account", "share_email": "1"},
    )
    snapshot = Application.objects.get().shared_snapshot
    assert (snapshot["phone"], snapshot["email"]) == (SIGNUP_PHONE, x_talent.email)


def test_a_student_without_a_signup_phone_is_offered_the_record_current_phone(
    world: World,
) -> None:
    world.y.phone = ""
    world.y.phone_index = None
    world.y.save(update_fields=["phone", "phone_index"])
    talent = claim_talent(world.y, name="区嘉敏", seq="202", phone=Y_PHONE)
    page = client_for(world.y).get(f"/jobs/{world.posting_a.pk}/apply/")
    current = talent.phones.get()
    assert page.context["phone_default"] == str(current.pk)
    assert page.context["shared"]["phone"] == Y_PHONE
    assert 'value="account"' not in page.content.decode()


def test_a_phone_that_is_not_the_students_is_refused_and_nothing_is_written(
    world: World, x_talent: Talent
) -> None:
    other = claim_talent(world.y, name="区嘉敏", seq="202", phone=Y_PHONE)
    others_phone = other.phones.get()
    client = client_for(world.x)
    before = counts()
    api = client.post(
        f"/api/v1/jobs/{world.posting_a.pk}/apply",
        json.dumps({"consent": True, "share_phone": str(others_phone.pk)}),
        content_type="application/json",
    )
    assert api.status_code == 400
    assert api.json() == {
        "detail": "输入有误",
        "errors": {"share_phone": ["所选手机号不是你的号码，请在列出的号码中选择"]},
    }
    page = client.post(
        f"/jobs/{world.posting_a.pk}/apply/",
        {"consent": "1", "share_phone": "13800000000"},
        follow=True,
    )
    assert "所选手机号不是你的号码，请在列出的号码中选择" in page.content.decode()
    assert counts() == before


def test_the_posting_page_links_to_the_form_and_reads_no_phone(
    world: World, x_talent: Talent
) -> None:
    """The posting's page shows a link to the form (a page of its own, no script needed); the
    phones are read, decrypted and shown only there."""
    client = client_for(world.x)
    page = client.get(f"/jobs/{world.posting_a.pk}/")
    body = page.content.decode()
    assert f'href="/jobs/{world.posting_a.pk}/apply/" data-testid="open-apply">一键投递</a>' in body
    assert (page.context["has_talent"], page.context["apply_form_shown"]) == (True, False)
    assert "phone_choices" not in page.context and "shared" not in page.context
    assert SIGNUP_PHONE not in body and X_PHONE not in body and 'name="share_phone"' not in body
    form = client.get(f"/jobs/{world.posting_a.pk}/apply/")
    assert form.status_code == 200 and form.context["apply_form_shown"] is True
    html = form.content.decode()
    assert 'data-testid="apply-form"' in html and X_PHONE in html
    assert f'action="/jobs/{world.posting_a.pk}/apply/"' in html


def test_after_applying_the_form_page_shows_the_application_instead(
    world: World, x_talent: Talent
) -> None:
    client = client_for(world.x)
    response = client.post(f"/jobs/{world.posting_a.pk}/apply/", {"consent": "1"})
    assert response.status_code == 302
    for path in (f"/jobs/{world.posting_a.pk}/", f"/jobs/{world.posting_a.pk}/apply/"):
        html = client.get(path).content.decode()
        assert 'data-testid="applied"' in html and 'data-testid="apply-form"' not in html


# The session, the user, the favourite, the student's application and whether the student has
# a talent record; the posting's part (the posting, its majors and categories, the related
# stories) kept since the first visit (jobs/views.py: 9 → 5), as is the layout's unread badge
# (10 → 9); no phone (the form's page reads them: bench/page_cost.py counted 14 → 10 on the
# load test's database).
POSTING_PAGE_QUERIES = 5


def test_the_posting_pages_queries_are_pinned(
    world: World, x_talent: Talent, django_assert_num_queries: Any
) -> None:
    client = client_for(world.x)
    client.get(f"/jobs/{world.posting_a.pk}/")
    with django_assert_num_queries(POSTING_PAGE_QUERIES):
        assert client.get(f"/jobs/{world.posting_a.pk}/").status_code == 200
