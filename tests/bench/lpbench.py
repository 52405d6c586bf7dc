#!/usr/bin/env python3
"""Glue for tests/bench/run: free ports, idle-connection holder, parsing each tool's report
into one results file, and the final table, RESULTS.md entry and SVG chart.

Every measurement is one JSON line in OUT/results.jsonl: {"key": ..., field: value, ...}.
A key measured several times (repetitions) is reported as the median of each field."""
import datetime
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time

PEERS = {"redis": "Redis", "memcached": "memcached", "iperf3": "iperf3",
         "floor": "the floor (floor_echo.c)"}


# --- small commands used by the run script ------------------------------------------------

def cmd_port():
    """Print a free loopback TCP port (the kernel's pick for port 0)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        print(s.getsockname()[1])


def cmd_wait_port(port, seconds="10"):
    """Exit 0 once 127.0.0.1:PORT accepts a connection, 1 after SECONDS."""
    deadline = time.monotonic() + float(seconds)
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", int(port)), timeout=1).close()
            return 0
        except OSError:
            time.sleep(0.05)
    return 1


def cmd_hold(port, count, ready_file):
    """Open COUNT idle connections to PORT, write their number to READY_FILE, then hold them
    until SIGTERM. A separate process from the server, so the server's RSS is its own."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    socks = []
    for _ in range(int(count)):
        s = socket.socket()
        s.settimeout(10)
        s.connect(("127.0.0.1", int(port)))
        socks.append(s)
    with open(ready_file + ".tmp", "w") as f:
        f.write("%d\n" % len(socks))
    os.rename(ready_file + ".tmp", ready_file)
    while True:
        time.sleep(3600)


def cmd_scrape(port, period, ready_file):
    """GET /metrics from the admin listener at 127.0.0.1:PORT every PERIOD seconds until
    SIGTERM; each scrape must be a 200. Writes the number of scrapes to READY_FILE at exit."""
    n = [0]

    def done(*_):
        with open(ready_file, "w") as f:
            f.write("%d\n" % n[0])
        sys.exit(0)

    signal.signal(signal.SIGTERM, done)
    while True:
        t = time.monotonic()
        with socket.create_connection(("127.0.0.1", int(port)), timeout=5) as s:
            s.sendall(b"GET /metrics HTTP/1.1\r\n\r\n")
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        if not data.startswith(b"HTTP/1.1 200 "):
            sys.exit("scrape failed: %r" % data[:80])
        n[0] += 1
        time.sleep(max(0.0, float(period) - (time.monotonic() - t)))


def cmd_wait_rss(pid, seconds="10"):
    """Print the RSS (KiB) of PID once it has not changed for 0.5 s (at most SECONDS)."""
    deadline = time.monotonic() + float(seconds)
    last, since = rss_kib(pid), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.1)
        now = rss_kib(pid)
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= 0.5:
            break
    print(last)


def rss_kib(pid):
    with open("/proc/%s/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS for pid %s" % pid)


# --- recording one measurement ----------------------------------------------------------------

def record(out, key, fields):
    fields = dict(fields, key=key)
    with open(os.path.join(out, "results.jsonl"), "a") as f:
        f.write(json.dumps(fields) + "\n")


def parse_bench(path):
    """linepool-client bench --json: req/s and latency percentiles in microseconds."""
    with open(path) as f:
        d = json.load(f)
    lat = d["latency_ns"]
    fields = {"rps": d["requests_per_second"], "errors": d["errors"]["total"],
              "requests": d["requests"]}
    # The first second holds the connects (10,000 take a good part of it): req/s from the
    # per-second series after it, when there is at least half a second of it.
    rest = [r for r in d.get("series", []) if r["t"] > 1.0 + 1e-6]
    dt = sum(r["dt"] for r in rest)
    fields["rps_steady"] = sum(r["requests"] for r in rest) / dt if dt >= 0.5 else fields["rps"]
    for p in ("p50", "p90", "p99", "p99.9"):
        if p in lat:
            fields[p] = lat[p] / 1000.0
    return fields


def parse_redis_benchmark(path):
    """redis-benchmark --csv: the PING_INLINE row's rps."""
    with open(path) as f:
        rows = [l.strip().split('","') for l in f if l.startswith('"PING_INLINE"')]
    if not rows:
        raise ValueError("no PING_INLINE row in %s" % path)
    return {"rps": float(rows[0][1].strip('"'))}


def parse_iperf3(path):
    """iperf3 -J: bytes/s received by the server (one stream)."""
    with open(path) as f:
        d = json.load(f)
    if "error" in d:
        raise ValueError("iperf3: %s" % d["error"])
    return {"bps": d["end"]["sum_received"]["bits_per_second"] / 8}


def parse_stream(path):
    """linepool-client stream --tsv: bytes, chunks, seconds, rate (the rate-meter's figures)."""
    with open(path) as f:
        b, chunks, secs, rate = f.read().split()[:4]
    return {"bps": float(rate), "bytes": int(b), "chunks": int(chunks), "seconds": float(secs)}


def parse_strace(path):
    """strace -c -f: system calls per request, against the requests the server answered
    while traced (its sendto/write/writev/sendmsg calls carry the replies; each reply is one
    of them at 1 in flight, and pipelined replies only lower the figure)."""
    calls, replies = 0, 0
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 5 and parts[-1] != "total" and parts[0][0].isdigit():
                n = int(parts[3])
                calls += n
                if parts[-1] in ("sendto", "write", "writev", "sendmsg"):
                    replies += n
    if not replies:
        raise ValueError("no reply system calls in %s" % path)
    return {"syscalls_per_req": calls / replies, "calls": calls}


PARSERS = {"bench": parse_bench, "strace": parse_strace, "redis-benchmark": parse_redis_benchmark,
           "iperf3": parse_iperf3, "stream": parse_stream}


def cmd_add(out, key, kind, path):
    """Parse PATH (a report of KIND) and record it under KEY; exit 1 if it cannot be read."""
    try:
        fields = PARSERS[kind](path)
    except (OSError, ValueError, KeyError, IndexError) as e:
        print("lpbench: %s: cannot read %s report %s: %s" % (key, kind, path, e), file=sys.stderr)
        return 1
    record(out, key, fields)
    shown = ["%s %s" % (k, fmt(fields[k], u)) for k, u in (("rps", "req/s"), ("bps", "MB/s"),
                                                          ("p50", "µs"), ("p99", "µs"))
             if k in fields]
    print("  %-24s %s" % (key, ", ".join(shown)))
    return 0


def cmd_cpu(pid):
    """Print PID's utime+stime in seconds."""
    with open("/proc/%s/stat" % pid) as f:
        x = f.read().rsplit(")", 1)[1].split()
    print((int(x[11]) + int(x[12])) / os.sysconf("SC_CLK_TCK"))


def cmd_put_cpu(out, key, before, after):
    """Record the server CPU per request of the bench just recorded under KEY."""
    runs = [json.loads(l) for l in open(os.path.join(out, "results.jsonl"))]
    last = [r for r in runs if r["key"] == key and "rps" in r and "cpu_us_per_req" not in r]
    if not last:
        return 1
    r = last[-1]
    requests = r["rps"] * r.get("seconds", 0) if r.get("seconds") else r.get("requests", 0)
    if not requests:
        return 1
    us = (float(after) - float(before)) / requests * 1e6
    record(out, key, {"cpu_us_per_req": us})
    print("  %-24s server CPU %.2f µs per request" % (key, us))
    return 0


def cmd_put(out, key, *pairs):
    """Record FIELD VALUE pairs under KEY."""
    record(out, key, {pairs[i]: float(pairs[i + 1]) for i in range(0, len(pairs), 2)})


# --- the report -------------------------------------------------------------------------------

def load(out):
    """key -> {field: median over the repetitions}, plus the repetition count as 'n'."""
    runs = {}
    path = os.path.join(out, "results.jsonl")
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                d = json.loads(line)
                runs.setdefault(d.pop("key"), []).append(d)
    res = {}
    for key, rows in runs.items():
        fields = {k for r in rows for k in r}
        res[key] = {k: statistics.median([r[k] for r in rows if k in r]) for k in fields}
        res[key]["n"] = len(rows)
    return res


def fmt(v, unit):
    if v is None:
        return "n/a"
    if unit == "req/s":
        return "{:,.0f}".format(v)
    if unit == "MB/s":
        return "{:,.0f}".format(v / 1e6)
    if unit == "µs":
        return "{:,.0f}".format(v) if v >= 100 else "{:.1f}".format(v)
    if unit == "B/conn":
        return "{:,.0f}".format(v)
    if unit in ("µs", "calls"):
        return "{:.2f}".format(v)
    return str(v)


def get(res, key, field):
    return res.get(key, {}).get(field)


def verdict(ratio, target):
    """target: ('>=', x) or ('<=', x) on the ratio, or None for information only."""
    if target is None:
        return "", ""
    op, x = target
    text = "%s %s×" % ("≥" if op == ">=" else "≤", ("%.2f" % x).rstrip("0").rstrip("."))
    if ratio is None:
        return text, "n/a"
    ok = ratio >= x if op == ">=" else ratio <= x
    if not ok and abs(ratio / x - 1) < 0.01:
        return text, "MISSED by < 1 %"  # the histogram's own error is up to 0.4 % a side
    return text, "met" if ok else "MISSED"


def main_rows(res, scale_counts):
    """(workload, metric, unit, linepool figure, peer name, peer figure, target) per row."""
    rows = []
    lp = lambda k, f: get(res, k, f)
    for wl, name, target in (("echo50", "echo, 50 conns, closed loop", (">=", 1.2)),
                             ("pipe32", "pipelined, 50 conns × 32 in flight", (">=", 1.0))):
        rows.append((name, "req/s", lp(wl + "/linepool", "rps"), "Redis",
                     lp(wl + "/redis", "rps"), target))
        rows.append((name, "req/s", lp(wl + "/linepool", "rps"), "memcached",
                     lp(wl + "/memcached", "rps"), None))
        rows.append((name + ", linepool --threads 1", "req/s", lp(wl + "/linepool-t1", "rps"),
                     "Redis", lp(wl + "/redis", "rps"), None))
    # issue 14: what the admin listener costs the hot path
    rows.append(("echo, 50 conns: --admin, scraped every 100 ms vs not scraped", "req/s",
                 lp("admin/scraped", "rps"), "not scraped", lp("admin/on", "rps"), (">=", 0.95)))
    rows.append(("echo, 50 conns: --admin (handler histograms) vs no --admin", "req/s",
                 lp("admin/on", "rps"), "no --admin", lp("admin/off", "rps"), (">=", 0.95)))
    for p, target in (("p50", None), ("p99", ("<=", 1.0))):
        rows.append(("one connection, 1 in flight", p + " µs", lp("one/linepool", p), "Redis",
                     lp("one/redis", p), target))
        rows.append(("one connection, 1 in flight", p + " µs", lp("one/linepool", p),
                     "memcached", lp("one/memcached", p), None))
    rows.append(("sink: stream 1 KiB lines → rate-meter", "MB/s", lp("sink/1k", "bps"),
                 "iperf3 (1 stream)", lp("sink/iperf3", "bps"), (">=", 0.8)))
    rows.append(("sink: stream 50-byte lines → rate-meter", "MB/s", lp("sink/50", "bps"),
                 "iperf3 (1 stream)", lp("sink/iperf3", "bps"), (">=", 0.5)))
    idle = lp("idle/linepool", "bytes_per_conn")
    rows.append(("idle: 10,000 open, RSS delta ÷ 10,000", "B/conn", idle, "budget 0.5 KiB",
                 512.0, ("<=", 1.0)))
    for peer in ("redis", "memcached"):
        rows.append(("idle: 10,000 open, RSS delta ÷ 10,000", "B/conn", idle, PEERS[peer],
                     lp("idle/" + peer, "bytes_per_conn"), None))
    scaled = {c: lp("scale/%d/linepool" % c, "rps_steady") for c in scale_counts}
    known = {c: v for c, v in scaled.items() if v}
    if known:
        best_c = max(known, key=known.get)
        rows.append(("scaling: %s conns vs its best (%s conns)" % (
            "{:,}".format(scale_counts[-1]), "{:,}".format(best_c)), "req/s",
            scaled[scale_counts[-1]], "linepool best", known[best_c], (">=", 0.7)))
    rows.append(("blocking handler: 1 conn asleep, others' p99", "p99 µs",
                 lp("block/stuck", "p99"), "linepool unstuck", lp("block/unstuck", "p99"),
                 ("<=", 2.0)))
    for s in ("linepool", "linepool-t1"):
        label = "" if s == "linepool" else ", linepool --threads 1"
        rows.append(("echo, 50 conns: server CPU per request" + label, "cpu µs",
                     lp("cpu/" + s, "cpu_us_per_req"), "Redis", lp("cpu/redis", "cpu_us_per_req"),
                     ("<=", 0.85) if s == "linepool" else None))
        rows.append(("echo, 50 conns: server CPU per request" + label, "cpu µs",
                     lp("cpu/" + s, "cpu_us_per_req"), PEERS["floor"],
                     lp("cpu/floor", "cpu_us_per_req"), None))
        rows.append(("echo, 50 conns: system calls per request" + label, "calls",
                     lp("syscalls/" + s, "syscalls_per_req"), "budget 2.1", 2.1,
                     ("<=", 1.0) if s == "linepool" else None))
    # What the bar of 0.85 x Redis stands on: the floor's own ratio in the same run.
    rows.append(("echo, 50 conns: server CPU per request, the floor itself", "cpu µs",
                 lp("cpu/floor", "cpu_us_per_req"), "Redis", lp("cpu/redis", "cpu_us_per_req"),
                 None))
    rows.append(("echo, 50 conns, closed loop, the floor itself", "req/s",
                 lp("echo50/floor", "rps"), "Redis", lp("echo50/redis", "rps"), None))
    for peer in ("redis", "memcached", "floor"):
        rows.append(("echo, 50 conns: system calls per request", "calls",
                     lp("syscalls/" + peer, "syscalls_per_req"), PEERS[peer] + " (itself)",
                     lp("syscalls/" + peer, "syscalls_per_req"), None))
    for us in ("20", "50"):
        name = "CPU-bound handler, %s µs/msg, 50 conns" % us
        rows.append((name + ": --threads 2 vs 1", "req/s", lp("burn%s/linepool-t2" % us, "rps"),
                     "linepool --threads 1", lp("burn%s/linepool-t1" % us, "rps"), (">=", 1.8)))
        rows.append((name + ": --threads 2 vs Go", "req/s", lp("burn%s/linepool-t2" % us, "rps"),
                     "Go, goroutine per conn", lp("burn%s/go" % us, "rps"), (">=", 1.0)))
    for ms, bar in (("10", 0.95), ("1", 0.90)):
        rows.append(("blocking: 64 conns, handler sleeps %s ms, --threads 32" % ms, "req/s",
                     lp("sleep%s/linepool-t32" % ms, "rps"), "ideal 32 × 1000/ms",
                     32 * 1000.0 / int(ms), (">=", bar)))
        one = lp("sleep%s/linepool-c1" % ms, "rps")
        rows.append(("blocking: 64 conns, handler sleeps %s ms, --threads 32" % ms, "req/s",
                     lp("sleep%s/linepool-t32" % ms, "rps"), "32 × one connection alone",
                     32 * one if one else None, None))
    for t in ("1", "2"):
        rows.append(("client: linepool-client bench -t %s vs redis-benchmark" % t, "req/s",
                     lp("client/bench-t" + t, "rps"), "redis-benchmark",
                     lp("client/redis-benchmark", "rps"), (">=", 1.3)))
    return rows


def table_main(res, scale_counts):
    head = ["workload", "metric", "linepool", "vs", "peer", "linepool ÷ peer", "target",
            "result"]
    lines = [head]
    for name, metric, a, peer, b, target in main_rows(res, scale_counts):
        unit = metric.split()[-1]
        ratio = a / b if a is not None and b else None
        t, v = verdict(ratio, target)
        lines.append([name, metric, fmt(a, unit), peer, fmt(b, unit),
                      "%.2f" % ratio if ratio is not None else "n/a", t, v])
    return lines


def table_scaling(res, scale_counts):
    lines = [["connections", "linepool req/s", "Redis req/s", "memcached req/s",
              "linepool ÷ Redis", "linepool ÷ memcached"]]
    for c in scale_counts:
        v = {s: get(res, "scale/%d/%s" % (c, s), "rps_steady") for s in ("linepool", "redis",
                                                                  "memcached")}
        r = lambda p: "%.2f" % (v["linepool"] / v[p]) if v["linepool"] and v[p] else "n/a"
        lines.append(["{:,}".format(c)] + [fmt(v[s], "req/s") for s in v]
                     + [r("redis"), r("memcached")])
    return lines


def table_latency(res):
    lines = [["workload", "server", "req/s", "p50 µs", "p90 µs", "p99 µs", "p99.9 µs"]]
    names = {"linepool": "linepool", "linepool-t1": "linepool --threads 1", "redis": "Redis",
             "memcached": "memcached"}
    for wl, title in (("echo50", "echo, 50 conns"), ("pipe32", "pipelined ×32"),
                      ("one", "one connection")):
        for s, n in names.items():
            k = "%s/%s" % (wl, s)
            if k in res:
                lines.append([title, n, fmt(get(res, k, "rps"), "req/s")]
                             + [fmt(get(res, k, p), "µs") for p in ("p50", "p90", "p99",
                                                                    "p99.9")])
    return lines


def markdown(lines):
    out = ["| " + " | ".join(lines[0]) + " |", "|" + "---|" * len(lines[0])]
    out += ["| " + " | ".join(l) + " |" for l in lines[1:]]
    return "\n".join(out)


def plain(lines):
    w = [max(len(l[i]) for l in lines) for i in range(len(lines[0]))]
    out = ["  ".join(c.ljust(w[i]) for i, c in enumerate(l)).rstrip() for l in lines]
    out.insert(1, "  ".join("-" * x for x in w))
    return "\n".join(out)


def write_plot(res, out, svg, scale_counts):
    """gnuplot: req/s by connection count; latency percentiles at 50 conns and at one;
    sink throughput. Data files go to OUT, the SVG to SVG."""
    servers = [("linepool", "linepool"), ("redis", "Redis"), ("memcached", "memcached")]
    with open(os.path.join(out, "scaling.dat"), "w") as f:
        f.write("# conns " + " ".join(s for s, _ in servers) + "\n")
        for c in scale_counts:
            vals = [get(res, "scale/%d/%s" % (c, s), "rps_steady") for s, _ in servers]
            f.write("%d %s\n" % (c, " ".join("%.0f" % v if v else "NaN" for v in vals)))
    for wl in ("echo50", "one"):
        with open(os.path.join(out, wl + ".dat"), "w") as f:
            f.write("# pct " + " ".join(s for s, _ in servers) + "\n")
            for p in ("p50", "p90", "p99", "p99.9"):
                vals = [get(res, "%s/%s" % (wl, s), p) for s, _ in servers]
                f.write("%s %s\n" % (p, " ".join("%.1f" % v if v else "NaN" for v in vals)))
    with open(os.path.join(out, "sink.dat"), "w") as f:
        for label, key, colour in (('"linepool, 1 KiB lines"', "sink/1k", 0x1f77b4),
                                   ('"linepool, 50-byte lines"', "sink/50", 0x1f77b4),
                                   ('"iperf3, 1 stream"', "sink/iperf3", 0x7f7f7f)):
            v = get(res, key, "bps")
            f.write("%s %s %d\n" % (label, "%.0f" % (v / 1e6) if v else "NaN", colour))
    bars = ("using 2:xtic(1) title 'linepool' lc rgb '#1f77b4', "
            "'' using 3 title 'Redis' lc rgb '#d62728', '' using 4 title 'memcached' lc rgb "
            "'#2ca02c'")
    gp = """set terminal svg size 1200,860 dynamic enhanced font 'sans,11' background '#ffffff'
set output '{svg}'
set multiplot layout 2,2 title "{title}"
set grid ytics
set key top right
set title 'Throughput by connection count (closed loop, after the first second)'
set logscale x 10
set xlabel 'connections'
set ylabel 'requests/s'
set yrange [0:*]
set format y '%.0s%c'
plot '{d}/scaling.dat' using 1:2 with linespoints lw 2 pt 7 lc rgb '#1f77b4' title 'linepool', \\
     '' using 1:3 with linespoints lw 2 pt 5 lc rgb '#d62728' title 'Redis', \\
     '' using 1:4 with linespoints lw 2 pt 9 lc rgb '#2ca02c' title 'memcached'
unset logscale x
set xlabel ''
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set logscale y 10
set yrange [*:*]
set format y '%g'
set ylabel 'latency, µs (log)'
set key top left
set title 'Latency percentiles, 50 connections, 1 in flight'
plot '{d}/echo50.dat' {bars}
set title 'Latency percentiles, one connection, 1 in flight'
plot '{d}/one.dat' {bars}
unset logscale y
set yrange [0:*]
set ylabel 'MB/s'
set key off
set title 'Sink: one connection into rate-meter vs iperf3 (MB = 1,000,000 bytes)'
set style data boxes
set boxwidth 0.5
set xrange [-0.6:2.6]
plot '{d}/sink.dat' using 0:2:3:xtic(1) lc rgb variable
unset multiplot
""".format(svg=svg, d=out, bars=bars,
           title="linepool vs Redis, memcached, iperf3 (%s)" % res.get("_title", ""))
    path = os.path.join(out, "chart.gp")
    with open(path, "w") as f:
        f.write(gp)
    r = subprocess.run(["gnuplot", path], capture_output=True, text=True)
    if r.returncode != 0:
        print("lpbench: gnuplot failed:\n" + r.stderr, file=sys.stderr)
        return 1
    return 0


def cmd_report(out, mode, results_md, svg, scale_counts, *meta):
    """Print the tables; append them to RESULTS_MD and write SVG unless those are '-'."""
    counts = [int(c) for c in scale_counts.split(",")]
    res = load(out)
    info = dict(m.split("=", 1) for m in meta)
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    res["_title"] = "%s, %s, nproc %s" % (when, info.get("commit", "?"), info.get("nproc", "?"))
    main_t = table_main(res, counts)
    scale_t = table_scaling(res, counts)
    lat_t = table_latency(res)
    print()
    print(plain(main_t))
    print("\nScaling (closed loop, 1 in flight; req/s after the first second, which holds the "
          "connects):")
    print(plain(scale_t))
    print()
    print(plain(lat_t))
    print()
    rc = 0
    if svg != "-":
        rc = write_plot(res, out, svg, counts)
        if rc == 0:
            print("chart: %s" % svg)
    if results_md != "-":
        new = not os.path.exists(results_md)
        with open(results_md, "a") as f:
            if new:
                f.write("# linepool benchmark results\n\nAppended by `tests/bench/run` "
                        "(see tests/bench/README.md). Ratios are linepool ÷ peer; for "
                        "latency and memory lower is better, so their targets are ≤.\n")
            f.write("\n## %s, %s run\n\n" % (when, mode))
            f.write("commit `%s`, nproc %s, kernel %s, %s; load average at start %s; "
                    "%s s per measurement, median of %s repetition(s).\n\n"
                    % (info.get("commit", "?"), info.get("nproc", "?"), info.get("kernel", "?"),
                       info.get("cpu", "?"), info.get("load", "?"), info.get("duration", "?"),
                       info.get("reps", "?")))
            f.write(markdown(main_t) + "\n\nScaling (closed loop, 1 in flight; req/s after the "
                    "first second, which holds the connects):\n\n")
            f.write(markdown(scale_t) + "\n\nLatency detail:\n\n")
            f.write(markdown(lat_t) + "\n")
            if info.get("notes"):
                f.write("\n" + info["notes"] + "\n")
        print("appended to %s" % results_md)
    return rc


COMMANDS = {"port": cmd_port, "wait-port": cmd_wait_port, "hold": cmd_hold,
            "wait-rss": cmd_wait_rss, "add": cmd_add, "put": cmd_put, "report": cmd_report,
            "cpu": cmd_cpu, "put-cpu": cmd_put_cpu, "scrape": cmd_scrape}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit("usage: lpbench.py {%s} ARGS..." % "|".join(COMMANDS))
    sys.exit(COMMANDS[sys.argv[1]](*sys.argv[2:]) or 0)
