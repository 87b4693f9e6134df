"""A fake OpenAI-compatible server for the LLM tests (stdlib http.server in a thread, 127.0.0.1 only).

The request's `model` selects the behaviour, so every test scripts its own model:
- "slow": sleeps `slow_seconds` before replying (past the client's timeout);
- "keepalive": trickles keep-alive bytes for `keepalive_seconds` (a space every 0.2 s before the JSON, or
  SSE comment lines before the chunks), then replies `scripts["keepalive"]`: every read is quick, the call
  is not (a real server did this for 13 minutes);
- "ratelimit": HTTP 429; "boom": HTTP 503;
- any other name: `scripts[model]`, a reply string or a callable(request JSON) -> reply string;
  a model in `no_stream` answers a streaming request with HTTP 400 (a server that cannot stream).
POST /v1/chat/completions answers JSON, or SSE chunks (`data: {...}` ... `data: [DONE]`) when the request
says "stream": true; POST /api/chat answers the same scripts the Ollama way (JSON, or NDJSON lines). GET /v1/models lists the scripted models. Every chat request is kept in `requests`.
"""
from __future__ import annotations

import json
import re
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

Script = str | Callable[[dict], str]


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        import sys

        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)  # a client that gave up (timeout) is expected


class FakeOpenAI:
    def __init__(self, slow_seconds: float = 3.0, keepalive_seconds: float = 6.0) -> None:
        self.scripts: dict[str, Script] = {}
        self.keepalive_seconds = keepalive_seconds
        self.requests: list[dict] = []
        self.errors: list[BaseException] = []
        self.slow_seconds = slow_seconds
        self.no_stream: set[str] = set()
        self._server: ThreadingHTTPServer | None = None

    # ---- lifecycle
    def start(self) -> "FakeOpenAI":
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                if self.path.rstrip("/").endswith("/models"):
                    data = [{"id": m, "object": "model", "owned_by": "fake"} for m in sorted(fake.scripts)]
                    self._json(200, {"object": "list", "data": data})
                else:
                    self._json(404, {"error": {"message": "not found"}})

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                ollama = self.path.rstrip("/") == "/api/chat"
                if not ollama and not self.path.rstrip("/").endswith("/chat/completions"):
                    self._json(404, {"error": {"message": "not found"}})
                    return
                fake.requests.append(body)
                model = body.get("model", "")
                if model == "slow":
                    time.sleep(fake.slow_seconds)
                    reply = "Too late [1]."
                elif model == "ratelimit":
                    self._json(429, {"error": {"message": "Rate limit reached", "type": "rate_limit_error"}})
                    return
                elif model == "boom":
                    self._json(503, {"error": {"message": "overloaded", "type": "server_error"}})
                    return
                elif model in fake.no_stream and body.get("stream"):
                    self._json(400, {"error": {"message": "streaming is not supported", "type": "invalid_request"}})
                    return
                elif model in fake.scripts:
                    script = fake.scripts[model]
                    try:
                        reply = script(body) if callable(script) else script
                    except Exception as exc:  # a broken script is a 500 naming it, not a dropped connection
                        fake.errors.append(exc)
                        self._json(500, {"error": {"message": f"script failed: {exc!r}"}})
                        return
                else:
                    self._json(404, {"error": {"message": f"model {model!r} not found"}})
                    return
                if ollama:
                    self._ollama(model, reply, bool(body.get("stream")))
                elif model == "keepalive":
                    self._keepalive(model, reply, bool(body.get("stream")))
                elif body.get("stream"):
                    self._sse(model, reply)
                else:
                    self._json(200, {
                        "id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()), "model": model,
                        "choices": [{"index": 0, "message": {"role": "assistant", "content": reply},
                                     "finish_reason": "stop"}],
                        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
                    })

            def _json(self, status: int, payload: dict) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _ollama(self, model: str, reply: str, stream: bool) -> None:
                """Ollama's /api/chat: one JSON object, or NDJSON lines when streaming."""
                def line(content: str, done: bool) -> dict:
                    return {"model": model, "created_at": "2024-01-01T00:00:00Z",
                            "message": {"role": "assistant", "content": content}, "done": done}

                if not stream:
                    self._json(200, line(reply, True))
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/x-ndjson")
                self.end_headers()
                for piece in re.findall(r"\S+\s*|\s+", reply):
                    self.wfile.write((json.dumps(line(piece, False)) + "\n").encode())
                    self.wfile.flush()
                self.wfile.write((json.dumps(line("", True)) + "\n").encode())

            def _keepalive(self, model: str, reply: str, stream: bool) -> None:
                """Keep-alive bytes for `keepalive_seconds`, then the reply (no Content-Length: HTTP/1.0
                ends the body when the connection closes)."""
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream" if stream else "application/json")
                self.end_headers()
                until = time.monotonic() + fake.keepalive_seconds
                while time.monotonic() < until:
                    self.wfile.write(b": keep-alive\n\n" if stream else b" ")
                    self.wfile.flush()
                    time.sleep(0.2)
                if stream:
                    self._sse(model, reply, headers=False)
                else:
                    self.wfile.write(json.dumps({
                        "id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()),
                        "model": model, "choices": [{"index": 0, "message": {"role": "assistant", "content": reply},
                                                     "finish_reason": "stop"}]}).encode())

            def _sse(self, model: str, reply: str, headers: bool = True) -> None:
                if headers:
                    self.send_response(200)
                    self.send_header("Content-Type", "text/event-stream")
                    self.send_header("Cache-Control", "no-cache")
                    self.end_headers()  # HTTP/1.0: the body ends when the connection closes

                def chunk(delta: dict, finish: str | None = None) -> None:
                    event = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": int(time.time()),
                             "model": model, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
                    self.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
                    self.wfile.flush()

                chunk({"role": "assistant", "content": ""})
                for piece in re.findall(r"\S+\s*|\s+", reply):
                    chunk({"content": piece})
                chunk({}, "stop")
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()

        self._server = _Server(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name="fake-openai", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def base_url(self) -> str:
        """The OpenAI-compatible base URL (…/v1); the Ollama base URL is `root_url`."""
        return f"{self.root_url}/v1"

    @property
    def root_url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    # ---- helpers for scripts
    def last_messages(self) -> list[dict]:
        return self.requests[-1]["messages"]


def evidence_lines(body: dict) -> dict[int, str]:
    """The numbered evidence of a chat request: {n: line text}."""
    user = next(m["content"] for m in body["messages"] if m["role"] == "user")
    block = user.split("<evidence>", 1)[1].split("</evidence>", 1)[0]
    return {int(m.group(1)): m.group(2) for m in re.finditer(r"^\[(\d+)\] (.*)$", block, re.M)}


def number_of(body: dict, needle: str) -> int:
    """The evidence number whose line contains `needle` (the test fails if none does)."""
    for n, line in evidence_lines(body).items():
        if needle in line:
            return n
    raise AssertionError(f"{needle!r} is not in the evidence: {evidence_lines(body)}")


def closed_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
