#!/usr/bin/env python3
"""Writes the committed seed corpus, fuzz/corpus/<target>/, from inline messages and the test fixtures.

Every seed starts with the four control bytes the targets read (two cut points and a flag, see
fuzz/support/FuzzInput.swift), then the payload. Run from the repository root; rerunning rewrites the
seeds (names are content hashes, so nothing is duplicated).
"""
import glob, hashlib, json, os, struct

def write(target, payload, cut_a=7, cut_b=40, flag=False):
    d = f"fuzz/corpus/{target}"
    os.makedirs(d, exist_ok=True)
    control = bytes([(cut_a & 0x7F) | (0x80 if flag else 0), (cut_a >> 7) & 0xFF]) + struct.pack("<H", cut_b)
    data = control + payload
    with open(f"{d}/{hashlib.sha1(data).hexdigest()[:16]}", "wb") as f:
        f.write(data)

def read(path):
    with open(path, "rb") as f:
        return f.read()

body = b'{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"stream":true}'
requests = [
    b"GET /v1/models HTTP/1.1\r\nHost: localhost:3001\r\nAuthorization: Bearer sk-test\r\n\r\n",
    b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body),
    b"POST /v1/messages HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nanthropic-version: 2023-06-01\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n",
    b"\r\nGET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /a?b=c HTTP/1.1\r\nHost: h\r\nConnection: close\r\nExpect: 100-continue\r\n\r\n",
    b"POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc",
    b"POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\nContent-Length: 4\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n",
    b"GET / HTTP/1.1\nHost: h\n\n",
    b"GET / HTTP/2.0\r\nHost: h\r\n\r\n",
]
for i, r in enumerate(requests):
    write("http_request", r, cut_a=i * 5, cut_b=len(r) // 2)

sse = b"data: {\"id\":\"1\"}\n\ndata: [DONE]\n\n"
responses = [
    (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}", False),
    (b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n" % (len(sse), sse), False),
    (b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 429 Too Many Requests\r\nRetry-After: 3\r\nContent-Length: 5\r\n\r\nslow!", False),
    (b"HTTP/1.0 200\r\n\r\nbody until close", False),
    (b"HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\nHTTP/1.1 304 Not Modified\r\n\r\n", False),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", True),
    (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\nxx", False),
    (b"HTTP/1.1 502 Bad Gateway\r\nTransfer-Encoding: chunked\r\nContent-Length: 1\r\n\r\n", False),
]
for i, (r, head) in enumerate(responses):
    write("http_response", r, cut_a=i * 9, cut_b=len(r) // 3, flag=head)

chunked = [
    b"5\r\nhello\r\n0\r\n\r\n",
    b"1;a=b;c=\"d\"\r\nx\r\nA\r\n0123456789\r\n0\r\nTrailer: v\r\nOther:\r\n\r\nNEXT",
    b"ffffffffffffffffff\r\n",
    b"0\r\n\r\n",
    b"40\r\n" + b"a" * 64 + b"\r\n1\r\nb\r\n0\r\n\r\n",
]
for i, c in enumerate(chunked):
    write("chunked", c, cut_a=i + 1, cut_b=len(c) - 2, flag=(i == 4))

streams = sorted(glob.glob("Tests/ProvidersTests/Fixtures/**/*.sse", recursive=True))
upstream_streams = [p for p in streams if "upstream" in p]
for i, p in enumerate(streams):
    write("sse", read(p), cut_a=i * 3, cut_b=i * 17)
write("sse", b"\xef\xbb\xbfevent: a\r\ndata: 1\r\ndata:2\r: comment\rid: 3\rretry: 4\r\r", 2, 9)

for i, p in enumerate(upstream_streams):
    data = read(p)
    write("translator_anthropic_bedrock", data, i * 11, len(data) // 2)
    write("translator_openai_bedrock", data, i * 13, len(data) // 3, flag=(i % 2 == 1))
for p in glob.glob("Tests/ProvidersTests/Fixtures/openai-openai/*.sse"):
    data = read(p)
    write("translator_passthrough", data, 5, len(data) // 2)
write("translator_passthrough", b"data: {\"a\":1}\r\n\r\ndata: [DONE]\r\n\r\n", 3, 20, flag=True)

jsons = sorted(glob.glob("Tests/ProvidersTests/Fixtures/**/*.json", recursive=True))
for p in jsons:
    data = read(p)
    write("json", data, 0, 0)
    write("json_edit", data, 1, 2)
write("json", b'[1,-0.5e+10,true,false,null,"\\ud83d\\ude00\\u00e9\\n\\"",{"a":{"b":[]}}]', 0, 0)
write("json_edit", b' { "model" : "m" , "max_tokens":1 ,"x":[1,2], "model":"again" } ', 3, 4)

for i, p in enumerate(jsons):
    data = read(p)
    try:
        doc = json.loads(data)
    except Exception:
        doc = None
    # Request fixtures keep only their client request; selector byte picks the translator and status.
    if isinstance(doc, dict) and "request" in doc and isinstance(doc["request"], dict):
        data = json.dumps(doc["request"]).encode()
    write("translator_requests", data, i % 3, i * 7)
    write("request_fast_paths", data, i % 5, 0)
# Bodies the fast paths take, so the fuzzer starts inside them.
for i, body in enumerate([
    b'{"model":"claude-sonnet-4-5","max_tokens":64,"system":"terse","messages":[{"role":"user","content":"hi"}],"stream":true}',
    b'{"model":"gpt-5","messages":[{"role":"system","content":"s"},{"role":"user","content":"hi \\u00e9"}],"max_tokens":64,"temperature":0.2,"user":"u-1","stop":["a","b"]}',
    b' { "model" : "alias" , "messages" : [ {"role":"user","content":"x"} ] , "max_tokens" : 1 , "stop" : "z" } ',
    # Anthropic -> OpenAI: system after messages, a tool round trip with an image result, tools, effort.
    b'{"model":"sonnet","messages":[{"role":"user","content":[{"type":"text","text":"a\\n\\"b\\"","cache_control":{"type":"ephemeral"}}]},{"role":"assistant","content":[{"type":"thinking","thinking":"t","signature":"s"},{"type":"tool_use","id":"t1","name":"f","input":{"p":"/x","n":[1,2.5]}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","is_error":true,"content":[{"type":"text","text":"r"},{"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBO"}}]},{"type":"text","text":"go"}]}],"system":[{"type":"text","text":"S"}],"tools":[{"name":"f","description":"d","input_schema":{"type":"object"},"defer_loading":true}],"tool_choice":{"type":"auto"},"max_tokens":32000,"thinking":{"type":"adaptive"},"output_config":{"effort":"max"},"metadata":{"user_id":"u"},"temperature":0.5,"stream":true}',
]):
    write("request_fast_paths", body, i, 0)
