"""Only words a person reads: every page (GET, sample ids and the cross-app world's real ids),
for every role, is read as a person sees it (the text of the HTML without scripts, styles or
attributes) and must show no model or field names, no ``key=value`` lines, no ``{placeholder}``,
no ``app.Model#id`` references, and no English outside a short allow-list (brands, units,
formats, IDs)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import pytest
from django.test import Client

from qinghe.accounts.models import User
from qinghe.core.policies import policy_for
from qinghe.core.roles import ALL_ROLES
from qinghe.testing.routes import access_of, concrete_path, methods_of, walk_routes
from qinghe.testing.world import World

from .test_authorization import SAMPLE_PARAMS


class VisibleText(HTMLParser):
    """The text a browser shows: no <script>, <style>, <template>, attributes or comments."""

    HIDDEN = frozenset({"script", "style", "template", "noscript"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.depth = 0
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.HIDDEN:
            self.depth += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in self.HIDDEN and self.depth:
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if not self.depth and data.strip():
            self.parts.append(data.strip())


def visible_text(html: str) -> str:
    parser = VisibleText()
    parser.feed(html)
    return "\n".join(parser.parts)


# Words a person reads in English on a Chinese page: the brand, the language switch, units,
# formats, standards and providers' names.
ALLOWED_ENGLISH = frozenset(
    {
        "Qinghe",
        "English",
        "Excel",
        "CSV",
        "PDF",
        "ID",
        "HR",
        "TOTP",
        "Python",
        "WeChat",
        "Microsoft",
        "Authenticator",
        "Ctrl",
        "https",
        "csv",
        "xlsx",
    }
)
PATTERNS: dict[str, re.Pattern[str]] = {
    "object reference": re.compile(r"\b\w+\.\w+#\d+"),
    "key=value": re.compile(r"\b[a-z_]+="),
    "placeholder": re.compile(r"\{[a-z_]+\}"),
    "app_label.Model": re.compile(r"\b[a-z_]+\.[A-Z][A-Za-z]+\b"),
    "field name": re.compile(r"\b[a-z]+_[a-z_]+\b"),
}
WORD = re.compile(r"[A-Za-z][A-Za-z]+")


def findings_in(text: str, *, ids: frozenset[str] = frozenset()) -> list[str]:
    """The offending tokens of ``text``; ``ids`` (account names) are identifiers people type
    and are left out first."""
    for word in sorted(ids, key=len, reverse=True):
        text = re.sub(rf"(?<![A-Za-z0-9_]){re.escape(word)}(?![A-Za-z0-9_])", " ", text)
    found = [f"{kind}: {m.group(0)}" for kind, rx in PATTERNS.items() for m in rx.finditer(text)]
    found += [
        f"English: {m.group(0)}"
        for m in WORD.finditer(text)
        if m.group(0) not in ALLOWED_ENGLISH and not m.group(0).isupper()
    ]
    return found


def test_the_reader_finds_what_it_should() -> None:
    html = (
        "<p title='is_quality'>岗位 <b>jobs.Posting: is_quality</b> rows=3 created=2</p>"
        "<script>var hukou_text = 1;</script><p>{posting} accounts.user#9 Pending 青鹤 Qinghe</p>"
    )
    assert findings_in(visible_text(html)) == [
        "object reference: accounts.user#9",
        "key=value: rows=",
        "key=value: created=",
        "placeholder: {posting}",
        "app_label.Model: jobs.Posting",
        "field name: is_quality",
        "English: jobs",
        "English: Posting",
        "English: is",
        "English: quality",
        "English: rows",
        "English: created",
        "English: posting",
        "English: accounts",
        "English: user",
        "English: Pending",
    ]


# English tolerated on exactly these pages, each with its reason; anything new fails.
# Third-party apps' names are translated by locale/zh_Hans (qinghe.core.thirdparty_apps), our
# models' fields carry Chinese verbose names, and permissions are named by qinghe.core.admin.
KNOWN_ENGLISH: dict[str, frozenset[str]] = {}

ROUTES = walk_routes()


@pytest.mark.django_db
@pytest.mark.parametrize("role", sorted(ALL_ROLES) + ["anonymous"])
def test_every_page_shows_only_words_a_person_reads(role: str, personas: Any, world: World) -> None:
    params = {
        **SAMPLE_PARAMS,
        "posting_id": str(world.posting_a.pk),
        "enterprise_id": str(world.a.pk),
    }
    usernames = frozenset(User.objects.values_list("username", flat=True))
    client = Client()
    if role != "anonymous":
        client.force_login(personas[role])
    found: dict[str, list[str]] = {}
    for name, route in ROUTES:
        rule = policy_for(name)
        if rule is None or "GET" not in methods_of(rule):
            continue
        access = access_of(rule, "GET")
        if not access.allows(
            authenticated=role != "anonymous", role=None if role == "anonymous" else role
        ):
            continue
        path = concrete_path(route, params)
        if path is None or path.startswith("/api/") or name.startswith("accounts:logout"):
            continue
        response = client.get(path)
        if role != "anonymous":
            client.force_login(personas[role])
        if not response.get("Content-Type", "").startswith("text/html"):
            continue
        problems = findings_in(visible_text(response.content.decode()), ids=usernames)
        tolerated = KNOWN_ENGLISH.get(name, frozenset())
        problems = [p for p in problems if p.split(": ", 1)[1] not in tolerated]
        if problems:
            found[f"{path} ({name})"] = sorted(set(problems))
    if found:
        pytest.fail("\n".join(f"{page}: {', '.join(words)}" for page, words in found.items()))
