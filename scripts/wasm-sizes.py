#!/usr/bin/env python3
"""Where a wasm module's bytes go: code bytes per crate (from the name section), data
segments and the other sections. Run it on cargo's output before wasm-bindgen/wasm-opt,
which still has function names:

  scripts/wasm-sizes.py $CARGO_TARGET_DIR/wasm32-unknown-unknown/wasm-release/app.wasm [N]

N (default 25) is how many crates and functions to list. Used for BENCHMARKS.md (issue 17).
"""
import collections
import re
import sys


def leb(b, i):
    r = s = 0
    while True:
        x = b[i]
        i += 1
        r |= (x & 0x7F) << s
        s += 7
        if x < 0x80:
            return r, i


def sections(b):
    i = 8
    while i < len(b):
        sid = b[i]
        size, j = leb(b, i + 1)
        yield sid, b[j:j + size]
        i = j + size


def crate_of(name):
    if name.startswith("_ZN"):
        m = re.match(r"_ZN(\d+)", name)
        if m:
            n = int(m.group(1))
            return name[3 + len(m.group(1)):3 + len(m.group(1)) + n]
    name = re.sub(r"^<", "", name)
    name = re.sub(r"^(impl |dyn )", "", name)
    return re.split(r"::|<| as ", name, maxsplit=1)[0] or "?"


def main():
    path = sys.argv[1]
    top = int(sys.argv[2]) if len(sys.argv) > 2 else 25
    b = open(path, "rb").read()
    names, bodies, imports, sizes = {}, [], 0, collections.Counter()
    for sid, body in sections(b):
        if sid == 0:
            nlen, k = leb(body, 0)
            cname = body[k:k + nlen].decode(errors="replace")
            sizes[f"custom:{cname}"] += len(body)
            if cname == "name":
                k += nlen
                while k < len(body):
                    sub = body[k]
                    ssize, k = leb(body, k + 1)
                    if sub == 1:
                        count, m = leb(body, k)
                        for _ in range(count):
                            idx, m = leb(body, m)
                            ln, m = leb(body, m)
                            names[idx] = body[m:m + ln].decode(errors="replace")
                            m += ln
                    k += ssize
            continue
        sizes[{1: "type", 2: "import", 3: "function", 4: "table", 5: "memory", 6: "global",
               7: "export", 8: "start", 9: "element", 10: "code", 11: "data",
               12: "datacount"}.get(sid, str(sid))] += len(body)
        if sid == 2:
            count, k = leb(body, 0)
            for _ in range(count):
                ln, k = leb(body, k)
                k += ln
                ln, k = leb(body, k)
                k += ln
                kind = body[k]
                k += 1
                if kind == 0:
                    _, k = leb(body, k)
                    imports += 1
                elif kind == 1:
                    k += 1
                    flags, k = leb(body, k)
                    _, k = leb(body, k)
                    if flags & 1:
                        _, k = leb(body, k)
                elif kind == 2:
                    flags, k = leb(body, k)
                    _, k = leb(body, k)
                    if flags & 1:
                        _, k = leb(body, k)
                elif kind == 3:
                    k += 2
        if sid == 10:
            count, k = leb(body, 0)
            for n in range(count):
                size, k2 = leb(body, k)
                bodies.append((imports + n, size))
                k = k2 + size
    print(f"{path}: {len(b)} bytes")
    for s, n in sizes.most_common():
        print(f"  section {s:<24} {n:>9}")
    per_crate = collections.Counter()
    for idx, size in bodies:
        per_crate[crate_of(names.get(idx, "?"))] += size
    code = sum(s for _, s in bodies)
    print(f"code by crate (of {code} bytes in {len(bodies)} functions):")
    for c, n in per_crate.most_common(top):
        print(f"  {c:<32} {n:>9} {100 * n / code:5.1f}%")
    print("largest functions:")
    for idx, size in sorted(bodies, key=lambda x: -x[1])[:top]:
        print(f"  {size:>8}  {names.get(idx, '?')[:110]}")


if __name__ == "__main__":
    main()
