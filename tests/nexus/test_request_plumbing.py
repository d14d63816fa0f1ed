"""The per-request plumbing that does less work than Django's and DRF's defaults, and answers the same.

* Messages (the admin's banners): their storage is built only by a request that uses it.
* Content negotiation: the two Accept headers nearly every client sends are negotiated once per list of
  renderers; every header DRF's own negotiation is compared with.
* The request id made without building a ``uuid.UUID``.
* Django's end-of-request close of the caches, skipped where no cache holds anything to close.
* The API's URL patterns tried first: no pattern hides another.
* A client address parsed once per text, never a text longer than an address.
"""

import re
import uuid

import pytest
from django.contrib import messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.core import signals
from django.core.cache import close_caches
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.utils.functional import empty
from hypothesis import given
from hypothesis import strategies as st
from rest_framework import renderers as drf_renderers
from rest_framework.exceptions import NotAcceptable
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.request import Request

from api.views.accounts import CSVRenderer
from nexus import client_ip
from nexus.apps import caches_hold_nothing
from nexus.middleware import LazyMessageMiddleware, new_request_id
from nexus.negotiation import StrictContentNegotiation
from nexus.renderers import JSONRenderer

factory = RequestFactory()


# --- messages --------------------------------------------------------------------------------------

def _with_session(request):
    from django.contrib.sessions.middleware import SessionMiddleware

    SessionMiddleware(lambda r: HttpResponse()).process_request(request)
    return request


def test_a_request_that_uses_no_message_builds_no_storage_and_writes_no_cookie():
    middleware = LazyMessageMiddleware(lambda r: HttpResponse())
    request = _with_session(factory.get("/accounts/"))
    middleware.process_request(request)
    response = middleware.process_response(request, HttpResponse())
    assert request._messages._wrapped is empty  # never built
    assert "messages" not in response.cookies


def test_a_message_added_is_stored_and_read_back_as_with_djangos_middleware():
    middleware = LazyMessageMiddleware(lambda r: HttpResponse())
    request = _with_session(factory.post("/admin/api/account/1/change/"))
    middleware.process_request(request)
    messages.success(request, "Saved.")
    response = middleware.process_response(request, HttpResponse())
    assert isinstance(request._messages._wrapped, FallbackStorage)
    assert "messages" in response.cookies  # the cookie store holds it until the next page

    following = _with_session(factory.get("/admin/api/account/", HTTP_COOKIE=f"messages={response.cookies['messages'].value}"))
    middleware.process_request(following)
    assert [str(message) for message in messages.get_messages(following)] == ["Saved."]
    cleared = middleware.process_response(following, HttpResponse())
    assert cleared.cookies["messages"].value == ""  # read: deleted, as Django's middleware does


# --- content negotiation ------------------------------------------------------------------------------

RENDERER_LISTS = [
    [JSONRenderer], [JSONRenderer, CSVRenderer], [CSVRenderer, JSONRenderer], [CSVRenderer],
    [JSONRenderer, drf_renderers.BrowsableAPIRenderer], [drf_renderers.BrowsableAPIRenderer, JSONRenderer],
]
ACCEPTS = [None, "*/*", "application/json", "text/csv", "text/html", "application/json; indent=4",
           "text/csv, application/json;q=0.5", "image/png", "application/*", ""]


def _negotiate(negotiator, renderer_classes, accept, query=""):
    environ = {} if accept is None else {"HTTP_ACCEPT": accept}
    request = Request(factory.get(f"/accounts/{query}", **environ))
    renderers = [cls() for cls in renderer_classes]
    try:
        renderer, media_type = negotiator.select_renderer(request, renderers)
    except NotAcceptable:
        return "406"
    return renderers.index(renderer), media_type


@pytest.mark.parametrize("renderer_classes", RENDERER_LISTS, ids=lambda classes: "+".join(c.__name__ for c in classes))
@pytest.mark.parametrize("accept", ACCEPTS)
def test_the_same_choice_as_drf(renderer_classes, accept):
    for _ in range(2):  # the second time from what the first remembered
        assert _negotiate(StrictContentNegotiation(), renderer_classes, accept) == \
            _negotiate(DefaultContentNegotiation(), renderer_classes, accept)


@given(st.sampled_from(RENDERER_LISTS), st.sampled_from(["*/*", "application/json"]),
       st.sampled_from(["", "?format=json", "?format=csv", "?page_size=5"]))
def test_a_format_asked_is_negotiated_as_drf_does(renderer_classes, accept, query):
    def outcome(negotiator):
        try:
            return _negotiate(negotiator, renderer_classes, accept, query)
        except Exception as error:  # noqa: BLE001 - the 404 of an unknown format, compared by type
            return type(error).__name__
    assert outcome(StrictContentNegotiation()) == outcome(DefaultContentNegotiation())


# --- the request id -----------------------------------------------------------------------------------

def test_a_request_id_is_a_dashed_random_uuid():
    made = {new_request_id() for _ in range(2000)}
    assert len(made) == 2000
    for text in list(made)[:200]:
        parsed = uuid.UUID(text)
        assert str(parsed) == text and parsed.version == 4 and parsed.variant == uuid.RFC_4122
        assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", text)


@pytest.mark.django_db
def test_every_answer_carries_a_new_request_id(api_client):
    first, second = api_client.get("/health/"), api_client.get("/health/")
    assert first["X-Request-ID"] != second["X-Request-ID"]
    assert uuid.UUID(first["X-Request-ID"]).version == 4


# --- the caches' close at the end of a request ------------------------------------------------------------

def test_caches_that_hold_nothing_are_not_closed_after_each_request(settings):
    assert caches_hold_nothing(settings.CACHES)  # the in-memory default
    assert close_caches not in [receiver() for _, receiver, *_ in signals.request_finished.receivers]
    assert caches_hold_nothing({"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache"},
                                "files": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache"}})
    assert not caches_hold_nothing({"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
                                    "shared": {"BACKEND": "django.core.cache.backends.memcached.PyMemcacheCache"}})


# --- the API's URL patterns first ----------------------------------------------------------------------------

SAMPLES = {"str": "123456789012", "uuid": "0b7c6f7e-8a3b-4c43-9d0a-6f1c3c2b1a00", "int": "7", "slug": "a-b",
           "path": "a/b"}


def _endpoints(resolver, prefix=""):
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            if route.startswith("admin/"):
                continue  # the admin's own patterns, in the admin's order
            yield from _endpoints(pattern, route)
        elif isinstance(pattern, URLPattern) and pattern.name and not route.startswith("^"):
            yield pattern, route


@pytest.mark.parametrize(("pattern", "route"), list(_endpoints(get_resolver())),
                         ids=lambda value: value if isinstance(value, str) else "")
def test_no_pattern_hides_another(pattern, route):
    path = "/" + re.sub(r"<(?:(\w+):)?\w+>", lambda m: SAMPLES[m.group(1) or "str"], route)
    assert resolve(path).url_name == pattern.name


# --- client addresses ----------------------------------------------------------------------------------------

def test_an_address_is_parsed_once_and_a_long_text_is_never_remembered():
    client_ip._parse_ip.cache_clear()
    assert str(client_ip.parse_ip("::ffff:203.0.113.7")) == str(client_ip.parse_ip("::ffff:203.0.113.7")) == "203.0.113.7"
    assert client_ip._parse_ip.cache_info().hits == 1
    assert client_ip.parse_ip("1" * 8000) is None and client_ip.parse_ip(" 203.0.113.7" + " " * 100) is not None
    assert client_ip._parse_ip.cache_info().currsize == 1
