#!/usr/bin/env python3
"""Re-run SPIN's LTL checks on the liveness twins and compare with tests/models/liveness_expected.json.

Usage: python3 tests/models/promela/check_spin_liveness.py [--record] [ENTRY ...]

For every entry that names a twin, in a scratch directory:
  spin [-DNAME=V ...] -a TWIN
  gcc -O2 -DNOREDUCE -DSAFETY -DNOCLAIM -o pan_safety pan.c && ./pan_safety -m1000000
      -> `states, stored` must equal dnsrace's states, `transitions` dnsrace's + 1
  gcc -O2 -DNOREDUCE -DNFAIR=3 -o pan pan.c
  ./pan -a -f -m1000000 -N LTL      (the spec's weak fairness: one process per fairness unit)
  ./pan -a -m1000000 -N LTL         (no fairness, for comparison)
      -> `errors: 0` is `holds`, anything else `violated`
Entries without a twin (`recoverable`, which LTL cannot state) are listed and not run.
Exits 1 on any difference from the JSON file; --record writes SPIN's answers into it
instead.  Needs `spin` and `gcc` on PATH (Debian: apt-get install spin).  Standard library only.
"""
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, '..', '..', '..'))
EXPECTED = os.path.join(HERE, '..', 'liveness_expected.json')


def pan_out(text):
    if 'max search depth too small' in text or 'too many processes' in text:
        raise RuntimeError('pan did not search the whole space:\n' + text)
    stored = re.search(r'(\d+) states, stored', text)
    trans = re.search(r'(\d+) transitions \(= stored\+matched\)', text)
    errors = re.search(r'errors: (\d+)', text)
    if not (stored and errors):
        raise RuntimeError('unexpected pan output:\n' + text)
    return {'stored': int(stored.group(1)), 'errors': int(errors.group(1)),
            'transitions': int(trans.group(1)) if trans else None}


class Builds:
    """One scratch directory per (twin, defines): the safety pan and the liveness pan."""

    def __init__(self, scratch):
        self.scratch = scratch
        self.dirs = {}

    def get(self, twin, defines):
        key = (twin, tuple(defines))
        if key not in self.dirs:
            d = os.path.join(self.scratch, str(len(self.dirs)))
            os.mkdir(d)
            run = lambda args: subprocess.run(args, cwd=d, capture_output=True, text=True, check=True)
            run(['spin'] + list(defines) + ['-a', os.path.join(ROOT, twin)])
            run(['gcc', '-O2', '-DNOREDUCE', '-DSAFETY', '-DNOCLAIM', '-o', 'pan_safety', 'pan.c'])
            run(['gcc', '-O2', '-DNOREDUCE', '-DNFAIR=3', '-o', 'pan', 'pan.c'])
            safety = pan_out(subprocess.run(['./pan_safety', '-m1000000'], cwd=d,
                                            capture_output=True, text=True).stdout)
            self.dirs[key] = (d, safety)
        return self.dirs[key]

    def ltl(self, twin, defines, name, fair):
        d, _ = self.get(twin, defines)
        args = ['./pan', '-a'] + (['-f'] if fair else []) + ['-m1000000', '-N', name]
        return pan_out(subprocess.run(args, cwd=d, capture_output=True, text=True).stdout)


def verdict(out):
    return 'holds' if out['errors'] == 0 else 'violated'


def check(name, entry, builds, record):
    if not entry.get('twin'):
        print('%-48s --    %-8s (not LTL: %s)' % (name, entry['expected'], entry['spin_note']))
        return True
    twin, defines, ltl = entry['twin'], entry['spin_defines'], entry['ltl']
    _, safety = builds.get(twin, defines)
    fair = builds.ltl(twin, defines, ltl, fair=True)
    unfair = builds.ltl(twin, defines, ltl, fair=False)
    got = {
        'spin_states_stored': safety['stored'],
        'spin_transitions': safety['transitions'],
        'spin_verdict': verdict(fair),
        'spin_errors': fair['errors'],
        'spin_verdict_without_fairness': verdict(unfair),
    }
    if record:
        entry.update(got)
    want = {k: entry.get(k) for k in got}
    ok = (got == want and got['spin_states_stored'] == entry['dnsrace_states']
          and got['spin_transitions'] == entry['dnsrace_transitions'] + 1
          and got['spin_verdict'] == entry['expected'])
    print('%-48s %s %-8s (no fairness: %-8s) stored=%d%s' % (
        name, 'ok  ' if ok else 'FAIL', got['spin_verdict'], got['spin_verdict_without_fairness'],
        got['spin_states_stored'],
        '' if ok else '  expected %s, dnsrace states %d, expect %s' % (
            want, entry['dnsrace_states'], entry['expected'])))
    return ok


def main():
    args = sys.argv[1:]
    record = '--record' in args
    names = [a for a in args if a != '--record']
    with open(EXPECTED) as f:
        expected = json.load(f)
    names = names or [k for k in expected if not k.startswith('_')]
    ok = True
    with tempfile.TemporaryDirectory() as scratch:
        builds = Builds(scratch)
        for name in names:
            ok = check(name, expected[name], builds, record) and ok
    if record:
        with open(EXPECTED, 'w') as f:
            json.dump(expected, f, indent=2)
            f.write('\n')
        print('recorded SPIN\'s answers in', os.path.relpath(EXPECTED))
    sys.exit(0 if ok else 1)


if __name__ == '__main__':
    main()
