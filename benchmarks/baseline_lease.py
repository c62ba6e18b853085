"""The yardstick: a plain, hand-written Python BFS of tests/contract/lease_handoff.yaml.

Written by hand from the spec's text, the way one would without a model checker: a state is a
nested tuple, the visited set is a dict from each state to its parent (so a counterexample can
be rebuilt), the queue is a collections.deque, and the successor code follows the spec's
transition order (Worker[0].read/take/work, Worker[1]..., then crash(w) for w ascending).

    state = (lease, grants, health, pcs, seen)
      lease   int, -1 when free
      grants  tuple of worker numbers, at most GRANTS long
      health  tuple of "up" / "down", one per worker
      pcs     tuple of "read" / "take" / "work", one per worker (Worker.pc)
      seen    tuple of ints, one per worker (Worker.seen)

Properties, as in the spec: invariants single_holder (expected violated) and free_or_granted,
the transition property history_only_grows, the witness both_crashed.  Each is checked until it
is decided, as dnsrace does: a state property on every newly found state, the transition
property on every transition.  BFS finds states in order of depth, so the first state found
for a property ends a shortest counterexample.
"""

from __future__ import annotations

from collections import deque


def replace(t: tuple, i: int, value) -> tuple:
    """`t` with element i set to `value`."""
    return t[:i] + (value,) + t[i + 1:]


def initial_state(workers: int) -> tuple:
    return (-1, (), ("up",) * workers, ("read",) * workers, (-1,) * workers)


def successors(state: tuple, workers: int, grants_max: int) -> list[tuple]:
    """Successors of `state`, one per enabled transition, in the spec's transition order."""
    lease, grants, health, pcs, seen = state
    out = []
    for w in range(workers):
        pc = pcs[w]
        if pc == "read":
            # guard: health[self] == up and len(grants) < GRANTS;  effect: seen = lease
            if health[w] == "up" and len(grants) < grants_max:
                out.append((lease, grants, health, replace(pcs, w, "take"),
                            replace(seen, w, lease)))
        elif pc == "take":
            # guard: seen == -1 and len(grants) < GRANTS
            # effect: lease = self; grants = append(grants, self)
            if seen[w] == -1 and len(grants) < grants_max:
                out.append((w, grants + (w,), health, replace(pcs, w, "work"), seen))
        else:
            # work: if owns(self): lease = -1;  next: read
            out.append((-1 if lease == w else lease, grants, health, replace(pcs, w, "read"),
                        seen))
    for w in range(workers):
        # crash(w): guard health[w] == up;  effect: health[w] = down; if lease == w: lease = -1
        if health[w] == "up":
            out.append((-1 if lease == w else lease, grants, replace(health, w, "down"), pcs,
                        seen))
    return out


def single_holder(state: tuple) -> bool:
    return state[3].count("work") <= 1


def free_or_granted(state: tuple) -> bool:
    lease, grants = state[0], state[1]
    # grants[len(grants) - 1]: an empty history would raise, a run-time error in the spec too
    return lease == -1 or lease == grants[len(grants) - 1]


def history_only_grows(state: tuple, successor: tuple) -> bool:
    return len(successor[1]) >= len(state[1])


def both_crashed(state: tuple) -> bool:
    return all(h == "down" for h in state[2])


def bfs(workers: int, grants_max: int) -> dict:
    """Explore every reachable state; returns the counts and, per property, the state (or the
    step) that ends its first shortest counterexample or witness, or None."""
    init = initial_state(workers)
    parent = {init: None}
    queue = deque([init])
    found = {"single_holder": None, "free_or_granted": None, "history_only_grows": None,
             "both_crashed": None}

    def check_state(s: tuple) -> None:
        if found["single_holder"] is None and not single_holder(s):
            found["single_holder"] = s
        if found["free_or_granted"] is None and not free_or_granted(s):
            found["free_or_granted"] = s
        if found["both_crashed"] is None and both_crashed(s):
            found["both_crashed"] = s

    check_state(init)
    transitions = 0
    depth = 0
    while queue:
        for _ in range(len(queue)):          # one BFS level
            state = queue.popleft()
            for succ in successors(state, workers, grants_max):
                transitions += 1
                if found["history_only_grows"] is None and not history_only_grows(state, succ):
                    found["history_only_grows"] = (state, succ)
                if succ not in parent:
                    parent[succ] = state
                    queue.append(succ)
                    check_state(succ)
        if queue:
            depth += 1
    return {"states": len(parent), "transitions": transitions, "depth": depth,
            "found": found, "parent": parent}


def trace(parent: dict, end: tuple) -> list[tuple]:
    """The path from the initial state to `end`, rebuilt from the parent links."""
    path = []
    while end is not None:
        path.append(end)
        end = parent[end]
    path.reverse()
    return path


def verdicts(result: dict) -> dict[str, tuple[str, int | None]]:
    """Per property: (outcome, trace length in transitions), named as dnsrace names them."""
    found, parent = result["found"], result["parent"]
    out = {}
    for name in ("single_holder", "free_or_granted"):
        end = found[name]
        out[name] = ("holds", None) if end is None else ("violated", len(trace(parent, end)) - 1)
    step = found["history_only_grows"]
    out["history_only_grows"] = (("holds", None) if step is None
                                 else ("violated", len(trace(parent, step[0]))))
    end = found["both_crashed"]
    out["both_crashed"] = (("unreachable", None) if end is None
                           else ("reachable", len(trace(parent, end)) - 1))
    return out


if __name__ == "__main__":
    import sys
    import time

    w, g = (int(a) for a in sys.argv[1:3]) if len(sys.argv) > 2 else (2, 3)
    t0 = time.perf_counter()
    r = bfs(w, g)
    print(f"WORKERS={w} GRANTS={g}: {r['states']} states, {r['transitions']} transitions, "
          f"depth {r['depth']}, {time.perf_counter() - t0:.2f} s; {verdicts(r)}")
