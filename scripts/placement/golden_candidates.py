#!/usr/bin/env python3
"""Golden allocation candidates from the reference placement (not run by `make test`).

Starts openstack-placement from a venv (default /work/refvenv, or --venv / $PLACEMENT_VENV)
under gunicorn (2 workers, SQLite, noauth2), builds a fixed provider tree through the HTTP
API, asks 49 GET /allocation_candidates queries and writes
Tests/e2e/placement/golden/candidates.json: the setup recipe (every request, with the status
the reference answered) and each query's status and response. Tests/e2e/test_placement_golden.py
replays the recipe against Stratus and compares, order-insensitively (see golden.py).

    /work/refvenv/bin/python scripts/placement/golden_candidates.py [--venv DIR] [--out FILE]

The tree (fixed UUIDs, so the file is stable):

    cn1  (root; no inventory; HW_CPU_X86_AVX2, CUSTOM_CN; aggregate AGG1)
    ├── numa0  VCPU 4 (ratio 4.0), MEMORY_MB 2048 (reserved 256); HW_NUMA_ROOT, CUSTOM_NUMA0
    └── numa1  VCPU 4, MEMORY_MB 2048 (min_unit/step_size 256), CUSTOM_MAGIC 2; HW_NUMA_ROOT
        └── nic1  SRIOV_NET_VF 8; HW_NIC_SRIOV, CUSTOM_PHYSNET1
    cn2  (root) VCPU 8, MEMORY_MB 8192 (reserved 512, ratio 1.5), DISK_GB 100; HW_CPU_X86_SSE; AGG2
    ss1  (root) DISK_GB 1000; MISC_SHARES_VIA_AGGREGATE; AGG1 (so it shares with cn1's tree)

    consumer1: 2 VCPU on numa0 + 100 DISK_GB on ss1; consumer2: 6 VCPU + 1024 MB on cn2;
    consumer3: 1 CUSTOM_MAGIC on numa1.
"""
import argparse
import http.client
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
from reference_placement import DEFAULT_VENV, ReferencePlacement  # noqa: E402

OUT = os.path.join(ROOT, "Tests", "e2e", "placement", "golden", "candidates.json")
LATEST = "1.39"


def u(suffix):
    return "00000000-0000-4000-a000-" + suffix.rjust(12, "0")


CN1, NUMA0, NUMA1, NIC1 = u("c01"), u("c01a0"), u("c01a1"), u("c01b1")
CN2, SS1 = u("c02"), u("551")
AGG1, AGG2 = u("a9901"), u("a9902")
CONSUMER1, CONSUMER2, CONSUMER3 = u("c0a1"), u("c0a2"), u("c0a3")
PROJECT, USER = u("e01"), u("e02")
NAMES = {CN1: "cn1", NUMA0: "numa0", NUMA1: "numa1", NIC1: "nic1", CN2: "cn2", SS1: "ss1", AGG1: "AGG1", AGG2: "AGG2"}


def inv(total, reserved=0, ratio=1.0, min_unit=1, max_unit=None, step_size=1):
    return {"total": total, "reserved": reserved, "allocation_ratio": ratio, "min_unit": min_unit,
            "max_unit": total if max_unit is None else max_unit, "step_size": step_size}


# (uuid, parent, inventories, traits, aggregates)
PROVIDERS = [
    (CN1, None, {}, ["HW_CPU_X86_AVX2", "CUSTOM_CN"], [AGG1]),
    (NUMA0, CN1, {"VCPU": inv(4, ratio=4.0), "MEMORY_MB": inv(2048, reserved=256)}, ["HW_NUMA_ROOT", "CUSTOM_NUMA0"], []),
    (NUMA1, CN1, {"VCPU": inv(4), "MEMORY_MB": inv(2048, min_unit=256, step_size=256), "CUSTOM_MAGIC": inv(2)}, ["HW_NUMA_ROOT"], []),
    (NIC1, NUMA1, {"SRIOV_NET_VF": inv(8)}, ["HW_NIC_SRIOV", "CUSTOM_PHYSNET1"], []),
    (CN2, None, {"VCPU": inv(8), "MEMORY_MB": inv(8192, reserved=512, ratio=1.5), "DISK_GB": inv(100)}, ["HW_CPU_X86_SSE"], [AGG2]),
    (SS1, None, {"DISK_GB": inv(1000)}, ["MISC_SHARES_VIA_AGGREGATE"], [AGG1]),
]

# consumer -> {provider: resources}
ALLOCATIONS = [
    (CONSUMER1, {NUMA0: {"VCPU": 2}, SS1: {"DISK_GB": 100}}),
    (CONSUMER2, {CN2: {"VCPU": 6, "MEMORY_MB": 1024}}),
    (CONSUMER3, {NUMA1: {"CUSTOM_MAGIC": 1}}),
]


def build_recipe():
    """Every setup request, with the generations placement will expect (each successful write
    to a provider bumps its generation by one, starting at 0)."""
    steps = [{"method": "PUT", "path": "/resource_classes/CUSTOM_MAGIC", "microversion": LATEST, "body": None,
              "note": "custom resource class"}]
    for trait in ("CUSTOM_CN", "CUSTOM_NUMA0", "CUSTOM_PHYSNET1"):
        steps.append({"method": "PUT", "path": f"/traits/{trait}", "microversion": LATEST, "body": None, "note": "custom trait"})
    generation = {}
    for uuid, parent, inventories, traits, aggregates in PROVIDERS:
        body = {"name": NAMES[uuid], "uuid": uuid}
        if parent:
            body["parent_provider_uuid"] = parent
        steps.append({"method": "POST", "path": "/resource_providers", "microversion": LATEST, "body": body,
                      "note": f"provider {NAMES[uuid]}"})
        generation[uuid] = 0
        if inventories:
            steps.append({"method": "PUT", "path": f"/resource_providers/{uuid}/inventories", "microversion": LATEST,
                          "body": {"resource_provider_generation": generation[uuid], "inventories": inventories},
                          "note": f"inventory of {NAMES[uuid]}"})
            generation[uuid] += 1
        if traits:
            steps.append({"method": "PUT", "path": f"/resource_providers/{uuid}/traits", "microversion": LATEST,
                          "body": {"resource_provider_generation": generation[uuid], "traits": traits},
                          "note": f"traits of {NAMES[uuid]}"})
            generation[uuid] += 1
        if aggregates:
            steps.append({"method": "PUT", "path": f"/resource_providers/{uuid}/aggregates", "microversion": LATEST,
                          "body": {"resource_provider_generation": generation[uuid], "aggregates": aggregates},
                          "note": f"aggregates of {NAMES[uuid]}"})
            generation[uuid] += 1
    for consumer, allocations in ALLOCATIONS:
        steps.append({"method": "PUT", "path": f"/allocations/{consumer}", "microversion": LATEST,
                      "body": {"allocations": {rp: {"resources": res} for rp, res in allocations.items()},
                               "consumer_generation": None, "project_id": PROJECT, "user_id": USER,
                               "consumer_type": "INSTANCE"},
                      "note": "existing allocation"})
    return steps


def q(name, query, microversion=LATEST, compare=None, why=""):
    entry = {"name": name, "microversion": microversion, "query": query, "why": why}
    if compare:
        entry["compare"] = compare
    return entry


BASE = "resources=VCPU:1,MEMORY_MB:512"
QUERIES = [
    # Plain resources.
    q("simple_vcpu_mem", BASE, why="one group across a tree (1.29+) or one provider"),
    q("simple_with_sharing_disk", BASE + ",DISK_GB:10", why="DISK_GB from cn2 itself or from ss1 shared with cn1's tree"),
    q("disk_only_sharing_alone", "resources=DISK_GB:500", why="only the sharing provider has 500 GB"),
    q("vcpu_capacity_after_allocations", "resources=VCPU:3", why="cn2 has 2 VCPU left; numa0 14 (ratio 4), numa1 4"),
    q("custom_class", "resources=CUSTOM_MAGIC:1"),
    q("custom_class_exhausted", "resources=CUSTOM_MAGIC:2", why="1 of 2 already used: no result"),
    q("memory_step_size", "resources=MEMORY_MB:300", why="numa1's step_size 256 rules it out"),
    q("max_unit_exceeded", "resources=DISK_GB:1001", why="no result"),
    q("no_result", "resources=VCPU:100", why="no result"),
    # Granular groups.
    q("granular_isolate", "resources1=VCPU:1&resources2=VCPU:1&group_policy=isolate"),
    q("granular_none", "resources1=VCPU:1&resources2=VCPU:1&group_policy=none"),
    q("granular_vf_isolate", "resources1=VCPU:1,MEMORY_MB:256&resources2=SRIOV_NET_VF:1&required2=CUSTOM_PHYSNET1"
      "&group_policy=isolate"),
    q("granular_mixed_isolate", "resources=DISK_GB:10&resources1=VCPU:1,MEMORY_MB:256&resources2=SRIOV_NET_VF:1"
      "&required2=CUSTOM_PHYSNET1&group_policy=isolate",
      why="no result: an unsuffixed group that only a sharing provider satisfies is anchored to the sharing "
          "provider's own tree (ss1), so it never merges with numbered groups from cn1's tree"),
    q("granular_unsuffixed_sharing_only", "resources=DISK_GB:10&resources1=VCPU:1&group_policy=isolate",
      why="the same anchoring: only cn2, which has both itself"),
    q("granular_suffixed_sharing", "resources3=DISK_GB:10&resources1=VCPU:1&group_policy=none",
      why="a numbered group from ss1 is anchored to the trees it shares with: cn2 alone, or numa0/numa1 with ss1"),
    q("unsuffixed_sharing_with_nested_child", "resources=DISK_GB:10,SRIOV_NET_VF:1",
      why="ss1 shares with cn1's whole tree (aggregate on the root) including grandchild nic1"),
    q("granular_string_suffixes", "resources_CPU=VCPU:1&resources_MEM=MEMORY_MB:1024&group_policy=none"),
    # Traits.
    q("required_trait_on_root", BASE + "&required=HW_CPU_X86_AVX2"),
    q("required_trait_on_resource_provider", BASE + "&required=HW_NUMA_ROOT"),
    q("forbidden_trait", BASE + "&required=!HW_CPU_X86_SSE"),
    q("required_and_forbidden", BASE + "&required=HW_NUMA_ROOT,!CUSTOM_NUMA0"),
    q("any_of_traits", "resources=VCPU:1&required=in:CUSTOM_NUMA0,HW_CPU_X86_SSE"),
    q("any_of_and_required_repeated", "resources1=VCPU:1&required1=in:CUSTOM_NUMA0,HW_CPU_X86_SSE&required1=HW_NUMA_ROOT"),
    # Aggregates.
    q("member_of_in", "resources=VCPU:1&member_of=in:" + AGG1 + "," + AGG2),
    q("member_of_one", "resources=VCPU:1,DISK_GB:10&member_of=" + AGG1),
    q("member_of_forbidden", "resources=VCPU:1&member_of=!" + AGG1),
    q("member_of_forbidden_in", "resources=VCPU:1&member_of=!in:" + AGG1 + "," + AGG2, why="no result"),
    q("member_of_granular", "resources1=VCPU:1&member_of1=" + AGG2 + "&resources2=MEMORY_MB:256&group_policy=none"),
    # Trees.
    q("in_tree", "resources=VCPU:1&in_tree=" + CN1),
    q("in_tree_granular", "resources1=VCPU:1&in_tree1=" + CN2 + "&resources2=DISK_GB:10&group_policy=none"),
    q("in_tree_sharing_provider", "resources=VCPU:1,DISK_GB:10&in_tree=" + SS1),
    q("same_subtree_resourceless_numa_vf", "resources_CPU=VCPU:1&required_NUMA=HW_NUMA_ROOT&resources_VF=SRIOV_NET_VF:1"
      "&same_subtree=_NUMA,_CPU,_VF&group_policy=none"),
    q("same_subtree_numa_cpu_mem", "required_NUMA=HW_NUMA_ROOT&resources_CPU=VCPU:1&resources_MEM=MEMORY_MB:512"
      "&same_subtree=_NUMA,_CPU,_MEM&group_policy=none"),
    q("root_required", "resources=VCPU:1&root_required=HW_CPU_X86_AVX2"),
    q("root_required_forbidden", "resources=VCPU:1,DISK_GB:10&root_required=!HW_CPU_X86_AVX2"),
    # Limit: a slice of another query's answer.
    q("limit", BASE + "&limit=2", compare={"kind": "limit", "of": "simple_vcpu_mem", "limit": 2}),
    q("limit_granular", "resources1=VCPU:1&resources2=VCPU:1&group_policy=none&limit=3",
      compare={"kind": "limit", "of": "granular_none", "limit": 3}),
    q("limit_above_count", BASE + "&limit=100", compare={"kind": "limit", "of": "simple_vcpu_mem", "limit": 100}),
    # Errors.
    q("error_group_policy_missing", "resources1=VCPU:1&resources2=VCPU:1"),
    q("error_resourceless_without_same_subtree", "resources=VCPU:1&required_NUMA=HW_NUMA_ROOT"),
    q("error_unknown_resource_class", "resources=CUSTOM_NOPE:1"),
    q("error_any_of_before_1_39", "resources=VCPU:1&required=in:CUSTOM_NUMA0,HW_CPU_X86_SSE", microversion="1.38"),
    q("error_root_required_any_of", "resources=VCPU:1&root_required=in:HW_CPU_X86_AVX2,HW_CPU_X86_SSE",
      why="in: is for required only, also at 1.39"),
    q("error_root_required_before_1_35", "resources=VCPU:1&root_required=HW_CPU_X86_AVX2", microversion="1.34"),
    # Shapes of older microversions.
    q("shape_1_10", BASE, microversion="1.10", why="allocations as a list; nested trees split across providers excluded"),
    q("shape_1_12", BASE + ",DISK_GB:10", microversion="1.12", why="allocations as a dict; summaries without traits"),
    q("shape_1_17", "resources=VCPU:1,DISK_GB:10&required=HW_CPU_X86_SSE", microversion="1.17", why="summaries with traits"),
    q("shape_1_29", BASE + ",DISK_GB:10", microversion="1.29", why="nested-aware; summaries with parent/root"),
    q("shape_1_34", "resources=DISK_GB:10,VCPU:1&resources2=SRIOV_NET_VF:1&group_policy=none",
      microversion="1.34", why="mappings in allocation requests, the unsuffixed group under key ''"),
]


def call(base, method, path, microversion, body=None):
    data = None if body is None else json.dumps(body).encode()
    headers = {"X-Auth-Token": "admin", "OpenStack-API-Version": f"placement {microversion}", "Accept": "application/json"}
    if data is not None:
        headers["Content-Type"] = "application/json"
    req = urllib.request.Request(base + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            status, raw = r.status, r.read()
    except urllib.error.HTTPError as e:
        status, raw = e.code, e.read()
    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:
        parsed = raw.decode(errors="replace")
    return status, parsed


def collect(venv, log=None):
    """Builds the tree on a fresh reference placement and asks every query: (recipe, results, version)."""
    recipe = build_recipe()
    with ReferencePlacement(venv=venv, log=log) as ref:
        for step in recipe:
            status, body = call(ref.base, step["method"], step["path"], step["microversion"], step["body"])
            if status not in (200, 201, 204):
                sys.exit(f"setup step failed: {step['method']} {step['path']}: {status} {body}")
            step["status"] = status
        _, root = call(ref.base, "GET", "/", LATEST)
        results = []
        for entry in QUERIES:
            status, body = call(ref.base, "GET", "/allocation_candidates?" + entry["query"], entry["microversion"])
            if status != 200 and isinstance(body, dict):
                for error in body.get("errors", []):
                    error.pop("request_id", None)  # differs every run; not compared
            results.append({**entry, "status": status, "response": body})
            count = len(body.get("allocation_requests", [])) if status == 200 else "-"
            print(f"  {entry['name']:<42} {entry['microversion']:>5} {status} candidates={count}")
    return recipe, results, root["versions"][0]["max_version"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--venv", default=DEFAULT_VENV, help="venv with openstack-placement and gunicorn")
    parser.add_argument("--out", default=OUT)
    args = parser.parse_args()

    for attempt in range(3):
        try:
            recipe, results, max_version = collect(args.venv, os.environ.get("PLACEMENT_LOG"))
            break
        except (OSError, http.client.HTTPException) as e:
            # A connection reset from gunicorn was seen once in a dozen runs: start afresh.
            print(f"reference run failed ({e!r}); starting again", file=sys.stderr)
    else:
        sys.exit("reference placement failed three times")
    package = subprocess.run([os.path.join(args.venv, "bin", "python"), "-c",
                              "import importlib.metadata as m; print(m.version('openstack-placement'))"],
                             capture_output=True, text=True, check=True).stdout.strip()

    golden = {
        "about": (f"Allocation candidates answered by the reference placement (openstack-placement {package}, "
                  f"max microversion {max_version}, SQLite, noauth2 admin), written by "
                  "scripts/placement/golden_candidates.py; replayed by Tests/e2e/test_placement_golden.py."),
        "comparison": ("Order is not part of the contract: compare allocation_requests as a multiset (sorted canonical "
                       "JSON, list-shaped allocations and mappings' provider lists sorted), provider_summaries as a dict "
                       "(traits sorted); errors by status and each error's code; a query with compare.kind 'limit' as a "
                       "slice of query compare.of (see Tests/e2e/placement/golden.py)."),
        "providers": {NAMES[uuid]: uuid for uuid, *_ in PROVIDERS},
        "aggregates": {"AGG1": AGG1, "AGG2": AGG2},
        "recipe": recipe,
        "queries": results,
    }
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(golden, f, indent=1, sort_keys=False)
        f.write("\n")
    print(f"wrote {args.out}: {len(recipe)} setup steps, {len(results)} queries")


if __name__ == "__main__":
    main()
