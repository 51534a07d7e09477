#!/usr/bin/env python3
"""Check libskm's shape from its objects alone (nm), as a maintainer would:

  layers.py cycles LIB.a    which of lib's files calls which (a name
                            defined in one, undefined in another); fails,
                            naming the loop, when files call each other in
                            a circle.  Prints the layers, bottom first.
  layers.py names LIB.a HDR every global name LIB.a defines must be public
                            API (declared in the header HDR) or internal
                            (skm__*); fails naming any other.
  layers.py picture LIB.a DOC  the drawing of the layers in DOC (the first
                            code block after "## Layers") holds every
                            file of LIB.a, and each file it calls is drawn
                            on its own line or below; fails naming any
                            file missing or call drawn upward.
"""
import os, re, subprocess, sys

def nm(path):
    """(member file, kind, name) for every symbol of an archive."""
    out = subprocess.run(["nm", "-A", path], capture_output=True, text=True,
                         check=True).stdout
    for line in out.splitlines():
        parts = line.split()
        # "lib.a:file.o: ADDR T name" or "lib.a:file.o:         U name"
        if len(parts) >= 3:
            yield parts[0].split(":")[1], parts[-2], parts[-1]

def calls(lib):
    """{file: [files it calls]} from the archive's symbols."""
    defs, uses = {}, {}
    for obj, kind, sym in nm(lib):
        name = os.path.basename(obj)[:-2]
        uses.setdefault(name, set())
        if kind == "U":
            uses[name].add(sym)
        elif kind.isupper():
            defs[sym] = name
    return {f: sorted({defs[s] for s in u if s in defs and defs[s] != f})
            for f, u in uses.items()}

def picture(lib, doc):
    text = open(doc).read()
    at = text.index("## Layers")
    block = text[text.index("```", at) + 3:]
    block = block[:block.index("```")]
    edges, line = calls(lib), {}
    for i, l in enumerate(block.splitlines()):
        # " LAYER   file ── file   file      what the layer does": the
        # layer's name at the margin, then files and box lines up to
        # the first word that is neither (the description).
        words = l.split()
        if re.match(r" [a-z]", l):
            words = words[1:]
        for w in words:
            if w in edges:
                line.setdefault(w, i)
            elif w.strip("─│┬┴┼") != "":
                break
    bad = 0
    for f in sorted(edges):
        if f not in line:
            print("not drawn: %s" % f); bad = 1
    for f in sorted(edges):
        for g in edges[f]:
            if f in line and g in line and line[g] < line[f]:
                print("drawn upward: %s -> %s" % (f, g)); bad = 1
    return bad

def cycles(lib):
    edges = calls(lib)
    # Tarjan's strongly connected components; any with two files is a loop.
    index, low, stack, on, comps, n = {}, {}, [], set(), [], [0]
    def visit(v):
        index[v] = low[v] = n[0]; n[0] += 1
        stack.append(v); on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w); low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            c = []
            while True:
                w = stack.pop(); on.discard(w); c.append(w)
                if w == v:
                    break
            comps.append(c)
    sys.setrecursionlimit(10000)
    for v in sorted(edges):
        if v not in index:
            visit(v)
    bad = [c for c in comps if len(c) > 1]
    for c in bad:
        why = ["%s -> %s" % (a, b) for a in sorted(c) for b in edges[a]
               if b in c]
        print("loop: %s (%s)" % (" ".join(sorted(c)), ", ".join(why)))
    if bad:
        return 1
    # Tarjan yields components callees first: the order bottom-up.
    print("layers, bottom first:")
    for c in comps:
        f = c[0]
        print("  %-12s -> %s" % (f, " ".join(edges[f]) or "-"))
    return 0

def names(lib, header):
    public = set(re.findall(r"\bskm_[a-z0-9_]+\b", open(header).read()))
    bad = sorted({sym for _, kind, sym in nm(lib)
                  if kind in "TDBRGSVW" and not sym.startswith("skm__")
                  and not sym.startswith("__")  # a sanitizer's own
                  and sym not in public})
    for s in bad:
        print("not prefixed: %s" % s)
    return 1 if bad else 0

if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "cycles":
        sys.exit(cycles(sys.argv[2]))
    if len(sys.argv) == 4 and sys.argv[1] == "names":
        sys.exit(names(sys.argv[2], sys.argv[3]))
    if len(sys.argv) == 4 and sys.argv[1] == "picture":
        sys.exit(picture(sys.argv[2], sys.argv[3]))
    sys.exit(__doc__)
