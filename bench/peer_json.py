#!/usr/bin/env python3
"""Peer baseline for bench_convert: Python's json.loads over the same NDJSON lines.

    python3 bench/peer_json.py DATA.ndjson [--repeat 3]

Lines are read into memory first (as bytes, blank lines skipped, like bench_convert); only the
json.loads loop is timed, best of --repeat passes. MB is 10^6 bytes of record text (newlines
excluded), the unit bench_convert reports. json.loads only parses into Python objects; it does no
schema conversion, so it is a lower bound on what a Python connector spends per record.
"""
import argparse
import json
import sys
import time


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", help="NDJSON file, one JSON record per line")
    parser.add_argument("--repeat", type=int, default=3, help="passes; the fastest is reported")
    args = parser.parse_args()
    if args.repeat <= 0:
        parser.error("--repeat needs a positive integer")

    with open(args.data, "rb") as f:
        lines = [line.rstrip(b"\r\n") for line in f]
    lines = [line for line in lines if line.strip()]
    if not lines:
        sys.exit(f"peer_json: '{args.data}' holds no records")
    nbytes = sum(len(line) for line in lines)

    best = None
    loads = json.loads
    for r in range(args.repeat):
        start = time.perf_counter()
        for line in lines:
            loads(line)
        seconds = time.perf_counter() - start
        print(f"peer_json: pass {r + 1}: {seconds:.3f} s", file=sys.stderr)
        best = seconds if best is None else min(best, seconds)

    print(f"python: {sys.version.split()[0]}")
    print(f"records: {len(lines)}")
    print(f"bytes: {nbytes}")
    print(f"best_seconds: {best:.4f}")
    print(f"mb_per_s: {nbytes / 1e6 / best:.1f}")
    print(f"records_per_s: {len(lines) / best:.0f}")


if __name__ == "__main__":
    main()
