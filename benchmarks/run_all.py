"""Run every ``benchmarks/bench_*.py`` and write ``benchmarks/RESULTS.md``.

Usage: ``python benchmarks/run_all.py [NAME ...]`` where NAME selects ``bench_NAME.py``
(all of them when omitted). A benchmark that fails is reported and the others still run;
the exit status is 1 if any failed.
"""

from __future__ import annotations

import importlib.util
import sys
import time
import traceback
from pathlib import Path
from types import ModuleType
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # so bench modules can `import _common`

from _common import format_section, section, write_results  # noqa: E402


def discover(names: list[str]) -> list[Path]:
    found = sorted(HERE.glob("bench_*.py"))
    if names:
        wanted = {f"bench_{n.removeprefix('bench_').removesuffix('.py')}.py" for n in names}
        unknown = wanted - {p.name for p in found}
        if unknown:
            raise SystemExit(f"no such benchmark: {', '.join(sorted(unknown))}")
        found = [p for p in found if p.name in wanted]
    return found


def load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"benchmarks.{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it runs
    spec.loader.exec_module(module)
    return module


def run_one(path: Path) -> tuple[dict[str, Any], bool]:
    start = time.perf_counter()
    try:
        result = load(path).run()
    except Exception:
        message = "```\n" + traceback.format_exc() + "```"
        return section(f"{path.stem}: FAILED", message, "The benchmark raised; see the traceback above."), False
    result.setdefault("seconds", time.perf_counter() - start)
    if result["seconds"] is None:
        result["seconds"] = time.perf_counter() - start
    return result, True


def main(argv: list[str]) -> int:
    sections, ok = [], True
    for path in discover(argv):
        print(f"running {path.name} ...", flush=True)
        result, passed = run_one(path)
        ok &= passed
        sections.append(result)
        print(format_section(result), flush=True)
    if not argv:
        written = write_results(sections)
        print(f"wrote {written.relative_to(HERE.parent)}")
    else:
        print("a subset was run: RESULTS.md left unchanged")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
