"""The Identity persona matrix against the reference keystone 30 (not part of make test).

    .venv-bench/bin/python scripts/persona_matrix.py            # writes Tests/e2e/identity_persona_matrix.json
    .venv-bench/bin/python scripts/persona_matrix.py --stratus  # runs it on Stratus, prints each cell that differs

keystone runs from PyPI with its defaults (enforce_new_defaults is on in keystone 30) under
gunicorn on SQLite, as `make bench SERVICE=keystone` starts it (`make bench` installs
.venv-bench). The cases and personas are in Tests/e2e/framework/personas.py, which the e2e test
test_identity_personas.py runs against Stratus and compares with the file written here.
"""
import json
import os
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(ROOT, "Benchmarks"))
sys.path.insert(0, os.path.join(ROOT, "Tests", "e2e"))

from framework.personas import Matrix, differences  # noqa: E402
from keystone_bench import ReferenceKeystone, Stratus  # noqa: E402

TABLE = os.path.join(ROOT, "Tests", "e2e", "identity_persona_matrix.json")


def main():
    stratus = "--stratus" in sys.argv
    if stratus:
        cloud = Stratus(rounds=4, binary=os.environ.get("STRATUS_BIN", os.path.join(ROOT, ".build", "debug", "stratus")))
        cloud.start()
        base = cloud.base
    else:
        cloud = ReferenceKeystone(rounds=4)
        cloud.start()
        base = cloud.base
    try:
        table = Matrix(base, "bench-pass").build().run(progress=lambda name, row: print(name, file=sys.stderr))
    finally:
        cloud.destroy()
    if stratus:
        with open(TABLE) as f:
            expected = json.load(f)
        diff = differences(expected, table)
        for case, persona, e, a in diff:
            print(f"{case:40} {persona:24} keystone {e}  stratus {a}")
        print(f"{len(diff)} of {sum(len(r) for r in expected.values())} cells differ")
        return
    with open(TABLE, "w") as f:
        json.dump(table, f, indent=1, sort_keys=True)
        f.write("\n")
    print(f"wrote {TABLE}: {len(table)} routes x {len(next(iter(table.values())))} personas")


if __name__ == "__main__":
    main()
