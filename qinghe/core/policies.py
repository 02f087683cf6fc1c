"""THE one place that declares who reaches each page and API operation.

Every URL pattern of the project is keyed here by its view name (``namespace:name``); a key may
end in ``:*`` to cover a whole namespace (the Django admin). A value is either an access set
for every method or a mapping from HTTP method to access set. Anything not declared here is
refused by ``AccessPolicyMiddleware`` (deny by default), and
``qinghe/core/tests/test_route_policies.py`` fails on any route without a declared policy.

Object-level scoping (an enterprise sees only its own applicants) is not decided here: the
``*_get_for_viewer`` selectors do that and answer 404 alike for missing and forbidden objects.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from django.urls import ResolverMatch, URLPattern, URLResolver
from ninja.operation import PathView

from .roles import ALL_ROLES, REFERENCE_READERS, STAFF_ROLES, Role


@dataclass(frozen=True)
class Access:
    """Who may reach a route: everyone, any signed-in user, or the listed roles."""

    public: bool = False
    roles: frozenset[str] = frozenset()

    def allows(self, *, authenticated: bool, role: str | None) -> bool:
        if self.public:
            return True
        return authenticated and role in self.roles


PUBLIC = Access(public=True)
SIGNED_IN = Access(roles=ALL_ROLES)


def only(*roles: str | Iterable[str]) -> Access:
    flat: set[str] = set()
    for role in roles:
        if isinstance(role, str):
            flat.add(role)
        else:
            flat.update(role)
    unknown = flat - ALL_ROLES
    if unknown:
        raise ValueError(f"unknown roles: {sorted(unknown)}")
    return Access(roles=frozenset(flat))


Rule = Access | Mapping[str, Access]

STAFF = only(STAFF_ROLES)
REF = only(REFERENCE_READERS)
HR = only(Role.HR_STAFF, Role.SYSADMIN)
AUDIT_READERS = only(Role.AUDITOR, Role.SYSADMIN)
TALENT_READ = only(
    Role.HR_STAFF,
    Role.EDU_STAFF,
    Role.LEAGUE_STAFF,
    Role.LIAISON,
    Role.STATION_STAFF,
    Role.SYSADMIN,
)
IMPORTERS = only(Role.HR_STAFF, Role.EDU_STAFF, Role.SYSADMIN)
# A student's own record; ambassadors are student volunteers with a record of their own.
SELF = only(Role.STUDENT, Role.AMBASSADOR)
# An enterprise's HR (object scoping to their own enterprise is the selectors' job).
ENT = only(Role.ENTERPRISE_HR)
# Internship bases: HR bureau staff see all, an enterprise its own.
HR_OR_ENT = only(Role.HR_STAFF, Role.SYSADMIN, Role.ENTERPRISE_HR)
# Events (measures 7-8): HR bureau and Youth League staff run them; an enterprise's HR
# proposes its own (object scoping: qinghe.events.selectors).
EVENT_STAFF = only(Role.HR_STAFF, Role.LEAGUE_STAFF, Role.SYSADMIN)
EVENT_ORGANISERS = only(
    Role.HR_STAFF, Role.LEAGUE_STAFF, Role.SYSADMIN, Role.ENTERPRISE_HR, Role.AMBASSADOR
)
# Who proposes events for staff review: an enterprise's HR for its enterprise, a serving
# ambassador for their chapter (object scoping: qinghe.events.selectors.organiser_orgs).
EVENT_PROPOSERS = only(Role.ENTERPRISE_HR, Role.AMBASSADOR)
# The alliance (measure 3): League staff run it; a chapter's leaders (students or ambassadors)
# manage their own chapter (object scoping: qinghe.alliance.selectors).
ALLIANCE_STAFF = only(Role.LEAGUE_STAFF, Role.SYSADMIN)
CHAPTER_MANAGERS = only(Role.LEAGUE_STAFF, Role.SYSADMIN, Role.STUDENT, Role.AMBASSADOR)
PLAN_READERS = only(Role.HR_STAFF, Role.EDU_STAFF, Role.LEAGUE_STAFF, Role.SYSADMIN)
# 鹤才青年卡 (measure 9): station staff review and serve, HR bureau staff approve (object
# scoping: qinghe.cards.selectors); partners only verify and log benefit uses.
CARD_STAFF = only(Role.STATION_STAFF, Role.HR_STAFF, Role.SYSADMIN)
PARTNER = only(Role.PARTNER)
# Video interviews: the two sides (an enterprise's HR, a student); recordings are also read by
# HR bureau staff (object scoping: qinghe.video.selectors).
VIDEO_SIDES = only(Role.ENTERPRISE_HR, Role.STUDENT, Role.AMBASSADOR)
VIDEO_RECORDING_READERS = only(VIDEO_SIDES.roles, Role.HR_STAFF, Role.SYSADMIN)

POLICIES: dict[str, Rule] = {
    # shell
    "core:home": PUBLIC,
    "core:dashboard": SIGNED_IN,
    "core:healthz": PUBLIC,
    "set_language": PUBLIC,
    "javascript-catalog": PUBLIC,
    # accounts
    "accounts:login": PUBLIC,
    "accounts:logout": {"POST": SIGNED_IN},
    "accounts:password_change": SIGNED_IN,
    "accounts:password_change_done": SIGNED_IN,
    "accounts:otp_setup": only(STAFF_ROLES),
    "accounts:otp_verify": only(STAFF_ROLES),
    "accounts:profile": SIGNED_IN,
    "accounts:register": PUBLIC,
    "accounts:register_verify": PUBLIC,
    # WeChat web authorisation: signing in starts signed out; binding is for students only
    "accounts:wechat_login": {"GET": PUBLIC},
    "accounts:wechat_callback": {"GET": PUBLIC},
    "accounts:wechat_bind": {"GET": SELF},
    "accounts:wechat_unbind": {"POST": SELF},
    # audit trail
    "core:audit_list": AUDIT_READERS,
    # reference data
    "reference:index": REF,
    "reference:list": REF,
    # talent database (measure 1)
    "talents:list": TALENT_READ,
    "talents:detail": TALENT_READ,
    # GET: the file at once (small lists) or a page to confirm a background export; POST: the
    # list page's buttons (a large list is queued: qinghe/exports).
    "talents:export": {"GET": TALENT_READ, "POST": TALENT_READ},
    # A person's own background exports (the selectors scope to the owner).
    "exports:list": STAFF,
    "exports:detail": STAFF,
    "exports:progress": STAFF,
    "exports:download": STAFF,
    "talents:duplicates": TALENT_READ,
    "talents:segment_list": TALENT_READ,
    "talents:segment_detail": TALENT_READ,
    "talents:segment_create": {"POST": TALENT_READ},
    "talents:unmask": {
        "POST": only(Role.HR_STAFF, Role.LIAISON, Role.STATION_STAFF, Role.SYSADMIN)
    },
    # who unmasked how many (talents.unmasking): HR bureau staff and auditors
    "talents:unmasking": only(Role.HR_STAFF, Role.AUDITOR, Role.SYSADMIN),
    "talents:resolve": {"POST": HR},
    # 核实无误 / 不属实 on a record a student created; a liaison only for their own students
    # (talents.selectors.can_verify)
    "talents:verify": {"POST": only(Role.HR_STAFF, Role.LIAISON, Role.SYSADMIN)},
    "talents:merge": {"POST": HR},
    "talents:import_list": IMPORTERS,
    "talents:import_detail": IMPORTERS,
    "talents:import_progress": IMPORTERS,
    "talents:import_rejected": IMPORTERS,
    # the student's own record (self-service)
    "me:home": SELF,
    "me:claim": {"GET": SELF, "POST": SELF},
    "me:claim_verify": {"GET": SELF, "POST": SELF},
    "me:edit": {"GET": SELF, "POST": SELF},
    "me:export_json": SELF,
    "me:export_xlsx": SELF,
    "me:consent": {"POST": SELF},
    "me:confirm": {"POST": SELF},
    "me:delete": {"GET": SELF, "POST": SELF},
    # the student's own education (experience issue item 1) and the staff's 核实 of it
    "me:education": {"GET": SELF, "POST": SELF},
    "me:suggest_universities": SELF,
    "me:suggest_majors": SELF,
    # the student's PDF résumé (experience issue item 9); enterprises open it through
    # recruitment:applicant_resume and matching:invitation_resume only
    "me:resume": {"GET": SELF, "POST": SELF},
    "me:resume_download": {"GET": SELF},
    "me:resume_delete": {"POST": SELF},
    "talents:education_verify": {"POST": only(Role.HR_STAFF, Role.LIAISON, Role.SYSADMIN)},
    # enterprises (measure 4): registration, the enterprise's own pages, HR bureau review
    "enterprises:register": {"GET": PUBLIC, "POST": PUBLIC},
    "enterprises:mine": ENT,
    "enterprises:edit": {"GET": ENT, "POST": ENT},
    "enterprises:resubmit": {"POST": ENT},
    "enterprises:colleague_add": {"GET": ENT, "POST": ENT},
    "enterprises:base_apply": {"GET": ENT, "POST": ENT},
    "enterprises:review_list": HR,
    "enterprises:detail": HR,
    "enterprises:verify": {"POST": HR},
    "enterprises:reject": {"POST": HR},
    "enterprises:set_key": {"POST": HR},
    # internship bases (measure 6)
    "enterprises:base_list": HR,
    "enterprises:base_detail": HR_OR_ENT,
    "enterprises:base_certify": {"POST": HR},
    "enterprises:base_reject": {"POST": HR},
    "enterprises:base_revoke": {"POST": HR},
    # postings (measures 4-6): search for anyone signed in, favourites for students
    "jobs:search": SIGNED_IN,
    "jobs:detail": SIGNED_IN,
    "jobs:favourite_toggle": {"POST": SELF},
    "jobs:favourites": SELF,
    "jobs:my_list": ENT,
    "jobs:create": {"GET": ENT, "POST": ENT},
    "jobs:my_detail": ENT,
    "jobs:edit": {"GET": ENT, "POST": ENT},
    "jobs:submit": {"POST": ENT},
    "jobs:withdraw": {"POST": ENT},
    "jobs:revise": {"POST": ENT},
    "jobs:close": {"POST": ENT},
    "jobs:staff_list": REF,
    "jobs:staff_detail": REF,
    "jobs:approve": {"POST": HR},
    "jobs:reject": {"POST": HR},
    "jobs:staff_close": {"POST": HR},
    "jobs:certify": {"POST": HR},
    "jobs:revoke_quality": {"POST": HR},
    # applications and interviews (measure 4): the student applies with a separate consent to
    # share; an enterprise sees only its own applicants whose consent is in force (selectors)
    "recruitment:apply": {"GET": SELF, "POST": SELF},
    "recruitment:my_applications": SELF,
    "recruitment:my_application": SELF,
    "recruitment:application_withdraw": {"POST": SELF},
    "recruitment:interview_confirm": {"POST": SELF},
    "recruitment:interview_reschedule_request": {"POST": SELF},
    "recruitment:applicants": ENT,
    "recruitment:applicant": ENT,
    "recruitment:applicant_resume": {"GET": ENT},
    "recruitment:applicant_move": {"POST": ENT},
    "recruitment:interview_invite": {"POST": ENT},
    "recruitment:interview_reschedule": {"POST": ENT},
    "recruitment:interview_result": {"POST": ENT},
    "recruitment:slots": {"GET": ENT, "POST": ENT},
    "recruitment:stages": {"GET": ENT, "POST": ENT},
    "recruitment:stage_edit": {"POST": ENT},
    "recruitment:staff_applications": HR,
    "recruitment:staff_application": HR,
    # the plan's yearly targets (measures 5-6)
    "plan:targets": STAFF,
    "plan:targets_edit": {"GET": HR, "POST": HR},
    # the 十个一 board, the return funnel and the monthly reports: the leaders' bureaus
    "board:board": PLAN_READERS,
    "board:funnel": PLAN_READERS,
    # the scoped board: an ambassador's chapter, an enterprise's own figures, and the rows
    # behind each (object scoping: qinghe.plan.scoped)
    "board:mine": only(Role.AMBASSADOR, Role.ENTERPRISE_HR),
    "board:mine_list": only(Role.AMBASSADOR, Role.ENTERPRISE_HR),
    "board:reports": PLAN_READERS,
    "board:report_generate": {"POST": PLAN_READERS},
    "board:report_download": PLAN_READERS,
    # aggregate figures for the public and the press, small cells suppressed (plan/public.py)
    "figures:public": PUBLIC,
    # notifications: the inbox and preferences for everyone; unsubscribing needs only the link
    "notifications:inbox": SIGNED_IN,
    "notifications:message": {"GET": SIGNED_IN},
    "notifications:mark_all_read": {"POST": SIGNED_IN},
    "notifications:preferences": {"GET": SIGNED_IN, "POST": SIGNED_IN},
    "notifications:unsubscribe": {"GET": PUBLIC, "POST": PUBLIC},
    # messages whose delivery outcome is unknown: a system administrator decides, audited
    "notifications:undelivered": only(Role.SYSADMIN),
    "notifications:undelivered_resolve": {"POST": only(Role.SYSADMIN)},
    # the schedule and its run records (qinghe/scheduler): system administrators only
    "scheduler:schedule": only(Role.SYSADMIN),
    # one-to-one liaison (measure 2): a liaison's own students; staff assign and read figures
    "outreach:workspace": only(Role.LIAISON),
    "outreach:contact_log": {"GET": only(Role.LIAISON), "POST": only(Role.LIAISON)},
    "outreach:assignments": {"GET": HR, "POST": HR},
    "outreach:figures": HR,
    # consultations (点单式服务): students order and rate; liaisons and stations answer
    "outreach:my_consultations": {"GET": SELF, "POST": SELF},
    "outreach:consultation_rate": {"POST": SELF},
    "outreach:consultations": only(Role.LIAISON, Role.STATION_STAFF, Role.HR_STAFF, Role.SYSADMIN),
    "outreach:consultation_answer": {
        "POST": only(Role.LIAISON, Role.STATION_STAFF, Role.HR_STAFF, Role.SYSADMIN)
    },
    # campaigns to saved segments
    "outreach:campaigns": {
        "GET": only(Role.HR_STAFF, Role.LEAGUE_STAFF, Role.SYSADMIN),
        "POST": only(Role.HR_STAFF, Role.LEAGUE_STAFF, Role.SYSADMIN),
    },
    "outreach:campaign_detail": only(Role.HR_STAFF, Role.LEAGUE_STAFF, Role.SYSADMIN),
    "outreach:campaign_send": {"POST": only(Role.HR_STAFF, Role.LEAGUE_STAFF, Role.SYSADMIN)},
    # matching (measures 4-5): recommendations both ways, occupation tags, majors' occupations,
    # the skills-gap analysis (League staff read it too) and the fairness report
    "matching:for_me": SELF,
    "matching:preferences": {"GET": SELF, "POST": SELF},
    "matching:invitation_respond": {"POST": SELF},
    "matching:ent_postings": ENT,
    "matching:candidates": ENT,
    "matching:invite": {"POST": ENT},
    "matching:invitation_resume": {"GET": ENT},
    "matching:tags": HR,
    "matching:posting_tags": HR,
    "matching:posting_tags_edit": {"POST": HR},
    "matching:occupation_review": HR,
    "matching:occupation_review_pick": {"POST": HR},
    "matching:majors": HR,
    "matching:major_detail": HR,
    "matching:major_edit": {"POST": HR},
    "matching:gap": only(Role.HR_STAFF, Role.SYSADMIN, Role.LEAGUE_STAFF),
    "matching:gap_export": only(Role.HR_STAFF, Role.SYSADMIN, Role.LEAGUE_STAFF),
    "matching:fairness": HR,
    # events (measures 7-8): everyone signed in browses; students register; staff run them
    "events:list": SIGNED_IN,
    "events:detail": SIGNED_IN,
    "events:register": {"POST": SELF},
    "events:unregister": {"POST": SELF},
    "events:mine": SELF,
    "events:manage": EVENT_ORGANISERS,
    "events:create": {"GET": EVENT_ORGANISERS, "POST": EVENT_ORGANISERS},
    "events:manage_detail": EVENT_ORGANISERS,
    "events:edit": {"GET": EVENT_ORGANISERS, "POST": EVENT_ORGANISERS},
    "events:submit": {"POST": EVENT_PROPOSERS},
    "events:publish": {"POST": EVENT_STAFF},
    "events:return": {"POST": EVENT_STAFF},
    "events:cancel": {"POST": EVENT_STAFF},
    "events:finish": {"POST": EVENT_STAFF},
    "events:registrations": EVENT_STAFF,
    "events:checkin": {"GET": EVENT_STAFF, "POST": EVENT_STAFF},
    # offline check-in at the door: the phone downloads keys and masked names, syncs its queue
    "events:checkin_offline_data": {"GET": EVENT_STAFF},
    "events:checkin_sync": {"POST": EVENT_STAFF},
    # the service worker is code only (no data), fetched by the browser on its own schedule
    "events:checkin_sw": {"GET": PUBLIC},
    # study tours: staff keep the itinerary and the gallery; participants see the photos
    # (qinghe.events.selectors.photo_get_for_viewer); a guardian consents through a signed
    # link without signing in
    "events:itinerary_add": {"POST": EVENT_STAFF},
    "events:itinerary_remove": {"POST": EVENT_STAFF},
    "events:photo_upload": {"POST": EVENT_STAFF},
    "events:photo": SIGNED_IN,
    "events:guardian": {"GET": PUBLIC, "POST": PUBLIC},
    "events:feedback": {"POST": SELF},
    # online job fairs (云招聘会, issue 15): everyone signed in browses the hall; students queue;
    # an enterprise's HR applies for a booth and runs its queue (object scoping:
    # qinghe.fairs.selectors); event staff review booths and read the figures
    "fairs:list": SIGNED_IN,
    "fairs:hall": SIGNED_IN,
    "fairs:booth": SIGNED_IN,
    "fairs:join": {"POST": SELF},
    "fairs:leave": {"POST": SELF},
    "fairs:apply": {"GET": ENT, "POST": ENT},
    "fairs:queue": ENT,
    "fairs:take_next": {"POST": ENT},
    "fairs:invite": {"POST": ENT},
    "fairs:finish": {"POST": ENT},
    "fairs:manage": EVENT_STAFF,
    "fairs:decide": {"POST": EVENT_STAFF},
    # the alliance (measure 3): public chapter pages; students join; League staff and a
    # chapter's leaders manage it
    "alliance:list": PUBLIC,
    "alliance:detail": PUBLIC,
    "alliance:mine": SELF,
    "alliance:join": {"POST": SELF},
    "alliance:leave": {"POST": SELF},
    "alliance:respond": {"POST": SELF},
    "alliance:manage": CHAPTER_MANAGERS,
    "alliance:manage_detail": CHAPTER_MANAGERS,
    "alliance:invite": {"POST": CHAPTER_MANAGERS},
    "alliance:decide": {"POST": CHAPTER_MANAGERS},
    "alliance:create": {"GET": ALLIANCE_STAFF, "POST": ALLIANCE_STAFF},
    "alliance:edit": {"GET": ALLIANCE_STAFF, "POST": ALLIANCE_STAFF},
    "alliance:merge": {"POST": ALLIANCE_STAFF},
    "alliance:retire": {"POST": ALLIANCE_STAFF},
    "alliance:leader": {"POST": ALLIANCE_STAFF},
    "alliance:figures": PLAN_READERS,
    # role models and hometown stories: published ones for everyone; League staff edit
    "alliance:stories": PUBLIC,
    "alliance:story": PUBLIC,
    "alliance:story_manage": ALLIANCE_STAFF,
    "alliance:story_create": {"GET": ALLIANCE_STAFF, "POST": ALLIANCE_STAFF},
    "alliance:story_edit": {"GET": ALLIANCE_STAFF, "POST": ALLIANCE_STAFF},
    "alliance:story_publish": {"POST": ALLIANCE_STAFF},
    # ambassadors: League staff run the yearly round; members nominate and vote; the
    # year's ambassadors see their chapter and report (a term is checked by the selectors)
    "alliance:ambassador_rounds": {"GET": ALLIANCE_STAFF, "POST": ALLIANCE_STAFF},
    "alliance:ambassador_round": ALLIANCE_STAFF,
    "alliance:ambassador_voting": {"POST": ALLIANCE_STAFF},
    "alliance:ambassador_close": {"POST": ALLIANCE_STAFF},
    "alliance:ambassador_shortlist": {"POST": ALLIANCE_STAFF},
    "alliance:ambassador_appoint": {"POST": ALLIANCE_STAFF},
    "alliance:ambassador_nominate": {"GET": SELF, "POST": SELF},
    "alliance:ambassador_vote": {"GET": SELF, "POST": SELF},
    "alliance:ambassador_home": only(Role.AMBASSADOR),
    "alliance:ambassador_members": only(Role.AMBASSADOR),
    "alliance:ambassador_report": {"POST": only(Role.AMBASSADOR)},
    # policies and subsidies (measure 10): the library is public; students check and apply;
    # HR bureau staff review (maker-checker), pay, edit programmes and rules, run batches
    "policies:library": PUBLIC,
    "policies:policy_detail": PUBLIC,
    # a policy version's annexes: public to read like the policy, HR bureau staff attach them
    "policies:attachment_upload": {"POST": HR},
    "policies:attachment_download": PUBLIC,
    "policies:attachment_remove": {"POST": HR},
    "policies:compare": PUBLIC,
    "policies:programmes": PUBLIC,
    "policies:for_me": SELF,
    "policies:check": SELF,
    "policies:apply": {"POST": SELF},
    "policies:my_applications": SELF,
    "policies:application": only(Role.STUDENT, Role.AMBASSADOR, Role.HR_STAFF, Role.SYSADMIN),
    "policies:application_move": {
        "POST": only(Role.STUDENT, Role.AMBASSADOR, Role.HR_STAFF, Role.SYSADMIN)
    },
    "policies:material_download": only(Role.STUDENT, Role.AMBASSADOR, Role.HR_STAFF, Role.SYSADMIN),
    "policies:payment_record": {"POST": HR},
    "policies:staff_applications": HR,
    "policies:staff_programmes": {"GET": HR, "POST": HR},
    "policies:staff_programme": {"GET": HR, "POST": HR},
    "policies:batch": {"GET": HR, "POST": HR},
    "policies:figures": HR,
    "policies:policy_new": {"GET": HR, "POST": HR},
    # 鹤才青年卡 (measure 9)
    # Video interview rooms: any signed-in user reaches the page; the room's parties only get
    # past the selector (qinghe.video.selectors.room_get_for_viewer).
    "video:room": SIGNED_IN,
    # 我的视频面试: the rooms the viewer is a party to (qinghe.video.selectors.rooms_for_viewer);
    # observer staff see the rooms whose student agreed to observers.
    "video:mine": only(
        Role.STUDENT, Role.AMBASSADOR, Role.ENTERPRISE_HR, Role.HR_STAFF, Role.SYSADMIN
    ),
    "video:room_observers": {"POST": SELF},
    # Recording only when both sides agreed: each side's consent; the interviewer side starts,
    # uploads and stops (qinghe.video.services); the two sides and HR bureau staff download
    # (qinghe.video.selectors.recording_get_for_viewer), staff through their list.
    "video:room_recording_consent": {"POST": VIDEO_SIDES},
    "video:recording_start": {"POST": ENT},
    "video:recording_chunk": {"POST": ENT},
    "video:recording_stop": {"POST": ENT},
    "video:recording_download": {"GET": VIDEO_RECORDING_READERS},
    "video:recording_list": {"GET": HR},
    "cards:mine": SELF,
    "cards:apply": {"GET": SELF, "POST": SELF},
    "cards:ecard": SELF,
    "cards:holder_act": {"POST": SELF},
    "cards:manage": CARD_STAFF,
    "cards:manage_detail": CARD_STAFF,
    "cards:act": {"POST": CARD_STAFF},
    "cards:material": CARD_STAFF,
    "cards:partner": {"GET": PARTNER, "POST": PARTNER},
    # dependants' cards: the holder applies, shows and voids their own (scoped in
    # qinghe.cards.dependants); staff review and approve within the main card's scope
    "cards:dependants": {"GET": SELF, "POST": SELF},
    "cards:dependant_ecard": SELF,
    "cards:dependant_void": {"POST": SELF},
    "cards:dependant_act": {"POST": CARD_STAFF},
    "cards:dependant_material": CARD_STAFF,
    # talent stations "1+10+N" (measure 9): the network for everyone signed in; a station's
    # day for its own staff (qinghe.stations.selectors.station_of_staff); booking for students
    "stations:list": SIGNED_IN,
    "stations:day": only(Role.STATION_STAFF),
    "stations:ticket_issue": {"POST": only(Role.STATION_STAFF)},
    "stations:ticket_serve": {"POST": only(Role.STATION_STAFF)},
    "stations:request_close": {"POST": only(Role.STATION_STAFF)},
    "stations:slot_set": {"POST": only(Role.STATION_STAFF)},
    "stations:book": {"GET": SELF, "POST": SELF},
    # opening a service request: station staff for people of their station's scope, HR
    # bureau staff for anyone (qinghe.stations.services.request_people_for); a card holder
    # for themselves (the types the catalogue lets holders ask for)
    "stations:request_new": {"GET": CARD_STAFF, "POST": CARD_STAFF},
    "stations:request_ask": {"POST": SELF},
    # service points ("N"): the centre's staff (checked in qinghe.stations.services)
    "stations:points": {"GET": only(Role.STATION_STAFF), "POST": only(Role.STATION_STAFF)},
    "stations:point_active": {"POST": only(Role.STATION_STAFF)},
    # talent service specialists (人才服务专员) for people: station staff assign within their
    # grid, HR bureau staff in any (qinghe.stations.specialists); a specialist sees their own
    # people; a person sees and writes to their own specialist
    "stations:specialists": CARD_STAFF,
    "stations:specialist_assign": {"POST": CARD_STAFF},
    "stations:grid_specialist": {"POST": CARD_STAFF},
    "stations:people": only(Role.LIAISON, Role.STATION_STAFF),
    "stations:people_message": {"POST": only(Role.LIAISON, Role.STATION_STAFF)},
    "stations:my_specialist": {"GET": SELF, "POST": SELF},
    # the e-card's public keys and the online check: anyone, no sign-in
    "cardpublic:jwks": PUBLIC,
    "cardpublic:verify": PUBLIC,
    # Django admin: the back office, for system administrators only
    "admin:*": only(Role.SYSADMIN),
    # JSON API
    "api:api-root": SIGNED_IN,
    "api:openapi-json": SIGNED_IN,
    "api:openapi-view": SIGNED_IN,
    "api:me": SIGNED_IN,
    "api:reference_search": REF,
    "api:talent_list": TALENT_READ,
    "api:talent_detail": TALENT_READ,
    "api:enterprise_me": ENT,
    "api:enterprise_list": HR,
    "api:enterprise_detail": HR_OR_ENT,
    "api:enterprise_verify": {"POST": HR},
    "api:enterprise_reject": {"POST": HR},
    "api:internship_bases": {"GET": HR_OR_ENT, "POST": ENT},
    "api:internship_base_certify": {"POST": HR},
    "api:internship_base_reject": {"POST": HR},
    "api:internship_base_revoke": {"POST": HR},
    "api:posting_search": SIGNED_IN,
    "api:posting_detail": SIGNED_IN,
    "api:favourite_list": SELF,
    "api:favourite_toggle": {"POST": SELF},
    "api:my_postings": {"GET": ENT, "POST": ENT},
    "api:my_posting": {"GET": ENT, "PUT": ENT},
    "api:posting_submit": {"POST": ENT},
    "api:posting_withdraw": {"POST": ENT},
    "api:posting_revise": {"POST": ENT},
    "api:posting_close": {"POST": ENT},
    "api:staff_postings": REF,
    "api:posting_approve": {"POST": HR},
    "api:posting_reject": {"POST": HR},
    "api:posting_certify": {"POST": HR},
    "api:year_targets": {"GET": STAFF, "PUT": HR},
    "api:application_apply": {"GET": SELF, "POST": SELF},
    "api:my_applications": SELF,
    "api:my_application": SELF,
    "api:application_withdraw": {"POST": SELF},
    "api:interview_confirm": {"POST": SELF},
    "api:interview_reschedule_request": {"POST": SELF},
    "api:applicants": ENT,
    "api:applicant": ENT,
    "api:applicant_move": {"POST": ENT},
    "api:interview_invite": {"POST": ENT},
    "api:interview_reschedule": {"POST": ENT},
    "api:interview_result": {"POST": ENT},
    "api:interview_slots": {"GET": ENT, "POST": ENT},
    "api:pipeline_stages": {"GET": ENT, "POST": ENT},
    "api:pipeline_stage": {"PUT": ENT},
    "api:staff_applications": HR,
    "api:staff_application": HR,
    "api:matching_for_me": SELF,
    "api:matching_candidates": ENT,
    "api:matching_gap": only(Role.HR_STAFF, Role.SYSADMIN, Role.LEAGUE_STAFF),
    "api:matching_classify": HR,
    "api:event_list": SIGNED_IN,
    "api:event_detail": SIGNED_IN,
    "api:event_register": {"POST": SELF},
    "api:event_unregister": {"DELETE": SELF},
    "api:event_checkin": {"POST": EVENT_STAFF},
    # policies and subsidies (measure 10): the published library and the programmes are
    # public like their pages; the eligibility check and the applications are the student's own
    "api:policy_list": {"GET": PUBLIC},
    "api:policy_detail": {"GET": PUBLIC},
    "api:subsidy_programme_list": {"GET": PUBLIC},
    "api:subsidy_eligibility": {"POST": SELF},
    "api:subsidy_application_list_mine": {"GET": SELF},
    "api:chapter_list": SIGNED_IN,
    "api:chapter_detail": SIGNED_IN,
    "api:chapter_my_memberships": SELF,
    "api:chapter_join": {"POST": SELF},
    "api:chapter_leave": {"DELETE": SELF},
    "api:chapter_members": {"GET": CHAPTER_MANAGERS},
    "api:chapter_membership_decide": {"POST": CHAPTER_MANAGERS},
    "api:chapter_invite": {"POST": CHAPTER_MANAGERS},
    "api:chapter_invitation_respond": {"POST": SELF},
    "api:card_me": SELF,
    "api:card_dependant": SELF,
    # Websocket routes (qinghe/realtime/routing.py): the method is "WS"; the consumer's
    # ``authorise`` then checks the relationship to the room (qinghe/realtime/consumers.py).
    "ws:inbox": {"WS": SIGNED_IN},
    # Video interviews: the room's parties only (qinghe.video.selectors.room_party).
    "ws:video_room": {"WS": SIGNED_IN},
    # 直播带岗 (qinghe/live): the question box of a stream the viewer can see (the selector
    # scopes an enterprise's HR to streams their enterprise takes part in).
    "ws:live": {"WS": SIGNED_IN},
    # 直播带岗 pages: everyone signed in watches (scoped by the selector), a student applies,
    # HR bureau and League staff schedule, start and end streams.
    "live:list": SIGNED_IN,
    "live:watch": SIGNED_IN,
    "live:apply": {"POST": SELF},
    "live:manage": {"GET": EVENT_STAFF, "POST": EVENT_STAFF},
    "live:manage_detail": EVENT_STAFF,
    "live:start": {"POST": EVENT_STAFF},
    "live:end": {"POST": EVENT_STAFF},
    # the replay address of an ended stream, set or corrected once the recording is ready
    "live:replay": {"POST": EVENT_STAFF},
    # online job fairs (issue 15): a student registered for the fair watches their place at a
    # booth; the booth's own enterprise HR watches its queue (qinghe.fairs.consumers checks
    # the relationship).
    "ws:fair_booth": {"WS": SELF},
    "ws:fair_queue": {"WS": ENT},
    # the fair's hall: every booth's live queue length, for anyone who may open the hall
    # (fairs:hall is SIGNED_IN; the selector hides unpublished fairs from all but event staff).
    "ws:fair_hall": {"WS": SIGNED_IN},
}


def policy_for(view_name: str | None) -> Rule | None:
    if not view_name:
        return None
    if view_name in POLICIES:
        return POLICIES[view_name]
    namespace = view_name.rpartition(":")[0]
    while namespace:
        wildcard = POLICIES.get(namespace + ":*")
        if wildcard is not None:
            return wildcard
        namespace = namespace.rpartition(":")[0]
    return None


def access_for(view_name: str | None, method: str) -> Access | None:
    """The access set for a route and method, or None when nothing is declared (refuse)."""
    rule = policy_for(view_name)
    if rule is None:
        return None
    if isinstance(rule, Access):
        return rule
    if method == "HEAD":
        method = "GET"
    return rule.get(method)


def ninja_path_view(view: Callable[..., Any]) -> PathView | None:
    """The django-ninja PathView behind a URL pattern's view, or None for any other view.

    ninja registers one URL pattern per operation of a path, all with the same route and each
    named after its operation, but ``resolve()`` always answers with the first of them: the
    name of the match says nothing about which operation serves the request's method. The
    per-operation view functions are closures over the path's PathView, which holds them all.
    """
    for cell in getattr(view, "__closure__", None) or ():
        try:
            contents = cell.cell_contents
        except ValueError:  # an empty cell
            continue
        if isinstance(contents, PathView):
            return contents
    return None


def operation_view_name(match: ResolverMatch, method: str) -> str | None:
    """The view name whose policy governs ``method`` on the matched route: for a django-ninja
    path, the namespaced ``url_name`` of the operation that serves the method (None, hence
    refused, when that operation has no name); otherwise the match's own view name."""
    path_view = ninja_path_view(match.func)
    if path_view is None:
        return match.view_name
    wanted = "GET" if method == "HEAD" else method
    for operation in path_view.operations:
        if wanted in operation.methods:
            if not operation.url_name:
                return None
            return ":".join([*match.namespaces, operation.url_name])
    # No operation serves the method: ninja answers 405; the policy of the path decides first.
    return match.view_name


def _callback_path(pattern: URLPattern) -> str:
    callback = pattern.callback
    if hasattr(callback, "view_class"):
        callback = callback.view_class
    module = getattr(callback, "__module__", "")
    name = getattr(callback, "__qualname__", getattr(callback, "__name__", repr(callback)))
    return f"{module}.{name}"


def iter_view_names(
    patterns: Iterable[URLPattern | URLResolver], namespace: str = "", prefix: str = ""
) -> Iterator[tuple[str, str]]:
    """Yields (view name, full route pattern) for every URL pattern, the way ``resolve()``
    names them."""
    for entry in patterns:
        if isinstance(entry, URLResolver):
            ns = namespace
            if entry.namespace:
                ns = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
            yield from iter_view_names(entry.url_patterns, ns, prefix + str(entry.pattern))
        else:
            name = entry.name or _callback_path(entry)
            full = f"{namespace}:{name}" if namespace else name
            yield full, prefix + str(entry.pattern)


def iter_operations(
    patterns: Iterable[URLPattern | URLResolver], namespaces: tuple[str, ...] = ()
) -> Iterator[tuple[str, str, str | None]]:
    """Yields (the URL pattern's view name, method, the view name the middleware enforces for
    that method) for every method of every django-ninja operation, walking each path view."""
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = (*namespaces, entry.namespace) if entry.namespace else namespaces
            yield from iter_operations(entry.url_patterns, inner)
            continue
        path_view = ninja_path_view(entry.callback)
        if path_view is None:
            continue
        match = ResolverMatch(
            entry.callback, (), {}, url_name=entry.name, namespaces=list(namespaces)
        )
        for operation in path_view.operations:
            for method in operation.methods:
                yield match.view_name, method, operation_view_name(match, method)


def misgoverned_operations(patterns: Iterable[URLPattern | URLResolver]) -> list[str]:
    """Every ninja operation and method whose enforced policy is not its own declared one."""
    problems: set[str] = set()
    for _, method, enforced in iter_operations(patterns):
        if enforced is None:
            problems.add(f"{method} <operation without url_name>")
        elif access_for(enforced, method) is None:
            problems.add(f"{method} {enforced}")
    return sorted(problems)


def undeclared_routes(patterns: Iterable[URLPattern | URLResolver]) -> list[str]:
    return sorted({name for name, _ in iter_view_names(patterns) if policy_for(name) is None})
