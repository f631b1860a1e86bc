"""Graph checks: dependency cycles between steps and cycles in decomposition rules."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

from dsl.catalog import Catalog
from dsl.diagnostics import Diagnostic, error
from dsl.references import dependencies


def find_cycles(edges: Mapping[str, Sequence[str]]) -> list[list[str]]:
    """One cycle per strongly connected component that has one, each starting at its least node.

    Tarjan's algorithm, iterative so that long chains do not hit the recursion limit.
    """
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    cycles: list[list[str]] = []
    counter = 0
    for root in sorted(edges):
        if root in index:
            continue
        work: list[tuple[str, int]] = [(root, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            successors = edges.get(node, ())
            if i < len(successors):
                work.append((node, i + 1))
                nxt = successors[i]
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in edges.get(node, ()):
                    cycles.append(_cycle_in(set(component), edges))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return sorted(cycles)


def _cycle_in(component: set[str], edges: Mapping[str, Sequence[str]]) -> list[str]:
    """A shortest cycle through the least node of a strongly connected component."""
    start = min(component)
    previous: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for nxt in sorted(edges.get(node, ())):
                if nxt == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(previous[path[-1]])
                    return path[::-1]
                if nxt in component and nxt not in previous:
                    previous[nxt] = node
                    following.append(nxt)
        frontier = following
    return [start]  # pragma: no cover - a component always has a cycle


def check_graphs(catalog: Catalog) -> Iterator[Diagnostic]:
    yield from _dependency_cycles(catalog)
    yield from _decomposition_cycles(catalog)


def _dependency_cycles(catalog: Catalog) -> Iterator[Diagnostic]:
    edges = {s.id: [t for _, t in dependencies(s) if t in catalog.steps]
             for s in catalog.valid(catalog.steps)}
    for cycle in find_cycles(edges):
        step = catalog.steps[cycle[0]]
        following = cycle[1] if len(cycle) > 1 else cycle[0]
        # `A after B` is the edge A -> B: A waits for B.
        at = next(i for i, t in dependencies(step) if t == following)
        chain = " -> ".join([*cycle, cycle[0]])
        yield error("DRO306", f"dependency cycle: {chain}", step.span("after", at),
                    detail="Each step waits for the next one in this chain, so none of them can start.",
                    hint=f"remove one of these `after` dependencies (for example '{following}' from "
                         f"step '{step.id}')")


def _decomposition_cycles(catalog: Catalog) -> Iterator[Diagnostic]:
    edges: dict[str, list[str]] = {}
    for rule in catalog.valid(catalog.decompositions):
        edges[rule.id] = [t["product"] for t in rule.data.get("into", [])]
    for cycle in find_cycles(edges):
        rule = catalog.decompositions[cycle[0]]
        following = cycle[1] if len(cycle) > 1 else cycle[0]
        at = next(i for i, t in enumerate(rule.data.get("into", [])) if t["product"] == following)
        chain = " -> ".join([*cycle, cycle[0]])
        yield error("DRO307", f"decomposition cycle: {chain}", rule.span("into", at),
                    detail="Decomposing these products would never end.",
                    hint=f"remove `into \"{following}\"` from the rule for '{rule.id}', or break the chain elsewhere")
