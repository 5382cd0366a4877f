#!/usr/bin/env python3
"""Writes the link order for mini-proxy: every function of the executable that a callgrind run of
start-up, the requests of every route (through the bundled mock) and a second of idling executed, in
the order callgrind lists them. The request paths are in the list so that their code sits together too
(fewer instruction-cache and TLB misses on a cold request).

lld places these functions next to each other (Package.swift, --symbol-ordering-file). The kernel maps
file pages around each page fault (64 KB), so scattered start-up code keeps ~5 MB of text resident;
packed together it is ~1 MB. A stale list is harmless: functions it does not name are placed after it.
Regenerate with `make startup-order`.

usage: startup-order.py CALLGRIND_OUT BINARY_NAME > startup-order.txt
"""
import re
import sys


def main(path: str, binary: str) -> None:
    objects, functions = {}, {}
    lines = open(path, encoding="utf-8", errors="replace").read().splitlines()
    # Callgrind compresses names: "(12) /path" defines id 12, a later "(12)" refers to it.
    for line in lines:
        for m in re.finditer(r"c?ob=\((\d+)\) (\S.*)", line):
            objects[m.group(1)] = m.group(2).strip()
        for m in re.finditer(r"c?fn=\((\d+)\) (\S.*)", line):
            functions[m.group(1)] = m.group(2).strip()
    seen, current = set(), None
    for line in lines:
        m = re.match(r"ob=\((\d+)\)", line)
        if m:
            current = objects.get(m.group(1), "")
            continue
        m = re.match(r"fn=\((\d+)\)", line)
        if m and current.endswith("/" + binary):
            name = functions.get(m.group(1), "")
            if name and not name.startswith("0x") and name not in seen:
                seen.add(name)
                print(name)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
