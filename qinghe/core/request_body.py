"""A request body Django cannot parse is the client's fault: 400, never 500.

A ``multipart/form-data`` POST without a boundary (or with a broken one) raises
``MultiPartParserError`` on the first read of ``request.POST``. That first read is the CSRF
check (Django's middleware for pages, django-ninja's session auth for the API), which does not
expect it, so the request ended as a server error. Parsing once here, before either, turns
every such body into one 400 with a Chinese message."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError

MALFORMED_BODY = "请求体格式有误"


class MalformedBodyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # Django parses a form body only for POST; other methods never read request.POST.
        if request.method == "POST" and request.content_type == "multipart/form-data":
            try:
                request.POST  # noqa: B018 - the read is the parse
            except MultiPartParserError:
                return _bad_request(request)
        return self.get_response(request)


def _bad_request(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": MALFORMED_BODY}, status=400)
    return HttpResponse(MALFORMED_BODY, status=400, content_type="text/plain; charset=utf-8")
