"""Summarise a mutmut run: the mutation score and every surviving mutant with its diff.

`make mutation` runs mutmut over the modules that decide (the gate, the metrics, contract
inference and validation, inference, the model's encoding and outputs, the client;
`[tool.mutmut]` in pyproject.toml), then this module, which writes `summary.json` (score,
counts per status and per module, the survivors' names) and `survivors.md` (each survivor's
diff, grouped by function) to the output folder.

A survivor is a change to the code that no test noticed: read its diff, then add the test
that fails on it (or mark the line `# pragma: no mutate` when the change is harmless).
"""

from __future__ import annotations

import argparse
import ast
import difflib
import fnmatch
import os
import subprocess
import sys
import textwrap
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modelops.storage import write_json, write_text

# Statuses of `mutmut results --all true` that count for the score, and how.
CAUGHT = frozenset({"killed", "timeout", "caught by type check", "segfault"})
MISSED = frozenset({"survived", "no tests", "suspicious"})
MARKER = "__mutmut_"


@dataclass(frozen=True)
class Mutant:
    """One mutant: `module.function__mutmut_N` and what became of it."""

    name: str
    status: str

    @property
    def module(self) -> str:
        """Dotted module of the mutated function."""
        return self.name.rsplit(".", 1)[0]

    @property
    def function(self) -> str:
        """The function as mutmut names it in the mutated file (`x_f`, `xǁClassǁmethod`)."""
        return self.name.rsplit(".", 1)[1].rsplit(MARKER, 1)[0]

    @property
    def readable_function(self) -> str:
        """`f` or `Class.method`, as it is written in the source."""
        if self.function.startswith("xǁ"):
            return ".".join(part for part in self.function[2:].split("ǁ") if part)
        return self.function.removeprefix("x_")


def parse_results(text: str) -> list[Mutant]:
    """Mutants from the output of `mutmut results --all true` (`    name: status` lines)."""
    mutants = []
    for line in text.splitlines():
        name, sep, status = line.strip().rpartition(": ")
        if sep and MARKER in name:
            mutants.append(Mutant(name, status.strip()))
    return mutants


def score(mutants: list[Mutant]) -> float | None:
    """Share of checked mutants the tests caught; None when none was checked."""
    caught = sum(m.status in CAUGHT for m in mutants)
    missed = sum(m.status in MISSED for m in mutants)
    return round(caught / (caught + missed), 4) if caught + missed else None


def _functions(path: Path) -> dict[str, str]:
    source = path.read_text(encoding="utf-8")
    found = {}
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and MARKER in node.name:
            segment = ast.get_source_segment(source, node, padded=True) or ""
            found[node.name] = textwrap.dedent(segment)
    return found


def mutant_diff(mutant: Mutant, mutants_dir: Path, cache: dict[Path, dict[str, str]]) -> str:
    """The unified diff between the original function and this mutant of it."""
    path = mutants_dir / "src" / Path(*mutant.module.split(".")).with_suffix(".py")
    if path not in cache:
        cache[path] = _functions(path) if path.is_file() else {}
    functions = cache[path]
    mutated_name = mutant.name.rsplit(".", 1)[1]
    original_name = f"{mutant.function}{MARKER}orig"
    if mutated_name not in functions or original_name not in functions:
        return f"(no source for {mutant.name} under {mutants_dir})"
    original = functions[original_name].replace(original_name, mutant.readable_function, 1)
    mutated = functions[mutated_name].replace(mutated_name, mutant.readable_function, 1)
    lines = difflib.unified_diff(
        original.splitlines(), mutated.splitlines(), "original", "mutant", n=1, lineterm=""
    )
    return "\n".join(list(lines)[2:])  # without the ---/+++ header


def summarise(mutants: list[Mutant]) -> dict[str, Any]:
    """Score, counts per status and per module, and the names of the missed mutants."""
    by_module: dict[str, Counter[str]] = defaultdict(Counter)
    for mutant in mutants:
        by_module[mutant.module][mutant.status] += 1
    unchecked = sum(m.status == "not checked" for m in mutants)
    return {
        "score": score(mutants),
        "complete": unchecked == 0,
        "mutants": len(mutants),
        "counts": dict(Counter(m.status for m in mutants)),
        "modules": {
            module: {"score": score([m for m in mutants if m.module == module]), **counts}
            for module, counts in sorted(by_module.items())
        },
        "survivors": [m.name for m in mutants if m.status in MISSED],
    }


def survivors_markdown(mutants: list[Mutant], mutants_dir: Path, summary: dict[str, Any]) -> str:
    """Every missed mutant's diff, grouped by function."""
    shown = "n/a" if summary["score"] is None else f"{summary['score']:.1%}"
    out = [
        "# Surviving mutants",
        "",
        f"Mutation score {shown}: {summary['counts']}. Each diff below is a change to the",
        "code that no test noticed.",
    ]
    cache: dict[Path, dict[str, str]] = {}
    current = None
    for mutant in mutants:
        if mutant.status not in MISSED:
            continue
        where = f"{mutant.module}.{mutant.readable_function}"
        if where != current:
            out += ["", f"## `{where}`"]
            current = where
        diff = mutant_diff(mutant, mutants_dir, cache)
        out += ["", f"`{mutant.name.rsplit('.', 1)[1]}` ({mutant.status})", "", "```diff", diff]
        out += ["```"]
    return "\n".join(out) + "\n"


def summary_markdown(summary: dict[str, Any]) -> str:
    """The score and a table per module, for a CI job summary."""
    shown = "n/a" if summary["score"] is None else f"{summary['score']:.1%}"
    lines = [
        f"## Mutation score {shown}",
        "",
        f"{summary['mutants']} mutants, {len(summary['survivors'])} missed"
        + ("" if summary["complete"] else " (incomplete run)")
        + "; diffs in the `mutation-report` artifact (`survivors.md`).",
        "",
        "| module | score | killed | survived | no tests | timeout |",
        "|---|---|---|---|---|---|",
    ]
    for module, counts in summary["modules"].items():
        cells = [counts.get(k, 0) for k in ("killed", "survived", "no tests", "timeout")]
        lines.append(f"| `{module}` | {counts['score']} | " + " | ".join(map(str, cells)) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Read mutmut's results in the current directory and write the report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=Path("reports/mutation"))
    parser.add_argument("--mutants", type=Path, default=Path("mutants"))
    parser.add_argument(
        "--min-score", type=float, default=None, help="exit 1 below this score (0-1)"
    )
    parser.add_argument(
        "--matching", default=None, help="only mutants whose name matches this glob"
    )
    parser.add_argument(
        "--summary",
        type=Path,
        default=os.environ.get("GITHUB_STEP_SUMMARY"),
        help="also append the score table to this file (default: $GITHUB_STEP_SUMMARY)",
    )
    args = parser.parse_args(argv)
    if not args.mutants.is_dir():
        print(f"error: {args.mutants}/ not found: run 'mutmut run' first", file=sys.stderr)
        return 2
    mutmut = Path(sys.executable).with_name("mutmut")
    listed = subprocess.run(
        [str(mutmut), "results", "--all", "true"], capture_output=True, text=True, check=False
    )
    mutants = parse_results(listed.stdout)
    if args.matching:
        mutants = [m for m in mutants if fnmatch.fnmatchcase(m.name, args.matching)]
    if listed.returncode != 0 or not mutants:
        print(f"error: mutmut results gave no mutants:\n{listed.stderr[-2000:]}", file=sys.stderr)
        return 2
    summary = summarise(mutants)
    args.output.mkdir(parents=True, exist_ok=True)
    write_json(args.output / "summary.json", summary)
    write_text(args.output / "survivors.md", survivors_markdown(mutants, args.mutants, summary))
    if args.summary:
        with open(args.summary, "a", encoding="utf-8") as out:
            out.write(summary_markdown(summary))
    for module, counts in summary["modules"].items():
        statuses = ", ".join(f"{n} {status}" for status, n in counts.items() if status != "score")
        print(f"{module}: score {counts['score']} ({statuses})")
    shown = "n/a" if summary["score"] is None else f"{summary['score']:.1%}"
    note = "" if summary["complete"] else " (incomplete: some mutants not checked yet)"
    print(
        f"mutation score {shown} over {summary['mutants']} mutants{note}: "
        f"{len(summary['survivors'])} missed, listed in {args.output / 'survivors.md'}"
    )
    if args.min_score is not None and (summary["score"] or 0.0) < args.min_score:
        print(f"error: mutation score below {args.min_score}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
