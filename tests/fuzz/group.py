"""`python -m tests.fuzz.group OUT`: the failures saved under OUT/failures, grouped by cause
(the verdict, the innermost dnsrace frame of a traceback, and the last line with its numbers
blanked), each group with its smallest input as the reproducer."""

from __future__ import annotations

import json
import re
import sys
from collections import defaultdict
from pathlib import Path

FRAME = re.compile(r'File "([^"]*dnsrace/[^"]*)", line (\d+), in (\S+)')


def cause(record: dict) -> tuple[str, str, str]:
    detail = record["detail"]
    lines = [ln.strip() for ln in detail.strip().splitlines() if ln.strip()]
    last = lines[-1] if lines else ""
    frames = FRAME.findall(detail)
    where = ""
    if frames:
        path, line, func = frames[-1]
        where = f"{path.split('dnsrace/', 1)[1]}:{line} {func}"
    if record["verdict"] == "no-position":
        last = re.sub(r"^.*?(error|warning)\[", r"\1[", last)
        last = re.sub(r"(DR\d+ [a-z-]+\]: [^:]{0,40}).*", r"\1", last)
    shape = re.sub(r"\d+", "N", last)
    shape = re.sub(r"'[^']{0,60}'", "'…'", shape)[:160]
    return record["verdict"], where, shape


def size(folder: Path) -> int:
    return sum(p.stat().st_size for p in (folder / "files").rglob("*") if p.is_file())


def main(out: str) -> None:
    groups: dict[tuple, list[Path]] = defaultdict(list)
    for rec_file in sorted(Path(out, "failures").glob("*/*/outcome.json")):
        record = json.loads(rec_file.read_text())
        groups[cause(record)].append(rec_file.parent)
    for (verdict, where, shape), folders in sorted(groups.items(), key=lambda g: -len(g[1])):
        best = min(folders, key=size)
        record = json.loads((best / "outcome.json").read_text())
        families = sorted({f.name.rsplit("-", 1)[0] for f in folders})
        print(f"## {verdict}: {shape}")
        print(f"- {len(folders)} inputs ({', '.join(families)}); at {where or '-'}")
        print(f"- reproducer: {best} ({size(best)} bytes; {record['note'][:80]})")
        print(f"- command: {' '.join(record['argv'])[:200]}")
        print()


if __name__ == "__main__":
    main(sys.argv[1])
