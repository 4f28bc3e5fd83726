"""Turn the measures' JSON into RESULTS.md (tables, ratios, targets) and PNG charts."""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import os
import platform
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PACKAGES = ("tether", "starlette", "fastapi", "litestar", "uvicorn", "uvloop", "websockets",
            "picows", "redis", "hiredis", "orjson", "msgspec", "pydantic", "matplotlib")  # fmt: skip
NOTES = HERE / "profile_notes.md"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def git_commit() -> str:
    """The short hash of HEAD, plus "+dirty" when src/ has uncommitted changes."""
    done = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=HERE,
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip() or "unknown"


def _redis_version() -> str:
    done = subprocess.run(
        ["redis-server", "--version"], capture_output=True, text=True, check=False
    )
    return done.stdout.split(" v=")[-1].split()[0] if " v=" in done.stdout else "unknown"


def environment(started: dt.datetime, smoke: bool) -> dict[str, Any]:
    """Machine, versions, date and mode of this run."""
    return {
        "date": started.strftime("%Y-%m-%d %H:%M UTC"),
        "mode": "smoke" if smoke else "full",
        "cpu": _cpu_model(),
        "cpus": os.cpu_count(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "git_commit": git_commit(),
        "redis_server": _redis_version(),
        "versions": {p: _version(p) for p in PACKAGES},
    }


# ----------------------------------------------------------------------------- lookups


def _rows(results: list[dict[str, Any]], measure: str) -> list[dict[str, Any]]:
    for doc in results:
        if doc["measure"] == measure:
            return list(doc["rows"])
    return []


def median(results: list[dict[str, Any]], measure: str, name: str, variant: str) -> float | None:
    """The median of one row, or None when it was not measured or not available."""
    for row in _rows(results, measure):
        if row["name"] == name and row["variant"] == variant and row["available"]:
            return float(row["median"])
    return None


def higher_is_better(variant: str) -> bool:
    """Rates (``.../s``) are better high; times, sizes and losses are better low."""
    return variant.endswith("/s")


# ----------------------------------------------------------------------------- targets

WALL_CLOCK_E2E = ("msgs/s", "p50 µs", "p99 µs")
BUSY_ENOUGH_PCT = 90.0


def server_busy(results: list[dict[str, Any]], name: str) -> float | None:
    """Median server CPU % during the end-to-end load for ``name`` (None if not measured)."""
    for row in _rows(results, "e2e_echo"):
        shares = row.get("extra", {}).get("server_cpu_pct")
        if row["name"] == name and shares:
            return float(sorted(shares)[len(shares) // 2])
    return None


def contended(results: list[dict[str, Any]], names: tuple[str, ...]) -> bool:
    """True when a server did not reach ~100 % CPU: other processes competed for the CPUs,
    so wall-clock rates and latencies measure the machine's load, not the framework."""
    busy = [server_busy(results, n) for n in names if n]
    return any(b is not None and b < BUSY_ENOUGH_PCT for b in busy)


@dataclass(frozen=True)
class Target:
    """A goal for one tether row: an absolute bound, or a bound on tether ÷ a peer."""

    label: str
    measure: str
    variant: str
    bound: float
    peer: str | None = None  # None: absolute target on tether's median
    at_most: bool = True
    name: str = "tether"  # the row judged (a measure may have several tether rows)

    def evaluate(self, results: list[dict[str, Any]]) -> tuple[str, str]:
        """(status, observed) where status is "met", "MISSED", "not available" or "noisy"."""
        ours = median(results, self.measure, self.name, self.variant)
        if ours is None:
            return "not available", "-"
        if self.variant in WALL_CLOCK_E2E and contended(results, ("tether", self.peer or "")):
            return self._evaluate_quiet(results)
        value = ours
        if self.peer is not None:
            theirs = median(results, self.measure, self.peer, self.variant)
            if not theirs:
                return "not available", f"{ours:,.3g} (no {self.peer} figure)"
            value = ours / theirs
        ok = value <= self.bound if self.at_most else value >= self.bound
        shown = f"{value:.3g}x {self.peer}" if self.peer else f"{value:,.3g}"
        return ("met" if ok else "MISSED"), shown

    def _evaluate_quiet(self, results: list[dict[str, Any]]) -> tuple[str, str]:
        """Judge a wall-clock end-to-end target on the uncontended repetitions only."""
        ratio, pairs = quiet_ratio(results, self.variant, "tether", self.peer or "")
        if ratio is None or pairs < MIN_QUIET_PAIRS:
            return "not measurable in this run (CPU contention)", f"{pairs} quiet repetitions"
        ok = ratio <= self.bound if self.at_most else ratio >= self.bound
        shown = f"{ratio:.3g}x {self.peer} (median of {pairs} uncontended repetitions)"
        return ("met" if ok else "MISSED"), shown


MIN_QUIET_PAIRS = 2


def quiet_ratio(
    results: list[dict[str, Any]], variant: str, name: str, peer: str
) -> tuple[float | None, int]:
    """Median of name/peer over the end-to-end repetitions where both servers were busy.

    Samples are stored in repetition order, so the k-th samples of two rows come from the same
    repetition (run back to back); a repetition counts when both servers reached
    ``BUSY_ENOUGH_PCT`` CPU, i.e. nothing else held them back.
    """
    rows = {r["name"]: r for r in _rows(results, "e2e_echo") if r["variant"] == variant}
    busy = {
        r["name"]: r["extra"]["server_cpu_pct"]
        for r in _rows(results, "e2e_echo")
        if r.get("extra")
    }
    if (
        name not in rows
        or peer not in rows
        or not rows[name]["available"]
        or not rows[peer]["available"]
    ):
        return None, 0
    ratios = [
        a / b
        for a, b, ca, cb in zip(
            rows[name]["samples"], rows[peer]["samples"], busy[name], busy[peer], strict=False
        )
        if b and ca >= BUSY_ENOUGH_PCT and cb >= BUSY_ENOUGH_PCT
    ]
    if not ratios:
        return None, 0
    return sorted(ratios)[len(ratios) // 2], len(ratios)


def quiet_lines(results: list[dict[str, Any]], names: list[str]) -> list[str]:
    """Paired tether/peer msgs/s ratios over the uncontended repetitions, one line."""
    parts = []
    for peer in names:
        if peer == "tether":
            continue
        ratio, pairs = quiet_ratio(results, "msgs/s", "tether", peer)
        if ratio is not None:
            parts.append(f"{peer} {ratio:.2f}x ({pairs} reps)")
    if not parts:
        return ["No repetition had both tether's and a peer's server at 90 % CPU or more."]
    return [
        "tether ÷ peer msgs/s over the repetitions where both servers reached "
        f"{BUSY_ENOUGH_PCT:.0f} % CPU (paired, median): " + ", ".join(parts)
    ]


TARGETS = (
    Target("in-process text echo <= 1.5x raw ASGI", "inproc_echo", "text", 1.5, "raw"),
    Target("in-process JSON echo <= 0.6x Litestar", "inproc_echo", "json", 0.6, "litestar"),
    Target(
        "HTTP JSON with a response model <= 0.5x FastAPI",
        "http_json",
        "response model",
        0.5,
        "fastapi",
    ),
    Target(
        "connection lifetime, path+query+dependency <= 5 µs", "inproc_connect", "params+DI", 5.0
    ),
    Target(
        "end to end on uvicorn >= 97% of raw ASGI msgs/s",
        "e2e_echo",
        "msgs/s",
        0.97,
        "raw",
        at_most=False,
    ),
    Target(
        "end to end, server CPU per message <= raw / 0.97",
        "e2e_echo",
        "server CPU µs/msg",
        1 / 0.97,
        "raw",
    ),
    Target(
        "idle memory, framework share <= 2 KiB/connection", "idle_memory", "framework share", 2.0
    ),
    Target("fan-out to 1k sockets p99 <= 5 ms", "fanout", "1,000 sockets p99", 5.0),
    Target("fan-out to 10k sockets p99 <= 60 ms", "fanout", "10,000 sockets p99", 60.0),
    Target("cross-node through Redis p50 <= 1 ms", "cross_node", "p50 ms", 1.0),
    Target("cross-node through Redis p99 <= 5 ms", "cross_node", "p99 ms", 5.0),
    Target(
        "publish throughput to Redis >= 50k/s",
        "cross_node",
        "100-in-flight publishes/s",
        50_000,
        at_most=False,
    ),
    Target(
        "Redis pub/sub ingest on one node >= 200k msgs/s (hiredis)",
        "redis_ingest",
        "one server msgs/s",
        200_000,
        at_most=False,
        name="tether, hiredis",
    ),
)


# ----------------------------------------------------------------------------- markdown


def _fmt(value: float | None) -> str:
    if value is None:
        return "n/a"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}" if abs(value) >= 1 else f"{value:.3f}"


def _cell(row: dict[str, Any]) -> str:
    if not row["available"]:
        return "not available"
    samples = row["samples"]
    med = row["median"]
    spread = (max(samples) - min(samples)) / 2 / med * 100 if med else 0.0
    return f"{_fmt(med)} (±{spread:.0f}%)" if len(samples) > 1 else _fmt(med)


def _ordered(rows: list[dict[str, Any]], key: str) -> list[str]:
    seen: dict[str, None] = {}
    for row in rows:
        seen.setdefault(row[key], None)
    return list(seen)


def table(doc: dict[str, Any]) -> list[str]:
    """Markdown table of medians: implementations down, variants across."""
    rows = doc["rows"]
    names, variants = _ordered(rows, "name"), _ordered(rows, "variant")
    by_key = {(r["name"], r["variant"]): r for r in rows}
    header = "| implementation | " + " | ".join(v or doc["unit"] for v in variants) + " |"
    lines = [header, "|---" * (len(variants) + 1) + "|"]
    for name in names:
        cells = [_cell(by_key[(name, v)]) if (name, v) in by_key else "-" for v in variants]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines


def _ratio(value: float) -> str:
    return f"{value:.2f}x" if value >= 0.1 else f"{value:.2g}x"


def ratios(doc: dict[str, Any]) -> list[str]:
    """tether's median divided by each peer's, per variant; with a ``baseline`` row (a measure
    of tether alone, in several setups), each other row divided by the baseline's."""
    rows = doc["rows"]
    baseline = doc.get("baseline")
    if baseline:
        ours = [n for n in _ordered(rows, "name") if n != baseline]
        peers = [baseline]
    else:
        ours = [n for n in _ordered(rows, "name") if n.startswith("tether")]
        peers = [n for n in _ordered(rows, "name") if not n.startswith("tether")]
    variants = _ordered(rows, "variant")
    by_key = {(r["name"], r["variant"]): r for r in rows}
    lines = []
    for variant in variants:
        for mine in ours:
            me = by_key.get((mine, variant))
            if not me or not me["available"]:
                continue
            parts = []
            for peer in peers:
                other = by_key.get((peer, variant))
                if other and other["available"] and other["median"]:
                    ratio = _ratio(me["median"] / other["median"])
                    parts.append(ratio if baseline else f"{peer} {ratio}")
            if parts:
                better = "higher" if higher_is_better(variant) else "lower"
                lines.append(
                    f"- {mine} ÷ {baseline or 'peer'}, {variant or doc['unit']} "
                    f"({better} is better): " + ", ".join(parts)
                )
    return lines or ["- no tether figure to compare yet"]


def _environment_lines(meta: dict[str, Any]) -> list[str]:
    versions = ", ".join(f"{k} {v}" for k, v in meta["versions"].items())
    return [
        f"- date: {meta['date']}; mode: {meta['mode']}; tether commit {meta['git_commit']}",
        f"- machine: {meta['cpu']}, {meta['cpus']} CPUs, Linux {meta['kernel']}",
        f"- Python {meta['python']}; Redis server {meta['redis_server']}; TLS off; permessage-deflate off",
        f"- versions: {versions}",
    ]


def _targets_lines(results: list[dict[str, Any]]) -> tuple[list[str], list[str]]:
    lines = ["| target | tether | status |", "|---|---|---|"]
    behind = []
    for target in TARGETS:
        status, shown = target.evaluate(results)
        lines.append(f"| {target.label} | {shown} | {status} |")
        if status != "met":
            behind.append(f"- **{target.label}**: {status} (tether: {shown})")
    return lines, behind


def _extra_lines(doc: dict[str, Any]) -> list[str]:
    """A row's other per-sample figures (say, the flood rate beside a node's ingest rate)."""
    lines = []
    for row in doc["rows"]:
        for key, values in row.get("extra", {}).items():
            if key != "server_cpu_pct" and values:
                lines.append(f"{key}, {row['name']}, {row['variant']}: {values}")
    return lines


def markdown(meta: dict[str, Any], results: list[dict[str, Any]], failures: dict[str, str]) -> str:
    """The whole RESULTS.md text."""
    out = ["# tether benchmark results", ""]
    if meta["mode"] == "smoke":
        out += ["**Smoke run: tiny sizes, the figures mean nothing.**", ""]
    out += ["Generated by `bash benchmarks/run.sh`; method in [docs/benchmarks.md](../docs/benchmarks.md).",
            "Every figure is the median over repetitions in which tether and the peers alternated",
            "in the same run; (±x%) is half the range of the samples around the median.", ""]  # fmt: skip
    out += ["## Environment", "", *_environment_lines(meta), ""]
    target_lines, behind = _targets_lines(results)
    out += ["## Targets", "", *target_lines, ""]
    out += ["### Where tether is behind its target", ""]
    out += behind or ["- nowhere: every target is met."]
    out += [""]
    if failures:
        out += (
            ["## Failed measures", ""] + [f"- {k}: `{v[:400]}`" for k, v in failures.items()] + [""]
        )
    for doc in results:
        out += [f"## {doc['title']}", "", f"![{doc['measure']}](charts/{doc['measure']}.png)", ""]
        out += table(doc) + [""] + ratios(doc) + [""]
        notes = sorted({r["note"] for r in doc["rows"] if r["note"] and r["available"]})
        params = ", ".join(f"{k}={v}" for k, v in doc["params"].items())
        out += [f"Parameters: {params}; took {doc.get('seconds', '?')} s."] + [
            f"Note: {n}" for n in notes
        ]
        cpu = [r for r in doc["rows"] if r.get("extra", {}).get("server_cpu_pct")]
        for row in cpu:
            out.append(f"Server CPU during load, {row['name']}: {row['extra']['server_cpu_pct']} %")
        out += _extra_lines(doc)
        if cpu and contended(results, tuple(r["name"] for r in cpu)):
            out += ["", "**Warning: in most samples of some servers the server process did not reach "
                    f"{BUSY_ENOUGH_PCT:.0f} % CPU, so it was not the bottleneck: other processes competed "
                    "for the two CPUs during this run. The msgs/s and latency columns are not "
                    "trustworthy here; the server CPU µs/msg column (CPU time, not wall time) is "
                    "the figure to compare.**"]  # fmt: skip
            out += ["", *quiet_lines(results, [r["name"] for r in cpu])]
        out += [""]
    if NOTES.exists():
        out += [NOTES.read_text().strip(), ""]
    return "\n".join(out)


# ----------------------------------------------------------------------------- charts


def chart(doc: dict[str, Any], path: Path) -> None:
    """One horizontal bar panel per variant, implementations as bars, tether highlighted."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for r in doc["rows"] if r["available"]]
    variants = _ordered(rows, "variant")
    if not variants:
        return
    fig, axes = plt.subplots(
        1,
        len(variants),
        figsize=(4.2 * len(variants), 0.5 * len({r["name"] for r in rows}) + 1.6),
        squeeze=False,
    )
    for ax, variant in zip(axes[0], variants, strict=True):
        these = [r for r in rows if r["variant"] == variant]
        names = [r["name"] for r in these]
        values = [r["median"] for r in these]
        colors = ["#d9480f" if n.startswith("tether") else "#868e96" for n in names]
        ax.barh(names, values, color=colors)
        ax.invert_yaxis()
        better = "higher" if higher_is_better(variant) else "lower"
        ax.set_title(f"{variant or doc['unit']} ({better} is better)", fontsize=9)
        for y, value in enumerate(values):
            ax.text(value, y, f" {_fmt(value)}", va="center", fontsize=8)
        ax.margins(x=0.25)
        ax.tick_params(labelsize=8)
    fig.suptitle(doc["title"], fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def write(
    out: Path, meta: dict[str, Any], results: list[dict[str, Any]], failures: dict[str, str]
) -> None:
    """Write RESULTS.md and charts/<measure>.png under ``out``."""
    charts = out / "charts"
    charts.mkdir(parents=True, exist_ok=True)
    for doc in results:
        chart(doc, charts / f"{doc['measure']}.png")
    (out / "RESULTS.md").write_text(markdown(meta, results, failures))
