from django.urls import path

from . import views
from . import views_ambassadors as amb
from . import views_stories as st

app_name = "alliance"

urlpatterns = [
    path("", views.chapter_list, name="list"),
    path("mine/", views.mine, name="mine"),
    path("figures/", views.figures, name="figures"),
    path("<int:chapter_id>/", views.chapter_detail, name="detail"),
    path("<int:chapter_id>/join/", views.join, name="join"),
    path("<int:chapter_id>/leave/", views.leave, name="leave"),
    path("invitations/<int:membership_id>/respond/", views.respond, name="respond"),
    path("manage/", views.manage, name="manage"),
    path("manage/new/", views.create, name="create"),
    path("manage/<int:chapter_id>/", views.manage_detail, name="manage_detail"),
    path("manage/<int:chapter_id>/edit/", views.edit, name="edit"),
    path("manage/<int:chapter_id>/invite/", views.invite, name="invite"),
    path("manage/<int:chapter_id>/merge/", views.merge, name="merge"),
    path("manage/<int:chapter_id>/retire/", views.retire, name="retire"),
    path("manage/memberships/<int:membership_id>/decide/", views.decide, name="decide"),
    path("manage/memberships/<int:membership_id>/leader/", views.set_leader, name="leader"),
    path("ambassadors/rounds/", amb.rounds, name="ambassador_rounds"),
    path("ambassadors/rounds/<int:round_id>/", amb.round_detail, name="ambassador_round"),
    path("ambassadors/rounds/<int:round_id>/voting/", amb.voting_open, name="ambassador_voting"),
    path("ambassadors/rounds/<int:round_id>/close/", amb.close, name="ambassador_close"),
    path(
        "ambassadors/nominations/<int:nomination_id>/shortlist/",
        amb.shortlist,
        name="ambassador_shortlist",
    ),
    path(
        "ambassadors/nominations/<int:nomination_id>/appoint/",
        amb.appoint,
        name="ambassador_appoint",
    ),
    path("ambassadors/nominate/", amb.nominate, name="ambassador_nominate"),
    path("ambassadors/vote/", amb.vote, name="ambassador_vote"),
    path("stories/", st.story_list, name="stories"),
    path("stories/<int:story_id>/", st.story_detail, name="story"),
    path("stories/manage/", st.story_manage, name="story_manage"),
    path("stories/manage/new/", st.story_edit, name="story_create"),
    path("stories/manage/<int:story_id>/", st.story_edit, name="story_edit"),
    path("stories/manage/<int:story_id>/publish/", st.story_publish, name="story_publish"),
    path("ambassador/", amb.home, name="ambassador_home"),
    path("ambassador/<int:chapter_id>/members/", amb.members, name="ambassador_members"),
    path("ambassador/<int:chapter_id>/reports/", amb.report, name="ambassador_report"),
]
