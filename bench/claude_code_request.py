#!/usr/bin/env python3
"""Writes the Claude Code-sized benchmark request (issue "Claude Code on a strict Bedrock", item 8).

Built from real requests captured from the Claude Code CLI (tests/e2e/fixtures/claude-code), scaled up to a
long session, deterministically (same bytes on every run):

- top level, `system` (the long, ~27 KB system prompt), `metadata`, `max_tokens`, `thinking`
  (`{"type":"adaptive","display":"omitted"}`), `context_management` and `output_config` from
  model-claude-opus-4-6.json, with `stream: false` (wrk measures whole exchanges; the mock answers
  `invoke` with JSON);
- 40 tools: the 12 captured ones (one of them, DeferredToolPlaceholder, with `defer_loading: true`), then 28
  copies of the smaller ones under MCP-style names (`mcp__workspace__<tool>_<n>`), each with the first
  paragraph of the original description and its input_schema;
- messages: the first user turn (a task), the `role: system` message Claude Code adds after it (from
  default.json: the environment, agent and skill lists, with its per-message `output_config`), then 30 turns:
  an assistant message (a thinking block carrying the signature the strict mock checks, text on some turns,
  a tool_use of Bash, Read, Edit or Grep) and a user message with its tool_result; `cache_control` on the
  last block, as the CLI does;
- the `anthropic-beta` header of the capture of default.json (8 values; the bedrock-claude profile keeps 4).

Usage:
  bench/claude_code_request.py [--model M] [--out FILE]   # the body (compact JSON, UTF-8), ~123 KB
  bench/claude_code_request.py --beta                     # the anthropic-beta header value
"""
import argparse, json, os, sys

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "tests", "e2e", "fixtures", "claude-code")
# The signature of every thinking block the strict mock sends (MockBedrockRules.thinkingSignature): a
# thinking block sent back must carry it byte for byte, as Bedrock checks its own signatures.
SIGNATURE = "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds"
TURNS = 30
TOOLS = 40


def load(name):
    with open(os.path.join(FIXTURES, name), encoding="utf-8") as fh:
        return json.load(fh)


def tools(captured):
    out = list(captured)
    # The smaller captured tools are copied (as an MCP server's tools would be: short description, own schema).
    small = [t for t in captured if "defer_loading" not in t and len(json.dumps(t["input_schema"])) < 600]
    i = 0
    while len(out) < TOOLS:
        t = small[i % len(small)]
        first = t["description"].split("\n\n")[0][:200]
        out.append({"name": f"mcp__workspace__{t['name'].lower()}_{i + 1}", "description": first,
                    "input_schema": t["input_schema"]})
        i += 1
    return out


def source_lines(turn, n):  # a `cat -n` style excerpt of a Swift file, different per turn
    names = ["request", "response", "upstream", "profile", "shaper", "healing", "route", "pool"]
    lines = []
    for k in range(n):
        ln = turn * 40 + k + 1
        name = names[(turn + k) % len(names)]
        lines.append(f"{ln:>6}\t        let {name}{k} = try table.{name}(at: index + {k}, limit: {(turn * 7 + k) % 97})")
    return "\n".join(lines)


def turn(i, last):
    """Assistant message i (thinking, maybe text, one tool_use) and the user message with its result."""
    tid = f"toolu_bench_{i:02d}_{(i * 2654435761) % 10**10:010d}"
    kind = ("Bash", "Read", "Edit", "Grep")[i % 4]
    if kind == "Bash":
        use = {"command": f"swift build --product mini-proxy 2>&1 | tail -n {5 + i % 7}",
               "description": f"Build the proxy (step {i})"}
        result = (f"Building for debugging...\n[{i}/{i + 40}] Compiling Providers BedrockRequestShaper.swift\n"
                  f"[{i + 1}/{i + 40}] Compiling UVProxy Exchange.swift\nBuild complete! ({i % 9 + 1}.{i % 7}s)")
    elif kind == "Read":
        use = {"file_path": f"/home/dev/mini-proxy/Sources/Providers/Bedrock/File{i}.swift", "offset": i * 40, "limit": 8}
        result = source_lines(i, 8)
    elif kind == "Edit":
        use = {"file_path": f"/home/dev/mini-proxy/Sources/UVProxy/Proxy/Exchange{i}.swift",
               "old_string": f"let limit = {i}", "new_string": f"let limit = {i + 1}"}
        result = f"The file /home/dev/mini-proxy/Sources/UVProxy/Proxy/Exchange{i}.swift has been updated successfully."
    else:
        use = {"pattern": f"profile{i % 5}", "path": "/home/dev/mini-proxy/Sources", "output_mode": "content"}
        result = "\n".join(f"Sources/Providers/Bedrock/BedrockProfile.swift:{i * 3 + k}:    public var profile{i % 5}: [String]?"
                           for k in range(3))
    content = [{"type": "thinking", "thinking": "", "signature": SIGNATURE}]
    if i % 3 == 0:
        content.append({"type": "text", "text": f"Step {i}: checking the next part of the request path before changing it."})
    content.append({"type": "tool_use", "id": tid, "name": kind if kind != "Grep" else "Bash", "input": use})
    block = {"tool_use_id": tid, "type": "tool_result", "content": result, "is_error": False}
    if last:
        block["cache_control"] = {"type": "ephemeral"}
    return [{"role": "assistant", "content": content}, {"role": "user", "content": [block]}]


def body(model):
    base = load("model-claude-opus-4-6.json")["body"]
    system_message = next(m for m in load("default.json")["body"]["messages"] if m["role"] == "system")
    first = {"role": "user", "content": [
        {"type": "text", "text": "The proxy rejects some Claude Code requests on Bedrock. Find where the request is "
                                 "shaped, fix it, build and run the tests after each change."}]}
    messages = [first, system_message]
    for i in range(TURNS):
        messages += turn(i, i == TURNS - 1)
    out = {"model": model, "messages": messages, "system": base["system"], "tools": tools(base["tools"])}
    for k in ("metadata", "max_tokens", "thinking", "context_management", "output_config"):
        out[k] = base[k]
    out["stream"] = False
    return out


def beta():
    return load("default.json")["headers"]["anthropic-beta"]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="claude-opus-4-6")
    ap.add_argument("--out", help="file to write (default: stdout)")
    ap.add_argument("--beta", action="store_true", help="print the anthropic-beta header value and exit")
    a = ap.parse_args()
    if a.beta:
        print(beta())
        return
    b = body(a.model)
    data = json.dumps(b, ensure_ascii=False, separators=(",", ":")).encode()
    assert len(b["tools"]) == TOOLS and len(data) >= 100_000, (len(b["tools"]), len(data))
    if a.out:
        with open(a.out, "wb") as fh:
            fh.write(data)
    else:
        sys.stdout.buffer.write(data)


if __name__ == "__main__":
    main()
