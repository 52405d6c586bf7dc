#!/usr/bin/env python3
"""linepool-client's own bench rows (issue 16, point 10), against one Redis in one run:

  1. `linepool-client bench -t 1 -c 50` (inline PING) vs `redis-benchmark -t ping_inline -c 50`:
     the client must drive >= 1.3 x the req/s redis-benchmark gets from the same Redis;
  2. a template with a random key (`--command 'GET k:__rand_int__' -r 1000000`) vs the fixed
     message of the same length (`--message 'GET k:000000000001'`): it may cost <= 5 %.

Runs alternate, REPS times each, and the median counts. Prints the rows and writes them to
OUT/client_rows.json. Called by tests/bench/run; alone:
  python3 tests/bench/client_rows.py CLIENT REDIS_PORT REQUESTS REPS OUT
Exit status 0 when it measured (a missed target is a FAIL row, not an error), 1 otherwise.
"""
import json
import os
import statistics
import subprocess
import sys


def client_rps(client, port, args, out, name):
    path = os.path.join(out, "client-rows-%s.json" % name)
    p = subprocess.run([client, "bench", "-p", str(port), "-q", "--json", path] + args,
                       capture_output=True, text=True, timeout=600)
    if p.returncode != 0:
        raise RuntimeError("%s: %s" % (name, p.stderr.strip()[-300:]))
    with open(path) as f:
        rep = json.load(f)
    if rep["errors"]["total"]:
        raise RuntimeError("%s: %d errors" % (name, rep["errors"]["total"]))
    return rep["requests_per_second"]


def redis_benchmark_rps(port, n):
    p = subprocess.run(["redis-benchmark", "-h", "127.0.0.1", "-p", str(port), "-t",
                        "ping_inline", "-c", "50", "-n", str(n), "--csv"],
                       capture_output=True, text=True, timeout=600)
    for line in p.stdout.splitlines():
        f = [x.strip('"') for x in line.split(",")]
        if f and f[0] == "PING_INLINE":
            return float(f[1])
    raise RuntimeError("redis-benchmark: no PING_INLINE row: %s" % p.stderr.strip()[-300:])


def main(argv):
    if len(argv) != 6:
        print(__doc__, file=sys.stderr)
        return 2
    client, port, n, reps, out = argv[1], int(argv[2]), int(argv[3]), int(argv[4]), argv[5]
    runs = {"redis-benchmark": [], "bench-t1": [], "fixed": [], "template": []}
    common = ["-c", "50", "-t", "1", "-n", str(n)]
    try:
        for _ in range(reps):
            runs["redis-benchmark"].append(redis_benchmark_rps(port, n))
            runs["bench-t1"].append(client_rps(client, port, common, out, "t1"))
            runs["fixed"].append(client_rps(client, port, common + ["--message",
                                                                    "GET k:000000000001"],
                                            out, "fixed"))
            runs["template"].append(client_rps(client, port, common + [
                "--command", "GET k:__rand_int__", "-r", "1000000"], out, "template"))
    except (RuntimeError, subprocess.TimeoutExpired) as e:
        print("client_rows: %s" % e, file=sys.stderr)
        return 1
    med = {k: statistics.median(v) for k, v in runs.items()}
    rows = [
        ("client: bench -t 1 -c 50 vs redis-benchmark -t ping_inline -c 50 (same Redis)",
         med["bench-t1"], med["redis-benchmark"], med["bench-t1"] / med["redis-benchmark"],
         ">= 1.30"),
        ("client: --command 'GET k:__rand_int__' -r 1e6 vs --message 'GET k:000000000001'",
         med["template"], med["fixed"], med["template"] / med["fixed"], ">= 0.95"),
    ]
    print("| row | req/s | vs req/s | ratio | target | verdict |")
    print("|---|---|---|---|---|---|")
    result = {"runs": runs, "median": med, "rows": []}
    for name, a, b, ratio, target in rows:
        ok = ratio >= float(target.split()[1])
        print("| %s | %s | %s | %.3f | %s | %s |" % (name, "{:,.0f}".format(a),
                                                    "{:,.0f}".format(b), ratio, target,
                                                    "PASS" if ok else "FAIL"))
        result["rows"].append({"row": name, "value": a, "peer": b, "ratio": ratio,
                               "target": target, "pass": ok})
    with open(os.path.join(out, "client_rows.json"), "w") as f:
        json.dump(result, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
