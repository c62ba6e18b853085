#!/usr/bin/env python3
"""Re-run SPIN on every Promela twin and compare with tests/models/expected_counts.json.

Usage: python3 tests/models/promela/check_spin.py [ENTRY ...]
Needs `spin` and `gcc` on PATH (Debian: apt-get install spin). Works in a scratch
directory; exits 1 on any mismatch. Standard library only.
"""
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
EXPECTED = os.path.join(HERE, '..', 'expected_counts.json')


def pan_numbers(text):
    if 'max search depth too small' in text:
        raise RuntimeError('search truncated: raise -m')
    return {
        'stored': int(re.search(r'(\d+) states, stored', text).group(1)),
        'transitions': int(re.search(r'(\d+) transitions \(= stored\+matched\)', text).group(1)),
        'depth': int(re.search(r'depth reached (\d+)', text).group(1)),
        'errors': int(re.search(r'errors: (\d+)', text).group(1)),
    }


def check(name, entry, workdir):
    cmd = entry['spin_command']
    spin_flags = re.search(r'spin((?: -D\S+)*) -a', cmd).group(1).split()
    pan_flags = cmd.rsplit('./pan', 1)[1].split()
    model = os.path.join(HERE, os.path.basename(entry['spec'])[:-len('.yaml')] + '.pml')
    run = lambda args: subprocess.run(args, cwd=workdir, capture_output=True, text=True, check=True).stdout
    run(['spin'] + spin_flags + ['-a', model])
    run(['gcc', '-O2', '-DNOREDUCE', '-DSAFETY', '-o', 'pan', 'pan.c'])
    run(['gcc', '-O2', '-DNOREDUCE', '-DSAFETY', '-DBFS', '-o', 'pan_bfs', 'pan.c'])
    dfs = pan_numbers(subprocess.run(['./pan'] + pan_flags, cwd=workdir, capture_output=True, text=True).stdout)
    bfs = pan_numbers(subprocess.run(['./pan_bfs'] + [f for f in pan_flags if not f.startswith('-m')],
                                     cwd=workdir, capture_output=True, text=True).stdout)
    got = (dfs['stored'], dfs['transitions'], bfs['depth'], dfs['errors'])
    want = (entry['spin_states_stored'], entry['spin_transitions'], entry['spin_bfs_depth'],
            entry.get('spin_errors', 0))
    ok = got == want
    print('%-36s %s stored=%d transitions=%d bfs_depth=%d errors=%d%s' % (
        name, 'ok  ' if ok else 'FAIL', got[0], got[1], got[2], got[3],
        '' if ok else '  (expected %s)' % (want,)))
    return ok


def main():
    expected = json.load(open(EXPECTED))
    names = sys.argv[1:] or [k for k in expected if not k.startswith('_')]
    ok = True
    for name in names:
        with tempfile.TemporaryDirectory() as d:
            ok = check(name, expected[name], d) and ok
    sys.exit(0 if ok else 1)


if __name__ == '__main__':
    main()
