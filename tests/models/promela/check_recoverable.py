#!/usr/bin/env python3
"""The `recoverable` verdicts of the DWFM and NLB specs, computed without dnsrace or SPIN.

`recoverable P` is CTL's AG EF P, which SPIN's LTL cannot state.  This script models
specs/dwfm_lease_{collapse,admission}.yaml and specs/nlb_health_{flapping,capped}.yaml by
hand (one Python successor function each, transitions in the specs' order), explores them
breadth-first, and finds the states from which no path reaches P (backward reachability from
the P-states).  It compares, for each `recoverable` entry of tests/models/liveness_expected.json,
the states, transitions and the verdict (a trap: violated; none: holds).

Usage: python3 tests/models/promela/check_recoverable.py     (standard library only)
"""
import json
import os
import sys
from collections import deque

def explore(init, succ):
    """Breadth-first: each state's depth, each state's successors, the transitions counted."""
    depth = {init: 0}
    edges = {}
    transitions = 0
    queue = deque([init])
    while queue:
        s = queue.popleft()
        edges[s] = succ(s)
        transitions += len(edges[s])
        for t in edges[s]:
            if t not in depth:
                depth[t] = depth[s] + 1
                queue.append(t)
    return depth, edges, transitions


def agef(depth, edges, p):
    """The depth of the shallowest trap (a state from which no path reaches p), or None."""
    preds = {}
    for s, succs in edges.items():
        for t in succs:
            preds.setdefault(t, set()).add(s)
    good = {s for s in depth if p(s)}
    queue = deque(good)
    while queue:
        for s in preds.get(queue.popleft(), ()):
            if s not in good:
                good.add(s)
                queue.append(s)
    traps = [depth[s] for s in depth if s not in good]
    return min(traps) if traps else None


def replace(t, i, v):
    return t[:i] + (v,) + t[i + 1:]


def dwfm(droplets, work, deadline, admit=None):
    """A state is (held, waiting, progress, age, budget, turn), the spec's variables."""
    init = ((False,) * droplets, (False,) * droplets, (0,) * droplets, (0,) * droplets, 1, 0)

    def succ(s):
        held, waiting, progress, age, budget, turn = s
        queue = [d for d in range(droplets) if waiting[d]]
        out = []
        for i in range(droplets):                                   # Droplet[i].ask
            if not held[i] and not waiting[i] and (admit is None or len(queue) < admit):
                out.append((held, replace(waiting, i, True), progress, age, budget, turn))
        if budget > 0 and queue:                                    # DWFM[0].work(d=serving)
            d = (turn + min((x - turn) % droplets for x in queue)) % droplets
            if progress[d] == work - 1:
                out.append((replace(held, d, True), replace(waiting, d, False),
                            replace(progress, d, 0), replace(age, d, 0), 0, (d + 1) % droplets))
            else:
                out.append((held, waiting, replace(progress, d, progress[d] + 1), age, 0,
                            (d + 1) % droplets))
        if budget == 0 or not queue:                                # tick
            w, p, a = list(waiting), list(progress), list(age)
            for d in queue:
                if a[d] == deadline - 1:
                    w[d], p[d], a[d] = False, 0, 0
                else:
                    a[d] += 1
            out.append((held, tuple(w), tuple(p), tuple(a), 1, turn))
        return out

    return init, succ, lambda s: all(s[0])


def nlb(targets, cap=None):
    """A state is (lagging, in_service, checking), the spec's variables."""
    init = ((True,) * targets, (True,) * targets, 0)

    def succ(s):
        lagging, in_service, c = s
        out = [(replace(lagging, t, False), in_service, c)           # NetworkManager[0].propagate(t)
               for t in range(targets) if lagging[t]]
        lag, ins = lagging, in_service                              # HealthChecker[0].check
        if lagging[c]:
            if cap is None or (in_service[c] and in_service.count(False) < cap):
                ins = replace(in_service, c, False)
        elif not in_service[c]:
            ins = replace(in_service, c, True)
            lag = replace(lagging, c, True)
        out.append((lag, ins, (c + 1) % targets))
        return out

    return init, succ, lambda s: all(s[1]) and not any(s[0])


MODELS = {
    'specs/dwfm_lease_collapse.yaml': lambda c: dwfm(c['DROPLETS'], c['WORK'], c['DEADLINE']),
    'specs/dwfm_lease_admission.yaml': lambda c: dwfm(c['DROPLETS'], c['WORK'], c['DEADLINE'], c['ADMIT']),
    'specs/nlb_health_flapping.yaml': lambda c: nlb(c['TARGETS']),
    'specs/nlb_health_capped.yaml': lambda c: nlb(c['TARGETS'], c['CAP']),
}


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, '..', 'liveness_expected.json')) as f:
        expected = json.load(f)
    ok = True
    for name, e in expected.items():
        if name.startswith('_') or e['spec'] not in MODELS or not e['expr'].startswith('recoverable'):
            continue
        init, succ, p = MODELS[e['spec']](e['constants'])
        seen, edges, transitions = explore(init, succ)
        trap_depth = agef(seen, edges, p)
        verdict = 'holds' if trap_depth is None else 'violated'
        good = (len(seen), transitions, verdict) == (e['dnsrace_states'], e['dnsrace_transitions'],
                                                     e['expected'])
        ok = ok and good
        print('%-44s %s %-8s states=%d transitions=%d%s' % (
            name, 'ok  ' if good else 'FAIL', verdict, len(seen), transitions,
            '' if trap_depth is None else ' trap at depth %d' % trap_depth))
    sys.exit(0 if ok else 1)


if __name__ == '__main__':
    main()
