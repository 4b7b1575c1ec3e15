#!/usr/bin/env python3
"""report.py - turn the raw data of bench/run into RESULTS.md and chart.png.

Usage: report.py RESULTS_DIR

Reads RESULTS_DIR/{meta.txt,raw.tsv,idle.tsv,syscalls.tsv}, writes
RESULTS_DIR/RESULTS.md, RESULTS_DIR/chart.dat and chart.gp, and runs
gnuplot on the latter to make RESULTS_DIR/chart.png.  Medians are taken
over the rounds; errors are summed over them.  Standard library only.
"""

import csv
import os
import statistics
import subprocess
import sys

SCENARIOS = {
    "a": "1 KiB, keep-alive, 64 connections",
    "b": "1 KiB, keep-alive, 256 connections",
    "c": "1 MiB, keep-alive, 16 connections",
    "d": "1 KiB, `Connection: close`, 64 connections",
    "e": "missing file (404), keep-alive, 64 connections",
    "g": "HTTPS: 1 KiB, keep-alive, 64 connections",
    "h": "HTTPS: 1 KiB, `Connection: close`, 64 connections (a full handshake per request)",
    "i": "HTTPS: 1 MiB, keep-alive, 16 connections",
    "k": "precompressed 64 KiB JavaScript, `Accept-Encoding: br, gzip`, keep-alive, 64 connections "
         "(tinyhttpd and h2o send app.js.br, nginx app.js.gz, lighttpd app.js)",
}
IDLE_SCENARIOS = {"f": "idle keep-alive connections",
                  "j": "idle HTTPS keep-alive connections"}
ME = "tinyhttpd"


def unit(sc):
    return {"c": "MiB/s", "i": "MiB/s", "h": "handshakes/s"}.get(sc, "req/s")


def read_tsv(path):
    if not os.path.exists(path):
        return []
    with open(path, newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def read_meta(path):
    meta = {}
    with open(path) as f:
        for line in f:
            key, _, value = line.rstrip("\n").partition("=")
            meta[key] = value
    return meta


def fmt_rate(v):
    return "%.0f" % v if v >= 100 else "%.1f" % v


def fmt_ms(us):
    return "%.2f" % (us / 1000.0)


def fmt_mib(kib):
    return "%.1f" % (kib / 1024.0)


def main():
    out = sys.argv[1]
    meta = read_meta(os.path.join(out, "meta.txt"))
    servers = meta.get("servers", "").split()
    peers = [s for s in servers if s != ME]
    raw = read_tsv(os.path.join(out, "raw.tsv"))
    idle = read_tsv(os.path.join(out, "idle.tsv"))
    sysc = read_tsv(os.path.join(out, "syscalls.tsv"))

    # ------------------------------------------------------------ scenarios a-e
    clk = int(meta.get("clk_tck") or 100)
    runs = {}   # (scenario, server) -> list of dicts, one per round
    for r in raw:
        secs = int(r["duration_us"]) / 1e6
        runs.setdefault((r["scenario"], r["server"]), []).append({
            "rps": int(r["requests"]) / secs,
            "mibps": int(r["bytes"]) / secs / 1048576.0,
            "p50": int(r["p50_us"]),
            "p99": int(r["p99_us"]),
            "errors": int(r["errors"]),
            "detail": r["error_detail"],
            "rss": int(r["peak_rss_kib"]),
            "cpu_us": int(r["cpu_ticks"]) * 1e6 / clk / max(1, int(r["requests"])),
            "cs": int(r["context_switches"]) / max(1, int(r["requests"])),
            "threads": int(r["threads"]),
            "handshakes": int(r["tls_handshakes"]) if r.get("tls_handshakes", "-").isdigit() else None,
            "left": int(r.get("left_open") or 0),
        })

    def metric(sc):
        return "mibps" if sc in ("c", "i") else "rps"

    med = {}    # (scenario, server) -> medians and totals
    for key, rs in runs.items():
        m = metric(key[0])
        med[key] = {
            "value": statistics.median(x[m] for x in rs),
            "values": [x[m] for x in rs],
            "rps": statistics.median(x["rps"] for x in rs),
            "p50": statistics.median(x["p50"] for x in rs),
            "p99": statistics.median(x["p99"] for x in rs),
            "errors": sum(x["errors"] for x in rs),
            "detail": [x["detail"] for x in rs if x["errors"]],
            "rss": max(x["rss"] for x in rs),
            "cpu_us": statistics.median(x["cpu_us"] for x in rs),
            "cs": statistics.median(x["cs"] for x in rs),
            "threads": max(x["threads"] for x in rs),
            "left": max(x["left"] for x in rs),
            "handshakes": (sum(x["handshakes"] for x in rs)
                           if all(x["handshakes"] is not None for x in rs) else None),
        }

    lines = []
    w = lines.append
    w("# tinyhttpd benchmark")
    w("")
    w("%s on %s (%s cores, %s, kernel %s). %s round(s), %s s per scenario and server, "
      "servers in turn within each round (%s); medians over the rounds. wrk %s with %s threads "
      "and a %s s timeout, on the same cores as the servers, over loopback.%s"
      % (meta.get("date"), meta.get("cpu"), meta.get("cores"), meta.get("os"),
         meta.get("kernel"), meta.get("rounds"), meta.get("duration"), ", ".join(servers),
         meta.get("wrk"), meta.get("wrk_threads"), meta.get("wrk_timeout"),
         " **Smoke run: numbers are not meaningful.**" if meta.get("smoke") == "1" else ""))
    w("")
    w("Servers: " + "; ".join("%s %s" % (s, meta.get("version_" + s, "")) for s in servers) + ".")
    if meta.get("missing", "").strip():
        w("Not installed, left out: %s." % meta["missing"].strip())
    w("")
    mine = ("its defaults (`pool_size = \"auto\"`, one worker per core, `cpu_affinity` off)" if meta.get("defaults") == "1"
            else "`pool_size = %s` (the number of cores), `cpu_affinity = true`" % meta.get("pool"))
    w("Settings: every server runs as `%s`, in the foreground, without access log, "
      "with a %s s keep-alive timeout. tinyhttpd: %s, -O2 -g. nginx: `worker_processes %s`, "
      "`worker_cpu_affinity auto` (the same pinning), sendfile, tcp_nopush, tcp_nodelay, "
      "`keepalive_requests 1000000`. lighttpd: Debian defaults except "
      "`server.max-keep-alive-requests = 1000000` (default 1000, which would recycle "
      "wrk's connections), the idle timeout and the descriptor and connection limits. "
      "h2o: `num-threads: %s`, `max-connections` raised for scenario f."
      % (meta.get("run_as"), meta.get("keepalive"), mine, meta.get("cores"), meta.get("cores")))
    tls = [s for s in servers if meta.get("tls_" + s)]
    if tls:
        w("")
        w("HTTPS (g-j): every server has the same ECDSA P-256 certificate (signed by a test CA, "
          "made with openssl for the run) on a second port. tinyhttpd: its defaults "
          "(TLS 1.2 and 1.3, Mozilla intermediate ciphers, session tickets). nginx: Mozilla's "
          "intermediate configuration (`ssl_protocols TLSv1.2 TLSv1.3`, its cipher list, "
          "`ssl_session_cache shared:SSL:10m`, `ssl_session_tickets off`). lighttpd: "
          "mod_openssl with Mozilla's intermediate `ssl.openssl.ssl-conf-cmd`. h2o: "
          "`minimum-version: TLSv1.2`, the same cipher list, its default session resumption. "
          "wrk is preloaded with a shim that keeps it from resuming sessions, so every new "
          "connection is a full handshake (none was resumed, or the run fails). A default "
          "OpenSSL client negotiates: "
          + "; ".join("%s %s" % (s, meta["tls_" + s]) for s in tls) + ".")
    busy = [b.split(":") for b in meta.get("busy", "").split(",") if b.count(":") == 2]
    if busy:
        w("")
        w("Background CPU load with every server idle (1 s samples; share of all cores busy "
          "at normal priority, and with niced processes): "
          + ", ".join("%s %s%% (+%s%% niced)" % (label, pct, nice) for label, pct, nice in busy)
          + "."
          + (" **The machine was not idle: other processes competed with the benchmark, "
             "so the spread is larger than usual.**"
             if any(int(pct) > 10 for _, pct, _ in busy) else ""))
    w("")

    # Summary: ratios.
    w("## tinyhttpd / best peer (medians)")
    w("")
    w("| scenario | tinyhttpd | best peer | ratio | p99 tinyhttpd | best peer p99 "
      "| CPU us/req tinyhttpd | lowest peer |")
    w("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    ratios = {}
    for sc in SCENARIOS:
        if not any((sc, s) in med for s in servers):
            continue
        mine = med.get((sc, ME))
        cands = [(med[(sc, p)]["value"], p) for p in peers if (sc, p) in med]
        u = unit(sc)
        if mine is None or not cands:
            w("| %s | %s | - | - | - | - | - | - |" % (sc, fmt_rate(mine["value"]) if mine else "-"))
            continue
        best, who = max(cands)
        ratio = mine["value"] / best if best else 0.0
        ratios[sc] = ratio
        p99s = [(med[(sc, p)]["p99"], p) for p in peers if (sc, p) in med]
        bp99, p99who = min(p99s)
        bcpu, cpuwho = min((med[(sc, p)]["cpu_us"], p) for p in peers if (sc, p) in med)
        w("| %s: %s | %s %s | %s %s (%s) | **%.2f** | %s ms | %s ms (%s) | %.1f | %.1f (%s) |"
          % (sc, SCENARIOS[sc], fmt_rate(mine["value"]), u, fmt_rate(best), u, who, ratio,
             fmt_ms(mine["p99"]), fmt_ms(bp99), p99who, mine["cpu_us"], bcpu, cpuwho))
    w("")

    # Per scenario tables (scenarios that were not run are left out).
    for sc, title in SCENARIOS.items():
        if not any((sc, s) in med for s in servers):
            continue
        w("## %s. %s" % (sc, title))
        w("")
        w("| server | %s (median) | per round | p50 ms | p99 ms | errors | peak RSS MiB | threads "
          "| CPU us/req | ctx sw/req |" % unit(sc))
        w("| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for s in servers:
            m = med.get((sc, s))
            if m is None:
                w("| %s | did not run | | | | | | | | |" % s)
                continue
            w("| %s | %s | %s | %s | %s | %d | %s | %d | %.1f | %.2f |"
              % (s, fmt_rate(m["value"]), " / ".join(fmt_rate(v) for v in m["values"]),
                 fmt_ms(m["p50"]), fmt_ms(m["p99"]), m["errors"], fmt_mib(m["rss"]),
                 m["threads"], m["cpu_us"], m["cs"]))
        if sc in ("c", "i"):
            w("")
            w("Requests/s in %s: " % sc + ", ".join(
                "%s %s" % (s, fmt_rate(med[(sc, s)]["rps"])) for s in servers if (sc, s) in med)
              + ".")
        left = [(s, med[(sc, s)]["left"]) for s in servers
                if (sc, s) in med and med[(sc, s)]["left"]]
        if left:
            w("")
            w("**Connections the server still held 3 s after wrk had closed all of them** "
              "(open sockets beyond those at start; the most in one round): "
              + ", ".join("%s %d" % x for x in left) + ".")
        errs = [(s, med[(sc, s)]["detail"]) for s in servers
                if (sc, s) in med and med[(sc, s)]["errors"]]
        if errs:
            w("")
            w("Errors (wrk, per round with errors): " + "; ".join(
                "%s: %s" % (s, " | ".join(d)) for s, d in errs) + ".")
        if sc == "e":
            w("")
            w("In e the 404 responses are expected; only socket errors and timeouts count.")
        if sc == "h":
            w("")
            w("Full TLS handshakes counted in wrk (all rounds; none resumed): " + ", ".join(
                "%s %s" % (s, med[(sc, s)]["handshakes"]) for s in servers
                if (sc, s) in med and med[(sc, s)]["handshakes"] is not None) + ". "
              "handshakes/s is responses/s: each response closes its connection. "
              "CPU us/req is then the server's CPU time per full handshake and response.")
        if sc == "a":
            w("")
            w("CPU us/req: the server's user + system CPU time (all its processes and threads, "
              "from /proc) per request; ctx sw/req: its context switches per request. Both "
              "are medians over the rounds and depend less on other load than requests/s.")
        w("")

    # ------------------------------------------------------------ scenarios f, j
    fmed = {}   # (scenario, server) -> summary
    for sc in IDLE_SCENARIOS:
        rows = [r for r in idle if r.get("scenario", "f") == sc]
        if rows:
            scenario_f(w, meta, servers, rows, fmed, sc)

    # ------------------------------------------------------------ system calls
    if sysc:
        syscalls_section(w, meta, sysc, spr := {})
    else:
        spr = {}
    targets_section(w, meta, med, peers, ratios, fmed, spr)
    w("Raw data: raw.tsv, idle.tsv, syscalls.tsv, strace-*.txt beside this file.")
    w("")
    return finish(out, meta, servers, med, lines)


def scenario_f(w, meta, servers, idle, fmed, sc):
    w("## %s. %s %s" % (sc, idle[0]["connections"], IDLE_SCENARIOS[sc]))
    w("")
    w("Each connection made one request and stays open. RSS is VmRSS summed over the server's "
      "processes: right after start-up, just before the idle connections were opened (%s), "
      "and with them open. Per idle connection: the largest growth "
      "in one round divided by the connections (memory touched once stays resident, so later "
      "rounds show less). Threads, and a normal curl request for the 1 KiB file made meanwhile."
      % ("the servers were started again just before j, so the first round begins from a fresh "
         "server" if sc == "j" else "after the throughput scenarios"))
    if sc == "j":
        w("")
        w("Over HTTPS: each connection made a full handshake (TLS 1.3 when the server offers "
          "it; a new session every time), one request, and then idles; what it costs the server "
          "is its connection plus whatever TLS state and buffers it keeps for an idle one.")
    w("")
    if meta.get("idle_note") and sc == "f":
        w("Note: %s." % meta["idle_note"])
        w("")
    w("Processes counted: " + "; ".join(
        "%s: %s" % (s, meta.get("procs_" + s, "?")) for s in servers) + ".")
    w("")
    w("| server | open | RSS at start MiB | RSS before MiB | RSS with idle MiB "
      "| KiB per idle conn | threads | curl | curl ms (worst) | closed by server |")
    w("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: |")
    for s in servers:
        rs = [r for r in idle if r["server"] == s]
        if not rs:
            w("| %s | did not run | | | | | | | | |" % s)
            continue
        opened = min(int(r["open"]) for r in rs)
        start = int(rs[0]["rss_start_kib"] or 0)
        before = statistics.median(int(r["rss_before_kib"]) for r in rs)
        after = statistics.median(int(r["rss_kib"]) for r in rs)
        per = max((int(r["rss_kib"]) - int(r["rss_before_kib"])) / max(1, int(r["open"]))
                  for r in rs)
        threads = max(int(r["threads"]) for r in rs)
        codes = sorted(set(r["curl_status"] for r in rs))
        worst = max(float(r["curl_seconds"] or 0) for r in rs) * 1000
        closed = sum(int(r["closed_by_server"]) for r in rs)
        fmed[(sc, s)] = {"per": per, "threads": threads, "after": after, "open": opened,
                         "all": opened == int(rs[0]["connections"])}
        w("| %s | %d / %s | %s | %s | %s | %.2f | %d | %s | %.1f | %d |"
          % (s, opened, rs[0]["connections"], fmt_mib(start), fmt_mib(before), fmt_mib(after),
             per, threads, ",".join(codes), worst, closed))
    w("")


def syscalls_section(w, meta, sysc, spr):
    w("## System calls per request")
    w("")
    w("`strace -c -f` attached to every process (and thread) of the server while "
      "`ab -k -n %s -c 16` fetches the 1 KiB file; all calls counted, futex and epoll included."
      % meta.get("ab_requests"))
    w("")
    w("| server | requests | syscalls | per request | most frequent (per request) |")
    w("| --- | ---: | ---: | ---: | --- |")
    for r in sysc:
        n = int(r["requests"])
        calls = int(r["calls"])
        spr[r["server"]] = calls / n
        top = []
        for item in r["top"].split(","):
            if ":" in item:
                name, cnt = item.split(":")
                top.append("%s %.2f" % (name, int(cnt) / n))
        bad = ""
        if int(r["ab_failed"] or 0) or int(r["ab_non2xx"] or 0):
            bad = " (ab: %s failed, %s non-2xx)" % (r["ab_failed"], r["ab_non2xx"])
        w("| %s | %d%s | %d | **%.2f** | %s |" % (r["server"], n, bad, calls, calls / n,
                                                  ", ".join(top)))
    w("")


def targets_section(w, meta, med, peers, ratios, fmed, spr):
    w("## Performance targets")
    w("")
    w("| target | measured | met |")
    w("| --- | --- | --- |")

    def row(target, measured, ok):
        w("| %s | %s | %s |" % (target, measured, "yes" if ok else "**no**"))

    for sc in "abecdghi":
        if sc in ratios:
            row("%s: tinyhttpd / best peer >= 1.0" % sc, "%.2f" % ratios[sc], ratios[sc] >= 1.0)
    for sc in "abghi":
        if (sc, ME) in med and any((sc, p) in med for p in peers):
            bp = min(med[(sc, p)]["p99"] for p in peers if (sc, p) in med)
            row("%s: p99 <= best peer's" % sc, "%s ms vs %s ms" % (fmt_ms(med[(sc, ME)]["p99"]),
                                                                fmt_ms(bp)),
                med[(sc, ME)]["p99"] <= bp)
    if ("f", ME) in fmed and ("f", "lighttpd") in fmed:
        row("f: RSS per idle connection <= lighttpd's",
            "%.2f KiB vs %.2f KiB%s" % (fmed[("f", ME)]["per"], fmed[("f", "lighttpd")]["per"],
                                         "" if fmed[("f", ME)]["all"] else
                                         " (only %d connections open)" % fmed[("f", ME)]["open"]),
            fmed[("f", ME)]["all"] and fmed[("f", ME)]["per"] <= fmed[("f", "lighttpd")]["per"])
    if ("j", ME) in fmed and any(("j", p) in fmed for p in peers):
        low, who = min((fmed[("j", p)]["per"], p) for p in peers if ("j", p) in fmed)
        row("j: RSS per idle HTTPS connection <= the lowest peer's",
            "%.2f KiB vs %.2f KiB (%s)%s" % (fmed[("j", ME)]["per"], low, who,
                                             "" if fmed[("j", ME)]["all"] else
                                             " (only %d connections open)" % fmed[("j", ME)]["open"]),
            fmed[("j", ME)]["all"] and fmed[("j", ME)]["per"] <= low)
    pool = int(meta.get("pool", "0"))
    for sc in IDLE_SCENARIOS:
        if (sc, ME) in fmed:
            row("%s: threads = pool size + a small constant" % sc,
                "%d threads, pool %d" % (fmed[(sc, ME)]["threads"], pool),
                fmed[(sc, ME)]["threads"] <= pool + 2)
    if any(k[1] == ME for k in med):
        total = sum(m["errors"] for k, m in med.items() if k[1] == ME)
        row("zero errors (tinyhttpd, a-e, g-i)", str(total), total == 0)
        left = {k[0]: m["left"] for k, m in med.items() if k[1] == ME and m["left"]}
        row("every connection closed once wrk has left (tinyhttpd)",
            ", ".join("%s: %d left open" % x for x in sorted(left.items())) or "yes",
            not left)
    if ME in spr:
        row("syscalls per request <= 3", "%.2f" % spr[ME], spr[ME] <= 3.0)
    w("")


def finish(out, meta, servers, med, lines):
    md = "\n".join(lines)
    with open(os.path.join(out, "RESULTS.md"), "w") as f:
        f.write(md)

    # ------------------------------------------------------------ chart
    scs = [sc for sc in SCENARIOS if any((sc, s) in med for s in servers)]
    if not scs:
        return 0
    labels = {"a": "a (1 KiB, 64 conn.)", "b": "b (1 KiB, 256 conn.)", "c": "c (1 MiB, 16 conn.)",
              "d": "d (1 KiB, close, 64)", "e": "e (404, 64 conn.)",
              "g": "g (TLS 1 KiB, 64)", "h": "h (TLS, close, 64)", "i": "i (TLS 1 MiB, 16)",
              "k": "k (64 KiB .js, br/gz)"}
    with open(os.path.join(out, "chart.dat"), "w") as f:
        f.write("# scenario " + " ".join(servers) + "\n")
        for sc in scs:
            best = max(med[(sc, s)]["value"] for s in servers if (sc, s) in med)
            vals = []
            for s in servers:
                v = med.get((sc, s), {}).get("value")
                vals.append("%.4f" % (v / best) if v is not None and best else "NaN")
            f.write('"%s" %s\n' % (labels[sc], " ".join(vals)))
    colors = {"tinyhttpd": "#d62728", "nginx": "#2ca02c", "lighttpd": "#1f77b4", "h2o": "#ff7f0e"}
    plots = []
    for i, s in enumerate(servers):
        spec = "'chart.dat' using %d%s title '%s' lc rgb '%s'" % (
            i + 2, ":xtic(1)" if i == 0 else "", s, colors.get(s, "#7f7f7f"))
        plots.append(spec)
    gp = """set terminal pngcairo size %d,540 font 'sans,10'
set output 'chart.png'
set title "Throughput relative to the fastest server in each scenario (medians of %s round(s), %s cores, loopback)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set yrange [0:1.25]
set ytics 0, 0.1, 1.0
set grid ytics
set key top right horizontal
set ylabel 'throughput / fastest server (1.0 = fastest)'
plot %s, 1 notitle with lines lc rgb '#555555' dt 2
""" % (max(960, 165 * len(scs)), meta.get("rounds"), meta.get("cores"), ", ".join(plots))
    with open(os.path.join(out, "chart.gp"), "w") as f:
        f.write(gp)
    try:
        subprocess.run(["gnuplot", "chart.gp"], cwd=out, check=True)
    except (OSError, subprocess.CalledProcessError) as e:
        print("report.py: gnuplot failed: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
