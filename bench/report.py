"""The bench's report: the median round, the Markdown table pasted into docs/PERFORMANCE.md,
the targets met or not, and py-spy's profiles summed up."""

import collections
import os

from bench.city import OUT, ROOT
from bench.scenarios import DAY_ONE_TOTAL

TARGET_HOURS = 2.0


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank) of `values`."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(p / 100 * len(ordered))) - 1))]


def median_run(name_runs: list[dict]) -> dict:
    """The run with the median ratio (the median requests/s for the ceiling)."""
    key = "ratio" if "ratio" in name_runs[0] else "rps"
    ordered = sorted(name_runs, key=lambda r: r[key])
    chosen = dict(ordered[(len(ordered) - 1) // 2])
    chosen["runs"] = len(name_runs)
    return chosen


def table(rows: list[dict]) -> str:
    """The results as a Markdown table (pasted as is into docs/PERFORMANCE.md): requests,
    latency, errors, and for scenarios that write audit entries, how many a second and their
    integration delay (insert to covering checkpoint); and what a request cost the workers in
    CPU, with the ratio to the ceiling by that measure (the machine's other load taken out)."""
    head = (
        "| scenario | conns | req/s | p50 ms | p99 ms | errors | locked | × ceiling "
        "| audited/s | integration p50 / p99 ms | CPU ms a request | × ceiling by CPU |"
    )
    lines = [head, "|" + "---|" * 12]
    for r in rows:
        note = ""
        if r["exhausted"] and not r["wrap"]:
            note = f" (list ran out after {r['duration_us'] / 1e6:.1f} s: not a steady state)"
        audit = r.get("audit") or {}
        if audit.get("p99_ms") is not None:
            audited = f"{r['audited_per_s']:,.0f}"
            delay = f"{audit['p50_ms']:,.0f} / {audit['p99_ms']:,.0f}"
        else:
            audited, delay = "–", "–"
        lines.append(
            f"| {r['label']}{note} | {r['connections']} | {r['rps']:,.0f} | "
            f"{r['p50_us'] / 1000:.1f} | {r['p99_us'] / 1000:.1f} | {r['errors']} | "
            f"{r['locked']} | {r['ratio']:.2f} | {audited} | {delay} | "
            f"{r['cpu_ms']:.2f} | {r['cpu_ratio']:.2f} |"
        )
    return "\n".join(lines)


def targets(results: dict) -> list[tuple[str, str, bool]]:
    """The benchmark's targets, one line per condition: (what, measured, met)."""
    out = []

    def check(what, measured, met):
        out.append((what, measured, met))

    v = results.get("verify")
    if v:
        check("verifier ≥ 0.50 × ceiling", f"{v['ratio']:.2f} ×", v["ratio"] >= 0.5)
        check(
            "verifier p99 < 50 ms at 32 connections",
            f"{v['p99_us'] / 1000:.1f} ms",
            v["p99_us"] < 50_000,
        )
        check(
            "verifier without errors (every answer 'valid')",
            f"{v['errors']} errors",
            v["errors"] == 0,
        )
    for key, what in (("apply", "e-licence application"), ("truckpass", "automatic truck pass")):
        r = results.get(key)
        if not r:
            continue
        check(f"{what} ≥ 0.25 × ceiling", f"{r['ratio']:.2f} ×", r["ratio"] >= 0.25)
        check(
            f"{what}: no 'database is locked' at 64 connections (nor other errors)",
            f"{r['locked']} locked, {r['errors']} errors",
            r["locked"] == 0 and r["errors"] == 0,
        )
    m = results.get("mixed")
    if m and m.get("audit", {}).get("p99_ms") is not None:
        a = m["audit"]
        check(
            "the integrator keeps up with the mixed day: integration delay p99 < 2 s",
            f"p99 {a['p99_ms']:,.0f} ms, {a['unintegrated']} left waiting",
            a["p99_ms"] < 2000 and not a["unintegrated"],
        )
    for key in ("code", "mixed"):
        r = results.get(key)
        if r and r.get("ratio") is not None and key == "code":
            check("code page ≥ 0.25 × ceiling", f"{r['ratio']:.2f} ×", r["ratio"] >= 0.25)
        elif r and r.get("ratio") is not None:
            check("mixed day ≥ 0.40 × ceiling", f"{r['ratio']:.2f} ×", r["ratio"] >= 0.4)
    if m and m["rps"]:
        hours = DAY_ONE_TOTAL / m["rps"] / 3600
        check(
            f"the nation's day one ({DAY_ONE_TOTAL / 1e6:.1f} M transactions) in under "
            f"{TARGET_HOURS:.0f} h",
            f"{hours:.2f} h at {m['rps']:,.0f} req/s",
            hours < TARGET_HOURS and m["errors"] == 0,
        )
    return out


def scaling_targets(by_config: dict) -> list[tuple[str, str, bool]]:
    """The PostgreSQL targets across configurations: with the delay, two nodes give at least
    1.6 times the audited writes a second of one node, with p99 under 100 ms."""
    out = []
    one, two = by_config.get("1d"), by_config.get("2d")
    if not (one and two):
        return out
    for key in ("verify", "apply"):
        a, b = one.get(key), two.get(key)
        if not (a and b and a["audited_per_s"]):
            continue
        gain = b["audited_per_s"] / a["audited_per_s"]
        out.append(
            (
                f"{a['label']}, 2 ms round trip: two nodes ≥ 1.6 × one node's audited writes/s",
                f"{a['audited_per_s']:,.0f} → {b['audited_per_s']:,.0f} /s, {gain:.2f} ×",
                gain >= 1.6,
            )
        )
        out.append(
            (
                f"{a['label']}, 2 ms round trip, two nodes: p99 < 100 ms",
                f"{b['p99_us'] / 1000:.1f} ms",
                b["p99_us"] < 100_000,
            )
        )
    return out


def summarise_profile(name: str, top: int = 25) -> None:
    """The functions most often on the workers' stacks in a scenario (self and total)."""
    path = os.path.join(OUT, f"profile-{name}.txt")
    if not os.path.exists(path):
        return
    own, total, samples = collections.Counter(), collections.Counter(), 0
    with open(path) as fh:
        for raw in fh:
            stack, _, count = raw.rstrip().rpartition(" ")
            if not count.isdigit():
                continue
            frames = stack.split(";")
            n = int(count)
            samples += n
            own[frames[-1]] += n
            for f in set(frames):
                total[f] += n
    with open(os.path.join(OUT, f"profile-{name}-summary.txt"), "w") as fh:
        fh.write(f"{samples} samples\n\nmost time inside (incl. callees):\n")
        for f, n in total.most_common(top * 3):
            if ROOT in f or "/blueprints/" in f or "/core/" in f or "/models/" in f:
                fh.write(f"{100 * n / samples:5.1f}%  {f}\n")
        fh.write("\nmost time in the function itself:\n")
        for f, n in own.most_common(top):
            fh.write(f"{100 * n / samples:5.1f}%  {f}\n")
