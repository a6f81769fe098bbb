"""The differential runner (issue 10; not part of make test): the reference keystone 30 and
Stratus side by side, the same request sequences sent to both — every Identity route Stratus
serves as 18 personas (Tests/e2e/framework/personas.py) — and every difference printed:
status, the headers clients use, media type, and the body's keys (top level and one level in).

    .venv-bench/bin/python scripts/identity_diff.py            # needs .venv-bench (make bench)

The last run's summary is in the closing note of the issue that changed it; each difference
is either fixed with a test or listed in docs/decisions.md.
"""
import os
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(ROOT, "Benchmarks"))
sys.path.insert(0, os.path.join(ROOT, "Tests", "e2e"))

from framework.personas import PERSONAS, Matrix  # noqa: E402
from keystone_bench import ReferenceKeystone, Stratus  # noqa: E402


def collect(cloud):
    cloud.start()
    try:
        shapes = {}
        table = Matrix(cloud.base, "bench-pass").build().run(shapes=shapes)
        return table, shapes
    finally:
        cloud.destroy()


def main():
    binary = os.environ.get("STRATUS_BIN", os.path.join(ROOT, ".build", "debug", "stratus"))
    k_table, k_shapes = collect(ReferenceKeystone(rounds=4))
    s_table, s_shapes = collect(Stratus(rounds=4, binary=binary))
    statuses = shapes = 0
    for case in k_table:
        for persona, _, _ in PERSONAS:
            ks, ss = k_table[case][persona], s_table.get(case, {}).get(persona)
            if ks != ss:
                statuses += 1
                print(f"{case:42} {persona:22} status: keystone {ks}, stratus {ss}")
                continue
            kb, sb = k_shapes[case][persona], s_shapes[case][persona]
            if kb != sb:
                shapes += 1
                for field in ("content-type", "headers", "body"):
                    if kb[field] != sb[field]:
                        print(f"{case:42} {persona:22} {field}: keystone {kb[field]}, stratus {sb[field]}")
    cells = sum(len(r) for r in k_table.values())
    print(f"{len(k_table)} requests x {len(PERSONAS)} personas = {cells} cells: {statuses} status differences, "
          f"{shapes} with the same status but another shape")


if __name__ == "__main__":
    main()
