"""Static memory plan of a graph for the standalone C runtime: one int8 arena, no malloc.

Reshapes are free (their output aliases their input). Every other activation tensor gets a
4-byte aligned offset in one arena; tensors whose lifetimes do not overlap share bytes
(greedy first fit, largest first), so the arena is sized from the graph itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from synth.core.tflite_file import Graph

ALIAS_OPS = ("RESHAPE", "EXPAND_DIMS", "SQUEEZE")
ALIGN = 4  # bytes: keeps each buffer word-aligned on the Cortex-M4


@dataclass
class Plan:
    """Where each activation lives: tensor index -> ("input", byte offset) or ("arena", byte offset)."""

    places: dict[int, tuple[str, int]]
    arena_bytes: int


def plan_memory(graph: Graph) -> Plan:
    """Alias reshapes, then pack the remaining activations by lifetime; returns the Plan."""
    root = _alias_roots(graph)
    places: dict[int, tuple[str, int]] = {}
    offset = 0
    for index in graph.inputs:  # graph inputs are read in place from the caller's buffer
        places[index] = ("input", offset)
        offset += graph.tensors[index].size
    spans = _lifetimes(graph, root, set(graph.inputs))
    arena = _pack(spans, {r: graph.tensors[r].size for r in spans})
    places.update({r: ("arena", off) for r, off in arena.items()})
    for index, r in root.items():
        places[index] = places[r]
    end = max((arena[r] + graph.tensors[r].size for r in arena), default=0)
    return Plan(places, _aligned(end))


def _alias_roots(graph: Graph) -> dict[int, int]:
    """Output of each reshape-like op -> the tensor whose bytes it reuses."""
    root: dict[int, int] = {}
    for op in graph.operators:
        if op.op in ALIAS_OPS:
            source = op.inputs[0]
            root[op.outputs[0]] = root.get(source, source)
    return root


def _lifetimes(graph: Graph, root: dict[int, int], external: set[int]) -> dict[int, tuple[int, int]]:
    """Root activation tensor -> (first op writing it, last op reading it), graph outputs live to the end."""
    spans: dict[int, list[int]] = {}
    for step, op in enumerate(graph.operators):
        for t in op.outputs + [i for i in op.inputs if i >= 0]:
            r = root.get(t, t)
            if graph.tensors[r].data is None and r not in external:
                span = spans.setdefault(r, [step, step])
                span[1] = max(span[1], step)
    for t in graph.outputs:
        r = root.get(t, t)
        if r in spans:
            spans[r][1] = len(graph.operators)
    return {r: (a, b) for r, (a, b) in spans.items()}


def _pack(spans: dict[int, tuple[int, int]], sizes: dict[int, int]) -> dict[int, int]:
    """Greedy first fit: the largest tensors first, each at the lowest offset free during its lifetime."""
    placed: list[tuple[int, int, int, int]] = []  # (offset, end, first, last)
    offsets: dict[int, int] = {}
    for r in sorted(spans, key=lambda t: (-sizes[t], spans[t][0], t)):
        first, last = spans[r]
        busy = sorted((o, e) for o, e, f, l in placed if not (l < first or f > last))
        offset = 0
        for o, e in busy:
            if offset + sizes[r] <= o:
                break
            offset = max(offset, _aligned(e))
        offsets[r] = offset
        placed.append((offset, offset + sizes[r], first, last))
    return offsets


def _aligned(n: int) -> int:
    return (n + ALIGN - 1) // ALIGN * ALIGN
