"""Fixtures for the end-to-end suite: certificates, the TLS mock upstream, and proxies.

Run as `MINI_PROXY_BIN=<path to release binary> python3 -m pytest -q tests/e2e`. Every process the
suite starts is stopped by PID at teardown; every wait is bounded. Every token a credential command
prints is recorded, and at the end of the session no proxy log may contain any of them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import HOST, Process, Proxy, free_port, write_config

REPO = Path(__file__).resolve().parents[2]

# Claude ids in Bedrock inference-profile form pass the proxy's id mapping unchanged, so `+option`
# suffixes reach the mock intact (see test_translation_sdk.py for the dated-name case).
CLAUDE = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"

# Loopback traffic must never go through an HTTP proxy from the environment.
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"

TOKEN_SCRIPT = r'''
"""Test credential command. argv: STATE_DIR MODE [DELAY_S]

Counts its runs in STATE_DIR/runs, appends every token it prints to STATE_DIR/tokens (so the suite can
grep logs for them), and prints a JWT-looking token whose exp is an hour away.
MODE: good | reject-first (first run prints `rejected-...`) | fail (exit 3) | hang (sleeps 60 s).
"""
import base64, json, os, sys, time

state, mode = sys.argv[1], sys.argv[2]
delay = float(sys.argv[3]) if len(sys.argv) > 3 else 0.0
os.makedirs(state, exist_ok=True)
with open(os.path.join(state, "runs"), "a") as f:
    f.write("run\n")
with open(os.path.join(state, "runs")) as f:
    n = sum(1 for _ in f)
if mode == "fail":
    sys.stderr.write("not logged in\n")
    sys.exit(3)
if mode == "hang":
    time.sleep(60)
    sys.exit(0)
time.sleep(delay)

def b64(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()

secret = b64(os.urandom(24))
if mode == "reject-first" and n == 1:
    token = "rejected-" + secret
else:
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = b64(json.dumps({"sub": "e2e", "exp": int(time.time()) + 3600, "n": n}).encode())
    token = header + "." + payload + "." + secret
with open(os.path.join(state, "tokens"), "a") as f:
    f.write(token + "\n")
print(token)
'''


def _run(argv: list[str], cwd: Path) -> None:
    r = subprocess.run(argv, cwd=cwd, capture_output=True, timeout=30)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed: {r.stderr.decode(errors='replace')}")


def _issue_cert(d: Path, ca: Path, ca_key: Path, name: str, san: str) -> tuple[Path, Path]:
    key, csr, cert, ext = d / f"{name}.key", d / f"{name}.csr", d / f"{name}.pem", d / f"{name}.ext"
    ext.write_text(
        f"subjectAltName={san}\nbasicConstraints=CA:FALSE\n"
        "keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n"
    )
    _run(["openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
          "-keyout", str(key), "-out", str(csr), "-subj", f"/CN={name}"], d)
    _run(["openssl", "x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(ca_key),
          "-CAcreateserial", "-out", str(cert), "-days", "2", "-sha256", "-extfile", str(ext)], d)
    return cert, key


# MARK: session fixtures


@pytest.fixture(scope="session")
def bin_path() -> str:
    path = os.environ.get("MINI_PROXY_BIN") or str(REPO / ".build" / "release" / "mini-proxy")
    if not os.access(path, os.X_OK):
        pytest.fail(f"mini-proxy binary not found at {path}: build it (make release) or set MINI_PROXY_BIN",
                    pytrace=False)
    return path


@pytest.fixture(scope="session")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("e2e")


@pytest.fixture(scope="session")
def certs(workdir: Path) -> dict[str, Path]:
    """A CA, a server certificate for localhost/127.0.0.1, and one for another name (same CA)."""
    d = workdir / "certs"
    d.mkdir()
    ca, ca_key = d / "ca.pem", d / "ca.key"
    _run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
          "-keyout", str(ca_key), "-out", str(ca), "-days", "2", "-sha256", "-subj", "/CN=mini-proxy e2e CA",
          "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"], d)
    cert, key = _issue_cert(d, ca, ca_key, "localhost", "DNS:localhost,IP:127.0.0.1")
    other_cert, other_key = _issue_cert(d, ca, ca_key, "other.example", "DNS:other.example")
    return {"ca": ca, "cert": cert, "key": key, "other_cert": other_cert, "other_key": other_key}


class Registry:
    """Every process and every secret of the session, for teardown and the final log check."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.processes: list[Process] = []
        self.token_dirs: list[Path] = []
        self.proxies: list[Proxy] = []
        self.secrets: list[str] = []  # inbound keys and other values no log may show

    def tokens(self) -> list[str]:
        out = []
        for d in self.token_dirs:
            f = d / "tokens"
            if f.exists():
                out += [t for t in f.read_text().split() if t]
        return out + self.secrets


@pytest.fixture(scope="session")
def registry(workdir: Path):
    reg = Registry(workdir)
    yield reg
    for p in reversed(reg.processes):
        p.stop()
    # The security promise: no token a credential command printed appears in any proxy log.
    leaks = []
    for proxy in reg.proxies:
        text = proxy.process.log()
        for token in reg.tokens():
            for piece in {token, token.split(".")[-1]}:
                if len(piece) >= 16 and piece in text:
                    leaks.append((proxy.process.log_path.name, piece))
    assert not leaks, f"tokens found in proxy logs: {leaks}"


@pytest.fixture(scope="session")
def token_script(workdir: Path) -> Path:
    p = workdir / "token.py"
    p.write_text(TOKEN_SCRIPT)
    return p


def start_mock(bin_path: str, registry: Registry, cert: Path, key: Path, name: str) -> tuple[Process, int]:
    port = free_port()
    proc = Process(name, [bin_path, "mock", "--listen", f"{HOST}:{port}", "--tls-cert", str(cert), "--tls-key", str(key)],
                   registry.workdir / f"{name}.log")
    registry.processes.append(proc)
    proc.start()
    proc.wait_port(port)
    return proc, port


@pytest.fixture(scope="session")
def mock(bin_path, registry, certs):
    """The TLS mock upstream serving a localhost certificate from the test CA."""
    proc, port = start_mock(bin_path, registry, certs["cert"], certs["key"], "mock")
    return {"process": proc, "port": port, "url": f"https://localhost:{port}"}


def command_auth(token_script: Path, state: Path, mode: str = "good", delay: float = 0.0, **extra) -> dict:
    auth = {"header": "Authorization", "prefix": "slauth ",
            "command": [sys.executable, str(token_script), str(state), mode, str(delay)], "ttl": "300s"}
    auth.update(extra)
    return auth


def upstream(url: str, *, ca_file: Path | None, auth: dict | None = None, **timeouts) -> dict:
    u: dict = {"url": url, "headers": {"X-Atlassian-CloudId": "test-cloud", "X-Atlassian-UseCaseId": "mini-proxy-e2e"},
               "timeouts": {"connect": "2s", "tls_handshake": "3s", "first_byte": "3s", "idle": "2s"}}
    u["timeouts"].update(timeouts)
    if ca_file is not None:
        u["ca_file"] = str(ca_file)
    if auth is not None:
        u["auth"] = auth
    return u


def standard_routes(up: str) -> list[dict]:
    return [
        {"path": "/openai/v1/chat/completions", "upstream": up, "ingress": "openai-chat", "egress": "openai-chat",
         "upstream_path": "/v1/openai/v1/chat/completions", "rename_max_tokens": True,
         "models_path": "/openai/v1/models"},
        {"path": "/openai/v1/responses", "upstream": up, "ingress": "passthrough", "egress": "passthrough",
         "upstream_path": "/v1/openai/v1/responses"},
        {"path": "/raw/*", "upstream": up, "ingress": "passthrough", "egress": "passthrough",
         "upstream_path": "/v1/raw/*"},
        {"path": "/bedrock/claude/v1/messages", "upstream": up, "ingress": "anthropic-messages",
         "egress": "bedrock-anthropic", "model_aliases": {"claude-sonnet-4-5": CLAUDE}, "cors": True,
         "models_path": "/bedrock/claude/v1/models"},
        {"path": "/provider/bedrock/format/openai/v1/chat/completions", "upstream": up, "ingress": "openai-chat",
         "egress": "bedrock-anthropic", "model_aliases": {"claude-sonnet-4-5": CLAUDE}, "cors": True,
         "default_max_tokens": 1024, "models_path": "/provider/bedrock/format/openai/v1/models"},
        {"path": "/provider/bedrock/format/openai/v1/responses", "upstream": up, "ingress": "openai-responses",
         "egress": "bedrock-anthropic", "model_aliases": {"claude-sonnet-4-5": CLAUDE}, "default_max_tokens": 1024},
        {"path": "/provider/openai/format/anthropic/v1/messages", "upstream": up, "ingress": "anthropic-messages",
         "egress": "openai-chat", "upstream_path": "/v1/openai/v1/chat/completions",
         "model_aliases": {"claude-opus-5-5": "gpt-5", "claude-sonnet-5-5": "gpt-5"},
         "models_path": "/provider/openai/format/anthropic/v1/models"},
    ]


MODELS = [
    {"id": "gpt-5", "owned_by": "openai", "created": 1754524800, "dialects": ["openai-chat"]},
    {"id": "claude-sonnet-4-5", "display_name": "Claude Sonnet 4.5", "owned_by": "anthropic", "created": 1759104000,
     "dialects": ["bedrock-anthropic"]},
]


def start_proxy(bin_path: str, registry: Registry, name: str, config: dict) -> Proxy:
    """Writes config (listen filled in), runs `mini-proxy serve`, waits for /healthz."""
    port = free_port()
    config = dict(config)
    config["listen"] = f"{HOST}:{port}"
    config.setdefault("workers", 1)
    path = write_config(registry.workdir / f"{name}.yaml", config)
    check = subprocess.run([bin_path, "check", "--config", str(path)], capture_output=True, timeout=20)
    if check.returncode != 0:
        raise RuntimeError(f"`mini-proxy check` refused {path}:\n{check.stdout.decode()}{check.stderr.decode()}")
    proc = Process(name, [bin_path, "serve", "--config", str(path)], registry.workdir / f"{name}.log")
    registry.processes.append(proc)
    proc.start()
    proxy = Proxy(proc, port, path)
    registry.proxies.append(proxy)
    proxy.wait_healthy()
    return proxy


@pytest.fixture(scope="session")
def main_token_state(workdir: Path, registry: Registry) -> Path:
    d = workdir / "tokens-main"
    registry.token_dirs.append(d)
    return d


@pytest.fixture(scope="session")
def proxy(bin_path, registry, certs, mock, token_script, main_token_state) -> Proxy:
    """The main proxy: every route against the TLS mock, a command credential, short timeouts."""
    config = {
        "upstreams": {"mock": upstream(mock["url"], ca_file=certs["ca"],
                                       auth=command_auth(token_script, main_token_state))},
        "routes": standard_routes("mock"),
        "models": MODELS,
        "log_level": "debug",
        "access_log": True,
    }
    return start_proxy(bin_path, registry, "proxy-main", config)


def main_tokens(state: Path) -> list[str]:
    f = state / "tokens"
    return f.read_text().split() if f.exists() else []
