"""Small, dependency-free helpers for the end-to-end suite: processes, ports, raw HTTP, SSE.

Everything here talks to 127.0.0.1 over real sockets and every wait has a deadline, so a broken
proxy makes a test fail (with the proxy's log attached) instead of hanging the suite.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

try:  # The SDKs bring their HTTP client; recent releases ship it as `httpx2`.
    import httpx  # type: ignore
except ImportError:  # pragma: no cover - depends on the installed SDK generation
    import httpx2 as httpx  # type: ignore

# The SSE parser is the soak runs' (tests/soak/loadlib.py, standard library only).
sys.path.append(str(Path(__file__).resolve().parents[1] / "soak"))
import loadlib  # noqa: E402

HOST = "127.0.0.1"


def free_port() -> int:
    """A port that was free a moment ago (bind to 0, read it, close)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def dead_port() -> int:
    """A port nobody listens on: bound then closed, so a connect gets ECONNREFUSED."""
    return free_port()


@dataclass
class Process:
    """A child process whose stdout and stderr go to a log file; stopped by PID at teardown."""

    name: str
    argv: list[str]
    log_path: Path
    env: dict[str, str] | None = None
    popen: subprocess.Popen | None = None
    _log: object = None

    def start(self) -> "Process":
        self._log = open(self.log_path, "ab")
        self.popen = subprocess.Popen(
            self.argv, stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT, env=self.env
        )
        return self

    @property
    def pid(self) -> int:
        assert self.popen is not None
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, n: int = 4000) -> str:
        text = self.log()
        return text[-n:]

    def stop(self) -> None:
        """SIGTERM, bounded wait, then SIGKILL: never leaves the process behind."""
        p = self.popen
        if p is not None and p.poll() is None:
            p.terminate()
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=5)
        if self._log is not None:
            self._log.close()
            self._log = None

    def wait_port(self, port: int, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                raise RuntimeError(f"{self.name} exited early (status {self.popen.returncode}):\n{self.log_tail()}")
            try:
                with socket.create_connection((HOST, port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"{self.name} did not listen on {port} within {timeout}s:\n{self.log_tail()}")


@dataclass
class Proxy:
    """A running `mini-proxy serve`."""

    process: Process
    port: int
    config_path: Path
    secrets: list[str] = field(default_factory=list)

    @property
    def base(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait_healthy(self, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            if not self.process.alive():
                raise RuntimeError(
                    f"proxy exited early (status {self.process.popen.returncode}):\n{self.process.log_tail()}"
                )
            try:
                r = httpx.get(self.base + "/healthz", timeout=1.0)
                if r.status_code == 200:
                    return
                last = f"status {r.status_code}"
            except Exception as e:  # connection refused while starting
                last = repr(e)
            time.sleep(0.05)
        raise RuntimeError(f"proxy not healthy within {timeout}s ({last}):\n{self.process.log_tail()}")


def write_config(path: Path, config: dict) -> Path:
    """JSON is YAML: the config is written as JSON so no YAML library is needed."""
    path.write_text(json.dumps(config, indent=2))
    return path


# MARK: raw HTTP/1.1


@dataclass
class RawResponse:
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        name = name.lower()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return None

    def json(self):
        return json.loads(self.body)


class RawConnection:
    """A raw socket to the proxy with a buffered reader that parses HTTP/1.1 responses."""

    def __init__(self, port: int, timeout: float = 10.0):
        self.sock = socket.create_connection((HOST, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def close(self) -> None:
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _fill(self) -> bool:
        chunk = self.sock.recv(65536)
        if not chunk:
            return False
        self.buf += chunk
        return True

    def read_until(self, marker: bytes) -> bytes:
        while marker not in self.buf:
            if not self._fill():
                raise EOFError(f"connection closed before {marker!r}; got {self.buf[:200]!r}")
        i = self.buf.index(marker) + len(marker)
        out, self.buf = self.buf[:i], self.buf[i:]
        return out

    def read_exact(self, n: int) -> bytes:
        while len(self.buf) < n:
            if not self._fill():
                raise EOFError(f"connection closed with {len(self.buf)} of {n} bytes")
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read_head(self) -> tuple[int, str, list[tuple[str, str]]]:
        head = self.read_until(b"\r\n\r\n").decode("latin-1")
        lines = head.split("\r\n")
        parts = lines[0].split(" ", 2)
        status = int(parts[1])
        reason = parts[2] if len(parts) > 2 else ""
        headers = []
        for line in lines[1:]:
            if not line:
                continue
            k, _, v = line.partition(":")
            headers.append((k.strip(), v.strip()))
        return status, reason, headers

    def read_response(self, method: str = "GET") -> RawResponse:
        status, reason, headers = self.read_head()
        while 100 <= status < 200 and status != 101:
            status, reason, headers = self.read_head()
        r = RawResponse(status, reason, headers, b"")
        te = (r.header("transfer-encoding") or "").lower()
        if method == "HEAD" or status in (204, 304):
            return r
        if "chunked" in te:
            body = b""
            while True:
                size_line = self.read_until(b"\r\n").strip()
                size = int(size_line.split(b";")[0], 16)
                if size == 0:
                    self.read_until(b"\r\n")  # no trailers expected
                    break
                body += self.read_exact(size)
                self.read_exact(2)
            r.body = body
        elif r.header("content-length") is not None:
            r.body = self.read_exact(int(r.header("content-length")))
        else:
            while self._fill():
                pass
            r.body, self.buf = self.buf, b""
        return r


def request_bytes(method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {HOST}"]
    for k, v in (headers or {}).items():
        lines.append(f"{k}: {v}")
    if body is not None:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + (body or b"")


# MARK: SSE


def sse_events(text: str) -> list[dict]:
    """Parses an SSE stream into [{"event": str|None, "data": str}], skipping comment-only blocks; a lone
    CR ends a line too. The parsing is the soak runs' (`loadlib.sse_events`)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return [{"event": event, "data": data} for event, data in loadlib.sse_events(text)]


def chat_body(model: str, stream: bool = False, **extra) -> dict:
    body = {"model": model, "messages": [{"role": "user", "content": "hi"}]}
    if stream:
        body["stream"] = True
    body.update(extra)
    return body


def assert_openai_error(body: dict, *, contains: list[str] | None = None) -> dict:
    """The OpenAI error shape: {"error": {"message", "type", "param", "code"}}; returns the inner object."""
    assert isinstance(body, dict) and isinstance(body.get("error"), dict), f"not an OpenAI error body: {body!r}"
    err = body["error"]
    assert isinstance(err.get("message"), str) and err["message"], f"error without message: {body!r}"
    assert isinstance(err.get("type"), str) and err["type"], f"error without type: {body!r}"
    for key in ("param", "code"):
        assert key in err, f"OpenAI error lacks {key!r}: {body!r}"
    for word in contains or []:
        assert word.lower() in err["message"].lower(), f"{word!r} not in error message {err['message']!r}"
    return err


def assert_anthropic_error(body: dict, *, contains: list[str] | None = None) -> dict:
    """The Anthropic error shape: {"type":"error","error":{"type","message"}}; returns the inner object."""
    assert isinstance(body, dict) and body.get("type") == "error", f"not an Anthropic error body: {body!r}"
    err = body.get("error")
    assert isinstance(err, dict), f"Anthropic error without error object: {body!r}"
    assert isinstance(err.get("type"), str) and err["type"], f"error without type: {body!r}"
    assert isinstance(err.get("message"), str) and err["message"], f"error without message: {body!r}"
    for word in contains or []:
        assert word.lower() in err["message"].lower(), f"{word!r} not in error message {err['message']!r}"
    return err


def vm_rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def processes_with_arg(marker: str) -> list[int]:
    """PIDs whose command line contains marker (to prove a timed-out command was killed)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if marker in cmd:
            pids.append(int(entry))
    return pids


def tcp_connections_to(pid: int, remote_port: int) -> int:
    """Established TCP sockets of process pid whose peer is 127.0.0.1:remote_port (from /proc)."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    count = 0
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            parts = line.split()
            remote, state, inode = parts[2], parts[3], parts[9]
            if state == "01" and inode in inodes and int(remote.split(":")[1], 16) == remote_port:
                count += 1
    return count


def assert_arrivals_spread(arrivals: list[float], delay_s: float) -> None:
    """Events sent `delay_s` apart must arrive apart. A proxy that buffers gives gaps of ~0; a busy
    test machine may merge one pair now and then, so most gaps (not all) must show the delay."""
    gaps = [b - a for a, b in zip(arrivals, arrivals[1:])]
    assert len(gaps) >= 3, f"too few events to judge: {gaps}"
    wide = [g for g in gaps if g > delay_s * 0.5]
    assert len(wide) >= len(gaps) - 1, f"events arrived together, gaps {[round(g, 3) for g in gaps]}"
    assert arrivals[-1] - arrivals[0] > delay_s * (len(gaps) - 1) * 0.8, f"span too short, gaps {gaps}"


# MARK: agent CLIs (Claude Code, Codex)

# `<time> <request id> <METHOD> <path> <status> <ms>ms [upstream=<name>/<status>...] ...`
ACCESS = re.compile(r"^\S+ \S+ (GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) (\S+) (\d{3}) ")


@dataclass
class CLIRun:
    """One run of an agent CLI: its argv, exit status and output, and what the proxy logged meanwhile."""
    argv: list[str]
    returncode: int
    stdout: str
    stderr: str
    log: str  # what the proxy logged during the run

    STDERR_TAIL = 3000  # how much of stderr `explain` shows

    def access(self, path: str, method: str = "POST") -> list[tuple[int, str]]:
        """(status, line) of each access-log line for method and path (any query)."""
        out = []
        for line in self.log.splitlines():
            m = ACCESS.match(line)
            if m and m.group(1) == method and m.group(2).split("?")[0] == path:
                out.append((int(m.group(3)), line))
        return out

    def explain(self) -> str:
        return (f"\nargv: {self.argv}\nexit: {self.returncode}\nstdout:\n{self.stdout[-3000:]}\n"
                f"stderr:\n{self.stderr[-self.STDERR_TAIL:]}\nproxy log during the run:\n{self.log[-6000:]}")


def run_cli(argv: list[str], cwd: Path, env: dict[str, str], log_path: Path | None,
            timeout: float) -> tuple[int, str, str, str]:
    """Runs an agent CLI offline in its own process group, killed (by PID) if it overruns `timeout`.
    Returns (exit status, stdout, stderr, what the proxy wrote to `log_path` during the run)."""
    start_at = log_path.stat().st_size if log_path and log_path.exists() else 0
    p = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)  # the CLI and any tool or command it started: its own process group
        out, err = p.communicate(timeout=10)
        err += f"\n[killed after {timeout}s]"
    log = ""
    if log_path:
        with open(log_path, "rb") as f:
            f.seek(start_at)
            log = f.read().decode(errors="replace")
    return p.returncode, out, err, log

