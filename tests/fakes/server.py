"""The plumbing shared by the fake trackers: an HTTP server on 127.0.0.1, checked and faulty.

``FakeServer`` runs a werkzeug server in a background thread (``start()``/``stop()`` or a
``with`` block), records every request (``requests``, ``count(method, contains)``,
``reset_counts()``), checks requests and responses against an OpenAPI slice (``spec``, a
``SpecValidator``; problems land in ``violations``, ``validate = False`` turns the checks off)
and injects faults per request: a fixed ``latency``, ``fail(status, retry_after=...)`` answers
without touching state, ``drop_after_commit()`` stores the write and then closes the connection
without a response, ``drop_before()`` closes it before anything happens, ``reset_mid_upload()``
reads part of the body and resets the connection, ``land_late(delay)`` holds the request past the
client's timeout and only then commits it (the client has given up: the write lands unseen).
``search_lag`` (seconds) is for the fakes' searches: a new issue stays out of them that long.

A fake subclasses it and supplies ``_authenticate``, ``_route`` (called under the lock, with the
path after ``url_prefix``), ``_error_body`` and ``_answer`` (usually ``_respond`` plus the spec
checks, in whatever order that API's fake wants them).
"""

from __future__ import annotations

import contextlib
import json
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Self

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from fakes.openapi import SpecValidator


@dataclass
class Fault:
    """One injected failure, applied to the next ``times`` requests that match."""

    kind: Literal["status", "drop_before", "drop_after", "reset", "late"]
    method: str | None = None
    path_contains: str | None = None
    times: int = 1
    status: int = 503
    headers: dict[str, str] = field(default_factory=dict)
    message: str = "Service unavailable"
    delay: float = 0.0
    """``late``: seconds the request is held before it is committed."""
    path_end: str | None = None
    """Only paths ending so (``/issue`` is the create, not ``/issue/OPS-1/comment``)."""

    def matches(self, method: str, path: str) -> bool:
        return (
            (self.method is None or self.method == method)
            and (self.path_contains is None or self.path_contains in path)
            and (self.path_end is None or path.rstrip("/").endswith(self.path_end))
        )


class HttpError(Exception):
    """An error answer: ``body`` (JSON) with ``status``. Each fake raises its own subclass."""

    status: int
    body: Any


class _Dropped(Exception):
    """Close the connection without an answer."""


def _reset(request: Request) -> None:
    """Read half of the body, then close with SO_LINGER 0: the client's upload is reset."""
    length = request.content_length or 0
    if length:
        request.stream.read(max(1, length // 2))  # b"" when a spec check read it already
    sock = request.environ.get("werkzeug.socket")
    if isinstance(sock, socket.socket):
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.shutdown(socket.SHUT_RDWR)


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass

    def log_error(self, format: str, *args: Any) -> None:
        pass


class FakeServer:
    """A fake HTTP API on 127.0.0.1. Use as a context manager or call ``start()``/``stop()``."""

    url_prefix = ""
    """Appended to ``http://127.0.0.1:<port>`` in ``url``; stripped from paths for ``_route``."""
    json_type = "application/json"
    """The ``Content-Type`` of JSON answers, as the real API spells it."""
    poll_interval = 0.05
    """Seconds between the server thread's checks for ``stop()``."""

    def __init__(self, spec: SpecValidator, *, latency: float = 0.0) -> None:
        self.spec = spec
        self.latency = latency
        self.faults: list[Fault] = []
        self.requests: list[tuple[str, str]] = []
        self.violations: list[str] = []
        self.validate = True
        self.search_lag = 0.0
        """Seconds a new issue stays invisible to searches (GET by key finds it at once)."""
        self.late_commits = 0
        """Writes ``land_late`` committed after holding them (the client had given up)."""
        self._lock = threading.RLock()
        self._server: BaseWSGIServer | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> Self:
        server = self._server = make_server(
            "127.0.0.1", 0, self._wsgi, threaded=True, request_handler=_QuietHandler
        )
        threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": self.poll_interval}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The base URL of the API (``url_prefix`` included)."""
        assert self._server is not None, "start() the fake first"
        return f"http://127.0.0.1:{self._server.server_port}{self.url_prefix}"

    # -- test controls -----------------------------------------------------------------------

    def fail(
        self,
        status: int = 503,
        *,
        times: int = 1,
        method: str | None = None,
        path: str | None = None,
        retry_after: str | None = None,
    ) -> None:
        """Answer the next ``times`` matching requests with ``status`` and change nothing."""
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        self.faults.append(Fault("status", method, path, times, status, headers))

    def drop_after_commit(
        self, *, times: int = 1, method: str | None = "POST", path: str | None = None
    ) -> None:
        """Store the next matching write, then close the connection without answering."""
        self.faults.append(Fault("drop_after", method, path, times))

    def drop_before(
        self, *, times: int = 1, method: str | None = None, path: str | None = None
    ) -> None:
        """Close the connection on the next matching request before doing anything."""
        self.faults.append(Fault("drop_before", method, path, times))

    def reset_mid_upload(
        self, *, times: int = 1, method: str | None = "POST", path: str | None = None
    ) -> None:
        """Read part of the next matching request's body, then reset the connection (RST)."""
        self.faults.append(Fault("reset", method, path, times))

    def land_late(
        self,
        delay: float,
        *,
        times: int = 1,
        method: str | None = "POST",
        path: str | None = None,
        path_end: str | None = None,
    ) -> None:
        """Hold the next matching write ``delay`` seconds (past the client's timeout), then
        commit it: the client saw no answer, the tracker holds the write."""
        self.faults.append(Fault("late", method, path, times, delay=delay, path_end=path_end))

    def count(self, method: str | None = None, contains: str = "") -> int:
        """Requests received so far, optionally only those matching method and path part."""
        return sum(1 for m, p in self.requests if (method is None or m == method) and contains in p)

    def reset_counts(self) -> None:
        self.requests.clear()

    # -- HTTP --------------------------------------------------------------------------------

    def _wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        method, path = request.method, request.path
        with self._lock:
            self._record(request)
            fault = self._take_fault(method, path)
        if self.latency:
            time.sleep(self.latency)
        refused = self._screen(request)
        if refused is not None:
            return refused(environ, start_response)
        try:
            if fault is not None and fault.kind == "drop_before":
                raise _Dropped
            if fault is not None and fault.kind == "reset":
                _reset(request)
                return Response(b"", 500)(environ, start_response)
            if fault is not None and fault.kind == "late":
                request.get_data(cache=True)  # the whole request arrived before the wait
                time.sleep(fault.delay)
                response = self._answer(request)
                with self._lock:
                    self.late_commits += 1
                raise _Dropped
            if fault is not None and fault.kind == "status":
                return self._fault_response(request, fault)(environ, start_response)
            response = self._answer(request)
            if fault is not None and fault.kind == "drop_after":
                raise _Dropped
        except _Dropped:
            sock = environ.get("werkzeug.socket")
            if isinstance(sock, socket.socket):
                with contextlib.suppress(OSError):  # the client may have gone already
                    sock.shutdown(socket.SHUT_RDWR)
            return Response(b"", 500)(environ, start_response)
        return response(environ, start_response)

    def _record(self, request: Request) -> None:
        """Log one request (called under the lock, before anything else happens)."""
        self.requests.append((request.method, request.path))

    def _take_fault(self, method: str, path: str) -> Fault | None:
        for fault in self.faults:
            if fault.times > 0 and fault.matches(method, path):
                fault.times -= 1
                return fault
        return None

    def _screen(self, request: Request) -> Response | None:
        """An answer that pre-empts faults and state (a fake checking requests first), or None."""
        return None

    def _fault_response(self, request: Request, fault: Fault) -> Response:
        """The answer to a request that a ``fail()`` fault matched."""
        response = self._json(self._error_body(fault.status, fault.message), fault.status)
        response.headers.update(fault.headers)
        return response

    def _error_body(self, status: int, message: str) -> Any:
        raise NotImplementedError

    def _answer(self, request: Request) -> Response:
        raise NotImplementedError

    def _respond(self, request: Request) -> Response:
        """Authenticate and route ``request`` under the lock; an ``HttpError`` becomes its answer."""
        try:
            self._authenticate(request)
            with self._lock:
                return self._route(request, request.method, request.path[len(self.url_prefix) :])
        except HttpError as exc:
            return self._json(exc.body, exc.status)

    def _authenticate(self, request: Request) -> None:
        raise NotImplementedError

    def _route(self, request: Request, method: str, path: str) -> Response:
        raise NotImplementedError

    def _json(
        self, data: Any, status: int = 200, headers: dict[str, str] | None = None
    ) -> Response:
        response = Response(json.dumps(data), status, content_type=self.json_type)
        response.headers.update(headers or {})
        return response

    # -- spec checks -------------------------------------------------------------------------

    def _checks(self, path: str) -> bool:
        """Whether exchanges on ``path`` are checked against the spec."""
        return self.validate

    def _check_request(self, request: Request) -> list[str]:
        """Problems of a request against the spec slice (recorded in ``violations``)."""
        if not self._checks(request.path):
            return []
        query = {k: request.args.getlist(k) for k in request.args}
        problems = self.spec.check_request(
            request.method,
            request.path,
            query,
            request.content_type or "",
            request.get_data(cache=True),
        )
        with self._lock:
            self.violations.extend(problems)
        return problems

    def _check_response(self, method: str, path: str, response: Response) -> None:
        """Record the problems of an answer against the spec slice."""
        if not self._checks(path):
            return
        problems = self.spec.check_response(
            method, path, response.status_code, response.content_type or "", response.data
        )
        with self._lock:
            self.violations.extend(problems)
