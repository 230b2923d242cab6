#!/usr/bin/env bash
# Offline validation of daemonset/ (no cluster needed):
#  1. every manifest in daemonset/ against the Kubernetes OpenAPI schemas
#     (kubernetes-validate, strict: unknown fields fail), for each version in
#     K8S_VERSIONS; the same for `kubectl kustomize daemonset/` when kubectl
#     is installed;
#  2. deployment invariants the schemas cannot see (least-privilege RBAC,
#     capabilities, mounts, probes);
#  3. the CRD's openAPIV3Schema: structural rules, then the seed manifest of
#     shared/policy-semantics.md and daemonset/tests/good/*.yaml must pass,
#     and each daemonset/tests/bad/*.yaml must fail at the field its
#     "# expect:" line names. OpenAPI keywords are checked with jsonschema;
#     CEL rules cannot run offline, so each one is mirrored by a Python
#     function below, and a rule without a mirror fails the run.
# Needs python3 and PyPI (pip installs into a temp venv, removed on exit).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# The oldest Kubernetes the CRD supports (isCIDR in CEL) and a recent one.
K8S_VERSIONS=${K8S_VERSIONS:-"1.31.0 1.35.0"}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export PYTHONDONTWRITEBYTECODE=1 PIP_DISABLE_PIP_VERSION_CHECK=1

python3 -m venv "$tmp/venv"
# kubernetes-validate ships the Kubernetes JSON schemas: no network after this.
"$tmp/venv/bin/pip" install -q --no-cache-dir \
    kubernetes-validate==1.37.0 jsonschema==4.26.0 PyYAML==6.0.2

rendered=""
if command -v kubectl >/dev/null 2>&1; then
    kubectl kustomize "$root/daemonset" >"$tmp/rendered.yaml"
    rendered="$tmp/rendered.yaml"
else
    echo "note: kubectl not found; kustomize rendering not checked"
fi

SEMANTICS=${SEMANTICS:-}
if [[ -z $SEMANTICS ]]; then
    for candidate in "$root/docs/policy-semantics.md" "$root/../shared/policy-semantics.md"; do
        if [[ -f $candidate ]]; then SEMANTICS=$candidate; break; fi
    done
fi

"$tmp/venv/bin/python" - "$root" "$K8S_VERSIONS" "$rendered" "$SEMANTICS" <<'PY'
import copy, glob, ipaddress, os, random, re, sys
import jsonschema, kubernetes_validate, yaml

root, versions, rendered, semantics = sys.argv[1], sys.argv[2].split(), sys.argv[3], sys.argv[4]
ddir = os.path.join(root, "daemonset")
failures = []

def fail(msg):
    failures.append(msg)
    print("FAIL:", msg)

def docs(path):
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]

def rel(p):
    return os.path.relpath(p, root)

# --- 1. Kubernetes schemas --------------------------------------------------
kustomization = yaml.safe_load(open(os.path.join(ddir, "kustomization.yaml")))
files = sorted(glob.glob(os.path.join(ddir, "*.yaml")))
files = [f for f in files if os.path.basename(f) != "kustomization.yaml"]
listed = set(kustomization.get("resources", []))
on_disk = {os.path.basename(f) for f in files}
if listed != on_disk:
    fail(f"kustomization resources {sorted(listed)} != manifests on disk {sorted(on_disk)}")

def k8s_validate(doc, where):
    ok = True
    for v in versions:
        try:
            kubernetes_validate.validate(doc, v, strict=True)
        except kubernetes_validate.ValidationError as e:
            fail(f"{where}: {doc['kind']}/{doc['metadata']['name']} invalid for Kubernetes {v}: "
                 f"{'.'.join(map(str, e.path))}: {e.message}")
            ok = False
        except (kubernetes_validate.SchemaNotFoundError, kubernetes_validate.InvalidSchemaError) as e:
            fail(f"{where}: no schema for {doc.get('apiVersion')}/{doc.get('kind')} in Kubernetes {v}: {e}")
            ok = False
    return ok

manifests = {}  # (kind, name) -> doc
valid = total = 0
for f in files:
    for d in docs(f):
        total += 1
        manifests[(d["kind"], d["metadata"]["name"])] = d
        valid += k8s_validate(d, rel(f))
print(f"{valid}/{total} manifests valid against Kubernetes {', '.join(versions)} (strict)")

if rendered:
    rdocs = docs(rendered)
    rvalid = sum(k8s_validate(d, "kustomize output") for d in rdocs)
    if len(rdocs) != total:
        fail(f"kustomize renders {len(rdocs)} objects, daemonset/ holds {total}")
    images = [c["image"] for d in rdocs if d["kind"] == "DaemonSet"
              for c in d["spec"]["template"]["spec"]["containers"]]
    if images != ["podgate:latest"]:
        fail(f"kustomize output images {images}, expected ['podgate:latest']")
    print(f"{rvalid}/{len(rdocs)} objects of `kubectl kustomize daemonset/` valid; image {images}")

# --- 2. Deployment invariants -----------------------------------------------
def check(cond, msg):
    if not cond:
        fail(msg)
    return cond

invariants = 0
role = manifests.get(("ClusterRole", "podgate"))
if check(role is not None, "ClusterRole podgate missing"):
    granted = {(g, r, v) for rule in role["rules"] for g in rule["apiGroups"]
               for r in rule["resources"] for v in rule["verbs"]}
    want = {(g, r, v) for g, r in [("", "pods"), ("", "namespaces"),
                                    ("policy.linkerd.io", "networkauthenticationpolicies")]
            for v in ("get", "list", "watch")}
    check(granted == want, f"ClusterRole grants {sorted(granted - want)} beyond / lacks {sorted(want - granted)}")
    check(all(not rule.get("resourceNames") and not rule.get("nonResourceURLs") for rule in role["rules"]),
          "ClusterRole: unexpected resourceNames/nonResourceURLs")
    invariants += 1
binding = manifests.get(("ClusterRoleBinding", "podgate"))
check(binding and binding["roleRef"]["name"] == "podgate" and binding["subjects"] ==
      [{"kind": "ServiceAccount", "name": "podgate", "namespace": "podgate-system"}],
      "ClusterRoleBinding must bind ClusterRole podgate to podgate-system/podgate only")
invariants += 1

ds = manifests.get(("DaemonSet", "podgate"))
if check(ds is not None, "DaemonSet podgate missing"):
    spec = ds["spec"]["template"]["spec"]
    c = spec["containers"][0]
    sc = c.get("securityContext", {})
    caps = sc.get("capabilities", {})
    args = c.get("args", [])
    mounts = {m["name"]: m for m in c.get("volumeMounts", [])}
    vols = {v["name"]: v for v in spec.get("volumes", [])}
    health = next((a.split("=", 1)[1] for a in args if a.startswith("--health-address=")), "")
    hhost, _, hport = health.rpartition(":")
    ports = {p.get("name"): p["containerPort"] for p in c.get("ports", [])}
    def probe_target(p):
        g = c.get(p, {}).get("httpGet", {})
        port = g.get("port")
        return g.get("host"), ports.get(port, port), g.get("path")
    checks = [
        (spec.get("serviceAccountName") == "podgate", "serviceAccountName podgate"),
        (spec.get("hostNetwork") is True, "hostNetwork: true"),
        # hostPID: pod addresses are learned from /proc/<pid>/ns/net (issue 12).
        (spec.get("hostPID") is True and not spec.get("hostIPC"), "hostPID (netns address learning), no hostIPC"),
        (sc.get("privileged") is not True, "not privileged"),
        (sorted(caps.get("add", [])) == ["BPF", "NET_ADMIN", "SYS_ADMIN", "SYS_PTRACE", "SYS_RESOURCE"],
         "capabilities add exactly BPF, NET_ADMIN, SYS_ADMIN, SYS_PTRACE, SYS_RESOURCE"),
        (caps.get("drop") == ["ALL"], "capabilities drop ALL"),
        (sc.get("readOnlyRootFilesystem") is True, "readOnlyRootFilesystem"),
        # The API server refuses Bidirectional for unprivileged containers;
        # the OpenAPI schemas cannot see that.
        (all(m.get("mountPropagation") != "Bidirectional" for m in mounts.values())
         or sc.get("privileged") is True, "Bidirectional propagation needs privileged"),
        (vols.get("bpffs", {}).get("hostPath", {}).get("path") == "/sys/fs/bpf"
         and mounts.get("bpffs", {}).get("mountPath") == "/sys/fs/bpf", "host /sys/fs/bpf mounted at /sys/fs/bpf"),
        (vols.get("cgroup", {}).get("hostPath", {}).get("path") == "/sys/fs/cgroup"
         and mounts.get("cgroup", {}).get("readOnly") is True, "host /sys/fs/cgroup mounted read-only"),
        ("--pin-dir=/sys/fs/bpf/podgate" in args and "--node-name=$(NODE_NAME)" in args
         and args[:1] == ["agent"], "args: agent --node-name=$(NODE_NAME) --pin-dir=/sys/fs/bpf/podgate"),
        # Issue 13 item 4: without an edge filter a neighbour can forge a local
        # pod's or the node's address (IPv6 has no rp_filter); auto covers the
        # node's non-pod interfaces, including tunnels created after start.
        ("--edge-interfaces=auto" in args and not any(a.startswith("--edge-interfaces=") and a != "--edge-interfaces=auto"
                                                     for a in args), "args: --edge-interfaces=auto"),
        (any(e["name"] == "NODE_NAME" and e.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath")
             == "spec.nodeName" for e in c.get("env", [])), "NODE_NAME from spec.nodeName"),
        (all(probe_target(p) == (hhost, int(hport or 0), path) for p, path in
             [("livenessProbe", "/healthz"), ("readinessProbe", "/readyz"), ("startupProbe", "/healthz")]),
         f"probes hit --health-address {health} (/healthz, /readyz)"),
        ("cleanup" not in str(c.get("lifecycle", {})), "no cleanup in lifecycle hooks"),
        ({"operator": "Exists"} in spec.get("tolerations", []), "tolerates every taint"),
        (spec.get("priorityClassName") == "system-node-critical", "priorityClassName system-node-critical"),
        (ds["spec"].get("updateStrategy", {}).get("rollingUpdate", {}).get("maxUnavailable") == 1,
         "RollingUpdate maxUnavailable 1"),
        # Measured (daemonset.yaml says how): issue 15's `podgate bench kube`.
        (c.get("resources", {}).get("limits", {}).get("memory") == "1536Mi"
         and c.get("resources", {}).get("requests", {}).get("memory") == "192Mi", "memory request 192Mi, limit 1536Mi"),
    ]
    for ok, what in checks:
        check(ok, f"DaemonSet: {what}")
    invariants += len(checks)
print(f"{invariants} deployment invariants checked (RBAC, capabilities, mounts, probes)")

# --- 3. The CRD schema ------------------------------------------------------
crd = manifests[("CustomResourceDefinition", "networkauthenticationpolicies.policy.linkerd.io")]
version = next(v for v in crd["spec"]["versions"] if v["name"] == "v1alpha1")
schema = version["schema"]["openAPIV3Schema"]

def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)

def is_cidr(s):
    """Mirror of Kubernetes' CEL isCIDR(): Go netip.ParsePrefix, minus
    IPv4-mapped IPv6 addresses. Host bits may be set."""
    if not isinstance(s, str) or s.count("/") != 1:
        return False
    addr, bits = s.split("/")
    if "%" in addr or not re.fullmatch(r"0|[1-9][0-9]{0,2}", bits):
        return False
    try:
        a = ipaddress.ip_address(addr)  # rejects IPv4 octets with leading zeros, like netip
    except ValueError:
        return False
    return int(bits) <= a.max_prefixlen and not (a.version == 6 and a.ipv4_mapped)

# CEL rule text -> (Python mirror, how it is checked). Keep in step with crd.yaml.
CEL = {
    "!has(self.endPort) || type(self.port) == int":
        lambda o: "endPort" not in o or is_int(o["port"]),
    "!has(self.endPort) || type(self.port) != int || self.endPort >= self.port":
        lambda o: "endPort" not in o or not is_int(o["port"]) or o["endPort"] >= o["port"],
    "has(self.podSelector) || has(self.namespaceSelector) || has(self.serviceAccounts) || has(self.networks)":
        lambda o: any(k in o for k in ("podSelector", "namespaceSelector", "serviceAccounts", "networks")),
    "self.operator in ['In', 'NotIn'] ? (has(self.values) && size(self.values) > 0) : (!has(self.values) || size(self.values) == 0)":
        lambda o: bool(o.get("values")) if o["operator"] in ("In", "NotIn") else not o.get("values"),
    "isCIDR(self)": is_cidr,
}

# 3a. Structural-schema rules the API server enforces on a CRD (a subset),
# plus bounded sizes under spec (the CEL cost estimate needs them).
INT_OR_STRING = [{"type": "integer"}, {"type": "string"}]
def structural(node, path, under_spec):
    where = path or "<root>"
    if not (node.get("x-kubernetes-int-or-string") or node.get("x-kubernetes-preserve-unknown-fields")):
        check("type" in node, f"CRD schema {where}: no type")
    for k in ("$ref", "oneOf", "allOf", "not", "definitions"):
        check(k not in node, f"CRD schema {where}: {k} is not allowed in a structural schema")
    if "anyOf" in node:
        check(node.get("x-kubernetes-int-or-string") and node["anyOf"] == INT_OR_STRING,
              f"CRD schema {where}: anyOf only as the int-or-string pattern")
    check(not ("properties" in node and "additionalProperties" in node),
          f"CRD schema {where}: properties and additionalProperties together")
    check(node.get("additionalProperties") is not False, f"CRD schema {where}: additionalProperties: false")
    if under_spec and node.get("type") == "array":
        check("maxItems" in node, f"CRD schema {where}: array without maxItems")
    if under_spec and node.get("type") == "string":
        check("maxLength" in node or "enum" in node, f"CRD schema {where}: string without maxLength")
    for r in node.get("x-kubernetes-validations", []):
        check(r["rule"] in CEL, f"CRD schema {where}: CEL rule without a Python mirror: {r['rule']}")
    for name, sub in node.get("properties", {}).items():
        structural(sub, f"{path}.{name}" if path else name, under_spec or name == "spec")
    if isinstance(node.get("items"), dict):
        structural(node["items"], f"{path}[]", under_spec)
    if isinstance(node.get("additionalProperties"), dict):
        structural(node["additionalProperties"], f"{path}{{}}", under_spec)
structural(schema, "", False)

def schema_has(path):
    node = schema
    for part in re.findall(r"\.(\w+)|\[\*\]", path):
        node = node.get("properties", {}).get(part) if part else node.get("items")
        if node is None:
            return False
    return True
for col in version.get("additionalPrinterColumns", []):
    check(schema_has(col["jsonPath"]) or col["jsonPath"].startswith(".metadata."),
          f"printer column {col['name']}: {col['jsonPath']} is not in the schema")

# 3b. jsonschema translation: int-or-string -> anyOf integer/string (pattern
# and minimum/maximum apply each to its own type, as in the API server);
# objects with properties get additionalProperties: false, which is what
# strict field validation (kubectl's default) does with unknown fields.
def translate(node):
    node = copy.deepcopy(node)
    def walk(n):
        if n.get("x-kubernetes-int-or-string") and "anyOf" not in n:
            n["anyOf"] = INT_OR_STRING
        if "properties" in n and "additionalProperties" not in n \
                and not n.get("x-kubernetes-preserve-unknown-fields"):
            n["additionalProperties"] = False
        for sub in n.get("properties", {}).values():
            walk(sub)
        for k in ("items", "additionalProperties"):
            if isinstance(n.get(k), dict):
                walk(n[k])
    walk(node)
    return node
validator = jsonschema.Draft4Validator(translate(schema))

def cel_errors(node, value, path):
    """Run the CEL mirrors where the schema declares rules; a rule whose
    inputs are mistyped is left to the schema error, as in the API server."""
    errs = []
    for r in node.get("x-kubernetes-validations", []):
        try:
            ok = CEL[r["rule"]](value)
        except Exception:
            continue
        if not ok:
            errs.append((".".join(path + [r["fieldPath"].lstrip(".")] if r.get("fieldPath") else path),
                         f"CEL {r['rule']!r}: {r.get('message', '')}"))
    if isinstance(value, dict):
        for k, v in value.items():
            if k in node.get("properties", {}):
                errs += cel_errors(node["properties"][k], v, path + [k])
            elif isinstance(node.get("additionalProperties"), dict):
                errs += cel_errors(node["additionalProperties"], v, path + [k])
    elif isinstance(value, list) and isinstance(node.get("items"), dict):
        for i, v in enumerate(value):
            errs += cel_errors(node["items"], v, path + [str(i)])
    return errs

def errors(obj):
    schema_errs = [(".".join(map(str, e.absolute_path)), e.message) for e in validator.iter_errors(obj)]
    return schema_errs, cel_errors(schema, obj, [])

# 3c. The seed manifest, exactly as written in the contract.
seed_fixture = docs(os.path.join(ddir, "tests/good/seed-walkthrough.yaml"))[0]
if semantics:
    blocks = re.findall(r"```yaml\n(.*?)```", open(semantics).read(), re.S)
    seeds = [yaml.safe_load(b) for b in blocks if "kind: NetworkAuthenticationPolicy" in b]
    if check(len(seeds) == 1, f"{semantics}: expected one NetworkAuthenticationPolicy block"):
        check(seeds[0] == seed_fixture, "tests/good/seed-walkthrough.yaml differs from the contract's seed manifest")
        s, c = errors(seeds[0])
        check(not s and not c, f"contract seed manifest rejected: {s + c}")
        print(f"seed manifest from {semantics}: accepted")
else:
    print("note: policy-semantics.md not found; the seed is checked from tests/good/seed-walkthrough.yaml only")

good = sorted(glob.glob(os.path.join(ddir, "tests/good/*.yaml")))
accepted = 0
for f in good:
    s, c = errors(docs(f)[0])
    if s or c:
        fail(f"{rel(f)} rejected: {s + c}")
    else:
        accepted += 1
print(f"{accepted}/{len(good)} good fixtures accepted")

bad = sorted(glob.glob(os.path.join(ddir, "tests/bad/*.yaml")))
rejected = 0
for f in bad:
    text = open(f).read()
    m = re.search(r"^# expect: (\S+)$", text, re.M)
    expect = m.group(1) if m else None
    s, c = errors(yaml.safe_load(text))
    by = [n for n, e in (("schema", s), ("CEL mirror", c)) if any(p == expect for p, _ in e)]
    if not expect:
        fail(f"{rel(f)}: no '# expect: <field path>' line")
    elif not (s or c):
        fail(f"{rel(f)}: accepted, expected a rejection at {expect}")
    elif not by:
        fail(f"{rel(f)}: rejected, but not at {expect}: {s + c}")
    else:
        rejected += 1
        print(f"  rejected {os.path.basename(f):32} at {expect:45} by {' + '.join(by)}")
print(f"{rejected}/{len(bad)} bad fixtures rejected at the expected field")

# 3d. The CIDR pattern (portable, checked offline) against isCIDR() (exact):
# every string isCIDR accepts must match the pattern; the only strings the
# pattern may accept beyond it are IPv4-mapped IPv6 prefixes.
def cidr_fields(node):
    if isinstance(node, dict):
        if any("isCIDR" in r["rule"] for r in node.get("x-kubernetes-validations", [])):
            yield node
        for v in node.values():
            yield from cidr_fields(v)
patterns = [n.get("pattern") for n in cidr_fields(schema)]
check(len(patterns) >= 2 and len(set(patterns)) == 1 and patterns[0],
      "every isCIDR field must carry the same pattern")
pattern = re.compile(patterns[0] or "^$")
rng = random.Random(42)
corpus = ["10.0.0.0/99", "not-a-cidr", "010.0.0.0/8", "10.0.0.0", "10.0.0.0/08", "fe80::1%eth0/64",
          "::/0", "0.0.0.0/0", "::ffff:10.0.0.0/104", "1::2:1.2.3.4/128", "10.0.0.0/-1", "2001:db8::/129",
          "1:2:3:4:5:6:7:8/64", "1:2:3:4:5:6:7:8:9/64", "::1.2.3.4/128", "1.2.3.4/32 ", "12345::/16"]
for _ in range(20000):
    if rng.random() < 0.4:
        a = str(ipaddress.IPv4Address(rng.getrandbits(32)))
    else:
        ip = ipaddress.IPv6Address(rng.getrandbits(128) & ~((1 << rng.randint(0, 128)) - 1))
        a = rng.choice([ip.compressed, ip.exploded, ip.compressed.upper()])
        if rng.random() < 0.3:  # embedded IPv4 tail
            a = a.rsplit(":", 2)[0] + ":" + str(ipaddress.IPv4Address(rng.getrandbits(32)))
    corpus.append(f"{a}/{rng.randint(0, 140)}")
mismatch, mapped = [], 0
for s in corpus:
    p, e = bool(pattern.fullmatch(s)), is_cidr(s)
    if p and not e and ipaddress.ip_address(s.split("/")[0]).version == 6 \
            and ipaddress.ip_address(s.split("/")[0]).ipv4_mapped:
        mapped += 1
    elif p != e:
        mismatch.append((s, p, e))
check(not mismatch, f"CIDR pattern and isCIDR mirror disagree on {mismatch[:5]}")
print(f"CIDR pattern vs isCIDR mirror: {len(corpus) - len(mismatch) - mapped}/{len(corpus)} strings agree, "
      f"{mapped} IPv4-mapped IPv6 prefixes match the pattern and are refused by isCIDR only")

print("How the CRD rules are checked offline:")
print("  schema keywords (required, enum, minimum/maximum, pattern, maxItems, minProperties,")
print("  unknown fields as strict validation): jsonschema on the translated openAPIV3Schema")
print(f"  CEL rules ({len(CEL)}): not evaluated (no CEL runtime here); each is mirrored by hand in Python:")
for rule in CEL:
    print(f"    {rule}")
print("  not checked offline: the API server's CEL compilation and cost estimate, defaulting (protocol: TCP)")

if failures:
    print(f"{len(failures)} failure(s)")
    sys.exit(1)
print("OK")
PY
