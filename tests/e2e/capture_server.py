"""A tiny, dependency-free Anthropic-shaped server that records every request it gets.

    python3 tests/e2e/capture_server.py OUT.jsonl [--port-file F] [--text T]

Binds 127.0.0.1 on a free port (printed as `listening PORT` on stdout and written to --port-file),
appends one JSON line per request to OUT.jsonl: {"time", "method", "path" (with the query),
"headers" [[name, value], ...] in arrival order, "content_encoding", "body_size" (as sent),
"body" (decoded text, after undoing Content-Encoding when the codec is available), "decode_error"}.

Answers:
  POST .../v1/messages               an Anthropic streaming (SSE) reply saying --text ("captured"),
                                     or a JSON message when the body lacks "stream": true; the mock's
                                     `mock:tool=` / `mock:input=` directives and tool_result echo work
                                     here too (see answer_for)
  POST .../v1/messages/count_tokens  {"input_tokens": N}
  GET  .../v1/models                 an Anthropic model list
  anything else                      404 with an Anthropic error body

Used to record what real agent CLIs send, and importable: `start(out_path) -> (server, port)` runs it on
a thread for a test.

    python3 tests/e2e/capture_server.py record-claude-code [CASE ...]

re-records tests/e2e/fixtures/claude-code/<case>.json from the real CLI (make agents-venv, or
CLAUDE_BIN): {"method", "path", "headers" (x-api-key/authorization "<redacted>"), "body" (parsed JSON),
"capture" (CLI version, argv, extra env, every request of the run)}. The CLI runs offline (OFFLINE_ENV),
with a scratch HOME that is also its working directory.
"""

from __future__ import annotations

import argparse
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
                try:
                    from compression import zstd  # type: ignore  # Python 3.14+
                    data = zstd.decompress(data)
                except ImportError:
                    try:
                        import zstandard  # type: ignore
                    except ImportError:
                        return raw, "zstd: no zstd module"
                    data = zstandard.ZstdDecompressor().decompress(data, max_output_size=1 << 30)
            elif enc != "identity":
                return raw, f"unknown content-encoding {enc}"
        except Exception as e:  # a broken body is recorded, not fatal
            return raw, f"{enc}: {e!r}"
    return data, None


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


class Recorder:
    def __init__(self, out_path: Path, text: str):
        self.out_path = out_path
        self.text = text
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
        self.recorder.record(entry)

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
        elif self.command == "GET" and route.endswith("/v1/models"):
            data_ = [{"type": "model", "id": i, "display_name": n, "created_at": c} for i, n, c in MODELS]
            body = {"data": data_, "has_more": False, "first_id": data_[0]["id"], "last_id": data_[-1]["id"]}
            self._send(200, json.dumps(body).encode())
        else:
            self._error(404, "not_found_error", f"{self.command} {route} not found")

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _handle


def make_server(out_path: Path, text: str = "captured", port: int = 0) -> ThreadingHTTPServer:
    handler = type("BoundHandler", (Handler,), {"recorder": Recorder(Path(out_path), text)})
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    return server


def start(out_path: Path, text: str = "captured") -> tuple[ThreadingHTTPServer, int]:
    """Runs the server on a daemon thread; call server.shutdown() to stop it."""
    server = make_server(out_path, text)
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


def fixture_of(entry: dict, meta: dict) -> dict:
    body = entry["body"]
    try:
        body = json.loads(body) if body else None
    except ValueError:
        pass
    headers = {k: ("<redacted>" if k.lower() in REDACT else v) for k, v in entry["headers"]}
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

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file", type=Path)
    ap.add_argument("--text", default="captured")
    args = ap.parse_args()
    server = make_server(args.out, args.text, args.port)
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
