"""Phones first (experience issue item 5): every page a student or an enterprise's HR can reach
renders at 390×844 with no sideways scrolling and no one-character columns.

The pages are not listed by hand: they are every GET route of the project whose policy
(qinghe.core.policies) lets the role in, with their URL parameters filled with the ids of real
objects of a seeded world (qinghe.testing: enterprises A and B, students X and Y, applications,
an interview, recommendations and an invitation, an internship base, an event, a consultation,
messages). A new page for either role is checked as soon as it is declared; a new URL
parameter without an id here fails the test until one is added."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from dateutil.relativedelta import relativedelta
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from qinghe.accounts.demo import DEMO_PASSWORD
from qinghe.accounts.demo import personas_ensure as make_persona_users
from qinghe.accounts.models import User
from qinghe.alliance import stories
from qinghe.alliance.models import Chapter
from qinghe.alliance.services import ChapterData, chapter_create, membership_apply
from qinghe.alliance.stories import StoryData
from qinghe.cards.tests.factories import card_with_dependant
from qinghe.core.policies import policy_for
from qinghe.core.roles import Role
from qinghe.enterprises.services import internship_base_apply
from qinghe.enterprises.tests.factories import make_posting, make_reference
from qinghe.events.services import registration_create
from qinghe.events.tests.factories import make_event
from qinghe.jobs.services import favourite_toggle
from qinghe.live.tests.helpers import make_stream
from qinghe.matching.services.invitations import invitation_send
from qinghe.matching.services.majors import major_occupations_build
from qinghe.matching.services.recompute import recommendations_recompute_all
from qinghe.matching.services.tags import postings_classify
from qinghe.matching.tests.conftest import add_talent
from qinghe.notifications.models import Channel, OutboxMessage
from qinghe.notifications.services import unsubscribe_token
from qinghe.outreach.services import consultation_order
from qinghe.policies.demo import DEMO_PDF
from qinghe.policies.models import Policy, Programme
from qinghe.policies.services import application_submit, builtin_ensure
from qinghe.recruitment.services.stages import default_stages_ensure
from qinghe.reference.models import University
from qinghe.reference.services import DATA_DIR, load_occupations
from qinghe.talents.models import Consent, Education
from qinghe.talents.services import consent_record
from qinghe.testing.recruiting import X_PHONE, Y_PHONE, apply_to, claim_talent, invite, make_slot
from qinghe.testing.routes import access_of, concrete_path, methods_of, walk_routes
from qinghe.testing.world import make_world
from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 844}

# Routes of the two roles that are not pages a person looks at (files, JSON, redirects to a
# form elsewhere) are recognised by their answer, not listed here. Pages left out, each with
# its reason:
EXCLUDED: dict[str, str] = {
    "events:photo": "answers a study tour's photo (an image file), not a page",
    # Public, so every role "reaches" it, but it is the page of a minor's guardian, opened
    # from the signed link sent to them (a study tour's registration); its own phone check
    # belongs with the study-tour tests.
    "events:guardian": "the guardian's consent page, not a student's or an enterprise's",
    # Policy SELF lets ambassadors in; a chapter's management page answers 404 to a student
    # who is not its ambassador (alliance.selectors), so a student has no such page to walk.
    "alliance:manage_detail": "an ambassador's page; 404 for a student",
    # File downloads (checked by their own tests: type, attachment, no caching, audit).
    "recruitment:applicant_resume": "answers an applicant's PDF résumé (a file), not a page",
    "matching:invitation_resume": "answers an invited student's PDF résumé (a file), not a page",
    "policies:material_download": "answers an uploaded application material (a file)",
    "policies:attachment_download": "answers a policy's published attachment (a file)",
    "me:resume_download": "answers the student's own PDF résumé (a file), not a page",
    "video:recording_download": "answers a video interview recording (a WebM file), not a page",
}

# Finds what a phone user would suffer: the page scrolls sideways, an element sticks out of
# the viewport (unless an ancestor clips it) or scrolls sideways inside itself, a table row of
# three or more columns side by side (tables become cards: static/css/qinghe.css .qh-stack), a
# table cell narrower than the first two characters of its text, or a text broken into lines
# of one character.
CHECK = r"""() => {
  const vw = window.innerWidth;
  const problems = [];
  const describe = (el) => {
    let s = el.tagName.toLowerCase();
    if (el.id) s += '#' + el.id;
    const cls = (el.getAttribute('class') || '').trim().split(/\s+/).filter(Boolean).slice(0, 3);
    if (cls.length) s += '.' + cls.join('.');
    const text = (el.innerText || el.value || '').trim().replace(/\s+/g, ' ').slice(0, 30);
    return text ? `${s} "${text}"` : s;
  };
  // Inside an ancestor clipped to a point (.visually-hidden, a stacked table's header row).
  const hiddenByClip = (el) => {
    for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
      const st = getComputedStyle(a);
      const r = a.getBoundingClientRect();
      if (st.overflow !== 'visible' && (r.width <= 1 || r.height <= 1)) return true;
    }
    return false;
  };
  const visible = (el) => {
    const st = getComputedStyle(el);
    if (st.visibility === 'hidden' || st.display === 'none') return false;
    const r = el.getBoundingClientRect();
    return r.width > 1 && r.height > 1 && !hiddenByClip(el);
  };
  const clipped = (el) => {
    for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
      const st = getComputedStyle(a);
      if (st.overflowX === 'hidden' || st.overflowX === 'clip') {
        return a.getBoundingClientRect().right <= vw + 0.5;
      }
    }
    return false;
  };
  const canvas = document.createElement('canvas').getContext('2d');
  const twoChars = (el, text) => {
    const st = getComputedStyle(el);
    canvas.font = `${st.fontStyle} ${st.fontWeight} ${st.fontSize} ${st.fontFamily}`;
    return canvas.measureText(text.slice(0, 2)).width;
  };
  if (document.documentElement.scrollWidth > vw) {
    problems.push(`the page scrolls sideways: ${document.documentElement.scrollWidth}px wide`);
  }
  for (const el of document.body.querySelectorAll('*')) {
    if (!visible(el)) continue;
    const r = el.getBoundingClientRect();
    if ((r.right > vw + 0.5 || r.left < -0.5) && !clipped(el)) {
      problems.push(`sticks out (${Math.round(r.left)}–${Math.round(r.right)}px): ${describe(el)}`);
    }
    // An element scrolling sideways inside itself (a .table-responsive wrapper) hides columns.
    const st = getComputedStyle(el);
    if ((st.overflowX === 'auto' || st.overflowX === 'scroll') && el.scrollWidth > el.clientWidth + 1) {
      problems.push(`scrolls sideways inside: ${describe(el)}`);
    }
    // Tables become cards on a phone (the .qh-stack class): no row shows three cells abreast.
    if (el.tagName === 'TR') {
      const tops = new Map();
      for (const cell of el.children) {
        if (!visible(cell)) continue;
        const top = Math.round(cell.getBoundingClientRect().top);
        tops.set(top, (tops.get(top) || 0) + 1);
      }
      if (Math.max(0, ...tops.values()) > 2) {
        problems.push(`a table row of ${Math.max(...tops.values())} columns, not a card: ${describe(el)}`);
      }
    }
    if (el.tagName === 'TD' || el.tagName === 'TH') {
      const text = el.innerText.trim().replace(/\s+/g, '');
      if (text.length >= 2) {
        const pad = parseFloat(st.paddingLeft) + parseFloat(st.paddingRight);
        if (r.width - pad + 0.5 < twoChars(el, text)) {
          problems.push(`table cell narrower than two characters: ${describe(el)}`);
        }
      }
    }
  }
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = node.textContent.replace(/\s+/g, '');
    const parent = node.parentElement;
    if (text.length < 2 || !parent || !visible(parent)) continue;
    if (['SCRIPT', 'STYLE', 'OPTION'].includes(parent.tagName)) continue;
    const range = document.createRange();
    range.selectNodeContents(node);
    const lines = [...range.getClientRects()].filter((q) => q.width > 0);
    if (lines.length < 2) continue;
    const widest = Math.max(...lines.map((q) => q.width));
    if (widest + 0.5 < twoChars(parent, text)) {
      problems.push(`one character per line: ${describe(parent)}`);
    }
  }
  return problems;
}"""


@dataclass
class Seeded:
    params: dict[str, dict[str, str]]  # role -> URL parameter -> a real id
    # view name -> URL parameter -> a real id, where a parameter's name means another row
    # (policies:application's application_id is a subsidy application, not a job application)
    overrides: dict[str, dict[str, str]]


def seed() -> Seeded:
    """The cross-app world with everything a student's and an enterprise's pages show."""
    personas = make_persona_users()
    ref = make_reference()
    default_stages_ensure()
    load_occupations(data_dir=DATA_DIR)
    w = make_world(personas, ref)
    hr, x, y = w.hr_a, w.x, w.y
    testing = make_posting(
        w.a,
        title="软件测试工程师（印刷数字化）",
        description="负责印刷生产管理系统的软件测试，编写测试用例与自动化脚本。",
        categories=[ref.computing],
    )
    tx = claim_talent(x, name="李晓彤", seq="101", phone=X_PHONE, university="华南理工大学")
    ty = claim_talent(y, name="王子健", seq="102", phone=Y_PHONE, university="广东工业大学")
    for talent in (tx, ty):
        Education.objects.filter(talent=talent).update(
            major=ref.software_eng, major_category=ref.software_eng.category
        )
        consent_record(
            talent=talent, purpose=Consent.Purpose.MATCHING, granted=True, actor=talent.user
        )
    for seq, name in (("103", "陈思远"), ("104", "周子墨"), ("105", "赵雨桐")):
        add_talent(name=name, major=ref.software_eng, seq=seq)
    major_occupations_build(category_ids=[ref.computing.pk, ref.chemistry.pk])
    postings_classify()
    recommendations_recompute_all()

    app_x = apply_to(
        x, w.posting_a, cover_letter="我是鹤山人，熟悉 Python 与 Django，希望回乡工作。"
    )
    apply_to(x, w.posting_b)
    apply_to(y, w.posting_a, cover_letter="期待加入雅图仕。")
    make_slot(w.posting_a)
    invite(hr, app_x)
    invitation = invitation_send(
        actor=hr, posting=testing, talent_id=tx.pk, message="欢迎投递我们的测试岗位。"
    )
    builtin_ensure()  # the policy library and the two Guangdong programmes (flushed by e2e)
    hiring = Programme.objects.get(code="startup_hiring")
    day = timezone.localdate()
    subsidy = application_submit(
        actor=x,
        programme=hiring,
        declared_raw={
            "category": "返乡创业",
            "registered_on": (day - relativedelta(months=14)).isoformat(),
            "insured_months": "4",
            "hires": "4",
        },
        files=[
            (kind, SimpleUploadedFile(f"{kind}.pdf", DEMO_PDF, content_type="application/pdf"))
            for kind in hiring.materials
        ],
        today=day,
    )
    policy = Policy.objects.order_by("pk").first()
    assert policy is not None
    favourite_toggle(user=x, posting=w.posting_b)
    today = timezone.localdate()
    base = internship_base_apply(
        actor=hr,
        enterprise=w.a,
        description="印刷与包装全流程实习，配备一对一导师。",
        capacity=20,
        requested_from=today,
        requested_to=today + dt.timedelta(days=365 * 3),
    )
    assert hr.organisation is not None
    event = make_event(hr.organisation, now=timezone.now(), title="雅图仕 2026 校园宣讲会")
    registration_create(user=x, event=event)
    consultation_order(student=x, topic="jobs", question="鹤山有哪些适合软件工程专业毕业生的岗位？")

    league = personas[Role.LEAGUE_STAFF]
    scut = University.objects.create(source_id="10561", name="华南理工大学", city="广州")
    chapter = chapter_create(
        actor=league,
        data=ChapterData(
            name="青鹤联盟·华南理工大学分会", kind=Chapter.Kind.UNIVERSITY, university=scut
        ),
    )
    membership_apply(user=x, chapter=chapter)
    story = stories.story_save(
        actor=league,
        data=StoryData(
            title="从华工到鹤山：一名工程师的返乡选择",
            person_name="梁嘉豪",
            summary="毕业后回到鹤山，在新材料企业做研发。",
            body="在广州实习两年后，他回到鹤山，加入一家新材料企业做研发。",
            consent_on=today - dt.timedelta(days=30),
            consent_note="本人签署书面同意书",
        ),
    )
    stories.story_publish(actor=league, story=story, publish=True)

    _, dependant = card_with_dependant(
        holder=x,
        reviewer=personas[Role.HR_STAFF],
        approver=personas[Role.SYSADMIN],
        child_id="440784201506010010",
    )

    from qinghe.fairs.demo import TITLE, seed_fairs
    from qinghe.fairs.models import Booth
    from qinghe.live.demo import ENDED_TITLE, seed_live
    from qinghe.live.models import Stream

    seed_fairs()  # a running cloud fair with 雅图仕's approved booth, the student registered
    booth = Booth.objects.get(fair__title=TITLE, enterprise=w.a, state=Booth.State.APPROVED)
    seed_live()  # an ended stream: the watch page shows the replay and the figures

    def inbox(user: User) -> str:
        message = OutboxMessage.objects.filter(user=user, channel=Channel.INBOX).first()
        assert message is not None, f"{user} has no message"
        return str(message.pk)

    make_stream(w, personas[Role.HR_STAFF])  # a live stream beside the ended one in the list
    from qinghe.video.models import VideoRoom
    from qinghe.video.services import room_create

    room = room_create(interviewer=hr, student=x, minutes=30, source=VideoRoom.Source.DIRECT)
    # A recording both sides agreed to: the room page lists it with its download link.
    from qinghe.video import services as video

    for side in (hr, x):
        video.room_set_recording_consent(actor=side, room=room, agreed=True)
    recording = video.recording_start(actor=hr, room=room)
    video.recording_add_chunk(actor=hr, recording=recording, seq=0, data=video.WEBM_MAGIC + b"0")
    video.recording_stop(actor=hr, recording=recording)

    common = {
        "stream_id": str(Stream.objects.get(title=ENDED_TITLE).pk),
        "event_id": str(event.pk),
        "chapter_id": str(chapter.pk),
        "story_id": str(story.pk),
        "policy_id": str(policy.pk),
        "code": "one_off_startup",
        "fair_id": str(booth.fair_id),
        "booth_id": str(booth.pk),
        "room_uuid": str(room.uuid),
    }
    return Seeded(
        overrides={
            "policies:application": {"application_id": str(subsidy.pk)},
            # the list behind one figure of the enterprise's own board
            "board:mine_list": {"code": "open_postings"},
        },
        params={
            Role.STUDENT: {
                **common,
                "posting_id": str(w.posting_b.pk),
                "application_id": str(app_x.pk),
                "pk": inbox(x),
                "token": unsubscribe_token(user_id=x.pk, channel=Channel.EMAIL),
                "dependant_id": str(dependant.pk),
            },
            Role.ENTERPRISE_HR: {
                **common,
                "posting_id": str(w.posting_a.pk),
                "application_id": str(app_x.pk),
                "base_id": str(base.pk),
                "invitation_id": str(getattr(invitation, "pk", invitation)),
                "pk": inbox(hr),
                "token": unsubscribe_token(user_id=hr.pk, channel=Channel.EMAIL),
            },
        },
    )


def pages_of(
    role: str, params: dict[str, str], overrides: dict[str, dict[str, str]] | None = None
) -> list[tuple[str, str]]:
    """(view name, path) of every GET route the role may reach, outside the JSON API."""
    pages: list[tuple[str, str]] = []
    unfilled: list[str] = []
    for name, route in walk_routes():
        rule = policy_for(name)
        if rule is None or "GET" not in methods_of(rule) or name in EXCLUDED:
            continue
        if not access_of(rule, "GET").allows(authenticated=True, role=role):
            continue
        if route.startswith("api/"):
            continue
        path = concrete_path(route, {**params, **(overrides or {}).get(name, {})})
        if path is None:
            unfilled.append(f"{name} {route}")
            continue
        pages.append((name, path))
    assert unfilled == [], "give these parameters a real id in seed()"
    return pages


# The seeded rows each list page shows as cards: the walk checks pages with real data.
CARDS: dict[str, dict[str, int]] = {
    Role.STUDENT: {"me:home": 16, "recruitment:my_applications": 2},
    Role.ENTERPRISE_HR: {
        "jobs:my_list": 4,
        "recruitment:applicants": 2,
        "recruitment:slots": 1,
        "matching:ent_postings": 2,
        "matching:candidates": 5,
    },
}


def walk(page: Any, role: str, username: str) -> None:
    seeded = seed()
    page.set_viewport_size(PHONE)
    sign_in(page, username, DEMO_PASSWORD)
    found: dict[str, list[str]] = {}
    walked: list[str] = []
    for name, path in pages_of(role, seeded.params[role], seeded.overrides):
        probe = page.request.get(path, max_redirects=5)
        assert probe.status < 400, f"{path} ({name}) answered {probe.status}"
        if not probe.headers.get("content-type", "").startswith("text/html"):
            continue
        response = page.goto(path)
        assert response is not None and response.status < 400, path
        walked.append(name)
        if name in CARDS[role]:
            cards = page.locator("table.qh-stack > tbody > tr").count()
            assert cards == CARDS[role][name], f"{path} ({name}) shows {cards} cards"
        problems = page.evaluate(CHECK)
        if problems:
            found[f"{path} ({name})"] = problems[:8]
    assert set(CARDS[role]) <= set(walked), walked
    assert not found, "\n".join(f"{p}:\n  " + "\n  ".join(v) for p, v in found.items())


def test_every_student_page_fits_a_phone(page: Any) -> None:
    walk(page, Role.STUDENT, "xuezi")


def test_every_enterprise_page_fits_a_phone(page: Any) -> None:
    walk(page, Role.ENTERPRISE_HR, "qiye")
