"""`make bench`: the application under gunicorn on loopback, a city-sized database, wrk.

    .venv/bin/python -m bench.run [--duration 10] [--workers N] [--only verify,apply]
                                   [--rebuild] [--profile]
    .venv/bin/python -m bench.run --pg postgresql://... [--configs 1,1d,2d]   (make bench-pg)

Builds (once, cached in bench/out/) the bench city of bench/dataset.py, starts gunicorn on
127.0.0.1:5800 with it, logs in the people the scenarios need (once per database build), then
drives each scenario with wrk and prints one table: requests per second, p50 and p99 latency,
errors, and the ratio to the ceiling, a minimal endpoint of the same stack (/healthz) measured
right before each scenario (the first row is the median of those). Then the benchmark's targets
(docs/PERFORMANCE.md), met or not, and the nation's day one on this machine. --repeat N runs
every scenario N times and reports the median round.
The audit integrator (`flask audit integrate`) runs beside the server, as deploy/ runs it, and
every scenario that writes audit entries reports its audited writes per second and the
integration delay (an entry's insert time to the time of the first checkpoint that covers it),
p50 and p99. With --pg the city is built into that PostgreSQL database and each of --configs
runs in turn: `1` one node, `2` two nodes (two gunicorns on two ports, the load split between
them, one wrk each), a `d` suffix puts bench/delayproxy.py between the application and the
database (1 ms each way). Results also go to bench/out/latest.json. --profile samples the
workers with py-spy during each scenario into bench/out/profile-<scenario>.txt (collapsed
stacks) and a summary.

This module drives the run (wrk, the configurations, the command line); beside it:
bench/city.py (where a city is kept, building it), bench/processes.py (gunicorn, the integrator,
the delaying proxy, their CPU time), bench/scenarios.py (the request lists) and bench/report.py
(the table and the targets).
"""

import argparse
import collections
import contextlib
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from bench import city  # noqa: E402
from bench.city import OUT, VENV_BIN, ensure_dataset, log, open_db  # noqa: E402
from bench.processes import DelayProxy, Integrator, Server, children_of, cpu_seconds  # noqa: E402
from bench.report import (  # noqa: E402
    median_run,
    percentile,
    scaling_targets,
    summarise_profile,
    table,
    targets,
)
from bench.scenarios import (  # noqa: E402
    DAY_ONE_TOTAL,
    HOLDER_SESSIONS,
    SCENARIOS,
    Context,
    prepare_sessions,
    sc_ceiling,
)
from core.db import gunicorn_workers  # noqa: E402

LUA = os.path.join(ROOT, "bench", "requests.lua")


def audit_mark() -> int:
    """The id of the newest audit entry (entries after it are the scenario's)."""
    from peewee import fn

    from models import AuditEvent

    with open_db().connection_context():
        return AuditEvent.select(fn.MAX(AuditEvent.id)).scalar() or 0


def integration_delays(mark: int, wait: float = 60.0) -> dict:
    """The audit entries written after `mark`: how many, and how long each waited from its
    insert to the first signed checkpoint whose tree holds it (p50, p99, max in ms). Waits up
    to `wait` seconds for the integrator to number them all (a backlog left counts as
    `unintegrated`)."""
    import bisect

    from models import AuditCheckpoint, AuditEvent

    db = open_db()
    deadline = time.time() + wait
    with db.connection_context():
        scenario = AuditEvent.id > mark
        while True:
            waiting = AuditEvent.select().where(scenario & AuditEvent.seq.is_null()).count()
            if not waiting or time.time() >= deadline:
                break
            time.sleep(0.5)
        events = list(
            AuditEvent.select(AuditEvent.seq, AuditEvent.at)
            .where(scenario & AuditEvent.seq.is_null(False))
            .tuples()
        )
        if not events:
            return {"entries": 0, "unintegrated": waiting}
        first = min(seq for seq, _ in events)
        checkpoints = list(
            AuditCheckpoint.select(AuditCheckpoint.tree_size, AuditCheckpoint.at)
            .where(AuditCheckpoint.tree_size >= first)
            .order_by(AuditCheckpoint.tree_size)
            .tuples()
        )
    sizes = [size for size, _ in checkpoints]
    delays = []
    for seq, at in events:
        i = bisect.bisect_left(sizes, seq)
        if i < len(checkpoints):
            delays.append((checkpoints[i][1] - at).total_seconds() * 1000)
    if not delays:
        return {"entries": len(events), "unintegrated": len(events)}
    return {
        "entries": len(events),
        "unintegrated": waiting + len(events) - len(delays),
        "p50_ms": percentile(delays, 50),
        "p99_ms": percentile(delays, 99),
        "max_ms": max(delays),
    }


def run_wrk(
    servers: list,
    name: str,
    spec: dict,
    connections: int,
    duration: int,
    threads: int,
    profile: bool,
    integrator_pid: int | None = None,
) -> dict:
    """Drive one scenario; returns wrk's figures plus the servers' 'locked' count.

    With several servers (nodes) the request list is dealt out between them and one wrk per
    node runs at the same time, each with its share of the connections: requests, errors and
    requests per second are summed, p50 is the nodes' mean and p99 the worst node's (wrk
    reports percentiles, not its samples).

    It also takes the CPU time the nodes' workers (and the integrator) used meanwhile: CPU
    milliseconds a request, the cost of a request with the machine's other load taken out."""
    offsets = [server.log_offset() for server in servers]
    workers = [pid for server in servers for pid in children_of(server.proc.pid)]
    integrator = [integrator_pid] if integrator_pid else []
    cpu_before = cpu_seconds(workers), cpu_seconds(integrator)
    profiler = None
    if profile:
        profiler = subprocess.Popen(
            [
                os.path.join(VENV_BIN, "py-spy"),
                "record",
                "--pid",
                str(servers[0].proc.pid),
                "--subprocesses",
                "--format",
                "raw",
                "--rate",
                "200",
                "--nonblocking",
                "--duration",
                str(duration),
                "-o",
                os.path.join(OUT, f"profile-{name}.txt"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    procs = []
    for i, server in enumerate(servers):
        list_path = os.path.join(OUT, f"requests-{name}-{i}.tsv")
        with open(list_path, "w") as fh:
            fh.write("\n".join(spec["lines"][i :: len(servers)]) + "\n")
        cmd = [
            "wrk",
            "--threads",
            str(threads),
            "--connections",
            str(max(threads, connections // len(servers))),
            "--duration",
            f"{duration}s",
            "--timeout",
            "10s",
            "--script",
            LUA,
            f"http://127.0.0.1:{server.port}",
            "--",
            list_path,
            spec["expect"],
            "wrap" if spec["wrap"] else "once",
            str(threads),
        ]
        procs.append(subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True))
    parts = []
    for proc in procs:
        out, _ = proc.communicate()
        if proc.returncode:
            raise RuntimeError(f"wrk failed ({proc.returncode})")
        parts.append(json.loads(out.split("WRKJSON ", 1)[1].splitlines()[0]))
    worker_cpu = cpu_seconds(workers) - cpu_before[0]
    integrator_cpu = cpu_seconds(integrator) - cpu_before[1]
    if profiler:
        profiler.wait()
    figures = {
        key: sum(p[key] for p in parts)
        for key in (
            "requests",
            "connect",
            "read",
            "write",
            "timeout",
            "bad_status",
            "wrong_body",
            "status_503",
            "status_5xx",
        )
    }
    figures["wrong_seen"] = " ".join(p.get("wrong_seen", "") for p in parts).strip()[:200]
    figures["duration_us"] = max(busy_us(p, spec["wrap"]) for p in parts)
    figures["p50_us"] = sum(p["p50_us"] for p in parts) / len(parts)
    figures["p99_us"] = max(p["p99_us"] for p in parts)
    figures["exhausted"] = any(p.get("exhausted") for p in parts)
    figures["locked"] = sum(s.locked_since(o) for s, o in zip(servers, offsets, strict=True))
    figures["listed"] = len(spec["lines"])
    figures["rps"] = sum(p["requests"] / (busy_us(p, spec["wrap"]) / 1e6) for p in parts)
    figures["errors"] = (
        figures["connect"]
        + figures["read"]
        + figures["write"]
        + figures["timeout"]
        + figures["bad_status"]
        + figures["wrong_body"]
    )
    figures["connections"] = connections
    figures["cpu_ms"] = worker_cpu * 1000 / max(1, figures["requests"])
    figures["integrator_cpu_ms"] = integrator_cpu * 1000 / max(1, figures["requests"])
    return figures


def busy_us(part: dict, wrap: bool) -> int:
    """The time one wrk's requests were sent in, microseconds: its whole run, or, when its
    one-shot list ran out before the end, from its first request until the last of its
    threads had no request left (requests.lua's `list_us`). wrk itself divides by the whole
    run, which would count the idle rest of it as slowness."""
    if not wrap and part.get("exhausted") and part.get("list_us"):
        return min(part["list_us"], part["duration_us"])
    return part["duration_us"]


def measure(servers, ctx, args, name, builder, conns, ceiling_rps) -> dict:
    """Build a scenario's request list and drive it once; its figures, with the audit entries
    it wrote per second and their integration delay."""
    label = next(lab for n, lab, *_ in SCENARIOS if n == name)
    n = int((ceiling_rps or 2000) * args.duration * 1.1)
    spec = builder(ctx, n)
    log(f"{label}: {len(spec['lines']):,} requests listed, {conns} connections, {args.duration} s")
    mark = audit_mark()
    figures = run_wrk(
        servers, name, spec, conns, args.duration, args.threads, args.profile, ctx.integrator_pid
    )
    if "after" in spec:  # what the responses cannot show: checked in the database
        figures["wrong_outcome"] = spec["after"](ctx)
        figures["errors"] += figures["wrong_outcome"]
    figures.update(label=label, wrap=spec["wrap"])
    if "weights" in spec:
        figures["weights"] = spec["weights"]
    audit = integration_delays(mark) if name != "ceiling" else {"entries": 0}
    figures["audit"] = audit
    figures["audited_per_s"] = audit["entries"] / (figures["duration_us"] / 1e6)
    delay = ""
    if audit.get("p99_ms") is not None:
        delay = (
            f", {figures['audited_per_s']:,.0f} audited/s, integration delay p50 "
            f"{audit['p50_ms']:.0f} ms p99 {audit['p99_ms']:.0f} ms"
        )
    log(
        f"  {figures['rps']:,.0f} req/s, p99 {figures['p99_us'] / 1000:.1f} ms, "
        f"{figures['errors']} errors, {figures['locked']} locked{delay}, "
        f"CPU a request: workers {figures['cpu_ms']:.2f} ms, "
        f"integrator {figures['integrator_cpu_ms']:.2f} ms"
    )
    time.sleep(1)
    return figures


CONFIG_LABELS = {
    "1": "one node",
    "2": "two nodes",
    "1d": "one node, 2 ms round trip to the database",
    "2d": "two nodes, 2 ms round trip to the database",
}


# Workers of each node in the configurations with the delay (run_config).
DELAYED_NODE_WORKERS = 2


def run_config(config: str, args, meta: dict, proxy_url: str) -> dict:
    """Every chosen scenario on one configuration (1 or 2 nodes, with or without the delay);
    {scenario: median figures}."""
    nodes = int(config[0])
    url = proxy_url if config.endswith("d") else city.DB_URL
    only = {s for s in args.only.split(",") if s} or {name for name, *_ in SCENARIOS}
    if config.endswith("d"):
        only &= set(args.delay_only.split(","))
    app_dir = os.path.abspath(args.app_dir)
    # A node beside the database runs as deploy/ runs it on this machine (gunicorn.conf.py).
    # With the delay, one node is compared with two: both share this machine's cores, so each
    # node is a small one of DELAYED_NODE_WORKERS workers, which the round trips keep mostly
    # waiting, with one connection each: neither configuration is bound by the shared CPU, and
    # what the second node adds is what the database lets it add (a node sized for the whole
    # machine would saturate the cores alone, and two would measure the CPU, not the database).
    delayed = config.endswith("d")
    if args.workers:
        workers = args.workers
    elif delayed:
        workers = DELAYED_NODE_WORKERS
    else:
        workers = gunicorn_workers(url, os.cpu_count() or 2)
    servers = [Server(args.port + i, workers, meta, app_dir, url) for i in range(nodes)]
    log(f"== {CONFIG_LABELS.get(config, config)}: {nodes} × gunicorn --workers {workers}")
    runs: dict[str, list] = collections.defaultdict(list)
    with contextlib.ExitStack() as stack:
        for server in servers:
            stack.enter_context(server)
        integrator = Integrator(servers[0].env, app_dir)
        integrator.catch_up()
        stack.enter_context(integrator)
        log("preparing sessions ...")
        store = prepare_sessions(meta, args.port)
        ctx = Context(meta, store, args.port)
        ctx.integrator_pid = integrator.proc.pid
        ctx.duration = args.duration
        first = meta["holders"]["first_user_id"]
        ctx.holder_ids = list(range(first, first + min(HOLDER_SESSIONS, meta["holders"]["count"])))
        ctx.officer_ids = [s["id"] for s in meta["staff"] if s["role"] == "accident_officer"]
        ctx.evidence_cases = len(meta["accident_cases"])
        ctx.transfer_cases = len(meta["open_transfers"])
        if args.context is not None:  # one run, several configurations: codes used stay used
            ctx.next_elicence, ctx.last_step = args.context
        for round_no in range(args.repeat):
            for name, _label, builder, conns in SCENARIOS:
                if name not in only or name == "ceiling":
                    continue
                if delayed:
                    # One connection per worker by default: each worker busy with one request
                    # at a time, none queued in front of it (--delay-connections to queue).
                    conns = (args.delay_connections or workers) * nodes
                # The ceiling is measured right before each scenario and the scenario's ratio
                # taken to that one: on a shared machine the load of others comes and goes.
                ceiling = measure(servers, ctx, args, "ceiling", sc_ceiling, conns, None)
                runs["ceiling"].append(ceiling)
                # One-shot lists get as many requests as the ceiling can serve (no scenario
                # is faster than the ceiling), capped by what the city has.
                figures = measure(servers, ctx, args, name, builder, conns, ceiling["rps"])
                figures["ceiling_rps"] = ceiling["rps"]
                figures["ratio"] = figures["rps"] / ceiling["rps"]
                # The same ratio by CPU: how many /healthz one request of it costs, inverted.
                figures["cpu_ratio"] = ceiling["cpu_ms"] / figures["cpu_ms"]
                runs[name].append(figures)
            if args.repeat > 1:
                log(f"round {round_no + 1} of {args.repeat} done")
        args.context = (ctx.next_elicence, ctx.last_step)
    results = {name: median_run(name_runs) for name, name_runs in runs.items()}
    if "ceiling" in results:
        results["ceiling"]["ratio"] = results["ceiling"]["cpu_ratio"] = 1.0
    return results


def main(argv=None) -> int:
    """Run the bench; the exit status is 0 even when targets are missed (it reports them)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=int(os.environ.get("BENCH_SECONDS", 10)))
    parser.add_argument(
        "--workers",
        type=int,
        default=int(os.environ.get("BENCH_WORKERS", 0)),
        help="gunicorn workers per node (default as deploy/ on this machine: one per core on "
        "SQLite, 2 x cores + 1 on PostgreSQL; with the delay, DELAYED_NODE_WORKERS)",
    )
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (per node)")
    parser.add_argument("--port", type=int, default=int(os.environ.get("BENCH_PORT", 5800)))
    parser.add_argument("--only", default="", help="comma-separated scenario names")
    parser.add_argument("--rebuild", action="store_true", help="build the database again")
    parser.add_argument("--profile", action="store_true", help="py-spy the workers")
    parser.add_argument(
        "--repeat",
        type=int,
        default=int(os.environ.get("BENCH_REPEAT", 1)),
        help="rounds; each row is the median round",
    )
    parser.add_argument(
        "--app-dir",
        default=ROOT,
        help="serve the application from this copy (e.g. an older commit's "
        "`git archive`, to measure before and after)",
    )
    parser.add_argument("--scale", type=float, default=1.0, help="city size (1 = full size)")
    parser.add_argument("--pg", default="", help="a PostgreSQL URL: the city is built there")
    parser.add_argument(
        "--configs",
        default="",
        help="with --pg: comma-separated 1, 2 (nodes), 1d, 2d (with the 2 ms round trip)",
    )
    parser.add_argument(
        "--delay-only",
        default="verify,apply",
        help="the scenarios of the configurations with the delay",
    )
    parser.add_argument("--delay-ms", type=float, default=1.0, help="each way")
    parser.add_argument(
        "--delay-connections",
        type=int,
        default=0,
        help="connections per node in the configurations with the delay (default: one per worker)",
    )
    args = parser.parse_args(argv)
    args.context = None
    if not shutil.which("wrk"):
        log("wrk is missing: `make bench` installs it (apt-get install wrk)")
        return 2
    meta = ensure_dataset(args.rebuild, args.scale, args.pg)
    configs = [c for c in (args.configs or "1").split(",") if c]
    if not args.pg and configs != ["1"]:
        log("two nodes and the delay need PostgreSQL (--pg URL)")
        return 2
    by_config = {}
    with contextlib.ExitStack() as stack:
        proxy_url = ""
        if any(c.endswith("d") for c in configs):
            proxy_url = stack.enter_context(DelayProxy(args.pg, args.port + 10, args.delay_ms)).url
        for config in configs:
            by_config[config] = run_config(config, args, meta, proxy_url)
    print()
    backend = "PostgreSQL 15 on the same machine" if args.pg else "SQLite"
    print(
        f"jiaoguan bench, {dt.datetime.now().isoformat(timespec='seconds')}, {backend}, "
        f"{os.cpu_count()} cores, gunicorn --workers {args.workers or 'as deploy/'} per node, "
        f"wrk {args.threads} "
        f"threads per node, {args.duration} s per scenario, median of {args.repeat}, each "
        f"against the ceiling measured just before it, city scale {args.scale:g}"
    )
    for config, results in by_config.items():
        if "ceiling" not in results:
            continue
        rows = [results[name] for name, *_ in SCENARIOS if name in results]
        print()
        if len(by_config) > 1 or args.pg:
            print(f"### {CONFIG_LABELS.get(config, config)}")
            print()
        print(table(rows))
        print()
        # The single-node targets are set for the database beside the application; with the
        # delay the targets are the scaling ones below.
        for what, measured, met in [] if config.endswith("d") else targets(results):
            mark = "met" if met else "NOT MET"
            print(f"- {what}: {measured} — {mark}")
        if "mixed" in results and results["mixed"]["rps"]:
            m = results["mixed"]
            hours = DAY_ONE_TOTAL / m["rps"] / 3600
            print(
                f"- the nation's day one, {DAY_ONE_TOTAL:,} transactions in the mix "
                f"{dict(m['weights'])}: {hours:.2f} h on this machine"
            )
    scaling = scaling_targets(by_config)
    if scaling:
        print()
    for what, measured, met in scaling:
        print(f"- {what}: {measured} — {'met' if met else 'NOT MET'}")
    with open(os.path.join(OUT, "latest-pg.json" if args.pg else "latest.json"), "w") as fh:
        args.context = None
        json.dump({"args": vars(args), "results": by_config}, fh, indent=1, default=str)
    if args.profile:
        for name in by_config.get(configs[0], {}):
            summarise_profile(name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
