"""Golden allocation candidates: comparing a placement's answers with the reference's.

`golden/candidates.json` (written by scripts/placement/golden_candidates.py against the
reference openstack-placement) holds a setup `recipe` (HTTP requests with fixed UUIDs) and
`queries` with the reference's status and response. Replay the recipe against the placement
under test, ask each query, and compare with `compare(entry, status, body, by_name)`.

Placement promises no order: allocation_requests are compared as a multiset (sorted canonical
JSON strings), provider_summaries as a dict with sorted trait lists, mappings with sorted
provider lists. Error answers are compared by status and each error's `code` (titles, details
and request ids are not part of the contract). A query with a `compare` of kind `limit` is a
slice of another query's answer (placement takes the first N of an order it does not promise),
so it is checked against that query's full answer, the way placement's limit_results trims.
"""
import copy
import json
import os

GOLDEN_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden", "candidates.json")


def load(path=GOLDEN_PATH):
    with open(path) as f:
        return json.load(f)


def canonical(obj):
    return json.dumps(obj, sort_keys=True, separators=(",", ":"))


def normalize_allocation_request(request):
    """One allocation request as canonical JSON: list-shaped allocations (< 1.12) sorted,
    mappings' provider lists (1.34) sorted."""
    request = copy.deepcopy(request)
    if isinstance(request.get("allocations"), list):
        request["allocations"] = sorted(request["allocations"], key=canonical)
    if isinstance(request.get("mappings"), dict):
        request["mappings"] = {group: sorted(uuids) for group, uuids in request["mappings"].items()}
    return canonical(request)


def normalize_summaries(summaries):
    out = {}
    for uuid, summary in summaries.items():
        summary = copy.deepcopy(summary)
        if isinstance(summary.get("traits"), list):
            summary["traits"] = sorted(summary["traits"])
        out[uuid] = summary
    return out


def normalize(response):
    """An allocation candidates response in an order-insensitive comparable form:
    allocation_requests as a sorted list of canonical JSON strings (duplicates kept),
    provider_summaries as a dict with sorted trait lists; other keys as they are."""
    out = {k: v for k, v in response.items() if k not in ("allocation_requests", "provider_summaries")}
    out["allocation_requests"] = sorted(normalize_allocation_request(a) for a in response.get("allocation_requests", []))
    out["provider_summaries"] = normalize_summaries(response.get("provider_summaries", {}))
    return out


def normalize_error(body):
    """An error body as [(status, code)], sorted: placement's contract for errors."""
    errors = (body or {}).get("errors", []) if isinstance(body, dict) else []
    return sorted((e.get("status"), e.get("code")) for e in errors)


def expected_limited(full, limit, got):
    """What a `limit` query may answer given the unlimited query's answer `full` and the
    answer `got`: if `got`'s allocation requests are a `limit`-sized sub-multiset of `full`'s,
    the expected normalized answer is those requests plus the full summaries of every provider
    whose root is the root of a provider they allocate from (placement's limit_results).
    Returns (expected, problem) — problem is a string when `got` cannot be a valid slice."""
    full_n = normalize(full)
    got_n = normalize(got)
    if limit >= len(full_n["allocation_requests"]):
        return full_n, None
    pool = list(full_n["allocation_requests"])
    for request in got_n["allocation_requests"]:
        if request not in pool:
            return full_n, f"allocation request not among the unlimited answer's: {request}"
        pool.remove(request)
    if len(got_n["allocation_requests"]) != limit:
        return full_n, f"{len(got_n['allocation_requests'])} allocation requests, expected {limit}"
    summaries = full_n["provider_summaries"]
    roots = set()
    for request in got.get("allocation_requests", []):
        allocations = request["allocations"]
        uuids = [a["resource_provider"]["uuid"] for a in allocations] if isinstance(allocations, list) else list(allocations)
        for uuid in uuids:
            roots.add(summaries[uuid].get("root_provider_uuid", uuid))
    expected = {k: v for k, v in full_n.items() if k not in ("allocation_requests", "provider_summaries")}
    expected["allocation_requests"] = got_n["allocation_requests"]
    expected["provider_summaries"] = {u: s for u, s in summaries.items() if s.get("root_provider_uuid", u) in roots}
    return expected, None


def compare(entry, status, body, by_name):
    """None when (status, body) answers golden `entry` as the reference did, else a message.
    `by_name` maps query names to entries (for `limit` comparisons)."""
    if status != entry["status"]:
        return f"status {status}, reference {entry['status']}: {body}"
    if status != 200:
        got, want = normalize_error(body), normalize_error(entry["response"])
        return None if got == want else f"errors {got}, reference {want}"
    rule = entry.get("compare") or {"kind": "exact"}
    if rule["kind"] == "limit":
        want, problem = expected_limited(by_name[rule["of"]]["response"], rule["limit"], body)
        if problem:
            return problem
    else:
        want = normalize(entry["response"])
    got = normalize(body)
    if got == want:
        return None
    return diff(got, want)


def diff(got, want):
    lines = []
    extra = sorted(set(got["allocation_requests"]) - set(want["allocation_requests"]))
    missing = sorted(set(want["allocation_requests"]) - set(got["allocation_requests"]))
    lines += [f"  unexpected allocation request {a}" for a in extra]
    lines += [f"  missing allocation request {a}" for a in missing]
    if not extra and not missing and got["allocation_requests"] != want["allocation_requests"]:
        lines.append("  allocation requests differ in multiplicity")
    gs, ws = got["provider_summaries"], want["provider_summaries"]
    for uuid in sorted(set(gs) | set(ws)):
        if gs.get(uuid) != ws.get(uuid):
            lines.append(f"  provider summary {uuid}: got {canonical(gs.get(uuid))}, reference {canonical(ws.get(uuid))}")
    for key in sorted((set(got) | set(want)) - {"allocation_requests", "provider_summaries"}):
        if got.get(key) != want.get(key):
            lines.append(f"  {key}: got {got.get(key)!r}, reference {want.get(key)!r}")
    return "answer differs from the reference:\n" + "\n".join(lines)


def replay(session_request_fn, recipe):
    """Sends every recipe step through `session_request_fn(method, path, microversion, body)`,
    which returns (status, parsed JSON body or None); raises AssertionError at the first step
    whose status is not the one the reference answered."""
    for i, step in enumerate(recipe):
        status, body = session_request_fn(step["method"], step["path"], step["microversion"], step.get("body"))
        if status != step["status"]:
            raise AssertionError(f"recipe step {i} ({step['method']} {step['path']} at {step['microversion']}, "
                                 f"{step.get('note', '')}): status {status}, reference {step['status']}: {body}")
