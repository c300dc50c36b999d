"""Validates the Helm chart's rendered manifests; run by scripts/chart-check.

Arguments: VERSION=RENDERED.yaml pairs (a Kubernetes version and a `helm template` output),
plus --chart, --monitoring and --scenario directories. Checks, and prints one line each:
  - every object against the Kubernetes schemas of VERSION (kubernetes-validate, strict);
    kinds defined by CRDs are skipped and listed;
  - the chart's promises: app.kubernetes.io labels, Service and probe ports that exist,
    an entrypoint flag for every container port, shutdown timing that fits the termination
    grace period, the hardened security context, least-privilege RBAC;
  - deploy/monitoring in step with the chart (dashboard JSON, alert rules);
  - the edge-basics scenario's traefik.io manifests accepted by the chart's CRDs;
  - the Dockerfile's user and ports are the chart's.
Exit status 1 when anything fails.
"""

import argparse
import glob
import json
import os
import re
import sys

import jsonschema
import kubernetes_validate
import yaml
from kubernetes_validate.utils import SchemaNotFoundError

# Kinds whose schema comes from a CRD, not from Kubernetes itself.
CRD_GROUPS = {"monitoring.coreos.com", "traefik.io"}
REQUIRED_LABELS = [
    "app.kubernetes.io/name",
    "app.kubernetes.io/instance",
    "app.kubernetes.io/version",
    "app.kubernetes.io/managed-by",
    "helm.sh/chart",
]


class Report:
    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.skipped = []

    def check(self, ok, what, detail=""):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
            print(f"FAIL {what}{': ' + detail if detail else ''}")
        return ok


def group_of(doc):
    api = doc.get("apiVersion", "")
    return api.split("/")[0] if "/" in api else ""


def name_of(doc):
    meta = doc.get("metadata") or {}
    return f"{doc.get('kind')}/{meta.get('name')}"


def load_docs(path):
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d]


def by_kind(docs, kind):
    return [d for d in docs if d.get("kind") == kind]


def parse_seconds(value):
    m = re.fullmatch(r"(\d+)([smh]?)", str(value))
    if not m:
        return None
    return int(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[m.group(2)]


def check_schemas(r, docs, version, source):
    for doc in docs:
        if group_of(doc) in CRD_GROUPS:
            r.skipped.append(f"{name_of(doc)} ({doc['apiVersion']}, defined by a CRD)")
            continue
        try:
            kubernetes_validate.validate(doc, version, strict=True)
            r.check(True, "")
        except kubernetes_validate.ValidationError as e:
            path = ".".join(str(p) for p in e.path)
            r.check(False, f"{source}: {name_of(doc)} against Kubernetes {version}", f"{path}: {e.message}")
        except SchemaNotFoundError as e:
            r.check(False, f"{source}: {name_of(doc)}", e.message)


def check_chart_objects(r, docs, source):
    crds = by_kind(docs, "CustomResourceDefinition")
    for doc in docs:
        if doc.get("kind") == "CustomResourceDefinition":
            continue
        labels = (doc.get("metadata") or {}).get("labels") or {}
        missing = [k for k in REQUIRED_LABELS if k not in labels]
        r.check(not missing, f"{source}: {name_of(doc)} labels", f"missing {missing}")

    deployments = by_kind(docs, "Deployment")
    if not r.check(len(deployments) == 1, f"{source}: exactly one Deployment"):
        return
    dep = deployments[0]
    pod = dep["spec"]["template"]
    pod_labels = pod["metadata"]["labels"]
    spec = pod["spec"]
    container = spec["containers"][0]
    args = container.get("args", [])
    flags = {}
    for a in args:
        if a.startswith("--") and "=" in a:
            k, v = a[2:].split("=", 1)
            flags[k.lower()] = v
    ports = {p["name"]: p["containerPort"] for p in container.get("ports", [])}

    r.check(args[:1] == ["serve"], f"{source}: weir runs `serve`", str(args[:1]))
    for name, port in ports.items():
        addr = flags.get(f"entrypoints.{name}.address", "")
        r.check(addr.split("/")[0] == f":{port}", f"{source}: container port {name} is entrypoint {name}",
                f"port {port}, flag {addr!r}")
    for probe in ("readinessProbe", "livenessProbe"):
        get = (container.get(probe) or {}).get("httpGet") or {}
        r.check(get.get("path") == "/ping" and get.get("port") in ports,
                f"{source}: {probe} on /ping of a container port", str(get))
        ping_ep = flags.get("ping.entrypoint", "traefik")
        r.check(get.get("port") == ping_ep, f"{source}: {probe} port is the ping entrypoint {ping_ep}")
    if "metrics.prometheus.entrypoint" in flags:
        r.check(flags["metrics.prometheus.entrypoint"] in ports, f"{source}: metrics entrypoint has a container port")

    # Shutdown: preStop sleep + accept grace + grace timeout fit in the termination grace period.
    sleep = (((container.get("lifecycle") or {}).get("preStop") or {}).get("sleep") or {}).get("seconds", 0)
    accept = max((parse_seconds(v) or 0 for k, v in flags.items() if k.endswith("lifecycle.requestacceptgracetimeout")), default=0)
    grace = max((parse_seconds(v) or 0 for k, v in flags.items() if k.endswith("lifecycle.gracetimeout")), default=10)
    tgp = spec.get("terminationGracePeriodSeconds", 30)
    r.check(tgp >= sleep + accept + grace, f"{source}: terminationGracePeriodSeconds covers the drain",
            f"{tgp} < {sleep} + {accept} + {grace}")
    for name in ports:
        r.check(f"entrypoints.{name}.transport.lifecycle.requestacceptgracetimeout" in flags,
                f"{source}: entrypoint {name} keeps accepting while endpoints update")
    strategy = dep["spec"].get("strategy", {})
    if dep["spec"].get("replicas", 1) > 1:
        r.check(strategy.get("type") == "RollingUpdate" and strategy.get("rollingUpdate", {}).get("maxUnavailable") == 0,
                f"{source}: rolling update never removes a ready pod first", str(strategy))

    psc, sc = spec.get("securityContext", {}), container.get("securityContext", {})
    r.check(psc.get("runAsNonRoot") is True and psc.get("seccompProfile", {}).get("type") == "RuntimeDefault",
            f"{source}: pod runs as non-root with seccomp RuntimeDefault", str(psc))
    r.check(sc.get("readOnlyRootFilesystem") is True and sc.get("allowPrivilegeEscalation") is False
            and sc.get("capabilities", {}).get("drop") == ["ALL"],
            f"{source}: container is read-only, no privilege escalation, no capabilities", str(sc))

    for svc in by_kind(docs, "Service"):
        sel = svc["spec"].get("selector", {})
        r.check(sel and all(pod_labels.get(k) == v for k, v in sel.items()),
                f"{source}: {name_of(svc)} selects the weir pods", str(sel))
        for p in svc["spec"].get("ports", []):
            r.check(p.get("targetPort") in ports, f"{source}: {name_of(svc)} port {p.get('name')} targets a container port")
    for pdb in by_kind(docs, "PodDisruptionBudget"):
        sel = pdb["spec"]["selector"]["matchLabels"]
        r.check(all(pod_labels.get(k) == v for k, v in sel.items()), f"{source}: PDB selects the weir pods")
    for sm in by_kind(docs, "ServiceMonitor"):
        sel = sm["spec"]["selector"]["matchLabels"]
        targets = [s for s in by_kind(docs, "Service")
                   if all((s["metadata"].get("labels") or {}).get(k) == v for k, v in sel.items())]
        r.check(len(targets) == 1 and any(p["name"] == "metrics" for p in targets[0]["spec"]["ports"]),
                f"{source}: ServiceMonitor finds the metrics Service and its metrics port")

    # RBAC: read-only but for Ingress status; every traefik.io CRD readable.
    for role in by_kind(docs, "ClusterRole"):
        readable = set()
        for rule in role.get("rules", []):
            verbs, res = set(rule.get("verbs", [])), rule.get("resources", [])
            r.check("*" not in verbs and "*" not in res and "*" not in rule.get("apiGroups", []),
                    f"{source}: ClusterRole has no wildcards", str(rule))
            if verbs - {"get", "list", "watch"}:
                r.check(res == ["ingresses/status"] and verbs <= {"update", "patch"},
                        f"{source}: ClusterRole writes only ingresses/status", str(rule))
            if "traefik.io" in rule.get("apiGroups", []):
                readable |= set(res)
        if "--providers.kubernetescrd=true" in args:
            plurals = {c["spec"]["names"]["plural"] for c in crds}
            r.check(plurals <= readable, f"{source}: ClusterRole reads every traefik.io CRD", str(plurals - readable))


def check_monitoring(r, chart, monitoring, default_docs, monitoring_docs):
    with open(os.path.join(chart, "files", "grafana-dashboard.json")) as a, \
            open(os.path.join(monitoring, "grafana-dashboard.json")) as b:
        chart_dash, mon_dash = a.read(), b.read()
    r.check(chart_dash == mon_dash, "chart files/grafana-dashboard.json equals deploy/monitoring/grafana-dashboard.json")
    dash = json.loads(mon_dash)
    exprs = [t["expr"] for p in dash["panels"] for t in p.get("targets", [])]
    r.check(exprs and all("${prefix}_" in e for e in exprs), "every dashboard query uses the ${prefix} variable")

    rules = by_kind(default_docs, "PrometheusRule")
    with open(os.path.join(monitoring, "prometheusrule.yaml")) as f:
        mon_rule = [d for d in yaml.safe_load_all(f) if d and d.get("kind") == "PrometheusRule"]
    r.check(len(rules) == 1 and len(mon_rule) == 1 and rules[0]["spec"] == mon_rule[0]["spec"],
            "deploy/monitoring/prometheusrule.yaml equals the chart's rules with default values")
    alerts = {a["alert"] for g in mon_rule[0]["spec"]["groups"] for a in g["rules"]} if mon_rule else set()
    r.check(len(alerts) == 5, "five alerts: error ratio, p99, certificate expiry, reload failing, no healthy server",
            str(sorted(alerts)))
    with open(os.path.join(monitoring, "servicemonitor.yaml")) as f:
        sm = [d for d in yaml.safe_load_all(f) if d]
    r.check(len(sm) == 1 and sm[0]["spec"]["selector"]["matchLabels"].get("app.kubernetes.io/component") == "metrics"
            and sm[0]["spec"]["endpoints"][0]["port"] == "metrics",
            "deploy/monitoring/servicemonitor.yaml selects the chart's metrics Service")

    for cm in by_kind(monitoring_docs, "ConfigMap"):
        for key, text in (cm.get("data") or {}).items():
            if key.endswith(".json"):
                d = json.loads(text)
                prefix = [v for v in d["templating"]["list"] if v["name"] == "prefix"][0]
                r.check(prefix["current"]["value"] == "traefik", "the dashboard ConfigMap preselects the release's prefix")
    for rule in by_kind(monitoring_docs, "PrometheusRule"):
        text = json.dumps(rule["spec"])
        r.check("traefik_service_requests_total" in text and "weir_" not in text and "> 0.5" in text,
                "the chart's PrometheusRule follows prefix and thresholds")


def check_image(r, dockerfile, default_docs):
    """The image's user and ports are the ones the chart runs and probes."""
    with open(dockerfile) as f:
        text = f.read()
    users = re.findall(r"^USER\s+(\d+)", text, re.M)
    exposed = {int(p) for line in re.findall(r"^EXPOSE\s+(.+)$", text, re.M) for p in line.split()}
    dep = by_kind(default_docs, "Deployment")[0]["spec"]["template"]["spec"]
    uid = dep["securityContext"].get("runAsUser")
    r.check(users and int(users[-1]) == uid, f"Dockerfile USER is the chart's runAsUser {uid}", str(users))
    ports = {p["containerPort"] for p in dep["containers"][0]["ports"]}
    r.check(exposed == ports, "Dockerfile EXPOSE lists the chart's container ports", f"{sorted(exposed)} vs {sorted(ports)}")
    r.check(re.search(r"^FROM\s+\S*distroless\S*nonroot", text, re.M) is not None,
            "the image's last stage is distroless nonroot")


def check_scenario(r, chart, scenario, default_docs):
    if not os.path.isdir(scenario):
        print(f"SKIP scenario manifests: {scenario} not found")
        return
    schemas = {}
    for path in glob.glob(os.path.join(chart, "crds", "*.yaml")):
        for crd in load_docs(path):
            schemas[crd["spec"]["names"]["kind"]] = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    files = sorted(glob.glob(os.path.join(scenario, "**", "*.yaml"), recursive=True))
    for path in files:
        for doc in load_docs(path):
            rel = os.path.relpath(path, scenario)
            if group_of(doc) == "traefik.io":
                schema = schemas.get(doc["kind"])
                if not r.check(schema is not None, f"scenario {rel}: the chart has a CRD for {doc['kind']}"):
                    continue
                try:
                    jsonschema.validate(doc, schema)
                    r.check(True, "")
                except jsonschema.ValidationError as e:
                    r.check(False, f"scenario {rel}: {name_of(doc)} against the CRD", e.message)
            elif doc.get("kind") == "ServiceMonitor":
                sel = doc["spec"]["selector"]["matchLabels"]
                hits = [s for s in by_kind(default_docs, "Service")
                        if all((s["metadata"].get("labels") or {}).get(k) == v for k, v in sel.items())]
                r.check(len(hits) == 1, f"scenario {rel}: its ServiceMonitor selects the chart's metrics Service")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--chart", required=True)
    ap.add_argument("--monitoring", required=True)
    ap.add_argument("--scenario", required=True)
    ap.add_argument("--dockerfile", default="Dockerfile")
    ap.add_argument("rendered", nargs="+", help="VERSION=FILE")
    opts = ap.parse_args()

    r = Report()
    default_docs, monitoring_docs, monitoring_defaults = None, None, None
    for item in opts.rendered:
        version, path = item.split("=", 1)
        source = os.path.basename(path)
        docs = load_docs(path)
        before = r.failed
        check_schemas(r, docs, version, source)
        check_chart_objects(r, docs, source)
        print(f"{'ok  ' if r.failed == before else 'FAIL'} {source}: {len(docs)} objects, Kubernetes {version}")
        if source.startswith("default-"):
            default_docs = docs
        elif source.startswith("monitoring-"):
            monitoring_docs = docs
        elif source.startswith("monitoring_defaults-"):
            monitoring_defaults = docs
    if monitoring_defaults is None or monitoring_docs is None or default_docs is None:
        r.check(False, "renders of default, monitoring and monitoring_defaults values were given")
    else:
        check_monitoring(r, opts.chart, opts.monitoring, monitoring_defaults, monitoring_docs)
        check_scenario(r, opts.chart, opts.scenario, default_docs)
        check_image(r, opts.dockerfile, default_docs)

    for s in sorted(set(r.skipped)):
        print(f"SKIP schema of {s}: kubernetes-validate has only built-in kinds")
    print(f"chart-check: {r.passed} passed, {r.failed} failed")
    return 1 if r.failed else 0


if __name__ == "__main__":
    sys.exit(main())
