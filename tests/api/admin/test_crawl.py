"""No 500 anywhere under /admin/, as a class (issue: a back office with no dead ends).

For each role (Teller, Supervisor, Risk analyst, Auditor) and a superuser, on the demo data plus one
object of every kind the demo lacks, a browser-free crawl:

- follows every /admin/ link it finds (GET), from the index down, every changelist and the change page
  of every object it links to (house accounts included);
- posts every change form it can open back unchanged, exactly as a browser would send it;
- runs every action it is offered on a selection that mixes kinds (house and customer accounts,
  one's own and other people's, pending and decided requests).

It fails on any 5xx, and on a link that answers 403 to the role it was shown to. A refusal is a page, a
message or a 403, never a server error.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from api import roles
from api.models import Account, Transaction, User
from api.services import approvals
from nexus.models import Job
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db

# Links a crawl must not follow: they end the session, or they are the same page with another sort,
# filter or page (one of each kind is enough, and each changelist is opened bare).
SKIP = re.compile(r"/logout/|/password_change/|[?&](o|p|_changelist_filters|e)=|/history/|/delete/|/r/\d+/")
LIMIT = 400  # pages per role: the demo's links, with room


class Page(HTMLParser):
    """The links and the change form (fields as a browser would post them) of one admin page."""

    def __init__(self):
        super().__init__()
        self.links: list[str] = []
        self.forms: list[dict] = []
        self._form: dict | None = None
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        elif tag == "form":
            self._form = {"id": a.get("id", ""), "action": a.get("action", ""), "method": a.get("method", "get").lower(),
                          "data": []}
            self.forms.append(self._form)
        elif self._form is None:
            return
        elif tag == "input" and a.get("name"):
            kind = a.get("type", "text").lower()
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self._form["data"].append((a["name"], a.get("value", "on")))
            elif kind not in ("submit", "button", "image", "file", "reset"):
                self._form["data"].append((a["name"], a.get("value", "")))
        elif tag == "select" and a.get("name"):
            self._select = a["name"]
        elif tag == "option" and self._select is not None and "selected" in a:
            self._form["data"].append((self._select, a.get("value", "")))
        elif tag == "textarea" and a.get("name"):
            self._textarea = a["name"]
            self._form["data"].append((self._textarea, ""))

    def handle_data(self, data):
        if self._textarea is not None and self._form is not None:
            name, value = self._form["data"][-1]
            self._form["data"][-1] = (name, value + data)

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def parse(response) -> Page:
    page = Page()
    page.feed(response.content.decode(errors="replace"))
    return page


def as_post(data: list[tuple[str, str]]) -> dict:
    post: dict[str, list[str]] = {}
    for name, value in data:
        post.setdefault(name, []).append(value.strip("\n") if name not in ("csrfmiddlewaretoken",) else value)
    return post


@pytest.fixture
def demo(settings) -> list[str]:
    """The demo bank, plus what it lacks: a failed job, a teller's reversal approved by a supervisor (a
    transaction linking to its request); the pages that show them, always crawled."""
    settings.DEBUG = True
    call_command("seed_demo")
    settings.DEBUG = False
    Job.objects.create(topic="nowhere", key="x", created_at=timezone.now(), available_at=timezone.now(),
                       attempts=5, last_error="LookupError: no handler", failed_at=timezone.now())
    teller, supervisor = StaffFactory(roles=[roles.TELLER]), StaffFactory(roles=[roles.SUPERVISOR])
    original = Transaction.objects.filter(status=Transaction.Status.SUCCESS).first()
    request = approvals.staff_reversal(staff=teller, transaction_id=original.pk, reason="Sent by mistake")
    _, reversal = approvals.approval_approve(approver=supervisor, approval_id=request.pk)
    return [reverse("admin:api_transaction_change", args=[pk]) for pk in (original.pk, reversal.pk)]


def staff_members():
    return {
        "teller": StaffFactory(roles=[roles.TELLER]),
        "supervisor": StaffFactory(roles=[roles.SUPERVISOR]),
        "risk analyst": StaffFactory(roles=[roles.RISK_ANALYST]),
        "auditor": StaffFactory(roles=[roles.AUDITOR]),
        "superuser": StaffFactory(roles=[], is_superuser=True),
    }


def shape(url: str) -> str:
    """A page's kind: its path with ids replaced, and the names (not values) of its query: one page of
    each kind is crawled (every account's change page is the same code as the first one's)."""
    parts = urlsplit(url)
    path = re.sub(r"/[0-9a-f-]{6,}/|/\d+/", "/<id>/", parts.path)
    return path + "?" + ",".join(sorted({pair.split("=")[0] for pair in parts.query.split("&") if pair}))


def crawl(client: Client, failures: list, who: str, kinds: dict, extra: list[str]) -> set[str]:
    """GET one admin page of every kind reachable from the index (house and customer accounts are
    different kinds); post each change form back unchanged. A link that answers 403 to the role that was
    shown it is a failure too: a page shows only links its viewer can follow."""
    seen: set[str] = set()
    seeds = [reverse("admin:api_account_change", args=[number]) for number in
             {account.role: account.pk for account in Account.objects.order_by("-pk")}.values()] + extra
    queue = [("/admin/", None), *((seed, None) for seed in seeds)]
    while queue and len(seen) < LIMIT:
        url, source = queue.pop(0)
        kind = shape(url)
        if url in seen or (kinds.get(kind, 0) >= 2 and url not in seeds):
            continue
        kinds[kind] = kinds.get(kind, 0) + 1
        seen.add(url)
        response = client.get(url)
        if response.status_code >= 500:
            failures.append(f"{who}: GET {url} -> {response.status_code}")
            continue
        if response.status_code == 403 and source is not None:
            failures.append(f"{who}: {source} links to {url}, which answers 403 (a link the role cannot follow)")
            continue
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        page = parse(response)
        for href in page.links:
            target = urljoin(url, href)
            parts = urlsplit(target)
            if parts.netloc or not parts.path.startswith("/admin/") or SKIP.search(target):
                continue
            if parts.query.count("&") > 0:  # one filter at a time: their combinations are the same code
                continue
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            if target not in seen:
                queue.append((target, url))
        if re.search(r"/admin/\w+/\w+/[^/]+/change/$", url):
            for form in page.forms:
                if form["method"] == "post" and form["id"].endswith("_form"):
                    saved = client.post(url, as_post(form["data"]))
                    kinds["saves"] = kinds.get("saves", 0) + 1
                    if saved.status_code >= 500:
                        failures.append(f"{who}: unchanged save of {url} -> {saved.status_code}")
    return seen


def mixed_selection(model) -> list[str]:
    """A few objects of every kind the model has: both ends of its default order and every role
    (house and customer accounts), so an action meets what it may and may not act on at once."""
    manager = model._default_manager
    picks = list(manager.order_by("pk").values_list("pk", flat=True)[:3])
    picks += list(manager.order_by("-pk").values_list("pk", flat=True)[:3])
    if model is Account:
        for role in Account.Role:
            picks += list(manager.filter(role=role).values_list("pk", flat=True)[:2])
    return [str(pk) for pk in dict.fromkeys(picks)]


def run_actions(client: Client, user: User, failures: list, who: str) -> int:
    ran = 0
    for model, model_admin in admin.site._registry.items():
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        request = client.get(url).wsgi_request
        if not model_admin.has_view_or_change_permission(request):
            continue
        selection = mixed_selection(model)
        if not selection:
            continue
        for name in model_admin.get_actions(request):
            response = client.post(url, {"action": name, "_selected_action": selection, "index": 0})
            ran += 1
            if response.status_code >= 500:
                failures.append(f"{who}: action {name} on {model.__name__} -> {response.status_code}")
    return ran


def test_no_role_meets_a_server_error_anywhere_in_the_admin(demo):
    failures: list[str] = []
    report = []
    for who, user in staff_members().items():
        client = Client(raise_request_exception=False)
        client.force_login(user)
        kinds: dict = {}
        pages = crawl(client, failures, who, kinds, demo)
        actions = run_actions(client, user, failures, who)
        report.append(f"{who}: {len(pages)} pages, {kinds.get('saves', 0)} unchanged saves, {actions} actions")
    assert not failures, "\n".join(failures)
    # The crawl reached the back office's pages, not only the index.
    assert all(int(line.split(": ")[1].split()[0]) > 10 for line in report), report
    print("; ".join(report))  # noqa: T201


@pytest.mark.parametrize("limit", ["2500.555", "-1", "1e30", "abc"])
def test_a_limit_the_service_refuses_is_a_message_on_the_form(client, account_factory, limit):
    account = account_factory(currency="USD")
    client.force_login(StaffFactory(roles=[roles.SUPERVISOR]))
    url = reverse("admin:api_account_change", args=[account.pk])
    form = next(f for f in parse(client.get(url)).forms if f["id"] == "account_form")
    data = as_post(form["data"])
    data["daily_limit"] = [limit]
    response = client.post(url, data, follow=True)
    assert response.status_code == 200
    account.refresh_from_db()
    assert str(account.daily_limit) != limit  # nothing saved
    assert "Not saved" in response.content.decode() or "errornote" in response.content.decode()


def test_the_admin_passes_djangos_system_checks():
    """What ``manage.py check`` refuses at start (an admin column that does not exist) fails here first."""
    call_command("check", fail_level="ERROR")
