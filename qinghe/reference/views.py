from __future__ import annotations

from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from qinghe.core.http import AuthedRequest

from .selectors import dataset_counts, dataset_get, reference_list

PAGE_SIZE = 50


@require_GET
def index(request: AuthedRequest) -> HttpResponse:
    return render(request, "reference/index.html", {"datasets": dataset_counts()})


@require_GET
def dataset_list(request: AuthedRequest, dataset: str) -> HttpResponse:
    found = dataset_get(dataset)
    if found is None:
        raise Http404("没有这个数据集")
    q = request.GET.get("q", "").strip()[:100]
    page = Paginator(reference_list(dataset=found, q=q), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "reference/list.html", {"dataset": found, "page": page, "q": q})
