"""Role models and hometown stories: the public list and a story; League staff write,
publish and withdraw them."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from qinghe.core.errorhandling import redirect_on_error
from qinghe.core.http import AuthedRequest
from qinghe.reference.models import Industry, Town

from . import stories
from .forms import StoryForm, story_initial
from .models import Story


def _add_errors(form: StoryForm, exc: ValidationError) -> None:
    for name, errors in exc.error_dict.items() if hasattr(exc, "error_dict") else []:
        form.add_error(name if name in form.fields else None, errors)


@require_GET
def story_list(request: HttpRequest) -> HttpResponse:
    industry = request.GET.get("industry", "")[:4]
    town = request.GET.get("town", "")[:12]
    page = Paginator(stories.stories_published(industry=industry, town=town), 12).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "alliance/stories.html",
        {
            "page": page,
            "industry": industry,
            "town": town,
            "industries": Industry.objects.filter(level=Industry.Level.DIVISION).order_by("code"),
            "towns": Town.objects.filter(county_code="440784").order_by("code"),
        },
    )


@require_GET
def story_detail(request: HttpRequest, story_id: int) -> HttpResponse:
    return render(
        request, "alliance/story.html", {"story": stories.story_get_public(story_id=story_id)}
    )


@require_GET
def story_manage(request: AuthedRequest) -> HttpResponse:
    return render(
        request,
        "alliance/story_manage.html",
        {"stories": Story.objects.select_related("industry", "town").order_by("-updated_at")[:200]},
    )


@require_http_methods(["GET", "POST"])
@redirect_on_error("alliance:story_manage")
def story_edit(request: AuthedRequest, story_id: int | None = None) -> HttpResponse:
    story = (
        stories.story_get_for_staff(viewer=request.user, story_id=story_id) if story_id else None
    )
    form = StoryForm(request.POST or None, initial=story_initial(story) if story else None)
    if request.method == "POST" and form.is_valid():
        try:
            saved = stories.story_save(actor=request.user, data=form.story_data(), story=story)
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, "已保存。")
            return redirect("alliance:story_edit", story_id=saved.pk)
    return render(request, "alliance/story_form.html", {"form": form, "story": story})


@require_POST
@redirect_on_error("alliance:story_manage")
def story_publish(request: AuthedRequest, story_id: int) -> HttpResponse:
    story = stories.story_get_for_staff(viewer=request.user, story_id=story_id)
    publish = request.POST.get("publish") == "1"
    stories.story_publish(actor=request.user, story=story, publish=publish)
    messages.success(request, "已发布。" if publish else "已撤下。")
    return redirect("alliance:story_manage")
