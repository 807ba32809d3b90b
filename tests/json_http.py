"""A quiet HTTP request handler that answers JSON: the base of the tests' stand-in servers
(the Hugging Face hub in :mod:`tests.hub_server`, kubo and a pinning service in test_storage)."""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler
from typing import Any


class JsonHandler(BaseHTTPRequestHandler):
    """:meth:`send_json` for the answers; no request log on stderr (keeps pytest output clean)."""

    def log_message(self, *args: Any) -> None:
        pass

    def send_json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        """Answer ``status`` with ``body`` (JSON-encoded unless it is bytes already) and ``headers``;
        a HEAD request gets the headers only."""
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(raw)
