#!/usr/bin/env python3
"""Writes the huge agent requests of the benchmark (issue "Any agent on any model": requests of 100 KB-10 MB
with images, through the two new pairs), deterministically (same bytes on every run).

Two kinds, three sizes each:

- `responses` (Codex CLI → `POST /provider/bedrock/format/openai/v1/responses`, Responses → Claude on
  Bedrock): the captured `codex exec` request (tests/e2e/fixtures/codex/tool-round-trip.json: the ~21 KB
  `instructions`, the developer and user messages, 7 tools including a `namespace` and `web_search`,
  `include: ["reasoning.encrypted_content"]`, `stream: true`) scaled up to a long session: turns of a
  `reasoning` item (the `encrypted_content` this proxy hands out for a Claude thinking block), sometimes an
  assistant message, a `function_call` (`exec_command` with JSON arguments) and its `function_call_output`
  (`cat -n`/build/grep output full of newlines, tabs and quotes). `small` is ~113 KB of that alone.
  `1m` and `10m` add, every few turns, a `view_image` round trip whose output is an `input_image` part with
  a base64 `data:image/png` URL (~256 KB of base64 each), a user message with a screenshot (`input_image`),
  and long tool outputs (a 32-64 KB log), until the size is reached.
- `anthropic` (Claude Code CLI → `POST /provider/openai/format/anthropic/v1/messages`, Anthropic Messages →
  OpenAI Chat): `bench/claude_code_request.py`'s ~123 KB request (40 tools, the ~27 KB system prompt, 30
  turns with thinking blocks and tool results) for `small`; `1m` and `10m` add turns whose `tool_result`
  holds a base64 `image` block (a Read of a PNG, ~256 KB of base64) or a long log, and user turns with a
  pasted screenshot (`image` block), until the size is reached.

The images are a PNG signature followed by pseudo-random bytes (base64 of incompressible data: what a real
screenshot's base64 looks like to a JSON scanner). Nothing here reads them as images.

Usage:
  bench/huge_request.py --kind responses|anthropic --size small|1m|10m [--model M] [--out FILE]
"""
import argparse, base64, json, os, random, sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import claude_code_request  # noqa: E402  (the Claude Code body and its thinking signature)

CODEX = os.path.join(HERE, "..", "tests", "e2e", "fixtures", "codex", "tool-round-trip.json")
SIZES = {"small": None, "1m": 1_000_000, "10m": 10_000_000}
SMALL_RESPONSES = 113_000  # the Codex request's size before images and long logs
IMAGE_BYTES = 192 * 1024   # binary bytes per image: 256 KB of base64


def png_base64(seed):
    rng = random.Random(seed)
    raw = b"\x89PNG\r\n\x1a\n" + bytes(rng.getrandbits(8) for _ in range(IMAGE_BYTES - 8))
    return base64.b64encode(raw).decode()


_IMAGES = {}


def image(seed):  # a few distinct images, reused (generating random bytes in Python is the slow part)
    k = seed % 4
    if k not in _IMAGES:
        _IMAGES[k] = png_base64(k)
    return _IMAGES[k]


def source_listing(turn, n):  # `cat -n` of a Swift file: tabs, quotes, backslashes, different per turn
    names = ["request", "response", "upstream", "profile", "input", "output", "route", "pool"]
    out = []
    for k in range(n):
        name = names[(turn + k) % len(names)]
        out.append(f"{turn * 60 + k + 1:>6}\t        let {name}{k} = try table.{name}(at: \"{name}\\\\{k}\", "
                   f"limit: {(turn * 7 + k) % 97}) // {name} #{k}")
    return "\n".join(out)


def long_log(turn, size):  # a build/test log of about `size` bytes
    lines, total, k = [], 0, 0
    while total < size:
        line = (f"[{k + 1}/{turn + 400}] Compiling Providers File{(turn * 31 + k) % 211}.swift "
                f"(\"-O\", \"-wmo\") \t{(k * 37) % 1000} ms")
        lines.append(line)
        total += len(line) + 1
        k += 1
    return "\n".join(lines)


# ---- Responses (Codex) ---------------------------------------------------------------------------------
def thinking_item(i):
    block = {"type": "thinking", "thinking": f"Turn {i}: the request path is next; check the shaper first.",
             "signature": claude_code_request.SIGNATURE}
    enc = base64.b64encode(json.dumps(block, separators=(",", ":")).encode()).decode()
    return {"type": "reasoning", "id": f"rs_bench_{i:04d}", "summary": [], "encrypted_content": enc}


def codex_turn(i, heavy):
    call = f"call_bench_{i:04d}"
    items = [thinking_item(i)]
    if i % 3 == 0:
        items.append({"type": "message", "role": "assistant", "id": f"msg_bench_{i:04d}",
                      "content": [{"type": "output_text", "text": f"Step {i}: reading the next file before editing."}]})
    if heavy == "image":
        items.append({"type": "function_call", "id": f"fc_bench_{i:04d}", "name": "view_image", "call_id": call,
                      "arguments": json.dumps({"path": f"/home/dev/mini-proxy/docs/shot{i}.png"})})
        items.append({"type": "function_call_output", "id": f"fco_bench_{i:04d}", "call_id": call,
                      "output": [{"type": "input_image", "image_url": "data:image/png;base64," + image(i)}]})
        return items
    if heavy == "log":
        cmd, out = "swift build -c release 2>&1", long_log(i, 32_000 + (i * 997) % 32_000)
    elif i % 2:
        cmd, out = f"nl -ba Sources/Providers/File{i}.swift | sed -n '{i * 60 + 1},{i * 60 + 30}p'", source_listing(i, 30)
    else:
        cmd, out = f"rg -n 'profile{i % 5}' Sources", "\n".join(
            f"Sources/Providers/Bedrock/BedrockProfile.swift:{i * 3 + k}:    public var profile{i % 5}: [String]?"
            for k in range(6))
    items.append({"type": "function_call", "id": f"fc_bench_{i:04d}", "name": "exec_command", "call_id": call,
                  "arguments": json.dumps({"cmd": cmd, "workdir": "/home/dev/mini-proxy", "yield_time_ms": 10000})})
    items.append({"type": "function_call_output", "id": f"fco_bench_{i:04d}", "call_id": call,
                  "output": f"Chunk ID: {i:06x}\nWall time: 0.{i % 10}000 seconds\nProcess exited with code 0\n"
                            f"Original token count: {len(out) // 4}\nOutput:\n{out}"})
    return items


def responses_body(size, model):
    with open(CODEX, encoding="utf-8") as fh:
        body = json.load(fh)["body"]
    body["model"] = model
    head = body["input"]
    turns = []

    def length():
        body["input"] = head + turns
        return len(json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode())

    i = 0
    while length() < SMALL_RESPONSES:
        turns += codex_turn(i, None)
        i += 1
    if size:
        while length() < size:
            if i % 4 == 1:
                turns.append({"type": "message", "role": "user", "content": [
                    {"type": "input_text", "text": f"Here is the screen after step {i}."},
                    {"type": "input_image", "image_url": "data:image/png;base64," + image(i), "detail": "auto"}]})
                turns += codex_turn(i, None)
            else:
                turns += codex_turn(i, "image" if i % 4 == 2 else "log" if i % 4 == 3 else None)
            i += 1
    body["input"] = head + turns
    return body


# ---- Anthropic Messages (Claude Code) -----------------------------------------------------------------
def claude_turn(i, heavy):
    tid = f"toolu_huge_{i:04d}"
    content = [{"type": "thinking", "thinking": "", "signature": claude_code_request.SIGNATURE}]
    if heavy == "image":
        content.append({"type": "tool_use", "id": tid, "name": "Read",
                        "input": {"file_path": f"/home/dev/mini-proxy/docs/shot{i}.png"}})
        result = [{"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": image(i)}}]
    else:
        content.append({"type": "tool_use", "id": tid, "name": "Bash",
                        "input": {"command": "swift build -c release 2>&1", "description": f"Build (step {i})"}})
        result = long_log(i, 32_000 + (i * 997) % 32_000)
    return [{"role": "assistant", "content": content},
            {"role": "user", "content": [{"tool_use_id": tid, "type": "tool_result", "content": result}]}]


def anthropic_body(size, model):
    body = claude_code_request.body(model)
    if size:
        msgs = body["messages"]
        tail = msgs[-2:]  # the last assistant tool_use and its result (with cache_control) stay last
        del msgs[-2:]
        i = 0
        while len(json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()) < size:
            if i % 3 == 1:
                msgs.append({"role": "assistant", "content": [{"type": "text", "text": f"Step {i} is done."}]})
                msgs.append({"role": "user", "content": [
                    {"type": "text", "text": f"This is what the page shows after step {i}:"},
                    {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": image(i)}}]})
            else:
                msgs += claude_turn(i, "image" if i % 3 == 2 else "log")
            i += 1
        msgs += tail
    return body


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kind", choices=("responses", "anthropic"), required=True)
    ap.add_argument("--size", choices=tuple(SIZES), required=True)
    ap.add_argument("--model", help="default: claude-sonnet-4-5 (responses), gpt-5 (anthropic)")
    ap.add_argument("--out", help="file to write (default: stdout)")
    a = ap.parse_args()
    size = SIZES[a.size]
    if a.kind == "responses":
        b = responses_body(size, a.model or "claude-sonnet-4-5")
    else:
        b = anthropic_body(size, a.model or "gpt-5")
    data = json.dumps(b, ensure_ascii=False, separators=(",", ":")).encode()
    assert len(data) >= (size or 100_000), len(data)
    if a.out:
        with open(a.out, "wb") as fh:
            fh.write(data)
    else:
        sys.stdout.buffer.write(data)


if __name__ == "__main__":
    main()
