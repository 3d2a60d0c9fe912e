"""The fast path of POST /api/ask (FastAsk, WSGI middleware): see its docstring."""

from __future__ import annotations

import io

from flask import Flask, g

from . import limits
from .ask_request import MAX_BODY_BYTES, answer_request, unicode_problem

class FastAsk:
    """WSGI middleware: a well-formed POST /api/ask answered without Flask's per-request machinery.

    Flask's request and app contexts, routing, JSON helpers and header handling cost about 0.3 ms
    of CPU per request (a third of a lexical answer at 100k passages). This path parses the body,
    applies the rate limit, asks and logs through the same functions as the view, and sends the
    same bytes: the JSON is encoded by the app's JSON provider exactly as jsonify does, and the
    headers are the ones the app's after_request hooks (security headers, CORS, index version, and
    any added later) give a response to a request with the same Origin and Host, worked out once by
    running those hooks and then remembered. Anything else (other routes, another content type, a
    body over the limit or not a JSON object, a bad question, no index, a refused request, an error)
    goes to Flask, so every error answer comes from one place; the rate limit is never counted
    twice (limits.COUNTED). tests/test_fast_ask.py checks both paths give the same responses.
    """

    _MAX_HEADER_SETS = 256

    def __init__(self, app: Flask, wsgi_app):
        self.app = app
        self.wsgi_app = wsgi_app
        self._headers: dict[tuple, list[tuple[str, str]]] = {}

    def __call__(self, environ, start_response):
        if (environ.get("PATH_INFO") != "/api/ask" or environ.get("REQUEST_METHOD") != "POST"
                or self.app.debug or self.app.json.compact is False):
            return self.wsgi_app(environ, start_response)
        try:
            length = int(environ.get("CONTENT_LENGTH") or -1)
        except ValueError:
            length = -1
        mimetype = environ.get("CONTENT_TYPE", "").split(";", 1)[0].strip().lower()
        if not 0 <= length <= MAX_BODY_BYTES or mimetype != "application/json":
            return self.wsgi_app(environ, start_response)
        body = environ["wsgi.input"].read(length)
        environ["wsgi.input"] = io.BytesIO(body)  # Flask reads it again if the request goes there
        try:
            data = self.app.json.loads(body)
        except ValueError:  # Flask answers it: 400 from _parse_json_body
            return self.wsgi_app(environ, start_response)
        if not isinstance(data, dict) or unicode_problem(data):
            return self.wsgi_app(environ, start_response)
        extensions = self.app.extensions
        limiter = extensions.get("faqbot.limiter")
        if limiter is not None:
            retry_after = limiter.hit(limits.client_address(environ))
            environ[limits.COUNTED] = retry_after
            if retry_after is not None:
                return self.wsgi_app(environ, start_response)
        index = extensions["faqbot.live"].current()
        if index is None:
            return self.wsgi_app(environ, start_response)
        try:
            response = answer_request(extensions, index, data)
        except Exception:  # noqa: BLE001 - a bad question or a failure: Flask answers it (400, 503, 500)
            return self.wsgi_app(environ, start_response)
        payload = f"{self.app.json.dumps(response, separators=(',', ':'))}\n".encode()
        headers = [*self._headers_for(environ, index.version), ("Content-Length", str(len(payload)))]
        start_response("200 OK", headers)
        return [payload]

    def _headers_for(self, environ: dict, version: str) -> list[tuple[str, str]]:
        """The headers the app's hooks give a JSON answer to this request (by index version, Origin and Host)."""
        key = (version, environ.get("HTTP_ORIGIN"), environ.get("HTTP_HOST"), environ.get("SERVER_NAME"),
               environ.get("SERVER_PORT"), environ.get("wsgi.url_scheme"), environ.get("SCRIPT_NAME", ""))
        headers = self._headers.get(key)
        if headers is None:
            probe = {**environ, "wsgi.input": io.BytesIO(b""), "CONTENT_LENGTH": "0"}
            with self.app.request_context(probe):
                g.faqbot_index_version = version
                response = self.app.process_response(self.app.response_class(b"", mimetype=self.app.json.mimetype))
            headers = [(k, v) for k, v in response.headers.items() if k.lower() != "content-length"]
            if len(self._headers) >= self._MAX_HEADER_SETS:
                self._headers.clear()
            self._headers[key] = headers
        return headers
