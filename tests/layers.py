#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Checks app/'s floors (README "Layout"): every #include "x.h" names a header of the file's own
floor or of a floor below it, each third-party header appears only on the floor that owns it, and
no module (a name.h/name.c pair, with nameint.h, its internal header, when there is one) reaches
itself through the includes of others. The build already
fails on a wrong-way project include (a higher floor's folder is not on a lower floor's include
path); this test names the file and line, and catches what the compiler cannot: circles inside one
floor and third-party headers, which are on every include path. Usage: layers.py [APP_DIR]"""

import os
import re
import sys

FLOORS = ["base", "wire", "meeting", "loop", "front"]  # bottom to top
# third-party header -> the floors (and "main" for app/main.c) that may include it
OWNED = {
    "civetweb.h": {"front", "main"},
    "uv.h": {"loop"},
    "jansson.h": {"meeting"},
    "uthash.h": {"meeting"},
    "openssl/": {"front"},
}
INCLUDE_RE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')


def scan(app):
    """{module: floor}, {module: [(path, line, kind, header)]} for every file under app."""
    floor_of, includes = {}, {}
    for floor in FLOORS + ["main"]:
        folder = app if floor == "main" else os.path.join(app, floor)
        for name in sorted(os.listdir(folder)):
            path = os.path.join(folder, name)
            if not name.endswith((".c", ".h")) or not os.path.isfile(path):
                continue
            if floor == "main" and name != "main.c":
                continue
            module = name[:-2]
            if module.endswith("int") and os.path.exists(os.path.join(folder, module[:-3] + ".h")):
                module = module[:-3]  # hubint.h: the internal header of module hub
            if floor_of.setdefault(module, floor) != floor:
                raise SystemExit("%s: module %s is on two floors" % (path, module))
            with open(path, encoding="utf-8") as f:
                for no, text in enumerate(f, 1):
                    m = INCLUDE_RE.match(text)
                    if m:
                        includes.setdefault(module, []).append((path, no, m.group(1), m.group(2)))
    return floor_of, includes


def rank(floor):
    return len(FLOORS) if floor == "main" else FLOORS.index(floor)


def check(app):
    floor_of, includes = scan(app)
    problems = []
    edges = {m: set() for m in floor_of}
    for module, incs in includes.items():
        floor = floor_of[module]
        for path, no, kind, header in incs:
            where = "%s:%d" % (os.path.relpath(path, os.path.dirname(app)), no)
            if kind == "<":
                for prefix, allowed in OWNED.items():
                    if (header == prefix or header.startswith(prefix)) and floor not in allowed:
                        problems.append("%s: <%s> belongs to %s, not %s"
                                        % (where, header, "/".join(sorted(allowed)), floor))
                continue
            target = os.path.basename(header)[:-2]
            if target.endswith("int") and target[:-3] in floor_of:
                target = target[:-3]
            if target not in floor_of:
                problems.append('%s: "%s" is not a header of app/' % (where, header))
                continue
            if rank(floor_of[target]) > rank(floor):
                problems.append('%s: %s (floor %s) includes "%s" from the higher floor %s'
                                % (where, module, floor, header, floor_of[target]))
            if target != module:
                edges[module].add(target)
    # circles: depth-first search over modules, reporting each cycle once
    state, stack = {}, []

    def visit(m):
        state[m] = 1
        stack.append(m)
        for n in sorted(edges[m]):
            if state.get(n) == 1:
                problems.append("circle: " + " -> ".join(stack[stack.index(n):] + [n]))
            elif n not in state:
                visit(n)
        stack.pop()
        state[m] = 2

    for m in sorted(edges):
        if m not in state:
            visit(m)
    return problems, len(floor_of)


def main():
    app = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else
                          os.path.join(os.path.dirname(__file__), "..", "app"))
    problems, n = check(app)
    for p in problems:
        print(p)
    print("layers: %d modules, %d problems" % (n, len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
