#!/usr/bin/env python3
"""POSTs one large body again and again on one keep-alive connection and prints one JSON line: latencies
(whole exchange: request written, response read to its end, stream or not) and the CPU a process spent per
request. Used by `ONLY=huge bash bench/run.sh` (bench/huge_request.py's 1 MB and 10 MB requests); wrk is
not used there because it is bounded by time only and a 10 MB body takes tens of milliseconds a request.

Bounded in count and in time: stops after -n requests or --seconds, whichever comes first (at least one
request is made). CPU: the sum over the process's threads of /proc/<pid>/task/*/schedstat (nanoseconds on
a CPU), before and after, divided by the requests; falls back to utime+stime in clock ticks.

Usage: huge_client.py --port P --path PATH --body FILE [-n N] [--seconds S] [--warm W] [--pid PID]
                      [--header 'Name: value' ...]
"""
import argparse, http.client, json, os, statistics, sys, time


def cpu_ns(pid):
    total, ok = 0, False
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{tid}/schedstat") as fh:
                    total += int(fh.read().split()[0]); ok = True
            except OSError:
                pass  # a thread that just ended
    except OSError:
        return None
    if ok:
        return total
    with open(f"/proc/{pid}/stat") as fh:
        f = fh.read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) * 1_000_000_000 // os.sysconf("SC_CLK_TCK")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--path", required=True)
    ap.add_argument("--body", required=True)
    ap.add_argument("-n", type=int, default=10)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--warm", type=int, default=1, help="requests before measuring (not counted)")
    ap.add_argument("--pid", type=int, help="the process whose CPU per request is reported")
    ap.add_argument("--header", action="append", default=[])
    a = ap.parse_args()
    body = open(a.body, "rb").read()
    headers = {"Content-Type": "application/json", "Content-Length": str(len(body))}
    for h in a.header:
        k, v = h.split(":", 1)
        headers[k.strip()] = v.strip()
    conn = http.client.HTTPConnection("127.0.0.1", a.port, timeout=max(a.seconds, 30))

    def one():
        conn.request("POST", a.path, body, headers)
        r = conn.getresponse()
        data = r.read()
        return r.status, len(data)

    statuses = {}
    for _ in range(a.warm):
        s, _ = one()
        statuses[s] = statuses.get(s, 0)  # seen, not counted
    lat, out_bytes = [], 0
    c0 = cpu_ns(a.pid) if a.pid else None
    deadline = time.monotonic() + a.seconds
    while len(lat) < a.n and (not lat or time.monotonic() < deadline):
        t0 = time.perf_counter_ns()
        s, nb = one()
        lat.append((time.perf_counter_ns() - t0) / 1000)
        statuses[s] = statuses.get(s, 0) + 1
        out_bytes = nb
    c1 = cpu_ns(a.pid) if a.pid else None
    conn.close()
    res = {"n": len(lat), "p50_us": statistics.median(lat), "min_us": min(lat), "max_us": max(lat),
           "mean_us": statistics.fmean(lat), "status": {str(k): v for k, v in statuses.items()},
           "body_bytes": len(body), "response_bytes": out_bytes,
           "cpu_us": (c1 - c0) / 1000 / len(lat) if c0 is not None and c1 is not None else None}
    print(json.dumps(res))
    if any(k != 200 for k in statuses):
        sys.exit(f"non-200 answers: {statuses}")


if __name__ == "__main__":
    main()
