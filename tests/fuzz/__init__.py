"""A fuzzer of dnsrace's front end, checker and replay that stays in the repository.

Every generated input is a command line and the files it reads (specs, traces, FIFOs), run
as the `dnsrace` console script runs, inside worker processes under a memory cap and a time
bound.  An input passes when the exit status is 0, 1, 2 or 3, no traceback escapes, it
finishes in time and within the memory cap, and every diagnostic of an exit 2 names a
position (path:line:col; file-level errors DR109 and command-line errors DR4xx name the file
or the option instead).

    corpus     the seeds: the shipped specs, tests/models, tests/contract, tests/broken, valid
               specs from tests/reference/specgen.py, trace files written by
               `dnsrace check --trace-dir`, and the `--output json=` of those checks
    families   one generator per input class of the hardening issue, plus generic mutation
    mutate     byte, line and token mutations of spec text and trace JSON
    execute    running one input in-process (or, for signals, as a subprocess) and judging it
    runner     the worker pool: memory cap, time bound, recycling, failures saved to disk

The short run is tests/test_fuzz.py; the long one is `python -m tests.fuzz --inputs 100000`.
"""
