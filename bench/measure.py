#!/usr/bin/env python3
"""Runs a command and prints what it cost, as `key: value` lines on stderr (so the command's own
stdout stays untouched): seconds (wall clock), user and system (CPU seconds), max_rss_kb (peak
resident set size of the command, from wait4's resource usage).

    bench/measure.py [-o FILE] COMMAND [ARGS...]     (-o: write the lines to FILE instead)

Exits with the command's status. Used by bench/run-ingest in place of GNU time, which a minimal
Debian install lacks.
"""
import os
import sys
import time


def main():
    args = sys.argv[1:]
    out = sys.stderr
    if args[:1] == ["-o"]:
        out = open(args[1], "w", encoding="utf-8")
        args = args[2:]
    if not args:
        print(__doc__, file=sys.stderr)
        return 2
    started = time.monotonic()
    # posix_spawn, not fork: a forked copy of this interpreter would count in the peak RSS.
    pid = os.posix_spawnp(args[0], args, os.environ)
    _, wait_status, usage = os.wait4(pid, 0)
    seconds = time.monotonic() - started
    status = os.waitstatus_to_exitcode(wait_status)
    print(f"seconds: {seconds:.3f}", file=out)
    print(f"user: {usage.ru_utime:.3f}", file=out)
    print(f"system: {usage.ru_stime:.3f}", file=out)
    print(f"max_rss_kb: {usage.ru_maxrss}", file=out)
    out.flush()
    return status if status >= 0 else 128 - status


if __name__ == "__main__":
    sys.exit(main())
