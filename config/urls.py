from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path
from django.views.i18n import JavaScriptCatalog

from config.api import api

admin.site.site_header = "青鹤 Qinghe 后台管理"
admin.site.site_title = "青鹤后台"
admin.site.index_title = "后台管理"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", include("qinghe.core.urls")),
    path("accounts/", include("qinghe.accounts.urls")),
    path("me/", include("qinghe.talents.urls_self")),
    path("reference/", include("qinghe.reference.urls")),
    path("talents/", include("qinghe.talents.urls")),
    path("enterprises/", include("qinghe.enterprises.urls")),
    path("jobs/", include("qinghe.jobs.urls")),
    path("jobs/", include("qinghe.recruitment.urls")),
    path("jobs/", include("qinghe.plan.urls")),
    path("plan/", include("qinghe.plan.urls_board")),
    path("figures/", include("qinghe.plan.urls_public")),
    path("matching/", include("qinghe.matching.urls")),
    path("outreach/", include("qinghe.outreach.urls")),
    path("messages/", include("qinghe.notifications.urls")),
    path("events/", include("qinghe.events.urls")),
    path("live/", include("qinghe.live.urls")),
    path("fairs/", include("qinghe.fairs.urls")),
    path("system/schedule/", include("qinghe.scheduler.urls")),
    path("alliance/", include("qinghe.alliance.urls")),
    path("policies/", include("qinghe.policies.urls")),
    path("exports/", include("qinghe.exports.urls")),
    path("cards/", include("qinghe.cards.urls")),
    path("stations/", include("qinghe.stations.urls")),
    path("video/", include("qinghe.video.urls")),
    path("", include("qinghe.cards.urls_public")),
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("i18n/js/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("backoffice/", admin.site.urls),
]

handler403 = "qinghe.core.views.error_403"
handler404 = "qinghe.core.views.error_404"
handler500 = "qinghe.core.views.error_500"
