"""No import circle anywhere in the product, at module level (make lint).

The import-linter contracts (pyproject.toml) keep the layers and forbid the arrows features must
not draw; this check adds what no contract type says for the whole graph: no module reaches back to
itself through imports, across packages included. Type-only imports (under TYPE_CHECKING) are left
out, as in the contracts. Prints each circle it finds, one import per arrow, and exits 1.
"""

from __future__ import annotations

import sys

import grimp

PACKAGES = ("functions", "popsell", "shared")


def circles(graph: grimp.ImportGraph) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            module, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child)))))
                elif child in on_stack:
                    low[module] = min(low[module], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[module])
            if low[module] == index[module]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == module:
                        break
                if len(group) > 1:
                    found.append(sorted(group))
    return found


def main() -> int:
    graph = grimp.build_graph(*PACKAGES, exclude_type_checking_imports=True, cache_dir=None)
    found = circles(graph)
    for group in found:
        print("import circle:", " ↔ ".join(group))
        members = set(group)
        for module in group:
            for imported in sorted(graph.find_modules_directly_imported_by(module) & members):
                print(f"  {module} -> {imported}")
    if not found:
        print(f"no import circle among {len(graph.modules)} modules")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
