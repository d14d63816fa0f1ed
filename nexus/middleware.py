"""Project-wide middleware: JSON errors, request id + access log, optional trailing slash, CSP, request guard,
the admin's messages."""

import logging
import os
import re
import time

from django.conf import settings
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.messages.storage import default_storage
from django.urls import Resolver404, get_resolver
from django.utils.functional import SimpleLazyObject, empty

from . import errors, limits, refcache
from .client_ip import client_ip, peer_is_trusted_proxy
from .context import RequestInfo, reset_current_request, set_current_request
from .domain import json_error

access_log = logging.getLogger("nexus.request")
_SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


class JsonErrorsMiddleware:
    """Outermost: an error that left in anything but JSON leaves as the contract's JSON error of its status.

    Every path and method, ``DEBUG`` on too (contract v1.3); under ``/admin/`` the admin's pages stay
    (``nexus.errors.contract_shaped``). Outermost, so that it also sees what middleware answered itself
    (whitenoise's 405 on a static file, the CSRF failure page) and Django's ``DEBUG`` pages.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return errors.contract_shaped(request, self.get_response(request))


class RequestContextMiddleware:
    """Gives every request an id (echoed as X-Request-ID), its scope of reference data (nexus.refcache),
    and writes one structured log line."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        incoming = request.headers.get("X-Request-ID", "")
        # A client's id is kept only if it is plainly safe to echo in a header and to log. Ours are
        # dashed UUIDs: a bare hex id holds 16 digits in a row now and then, which reads as a card
        # number to anyone (or any scanner) searching the logs for one.
        request.request_id = incoming if _SAFE_REQUEST_ID.fullmatch(incoming) else new_request_id()
        token = set_current_request(RequestInfo(request_id=request.request_id, ip=client_ip(request)))
        try:
            with refcache.request_scope():  # reference data at one version, read once (contract v1.3)
                response = self.get_response(request)
        finally:
            reset_current_request(token)
        response["X-Request-ID"] = request.request_id
        user = getattr(request, "user", None)
        access_log.info(
            "request",
            extra={
                "request_id": request.request_id,
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                "user_id": str(user.pk) if user is not None and user.is_authenticated else None,
                "ip": client_ip(request),
            },
        )
        return response


def new_request_id() -> str:
    """A random (version 4) UUID in its dashed text, as ``str(uuid.uuid4())`` writes it without building the
    ``UUID`` (every request that brings no id of its own)."""
    raw = bytearray(os.urandom(16))
    raw[6] = raw[6] & 0x0F | 0x40  # version 4
    raw[8] = raw[8] & 0x3F | 0x80  # the RFC 4122 variant
    text = raw.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


class TrustedProxyHeadersMiddleware:
    """The scheme header of ``SECURE_PROXY_SSL_HEADER`` counts only when the direct peer is a trusted proxy.

    Django believes that header from anyone: a client speaking plain HTTP to the app could claim
    HTTPS and skip the HTTPS redirect. From any other peer it is dropped before anything asks
    ``request.is_secure()`` (this runs ahead of SecurityMiddleware), as ``nexus.client_ip`` does
    for X-Forwarded-For.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        proxy_header = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
        self.header = proxy_header[0] if proxy_header else None

    def __call__(self, request):
        if self.header and self.header in request.META and not peer_is_trusted_proxy(request):
            del request.META[self.header]
        return self.get_response(request)


class RequestLimitsMiddleware:
    """An over-long request target or header gets the contract's JSON error (414 / 431).

    gunicorn refuses requests past its own limits with plain HTML pages; those limits are set above
    these (``nexus.limits``), so within them the app answers first, in JSON.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        meta = request.META
        if _target_length(meta) > limits.MAX_REQUEST_TARGET:
            return json_error("uri_too_long", f"The path and query string may be at most {limits.MAX_REQUEST_TARGET} "
                              "bytes.", 414, {"max_bytes": limits.MAX_REQUEST_TARGET})
        fields = [(key, value) for key, value in meta.items()
                  if key.startswith("HTTP_") or key in ("CONTENT_TYPE", "CONTENT_LENGTH")]
        if len(fields) > limits.MAX_HEADER_FIELDS:
            return json_error("headers_too_large", f"At most {limits.MAX_HEADER_FIELDS} header fields.", 431,
                              {"max_fields": limits.MAX_HEADER_FIELDS})
        for key, value in fields:
            name_length = len(key) - 5 if key.startswith("HTTP_") else len(key)
            if name_length + 2 + len(value) > limits.MAX_HEADER_LINE:  # as sent: "Name: value"
                name = key.removeprefix("HTTP_").replace("_", "-").title()
                return json_error("headers_too_large", f"A header line may be at most {limits.MAX_HEADER_LINE} bytes.",
                                  431, {"header": name, "max_bytes": limits.MAX_HEADER_LINE})
        return self.get_response(request)


def _target_length(meta) -> int:
    """Bytes of the request target as the client sent it (gunicorn's RAW_URI), else as WSGI decoded it."""
    raw = meta.get("RAW_URI")
    if raw is not None:
        return len(raw)
    query = meta.get("QUERY_STRING", "")
    return len(meta.get("SCRIPT_NAME", "") + meta.get("PATH_INFO", "")) + (len(query) + 1 if query else 0)


class OptionalTrailingSlashMiddleware:
    """Serve ``/accounts`` as ``/accounts/`` (the contract: every path with or without slash).

    Rewrites ``path_info`` instead of redirecting, so POST bodies survive.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info
        if not path.endswith("/"):
            resolver = get_resolver()
            try:
                resolver.resolve(path)
            except Resolver404:
                try:
                    resolver.resolve(path + "/")
                except Resolver404:
                    pass
                else:
                    request.path_info = path + "/"
                    request.path = request.path + "/"
        return self.get_response(request)


class ContentSecurityPolicyMiddleware:
    """A restrictive CSP: everything from our own origin (Swagger UI, ReDoc and admin assets are local).

    No inline script: Swagger UI's initialisation is served as a script of its own (drf-spectacular's
    split view) and the admin has none. Inline styles stay allowed: Swagger UI and ReDoc set them
    at run time. ReDoc runs its search in a ``blob:`` worker.
    """

    POLICY = (
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
        "script-src 'self'; worker-src 'self' blob:; connect-src 'self'; "
        "font-src 'self' data:; object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
    )

    def __init__(self, get_response):
        self.get_response = get_response
        self.policy = getattr(settings, "CONTENT_SECURITY_POLICY", self.POLICY)

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", self.policy)
        return response


class RequestGuardMiddleware:
    """Refuse, before any view or parser reads them, requests that can only be mistakes or attacks.

    * A declared body larger than ``DATA_UPLOAD_MAX_MEMORY_SIZE``: 413 (Django enforces the limit
      only when something reads ``request.body``, and then answers with an HTML page).
    * A NUL character in the path or the query string: PostgreSQL cannot store or compare one, so
      it would reach the database as a driver error (500). 404 in the path, 400 in the query.

    And on the way out: an answer to an authenticated request is marked ``Cache-Control: no-store``.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.max_body = settings.DATA_UPLOAD_MAX_MEMORY_SIZE

    def __call__(self, request):
        length = request.META.get("CONTENT_LENGTH") or "0"
        if not (length.isascii() and length.isdigit()):
            return json_error("validation_error", "Invalid Content-Length.", 400)
        if self.max_body is not None and int(length) > self.max_body:
            return json_error("request_too_large", f"Request body larger than {self.max_body} bytes.", 413)
        if "\x00" in request.path:
            return json_error("not_found", "Not found.", 404)
        if any("\x00" in value for value in _query_values(request)):
            return json_error("validation_error", "NUL characters are not allowed.", 400)
        response = self.get_response(request)
        if "Authorization" in request.headers and not response.has_header("Cache-Control"):
            # Balances, statements, card data: never kept by a browser or a shared cache.
            response["Cache-Control"] = "no-store"
        return response


def _query_values(request):
    for key, values in request.GET.lists():
        yield key
        yield from values


class LazyMessageMiddleware(MessageMiddleware):
    """Django's messages (the admin's "saved" banners), their storage built only by a request that uses it.

    Django's middleware builds a cookie store and a session store for every request (1.7 % of an API read's
    CPU); an API request never adds or reads a message. A request that does gets the same storage, and
    the answer saves it as Django's would; one that did not touches nothing (Django's ``update`` stores
    nothing for a storage that was neither read nor added to).
    """

    def process_request(self, request):
        request._messages = SimpleLazyObject(lambda: default_storage(request))

    def process_response(self, request, response):
        messages = getattr(request, "_messages", None)
        if isinstance(messages, SimpleLazyObject) and messages._wrapped is empty:
            return response
        return super().process_response(request, response)
