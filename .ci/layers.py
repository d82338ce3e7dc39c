#!/usr/bin/env python3
"""The layering of llmcap's sources, checked (docs/architecture.md, "Parts and arrows").

    .ci/layers.py SOURCE_ROOT [LIBRARY.a]

Every C source and header belongs to one part; parts are ranked
    base < models = traces < scenario < engine < results < study < cli
and a file may use its own part or a part of lower rank, never a sibling or a higher one.

1. Includes: every `#include "..."` in every .c and .h is resolved to its file and checked
   against the ranks. A file that belongs to no part is an error (a new folder or public
   header must be given its part here, which is the point).
2. Symbols (with LIBRARY.a, the built static library): `nm` gives which object defines and
   which uses each symbol. Every use across parts must point down, and the graph of uses
   between files must have no cycle (a circle of files that need each other cannot be
   understood, tested or replaced one at a time), except inside the parts of CIRCLES_ALLOWED,
   whose circles are printed.

Prints each violation with the file, the line (includes) or the symbols (uses), and exits 1
on any; prints a one-line summary and exits 0 otherwise. Python 3 standard library only.
"""
import os
import re
import subprocess
import sys

RANK = {'base': 0, 'models': 1, 'traces': 1, 'scenario': 2, 'engine': 3, 'results': 4,
        'study': 5, 'cli': 6}

# public headers: include/llmcap/NAME.h -> part
HEADERS = {
    'core': 'base', 'quantiles': 'base', 'stats': 'base', 'spec': 'base', 'schema': 'base',
    'catalog': 'models', 'perf': 'models', 'cost': 'models',
    'trace': 'traces', 'workload': 'traces',
    'scenario': 'scenario',
    'event': 'engine', 'sim': 'engine',
    'report': 'results', 'output': 'results', 'batch': 'results', 'h5': 'results',
    'sweep': 'study', 'plan': 'study', 'breakeven': 'study', 'decide': 'study',
}
# source folders -> part (the longest matching prefix wins)
FOLDERS = {
    'sim/base/': 'base', 'models/': 'models', 'traces/': 'traces', 'sim/scenario/': 'scenario',
    'sim/engine/': 'engine', 'sim/results/': 'results', 'sim/study/': 'study', 'sim/cli/': 'cli',
}
# Parts whose files may still form a circle among themselves: none. The engine's last one
# (arrivals.c -> scheduler.c -> fast.c -> arrivals.c) was broken by moving the arrival stream and
# the fast mode's look-ahead into stream.c, which calls no other engine file. A circle anywhere
# fails.
CIRCLES_ALLOWED = set()
# build-time tools, not part of the program
TOOLS = {'models/embed.c'}
SOURCE_DIRS = ('sim', 'models', 'traces', 'include')


def part_of(rel):
    if rel.startswith('include/llmcap/'):
        return HEADERS.get(os.path.basename(rel)[:-2])
    best = None
    for prefix, part in FOLDERS.items():
        if rel.startswith(prefix) and (best is None or len(prefix) > len(best[0])):
            best = (prefix, part)
    return best[1] if best else None


def sources(root):
    for top in SOURCE_DIRS:
        for d, _, files in os.walk(os.path.join(root, top)):
            for f in sorted(files):
                if f.endswith(('.c', '.h')):
                    rel = os.path.relpath(os.path.join(d, f), root)
                    if rel not in TOOLS:
                        yield rel


def allowed(src, dst):
    return src == dst or RANK[dst] < RANK[src]


def check_includes(root, errors):
    n = 0
    for rel in sources(root):
        part = part_of(rel)
        if part is None:
            errors.append(f'{rel}: belongs to no part (add it to .ci/layers.py)')
            continue
        with open(os.path.join(root, rel), encoding='utf-8') as fh:
            for lineno, line in enumerate(fh, 1):
                m = re.match(r'\s*#\s*include\s+"([^"]+)"', line)
                if not m:
                    continue
                inc = m.group(1)
                target = ('include/' + inc) if inc.startswith('llmcap/') else \
                    os.path.normpath(os.path.join(os.path.dirname(rel), inc))
                tpart = part_of(target)
                if tpart is None:
                    errors.append(f'{rel}:{lineno}: includes "{inc}", which belongs to no part')
                elif not allowed(part, tpart):
                    errors.append(f'{rel}:{lineno}: {part} includes "{inc}" ({tpart}): '
                                  f'an arrow against the layering')
                n += 1
    return n


def object_source(obj, root):
    """libllmcap.a.p/sim_engine_loop.c.o -> sim/engine/loop.c, by matching the known files."""
    obj = os.path.basename(obj)
    flat = obj[:-2] if obj.endswith(".o") else obj
    for rel in sources(root):
        if rel.endswith('.c') and rel.replace('/', '_') == flat:
            return rel
    return None


def check_symbols(root, lib, errors):
    out = subprocess.run(['nm', '-A', '--defined-only', lib], capture_output=True, text=True,
                         check=True).stdout
    und = subprocess.run(['nm', '-A', '--undefined-only', lib], capture_output=True, text=True,
                         check=True).stdout
    defs, uses = {}, {}
    for line in out.splitlines():
        m = re.match(r'[^:]*:([^:]+):\s*\S+\s+([TDRBCV])\s+(\S+)$', line)
        if m:
            defs[m.group(3)] = m.group(1)
    for line in und.splitlines():
        m = re.match(r'[^:]*:([^:]+):\s*U\s+(\S+)$', line)
        if m:
            uses.setdefault(m.group(1), set()).add(m.group(2))
    names = {o: object_source(o, root) for o in set(defs.values()) | set(uses)}
    graph = {}
    for obj, syms in uses.items():
        for s in syms:
            if s not in defs or defs[s] == obj:
                continue
            a, b = names[obj], names[defs[s]]
            if a is None or b is None:
                continue  # generated data (the built-in catalogs) and the like
            graph.setdefault(a, {}).setdefault(b, set()).add(s)
    for a, targets in sorted(graph.items()):
        for b, syms in sorted(targets.items()):
            pa, pb = part_of(a), part_of(b)
            if pa and pb and not allowed(pa, pb):
                errors.append(f'{a} ({pa}) uses {b} ({pb}): {", ".join(sorted(syms)[:4])}')
    for cycle in cycles(graph):
        if {part_of(f) for f in cycle} <= CIRCLES_ALLOWED:
            print('known circle (allowed in ' + ', '.join(sorted(CIRCLES_ALLOWED)) + '): '
                  + ' -> '.join(cycle + [cycle[0]]))
            continue
        errors.append('a circle of files: ' + ' -> '.join(cycle + [cycle[0]]) + ' ('
                      + '; '.join(f'{x} uses {", ".join(sorted(graph[x][y])[:2])}'
                                  for x, y in zip(cycle, cycle[1:] + cycle[:1])) + ')')
    return sum(len(t) for t in graph.values())


def cycles(graph):
    """One cycle per strongly connected component of more than one file (Tarjan)."""
    index, low, stack, on, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, {})):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(one_cycle(graph, set(comp)))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def one_cycle(graph, comp):
    start = min(comp)
    path, seen = [start], {start}
    while True:
        nxt = sorted(w for w in graph.get(path[-1], {}) if w in comp)
        back = [w for w in nxt if w in seen]
        if back:
            return path[path.index(back[0]):]
        path.append(nxt[0])
        seen.add(nxt[0])


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    root = sys.argv[1]
    errors = []
    n_inc = check_includes(root, errors)
    n_uses = check_symbols(root, sys.argv[2], errors) if len(sys.argv) == 3 else 0
    for e in errors:
        print(e)
    if errors:
        print(f'layers: {len(errors)} violation(s)')
        sys.exit(1)
    print(f'layers: {n_inc} includes' + (f' and {n_uses} file-to-file uses' if n_uses else '')
          + ' follow base < models, traces < scenario < engine < results < study < cli; '
          + ('no circles outside ' + ', '.join(sorted(CIRCLES_ALLOWED)) if CIRCLES_ALLOWED
             else 'no circles'))


if __name__ == '__main__':
    sys.setrecursionlimit(10000)
    main()
