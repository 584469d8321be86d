"""Tables of benches/async-workers/run.sh: wall time, speedup, final value, ask latency."""
import json, pathlib, statistics, sys

out = pathlib.Path(sys.argv[1])
rows = {}
for d in sorted(out.iterdir()):
    if not (d / "wall.txt").exists() or not (d / "run" / "summary.json").exists():
        continue
    strategy, w, s = d.name.rsplit("-", 2)
    start, end = map(float, (d / "wall.txt").read_text().split())
    summary = json.loads((d / "run" / "summary.json").read_text())
    asks = [json.loads(l) for l in (d / "run" / "iterations.jsonl").read_text().splitlines() if l.strip()]
    asks = [a for a in asks if a.get("iteration", 0) > 0]
    by_pending = {}
    for a in asks:
        by_pending.setdefault(len(a.get("pending", [])), []).append(a["ask_seconds"])
    evals = [json.loads(l) for l in (d / "run" / "evaluations.jsonl").read_text().splitlines() if l.strip()]
    trials = [e["trial"] for e in evals]
    assert len(trials) == len(set(trials)), f"{d}: duplicate trials"
    assert all(e.get("y") is not None for e in evals), f"{d}: failed evaluations"
    rows.setdefault((strategy, int(w[1:])), []).append(
        dict(wall=end - start, best=summary["best_y"], n=len(evals), by_pending=by_pending)
    )

def med(v):
    return statistics.median(v) if v else float("nan")

print("| strategy | workers | runs | evaluations | median wall (s) | speedup vs 1 | median final best y | IQR final best y | median ask (s), 0 pending | median ask (s), ≥1 pending |")
print("|---|---|---|---|---|---|---|---|---|---|")
for (strategy, w) in sorted(rows):
    r = rows[(strategy, w)]
    base = rows.get((strategy, 1))
    wall = med([x["wall"] for x in r])
    speed = med([x["wall"] for x in base]) / wall if base else float("nan")
    best = sorted(x["best"] for x in r)
    q = statistics.quantiles(best, n=4) if len(best) >= 2 else [best[0]] * 3
    a0 = [t for x in r for t in x["by_pending"].get(0, [])]
    a1 = [t for x in r for k, v in x["by_pending"].items() if k > 0 for t in v]
    print(f"| {strategy} | {w} | {len(r)} | {r[0]['n']} | {wall:.1f} | {speed:.2f} | {med(best):.4f} | {q[0]:.4f} – {q[2]:.4f} | {med(a0):.3f} | {med(a1):.3f} |")
