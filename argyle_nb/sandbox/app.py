"""The HTTP application: Argyle API v1 users, user tokens and accounts over a :class:`Store`.

Built on Starlette. Handlers read and write raw JSON bytes, so a page of 200 accounts
is one SQL query and a byte join. Every error answers JSON in Django REST style:
``{"detail": "..."}`` or field errors ``{"field": ["..."]}``.

Limit policy: ``limit`` defaults to 10; values above 200 are clamped to 200 (the
``next``/``previous`` links then carry ``limit=200``); ``limit`` below 1, a negative
``offset`` or a non-integer value answers 400. Lists are newest first; ``ordering=
created_at`` asks for oldest first, unknown ordering fields and empty filters (``user=``)
are ignored, as Django REST framework does; the links carry every other parameter.

Bodies are JSON or form-encoded, as :mod:`argyle_nb.sandbox.parsing` describes; no body
answers 5xx: what the parser, the models or the store refuse answers 400, a busy
database 503.

Examples:
    >>> parse_count("25", name="limit", default=10, minimum=1, maximum=200)
    25
    >>> parse_count("5000", name="limit", default=10, minimum=1, maximum=200)
    200
    >>> parse_uuid("0994B847-CC69-4D98-BC99-C5E65E762ADD")
    '0994b847-cc69-4d98-bc99-c5e65e762add'
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from functools import partial
from typing import Any, Final
from urllib.parse import urlencode

import orjson
from anyio import to_thread
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp

from argyle_nb.models import UserTokenRequest
from argyle_nb.provenance import SANDBOX_HEADER
from argyle_nb.sandbox.auth import BasicAuth
from argyle_nb.sandbox.faults import FaultInjector, Faults
from argyle_nb.sandbox.hosts import LOCAL_HOSTS, HostGuard
from argyle_nb.sandbox.limits import REQUEST_TIMEOUT
from argyle_nb.sandbox.openapi import openapi_document
from argyle_nb.sandbox.parsing import (
    MAX_BODY,
    ApiError,
    decode_body,
    expect_object,
    parse_count,
    parse_filter_uuid,
    parse_ordering,
    parse_uuid,
    read_body,
    read_metadata,
)
from argyle_nb.sandbox.store import MAX_OFFSET, UNSET, Store
from argyle_nb.sandbox.tokens import TokenIssuer

__all__ = [
    "DEFAULT_LIMIT",
    "MAX_BODY",
    "MAX_LIMIT",
    "ApiError",
    "SandboxApp",
    "parse_count",
    "parse_uuid",
]

DEFAULT_LIMIT: Final = 10
MAX_LIMIT: Final = 200
#: The sweep of never-connected accounts runs at most this often (sandbox clock).
SWEEP_EVERY: Final = timedelta(minutes=1)

_JSON = "application/json"
_NOT_FOUND = b'{"detail": "Not found."}'
#: Extra headers by status: a 408 leaves an unread body behind (close the connection),
#: a 503 says when to retry.
_ERROR_HEADERS = {408: {"Connection": "close"}, 503: {"Retry-After": "1"}}


_MARK: Final = (SANDBOX_HEADER.lower().encode(), b"1")


def _json(body: bytes, status: int = 200) -> Response:
    return Response(body, status_code=status, media_type=_JSON)


def _error(exc: ApiError) -> Response:
    headers = _ERROR_HEADERS.get(exc.status)
    return Response(orjson.dumps(exc.body), exc.status, headers=headers, media_type=_JSON)


def _page(request: Request, count: int, rows: list[bytes], limit: int, offset: int) -> Response:
    extra = {k: v for k, v in request.query_params.items() if k not in ("limit", "offset")}

    def link(at: int) -> bytes:
        query = urlencode({**extra, "limit": limit, "offset": at})
        return orjson.dumps(str(request.url.replace(query=query)))

    nxt = link(offset + limit) if offset + limit < count else b"null"
    prev = link(max(offset - limit, 0)) if offset > 0 and count else b"null"
    body = b"".join(
        (
            b'{"count":',
            str(count).encode(),
            b',"next":',
            nxt,
            b',"previous":',
            prev,
            b',"results":[',
            b",".join(rows),
            b"]}",
        )
    )
    return _json(body)


class SandboxApp:
    """The ASGI application of one sandbox: the ``Host`` check, faults, auth, the API routes.

    Args:
        store: where users and accounts live.
        key_id: the API key's id (HTTP Basic auth's user).
        key_secret: the API key's secret (HTTP Basic auth's password).
        clock: "now" of the sandbox (created_at, tokens, the 30-day sweep).
        faults: faults to inject from the start (change them with :attr:`faults`).
        body_timeout: seconds a request body may take to arrive (then 408).
        allowed_hosts: the ``Host`` names answered (default: localhost only); others
            answer 400 (:mod:`argyle_nb.sandbox.hosts`).
    """

    def __init__(
        self,
        store: Store,
        *,
        key_id: str,
        key_secret: str,
        clock: Callable[[], datetime],
        faults: Faults | None = None,
        body_timeout: float = REQUEST_TIMEOUT,
        allowed_hosts: Iterable[str] = LOCAL_HOSTS,
    ) -> None:
        self.store = store
        self.body_timeout = body_timeout
        self.clock = clock
        self.issuer = TokenIssuer(store.token_secret, store.client_id)
        self._last_sweep: datetime | None = None
        self._sweep_lock = threading.Lock()
        self._openapi = orjson.dumps(openapi_document())
        routes = [
            Route("/openapi.json", self.openapi, methods=["GET"]),
            Route("/v1/users", self.list_users, methods=["GET"]),
            Route("/v1/users", self.create_user, methods=["POST"]),
            Route("/v1/users/{id}", self.get_user, methods=["GET"]),
            Route("/v1/users/{id}", self.patch_user, methods=["PATCH"]),
            Route("/v1/users/{id}", self.delete_user, methods=["DELETE"]),
            Route("/v1/user-tokens", self.create_user_token, methods=["POST"]),
            Route("/v1/accounts", self.list_accounts, methods=["GET"]),
            Route("/v1/accounts/{id}", self.get_account, methods=["GET"]),
            Route("/v1/accounts/{id}", self.delete_account, methods=["DELETE"]),
        ]
        handlers = {404: self._not_found, 405: self._not_allowed, 500: self._crash}
        self.routes: ASGIApp = Starlette(routes=routes, exception_handlers=handlers)
        self.injector = FaultInjector(BasicAuth(self.routes, key_id, key_secret), faults)
        self.guard = HostGuard(self.injector, allowed_hosts)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.guard(scope, receive, send)
            return

        async def send_marked(message: Any) -> None:
            # Every answer says it comes from the emulator, so a table's provenance can tell.
            if message["type"] == "http.response.start":
                headers = [*message.get("headers", []), _MARK]
                message = {**message, "headers": headers}
            await send(message)

        await self.guard(scope, receive, send_marked)

    @property
    def faults(self) -> Faults:
        """The faults in force; assign a new :class:`Faults` to change them while running."""
        return self.injector.faults

    @faults.setter
    def faults(self, value: Faults) -> None:
        self.injector.faults = value

    # -- helpers -------------------------------------------------------------------

    def _corrupt(self, kind: str, rows: list[bytes]) -> list[bytes]:
        """The rows of a list page, some corrupt when :attr:`Faults.corrupt` asks for it."""
        faults = self.injector.faults
        if not faults.corrupt:
            return rows
        return [faults.corrupt_record(kind, row) for row in rows]

    def sweep(self, force: bool = False) -> int:
        """Remove never-connected accounts older than 30 days (at most once a minute)."""
        now = self.clock()
        with self._sweep_lock:
            if not force and self._last_sweep is not None and now - self._last_sweep < SWEEP_EVERY:
                return 0
            self._last_sweep = now
        return self.store.sweep(now)

    async def _run(self, func: Callable[..., Any], *args: Any) -> Any:
        def call() -> Any:
            self.sweep()
            return func(*args)

        return await to_thread.run_sync(call)

    async def _body(self, request: Request) -> dict[str, Any]:
        """The request's body as an object (``{}`` when empty); 400/408/413/415 else."""
        raw = await read_body(request, timeout=self.body_timeout)
        return expect_object(decode_body(raw, request.headers.get("content-type")))

    async def _write(self, func: Callable[..., Any], *args: Any) -> Any:
        """A store call of a write handler: what SQLite or orjson refuse is no 500 crash."""
        try:
            return await self._run(func, *args)
        except orjson.JSONEncodeError as exc:
            raise ApiError(400, {"external_metadata": [f"Cannot be stored: {exc}"]}) from None
        except sqlite3.Error:  # locked or failing: the client may retry
            detail = "The sandbox's database is unavailable; retry shortly."
            raise ApiError(503, {"detail": detail}) from None

    @staticmethod
    def _pagination(request: Request) -> tuple[int, int, bool]:
        """``limit``, ``offset`` and whether ``ordering`` asks for oldest first."""
        query = request.query_params
        limit = parse_count(
            query.get("limit"), name="limit", default=DEFAULT_LIMIT, minimum=1, maximum=MAX_LIMIT
        )
        offset = parse_count(
            query.get("offset"), name="offset", default=0, minimum=0, maximum=MAX_OFFSET
        )
        return limit, offset, parse_ordering(query.get("ordering"))

    @staticmethod
    def _path_id(request: Request) -> str:
        found = parse_uuid(request.path_params["id"])
        if found is None:
            raise ApiError(404, {"detail": "Not found."})
        return found

    # -- error handlers ------------------------------------------------------------

    async def _not_found(self, request: Request, exc: Exception) -> Response:
        return _json(_NOT_FOUND, 404)

    async def _not_allowed(self, request: Request, exc: Exception) -> Response:
        headers = dict(exc.headers or {}) if isinstance(exc, HTTPException) else {}
        body = orjson.dumps({"detail": f'Method "{request.method}" not allowed.'})
        return Response(body, status_code=405, media_type=_JSON, headers=headers)

    async def _crash(self, request: Request, exc: Exception) -> Response:
        return _json(b'{"detail": "Internal server error."}', 500)

    # -- endpoints -----------------------------------------------------------------

    async def openapi(self, request: Request) -> Response:
        """GET /openapi.json"""
        return _json(self._openapi)

    async def list_users(self, request: Request) -> Response:
        """GET /v1/users"""
        try:
            limit, offset, ascending = self._pagination(request)
        except ApiError as exc:
            return _error(exc)
        count, rows = await self._run(
            partial(self.store.list_users, limit, offset, ascending=ascending)
        )
        return _page(request, count, self._corrupt("users", rows), limit, offset)

    async def create_user(self, request: Request) -> Response:
        """POST /v1/users"""

        def create(metadata: Any) -> dict[str, Any]:
            now = self.clock()
            doc = self.store.create_user(metadata, now)
            return {"id": doc["id"], "token": self.issuer.access(doc["id"], now)}

        try:
            metadata = read_metadata(await self._body(request))
            created = await self._write(create, metadata)
        except ApiError as exc:
            return _error(exc)
        return _json(orjson.dumps(created), 201)

    async def get_user(self, request: Request) -> Response:
        """GET /v1/users/{id}"""
        try:
            user_id = self._path_id(request)
        except ApiError as exc:
            return _error(exc)
        doc = await self._run(self.store.get_user, user_id)
        return _json(_NOT_FOUND, 404) if doc is None else _json(doc)

    async def patch_user(self, request: Request) -> Response:
        """PATCH /v1/users/{id}"""
        try:
            user_id = self._path_id(request)
            body = await self._body(request)
            metadata = read_metadata(body) if "external_metadata" in body else UNSET
            doc = await self._write(self.store.patch_user, user_id, metadata)
        except ApiError as exc:
            return _error(exc)
        return _json(_NOT_FOUND, 404) if doc is None else _json(doc)

    async def delete_user(self, request: Request) -> Response:
        """DELETE /v1/users/{id}"""
        try:
            user_id = self._path_id(request)
        except ApiError as exc:
            return _error(exc)
        gone = await self._run(self.store.delete_user, user_id)
        return Response(status_code=204) if gone else _json(_NOT_FOUND, 404)

    async def create_user_token(self, request: Request) -> Response:
        """POST /v1/user-tokens"""
        try:
            body = await self._body(request)
            if "user" not in body:
                raise ApiError(400, {"user": ["This field is required."]})
            raw = body["user"]
            canonical = parse_uuid(raw) if isinstance(raw, str) else None
            try:
                if canonical is None:
                    raise ValueError(raw)
                user_id = str(UserTokenRequest.model_validate({"user": canonical}).user)
            except (ValidationError, ValueError):
                raise ApiError(400, {"user": ["Must be a valid UUID."]}) from None
        except ApiError as exc:
            return _error(exc)

        def issue() -> dict[str, str] | None:
            if not self.store.user_exists(user_id):
                return None
            now = self.clock()
            return {
                "access": self.issuer.access(user_id, now),
                "refresh": self.issuer.refresh(user_id, now),
            }

        tokens = await self._run(issue)
        if tokens is None:
            message = f'Invalid pk "{user_id}" - object does not exist.'
            return _json(orjson.dumps({"user": [message]}), 400)
        return _json(orjson.dumps(tokens))

    async def list_accounts(self, request: Request) -> Response:
        """GET /v1/accounts"""
        try:
            limit, offset, ascending = self._pagination(request)
            user = parse_filter_uuid(request.query_params.get("user"), name="user")
        except ApiError as exc:
            return _error(exc)
        count, rows = await self._run(
            partial(self.store.list_accounts, user, limit, offset, ascending=ascending)
        )
        return _page(request, count, self._corrupt("accounts", rows), limit, offset)

    async def get_account(self, request: Request) -> Response:
        """GET /v1/accounts/{id}"""
        try:
            account_id = self._path_id(request)
        except ApiError as exc:
            return _error(exc)
        doc = await self._run(self.store.get_account, account_id)
        return _json(_NOT_FOUND, 404) if doc is None else _json(doc)

    async def delete_account(self, request: Request) -> Response:
        """DELETE /v1/accounts/{id}"""
        try:
            account_id = self._path_id(request)
        except ApiError as exc:
            return _error(exc)
        gone = await self._run(self.store.delete_account, account_id)
        return Response(status_code=204) if gone else _json(_NOT_FOUND, 404)
