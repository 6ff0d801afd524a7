#!/usr/bin/env python3
"""Compare two run records point by point (issue 14: "behaviour must not change").

    scripts/compare-records.py BEFORE/record.json AFTER/record.json

Same point keys, verdicts, sample counts and means (to 1e-12), the same
instruments and meters; prints one line per difference and exits 1 if any.
Timestamps, run ids and file paths are not compared; a profile whose file
changed is noted (its hash), not counted as a difference.
"""
import json
import sys


def points(record):
    out = {}
    for p in record["points"]:
        samples = p.get("samples") or []
        out[p["key"]] = (
            p.get("verdict"),
            len(samples),
            p.get("mean_error_pct"),
            p.get("expanded_uncertainty_pct"),
            p.get("limit_pct"),
        )
    return out


def same(a, b):
    if isinstance(a, float) and isinstance(b, float):
        return a == b or abs(a - b) <= 1e-12 * max(1.0, abs(a), abs(b))
    return a == b


def main():
    before, after = (json.load(open(f)) for f in sys.argv[1:3])
    diffs = []
    pb, pa = points(before), points(after)
    for k in sorted(set(pb) | set(pa)):
        if k not in pa:
            diffs.append(f"{k}: only before")
        elif k not in pb:
            diffs.append(f"{k}: only after")
        elif not all(same(x, y) for x, y in zip(pb[k], pa[k])):
            diffs.append(f"{k}: {pb[k]} -> {pa[k]}")
    for field in ("status", "seed", "simulated", "instruments", "findings"):
        if before.get(field) != after.get(field):
            diffs.append(f"{field}: differs")
    # A profile edited on purpose changes its hash, not the meter.
    def meters(r):
        return [{k: v for k, v in m.items() if k != "profile"} for m in r.get("meters", [])]
    if meters(before) != meters(after):
        diffs.append("meters: differ")
    for mb, ma in zip(before.get("meters", []), after.get("meters", [])):
        if mb.get("profile") != ma.get("profile"):
            print(f"note: position {ma.get('position')}: profile file changed ({ma['profile'].get('path')})")
    for d in diffs:
        print(d)
    verdicts = {}
    for v in pa.values():
        verdicts[v[0]] = verdicts.get(v[0], 0) + 1
    print(f"{len(pa)} points compared, {len(diffs)} differences; verdicts after: {verdicts}")
    sys.exit(1 if diffs else 0)


main()
