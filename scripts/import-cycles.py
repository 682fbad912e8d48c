#!/usr/bin/env python3
"""Import cycles between the Rust files and folders of probable's crates.

A cycle (a.rs uses b.rs, b.rs uses a.rs; or folder x/ uses y/ and y/ uses x/) means that
neither part can be understood, tested or moved without the other: the issue that asked for
this tool (27) found four. The tool reads each crate's sources (core/src, native-trainer/src,
web/src, python/src), resolves every intra-crate path it finds to the file that defines the
item named, and prints the cycles of two graphs:

- files: an edge a.rs -> b.rs when a.rs names an item that b.rs defines;
- folders: in each folder, its entries (files, and sub-folders taken as one node each), with
  an edge when something inside one entry names an item inside another entry.

Paths are followed through re-exports (`pub use x::Y` in a mod.rs leads to x.rs), so a module
that only re-exports its children does not count as depending on them from their point of view.
Recognised paths: `crate::…`, `super::…`, `self::…`, names brought in by `use`, and child modules
declared with `mod name;`, in `use` trees as well as in expressions and types. Paths into other
crates (`probable_core::…`) are ignored: Cargo already forbids cycles between crates. Test
modules count like any other code: a test that needs a module above the one it tests belongs
with that module.

Usage: python3 scripts/import-cycles.py [--edges]   (exit status 1 when there is a cycle)
"""

import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CRATES = ["core/src", "native-trainer/src", "web/src", "python/src"]
ITEM_KEYWORDS = {"fn", "struct", "enum", "trait", "type", "const", "static", "union"}


def strip_comments_and_strings(text):
    """Blank out comments, string, byte-string, raw-string and char literals (keeps newlines)."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            i = j
            continue
        if text.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            out.append("\n" * text.count("\n", i, j))
            i = j
            continue
        m = re.match(r'b?r(#*)"', text[i:]) if c in "br" else None
        if m and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            end = '"' + m.group(1)
            j = text.find(end, i + m.end())
            j = n if j < 0 else j + len(end)
            out.append(' "" ' + "\n" * text.count("\n", i, j))
            i = j
            continue
        if c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append(' "" ' + "\n" * text.count("\n", i, j))
            i = j + 1
            continue
        if c == "'":
            # A char literal ('a', '\n', '\u{1F600}') or a lifetime ('a, 'static).
            m = re.match(r"'(\\u\{[0-9a-fA-F]+\}|\\.|[^\\'])'", text[i:])
            if m:
                out.append(" '' ")
                i += m.end()
                continue
        out.append(c)
        i += 1
    return "".join(out)


TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|::|[{}();,*#!\[\]<>=]|\S")


class Module:
    def __init__(self, path, file):
        self.path = path  # tuple of segments below the crate root
        self.file = file
        self.children = {}  # name -> Module
        self.aliases = {}  # name -> absolute path (tuple), from `use`
        self.globs = []  # absolute paths of `use …::*`
        self.defined = set()


class Crate:
    def __init__(self, src):
        self.src = src
        self.modules = {}
        self.refs = []  # (from_file, scope Module, absolute path) to resolve later
        root_file = None
        for name in ("lib.rs", "main.rs"):
            if os.path.exists(os.path.join(src, name)):
                root_file = os.path.join(src, name)
                break
        self.root = self.load_file((), root_file)
        self.settle_local_paths()

    def settle_local_paths(self):
        """Turn `use child::x` and `use alias::x` targets into crate-absolute paths; drop the
        ones that lead into other crates (`use pyo3::prelude::*`)."""
        for _ in range(4):
            for module in self.modules.values():
                for name, target in list(module.aliases.items()):
                    if target and target[0] == "?":
                        settled = self.lookup_relative(module, target[1:], name)
                        if settled is None:
                            del module.aliases[name]
                        else:
                            module.aliases[name] = settled
                module.globs = [
                    g if not g or g[0] != "?" else self.lookup_relative(module, g[1:])
                    for g in module.globs
                ]
                module.globs = [g for g in module.globs if g is not None]
        for module in self.modules.values():
            for name, target in list(module.aliases.items()):
                if target and target[0] == "?":
                    del module.aliases[name]

    def module_file(self, parent_file, parent_path, name):
        """The file of `mod name;` declared in the module `parent_path` defined by `parent_file`."""
        base = os.path.dirname(parent_file)
        stem = os.path.basename(parent_file)
        if stem not in ("lib.rs", "main.rs", "mod.rs"):
            base = os.path.join(base, stem[:-3])
        for candidate in (os.path.join(base, name + ".rs"), os.path.join(base, name, "mod.rs")):
            if os.path.exists(candidate):
                return candidate
        return None

    def load_file(self, path, file):
        module = Module(path, file)
        self.modules[path] = module
        with open(file, encoding="utf-8") as f:
            tokens = TOKEN.findall(strip_comments_and_strings(f.read()))
        self.parse(tokens, module)
        return module

    def parse(self, tokens, top):
        """Walk the tokens once: inline modules, `mod x;`, items, `use` trees and paths."""
        stack = [(top, -1)]  # (module, brace depth at which it closes)
        depth = 0
        i, n = 0, len(tokens)
        while i < n:
            t = tokens[i]
            scope = stack[-1][0]
            if t == "#" and i + 1 < n and tokens[i + 1] == "[":
                # An attribute names no module of ours (`#[derive(…)]`, `#[cfg(…)]`).
                j, bracket = i + 2, 1
                while j < n and bracket:
                    bracket += {"[": 1, "]": -1}.get(tokens[j], 0)
                    j += 1
                i = j
                continue
            if t == "{":
                depth += 1
            elif t == "}":
                depth -= 1
                if len(stack) > 1 and stack[-1][1] == depth:
                    stack.pop()
            elif t == "mod" and i + 2 < n and tokens[i + 1] not in ("::",):
                name, nxt = tokens[i + 1], tokens[i + 2]
                child_path = scope.path + (name,)
                if nxt == ";":
                    file = self.module_file(scope.file, scope.path, name)
                    if file is not None:
                        scope.children[name] = self.load_file(child_path, file)
                    i += 3
                    continue
                if nxt == "{":
                    child = Module(child_path, scope.file)
                    self.modules[child_path] = child
                    scope.children[name] = child
                    stack.append((child, depth))
                    depth += 1
                    i += 3
                    continue
            elif t in ITEM_KEYWORDS and i + 1 < n and re.match(r"[A-Za-z_]", tokens[i + 1]):
                if not (i > 0 and tokens[i - 1] in ("::",)):
                    scope.defined.add(tokens[i + 1])
            elif t == "macro_rules" and i + 2 < n and tokens[i + 1] == "!":
                scope.defined.add(tokens[i + 2])
            elif t == "use" and not (i > 0 and tokens[i - 1] == "::"):
                j = i + 1
                while j < n and tokens[j] != ";":
                    j += 1
                for path, alias, glob in self.use_tree(tokens[i + 1 : j], ()):
                    absolute = self.absolute(scope, path)
                    if absolute is None:
                        continue
                    self.refs.append((scope.file, scope, absolute))
                    if glob:
                        scope.globs.append(absolute)
                    elif alias and alias != "_":
                        scope.aliases[alias] = absolute
                i = j + 1
                continue
            elif re.match(r"[A-Za-z_]", t) and i + 1 < n and tokens[i + 1] == "::":
                if i == 0 or tokens[i - 1] != "::":
                    j = i
                    path = [t]
                    while j + 2 < n and tokens[j + 1] == "::" and re.match(r"[A-Za-z_]", tokens[j + 2]):
                        path.append(tokens[j + 2])
                        j += 2
                    self.refs.append((scope.file, scope, ("?",) + tuple(path)))
                    i = j + 1
                    continue
            i += 1

    def use_tree(self, toks, prefix):
        """Expand a `use` tree into (path, bound name, is_glob) triples."""
        results = []
        path = list(prefix)
        i = 0
        while i < len(toks):
            t = toks[i]
            if t == "::":
                i += 1
            elif t == "*":
                results.append((tuple(path), None, True))
                i += 1
            elif t == "{":
                depth, j, start = 1, i + 1, i + 1
                parts = []
                while j < len(toks) and depth:
                    if toks[j] == "{":
                        depth += 1
                    elif toks[j] == "}":
                        depth -= 1
                        if depth == 0:
                            parts.append(toks[start:j])
                    elif toks[j] == "," and depth == 1:
                        parts.append(toks[start:j])
                        start = j + 1
                    j += 1
                for part in parts:
                    if part:
                        results.extend(self.use_tree(part, tuple(path)))
                return results
            elif t == "as" and i + 1 < len(toks):
                results.append((tuple(path), toks[i + 1], False))
                return results
            elif re.match(r"[A-Za-z_]", t):
                path.append(t)
                i += 1
            else:
                i += 1
        if path and path != list(prefix):
            name = path[-1]
            if name == "self":
                path = path[:-1]
                name = path[-1] if path else None
            results.append((tuple(path), name, False))
        elif path and path == list(prefix) and not results:
            pass
        return results

    def absolute(self, scope, path):
        """The crate-absolute form of a `use` path, or None when it leaves the crate."""
        if not path:
            return None
        head = path[0]
        if head == "crate":
            return path[1:]
        if head in ("self", "super"):
            base = list(scope.path)
            rest = list(path)
            while rest and rest[0] in ("self", "super"):
                if rest[0] == "super":
                    base = base[:-1]
                rest = rest[1:]
            return tuple(base) + tuple(rest)
        # `use child::x` (a module declared here) or a name brought in by an earlier `use`.
        return ("?",) + tuple(path)

    def lookup_relative(self, scope, path, own_alias=None):
        """Resolve a path whose first segment is a local name; None if it is not ours."""
        head = path[0]
        if head in ("crate", "self", "super"):
            return self.absolute(scope, path)
        if head in scope.children:
            return scope.path + path
        if head in scope.aliases and head != own_alias:
            return scope.aliases[head] + path[1:]
        # A test module's `use super::*` sees the parent's names.
        for glob in scope.globs:
            parent = self.modules.get(glob)
            if parent is not None:
                if head in parent.children:
                    return parent.path + path
                if head in parent.aliases:
                    return parent.aliases[head] + path[1:]
        return None

    def resolve(self, path, seen=None):
        """(file that defines the item `path` names, True if found exactly)."""
        seen = set() if seen is None else seen
        if path in seen:
            return None, False
        seen.add(path)
        module = self.root
        for k, seg in enumerate(path):
            rest = path[k + 1 :]
            if seg in module.children:
                module = module.children[seg]
                continue
            if seg in module.defined:
                return module.file, True
            if seg in module.aliases:
                target = module.aliases[seg]
                file, exact = self.resolve(tuple(target) + tuple(rest), seen)
                if file is not None:
                    return file, exact
                return module.file, False
            for glob in module.globs:
                file, exact = self.resolve(tuple(glob) + (seg,) + tuple(rest), seen)
                if exact:
                    return file, True
            return module.file, False
        return module.file, True

    def edges(self):
        result = set()
        for src_file, scope, path in self.refs:
            if path and path[0] == "?":
                path = self.lookup_relative(scope, path[1:])
                if path is None:
                    continue
            if not path:
                continue
            dst, _ = self.resolve(tuple(path))
            if dst is not None and dst != src_file:
                result.add((src_file, dst))
        return result


def strongly_connected(nodes, edges):
    """Tarjan's algorithm; components of more than one node, each sorted."""
    graph = {v: sorted({b for a, b in edges if a == v}) for v in nodes}
    index, low, on_stack, stack, out = {}, {}, set(), [], []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, []):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    sys.setrecursionlimit(10000)
    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return sorted(out)


def one_cycle(component, edges):
    """A shortest cycle through the component's first node, as a list of nodes."""
    members = set(component)
    start = component[0]
    frontier, parent = [start], {start: None}
    while frontier:
        nxt = []
        for a in frontier:
            for x, b in sorted(edges):
                if x != a or b not in members:
                    continue
                if b == start:
                    cycle = [a]
                    while parent[cycle[-1]] is not None:
                        cycle.append(parent[cycle[-1]])
                    return list(reversed(cycle)) + [start]
                if b not in parent:
                    parent[b] = a
                    nxt.append(b)
        frontier = nxt
    return component


def folder_edges(file_edges, crate_src):
    """Per folder: edges between its entries (sub-folders collapsed) — {folder: set(edges)}."""
    per_folder = {}
    for a, b in file_edges:
        ra, rb = os.path.relpath(a, crate_src).split(os.sep), os.path.relpath(b, crate_src).split(os.sep)
        k = 0
        while k < min(len(ra), len(rb)) - 1 and ra[k] == rb[k]:
            k += 1
        folder = os.path.join(crate_src, *ra[:k])
        na, nb = ra[k] + ("/" if k < len(ra) - 1 else ""), rb[k] + ("/" if k < len(rb) - 1 else "")
        if na != nb:
            per_folder.setdefault(folder, set()).add((na, nb))
    return per_folder


def main():
    show_edges = "--edges" in sys.argv[1:]
    rel = lambda p: os.path.relpath(p, ROOT)
    file_cycles, folder_cycles, total_edges = [], [], 0
    for src in CRATES:
        src_dir = os.path.join(ROOT, src)
        if not os.path.isdir(src_dir):
            continue
        crate = Crate(src_dir)
        edges = crate.edges()
        total_edges += len(edges)
        if show_edges:
            for a, b in sorted(edges):
                print(f"edge {rel(a)} -> {rel(b)}")
        nodes = {m.file for m in crate.modules.values()}
        for component in strongly_connected(nodes, edges):
            cycle = one_cycle(component, edges)
            file_cycles.append(" -> ".join(rel(f) for f in cycle))
        for folder, fedges in sorted(folder_edges(edges, src_dir).items()):
            fnodes = {x for e in fedges for x in e}
            for component in strongly_connected(fnodes, fedges):
                cycle = one_cycle(component, fedges)
                folder_cycles.append(f"{rel(folder)}/: " + " -> ".join(cycle))
    for line in file_cycles:
        print(f"file cycle: {line}")
    for line in folder_cycles:
        print(f"folder cycle: {line}")
    print(
        f"{len(file_cycles)} file cycle(s), {len(folder_cycles)} folder cycle(s) "
        f"({total_edges} file edges in {', '.join(CRATES)})"
    )
    return 1 if file_cycles or folder_cycles else 0


if __name__ == "__main__":
    sys.exit(main())
