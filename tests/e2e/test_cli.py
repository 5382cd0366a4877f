"""The command line: --version, check (good and bad configs)."""

from __future__ import annotations

import json
import subprocess


def run(bin_path, *args):
    return subprocess.run([bin_path, *args], capture_output=True, timeout=20, text=True)


def test_version(bin_path):
    r = run(bin_path, "--version")
    assert r.returncode == 0
    assert r.stdout.strip() and r.stdout.strip()[0].isdigit(), r.stdout


def test_check_prints_routes(bin_path, proxy):
    r = run(bin_path, "check", "--config", str(proxy.config_path))
    assert r.returncode == 0, r.stderr
    for path in ("/openai/v1/chat/completions", "/bedrock/claude/v1/messages",
                 "/provider/bedrock/format/openai/v1/chat/completions"):
        assert path in r.stdout, f"{path} not in check output:\n{r.stdout}"


def test_check_names_the_bad_key(bin_path, tmp_path):
    bad = {"listen": "127.0.0.1:1", "upstreams": {"u": {"url": "http://127.0.0.1:2"}},
           "routes": [{"path": "/x", "upstream": "gateway", "ingress": "openai-chat", "upstream_path": "/y"}]}
    f = tmp_path / "bad.yaml"
    f.write_text(json.dumps(bad))
    r = run(bin_path, "check", "--config", str(f))
    assert r.returncode == 78, (r.returncode, r.stderr)  # EX_CONFIG, not a usage error
    out = r.stdout + r.stderr
    assert "routes[0].upstream" in out and "gateway" in out, out
    assert "Usage:" not in out, out


def test_serve_refuses_bad_config(bin_path, tmp_path):
    f = tmp_path / "bad.yaml"
    f.write_text('{"routes": [], "bogus_key": 1}')
    r = run(bin_path, "serve", "--config", str(f))
    assert r.returncode == 78, (r.returncode, r.stderr)
    assert "bogus_key" in r.stdout + r.stderr or "routes" in r.stdout + r.stderr


def test_serve_workers_auto_starts_one_loop_per_cpu(bin_path, tmp_path):
    """`--workers auto` starts one event loop per CPU the process may use, and serves."""
    import os, socket, subprocess, time
    cfg = {"upstreams": {"u": {"url": "http://127.0.0.1:9"}},
           "routes": [{"path": "/x", "upstream": "u", "ingress": "openai-chat", "upstream_path": "/y"}]}
    f = tmp_path / "auto.yaml"
    f.write_text(json.dumps(cfg))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = tmp_path / "serve.log"
    with open(log, "w") as out:
        p = subprocess.Popen([bin_path, "serve", "--config", str(f), "--listen", f"127.0.0.1:{port}", "--workers", "auto"],
                             stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 10
        text = ""
        while time.time() < deadline and "listening" not in text:
            time.sleep(0.05)
            text = log.read_text()
        cpus = min(64, max(1, len(os.sched_getaffinity(0))))
        assert f"with {cpus} worker(s)" in text, text
        r = subprocess.run(["curl", "-s", f"http://127.0.0.1:{port}/healthz"], capture_output=True, text=True, timeout=10)
        assert '"ok"' in r.stdout, r.stdout
    finally:
        p.terminate()
        p.wait(timeout=10)
    bad = run(bin_path, "serve", "--config", str(f), "--workers", "many")
    assert bad.returncode == 64 and "auto" in bad.stderr, bad.stderr
