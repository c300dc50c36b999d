#!/usr/bin/env bash
# Checks a weir install row by row, like the acceptance table of the edge-basics scenario
# (../shared/scenarios/edge-basics/README.md), printing PASS, FAIL or SKIP per row and
# exiting 1 when a row fails.
#
# Live, against a cluster where the chart and the scenario's manifests are applied:
#   scripts/quickstart.sh [--kubeconfig FILE] [--namespace traefik] [--release weir]
#                         [--scenario DIR] [--skip-rollout]
#   With --scenario (the edge-basics folder), row 7 first applies its redirect-step/, as
#   the user's next step; without it row 7 checks whatever is applied.
#
# Local, against a weir process (what the tests run; no kubectl):
#   scripts/quickstart.sh --local --http HOST:PORT --https HOST:PORT \
#                         --traefik HOST:PORT --metrics HOST:PORT
#                         [--redirect-step CMD | --no-redirect-step]
#   Rows about the cluster (pods, LoadBalancer, CRDs, rollout) are skipped.
#
# Every row is one function below, fed by curl or openssl; live and local runs use the same
# functions, so a row means the same thing in both.
set -uo pipefail

KUBECONFIG_ARG=()
NAMESPACE=traefik
RELEASE=weir
SCENARIO=""
SKIP_ROLLOUT=false
LOCAL=false
HTTP="" HTTPS="" TRAEFIK="" METRICS=""
REDIRECT_STEP=""
NO_REDIRECT=false
TIMEOUT=${QUICKSTART_TIMEOUT:-10}

while [ $# -gt 0 ]; do
    case $1 in
        --kubeconfig) KUBECONFIG_ARG=(--kubeconfig "$2"); shift ;;
        --namespace | -n) NAMESPACE=$2; shift ;;
        --release) RELEASE=$2; shift ;;
        --scenario) SCENARIO=$2; shift ;;
        --skip-rollout) SKIP_ROLLOUT=true ;;
        --local) LOCAL=true ;;
        --http) HTTP=$2; shift ;;
        --https) HTTPS=$2; shift ;;
        --traefik) TRAEFIK=$2; shift ;;
        --metrics) METRICS=$2; shift ;;
        --redirect-step) REDIRECT_STEP=$2; shift ;;
        --no-redirect-step) NO_REDIRECT=true ;;
        -h | --help) sed -n '2,20p' "$0"; exit 0 ;;
        *) echo "quickstart: unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done

PASSED=0 FAILED=0 SKIPPED=0
pass() { printf 'PASS  %-3s %s\n' "$1" "$2"; PASSED=$((PASSED + 1)); }
fail() { printf 'FAIL  %-3s %s: %s\n' "$1" "$2" "$3"; FAILED=$((FAILED + 1)); }
skip() { printf 'SKIP  %-3s %s: %s\n' "$1" "$2" "$3"; SKIPPED=$((SKIPPED + 1)); }
k() { kubectl "${KUBECONFIG_ARG[@]}" "$@"; }

# curl quietly with a bounded time; prints the body, and the status code on the last line.
fetch() { curl -s -m "$TIMEOUT" -w '\n%{http_code}' "$@"; }
status_of() { tail -n 1 <<<"$1"; }
body_of() { sed '$d' <<<"$1"; }
first_line() { head -n 1 <<<"$1" | cut -c1-120; }
host_of() { echo "${1%:*}"; }
port_of() { echo "${1##*:}"; }

# ---- the rows ---------------------------------------------------------------------------

row_pods_ready() {
    local ready
    ready=$(k get deploy -n "$NAMESPACE" -l "app.kubernetes.io/instance=$RELEASE,app.kubernetes.io/name=weir" \
        -o jsonpath='{range .items[*]}{.status.readyReplicas}/{.spec.replicas}{end}' 2>&1)
    if [[ $ready =~ ^([0-9]+)/([0-9]+)$ ]] && [ "${BASH_REMATCH[1]}" = "${BASH_REMATCH[2]}" ] && [ "${BASH_REMATCH[1]}" -ge 1 ]; then
        pass 0a "weir pods ready ($ready)"
    else
        fail 0a "weir pods ready" "ready/wanted: ${ready:-none found}"
    fi
}

lb_address() {
    k get svc -n "$NAMESPACE" -l "app.kubernetes.io/instance=$RELEASE,app.kubernetes.io/component=ingress-controller" \
        -o jsonpath='{.items[0].status.loadBalancer.ingress[0].ip}{.items[0].status.loadBalancer.ingress[0].hostname}' 2>/dev/null
}

row_lb_address() {
    local lb=$1
    if [ -n "$lb" ]; then pass 0b "LoadBalancer address $lb"; else fail 0b "LoadBalancer address" "none assigned (see docs/deploy.md, troubleshooting)"; fi
}

row_crds() {
    local missing=() crd
    for crd in ingressroutes middlewares tlsoptions tlsstores traefikservices serverstransports ingressroutetcps; do
        k get crd "$crd.traefik.io" >/dev/null 2>&1 || missing+=("$crd.traefik.io")
    done
    if [ ${#missing[@]} = 0 ]; then pass 0c "traefik.io CRDs present"; else fail 0c "traefik.io CRDs present" "missing ${missing[*]}"; fi
}

row_no_route_http() { # row 1
    local r
    r=$(fetch "http://$HTTP/")
    [ "$(status_of "$r")" = 404 ] && pass 1 "no route over HTTP: 404" || fail 1 "no route over HTTP" "expected 404, got $(status_of "$r")"
}

row_no_route_https() { # row 2
    local r
    r=$(fetch -k "https://$HTTPS/")
    [ "$(status_of "$r")" = 404 ] && pass 2 "no route over HTTPS: 404 with the default certificate" \
        || fail 2 "no route over HTTPS" "expected 404, got $(status_of "$r")"
}

row_host() { # rows 3 and 4: ROW HOST
    local r body
    r=$(fetch -H "Host: $2" "http://$HTTP/")
    body=$(body_of "$r")
    if [ "$(status_of "$r")" = 200 ] && grep -qi "$2" <<<"$body"; then
        pass "$1" "Host $2 routed to its service (the answer shows the request)"
    else
        fail "$1" "Host $2" "status $(status_of "$r"), answer: $(first_line "$body")"
    fi
}

row_dashboard() { # row 5
    local r body missing=() name
    r=$(fetch -L -H "Host: traefik.local" "http://$HTTP/dashboard/")
    body=$(body_of "$r")
    if [ "$(status_of "$r")" != 200 ] || ! grep -qi "<html" <<<"$body"; then
        fail 5 "dashboard" "status $(status_of "$r"), answer: $(first_line "$body")"
        return
    fi
    # The dashboard draws from the API: its router list must hold the scenario's routers.
    r=$(fetch -H "Host: traefik.local" "http://$HTTP/api/http/routers")
    for name in whoami-http echo-http dashboard; do
        grep -q "$name" <<<"$(body_of "$r")" || missing+=("$name")
    done
    [ ${#missing[@]} = 0 ] && pass 5 "dashboard HTML, routers whoami-http, echo-http, dashboard listed" \
        || fail 5 "dashboard" "routers missing from /api/http/routers: ${missing[*]}"
}

row_tls_sni() { # row 6
    local r cn ip port
    ip=$(host_of "$HTTPS")
    port=$(port_of "$HTTPS")
    r=$(fetch -k --resolve "whoami.local:$port:$ip" "https://whoami.local:$port/")
    cn=$(openssl s_client -connect "$HTTPS" -servername whoami.local </dev/null 2>/dev/null \
        | openssl x509 -noout -subject 2>/dev/null)
    if [ "$(status_of "$r")" = 200 ] && grep -qi "whoami.local" <<<"$(body_of "$r")" && grep -q "CN *= *whoami.local" <<<"$cn"; then
        pass 6 "HTTPS whoami.local answered, certificate $cn"
    else
        fail 6 "HTTPS whoami.local" "status $(status_of "$r"), certificate: ${cn:-none}"
    fi
}

row_redirect() { # row 7
    local headers code location deadline=$((SECONDS + ${REDIRECT_WAIT:-30}))
    while :; do
        headers=$(curl -s -m "$TIMEOUT" -o /dev/null -D - -H "Host: whoami.local" "http://$HTTP/" | tr -d '\r')
        code=$(awk 'NR==1 {print $2}' <<<"$headers")
        location=$(awk 'tolower($1)=="location:" {print $2}' <<<"$headers")
        # The redirect step is applied just before: give the configuration time to arrive.
        [ "$code" = 301 ] || [ $SECONDS -ge $deadline ] && break
        sleep 1
    done
    if [ "$code" = 301 ] && [ "$location" = "https://whoami.local/" ]; then
        pass 7 "HTTP whoami.local: 301 to https://whoami.local/"
    else
        fail 7 "HTTP -> HTTPS redirect" "status ${code:-none}, Location: ${location:-none}"
    fi
}

row_metrics() { # row 8: ADDRESS
    local r body missing=() family
    r=$(fetch "http://$1/metrics")
    body=$(body_of "$r")
    for family in entrypoint_requests_total service_requests_total entrypoint_request_duration_seconds_bucket; do
        grep -Eq "^[a-z]+_${family}\{" <<<"$body" || missing+=("$family")
    done
    if [ "$(status_of "$r")" = 200 ] && [ ${#missing[@]} = 0 ]; then
        pass 8 "metrics: entrypoint and service counters, duration histograms ($(grep -Eom1 '^[a-z]+_entrypoint_requests_total' <<<"$body"))"
    else
        fail 8 "metrics" "status $(status_of "$r"), missing: ${missing[*]:-none}"
    fi
}

row_ping() { # row 9: ADDRESS
    local r
    r=$(fetch "http://$1/ping")
    [ "$(status_of "$r")" = 200 ] && [ "$(body_of "$r")" = OK ] && pass 9 "/ping: 200 OK" \
        || fail 9 "/ping" "status $(status_of "$r"), answer: $(first_line "$(body_of "$r")")"
}

row_rollout() { # row 10
    local codes failures total loop
    codes=$(mktemp)
    (
        while :; do
            curl -s -m 5 -o /dev/null -w '%{http_code}\n' -H "Host: whoami.local" "http://$HTTP/" >>"$codes"
            sleep 0.05
        done
    ) &
    loop=$!
    k rollout restart -n "$NAMESPACE" "deploy/$RELEASE" >/dev/null 2>&1 \
        && k rollout status -n "$NAMESPACE" "deploy/$RELEASE" --timeout=300s >/dev/null 2>&1
    local rollout=$?
    sleep 5
    kill "$loop" 2>/dev/null
    wait "$loop" 2>/dev/null
    total=$(wc -l <"$codes")
    # 200 (routed) and 301 (after the redirect step) are answers; 000 (no connection) and 5xx are failures.
    failures=$(grep -cvE '^(200|301)$' "$codes")
    rm -f "$codes"
    if [ $rollout = 0 ] && [ "$total" -gt 0 ] && [ "$failures" = 0 ]; then
        pass 10 "rollout restart: $total requests, none failed"
    else
        fail 10 "rollout restart" "$failures of $total requests failed (rollout exit $rollout)"
    fi
}

# ---- the run ------------------------------------------------------------------------------

PF_PID=""
cleanup() { [ -n "$PF_PID" ] && kill "$PF_PID" 2>/dev/null; }
trap cleanup EXIT

if $LOCAL; then
    for v in HTTP HTTPS TRAEFIK METRICS; do
        [ -n "${!v}" ] || { echo "quickstart: --local needs --${v,,} HOST:PORT" >&2; exit 2; }
    done
    skip 0a "weir pods ready" "local run"
    skip 0b "LoadBalancer address" "local run"
    skip 0c "traefik.io CRDs present" "local run"
else
    command -v kubectl >/dev/null || { echo "quickstart: kubectl is needed" >&2; exit 2; }
    row_pods_ready
    LB=$(lb_address)
    row_lb_address "$LB"
    row_crds
    HTTP=${LB:-unassigned}:80
    HTTPS=${LB:-unassigned}:443
    # A pod's own ports, as the probes and Prometheus reach them.
    POD=$(k get pods -n "$NAMESPACE" -l "app.kubernetes.io/instance=$RELEASE,app.kubernetes.io/name=weir" \
        --field-selector=status.phase=Running -o jsonpath='{.items[0].metadata.name}' 2>/dev/null)
    if [ -n "$POD" ]; then
        k port-forward -n "$NAMESPACE" "pod/$POD" 19100:9100 19000:9000 >/dev/null 2>&1 &
        PF_PID=$!
        for _ in $(seq 50); do curl -s -m 1 -o /dev/null http://127.0.0.1:19000/ping && break; sleep 0.2; done
    fi
    TRAEFIK=127.0.0.1:19000
    METRICS=127.0.0.1:19100
    if [ -n "$SCENARIO" ]; then
        REDIRECT_STEP="kubectl ${KUBECONFIG_ARG[*]} apply -f $SCENARIO/kubernetes/redirect-step/"
    fi
fi

row_no_route_http
row_no_route_https
row_host 3 whoami.local
row_host 4 echo.local
row_dashboard
row_tls_sni
if $NO_REDIRECT; then
    skip 7 "HTTP -> HTTPS redirect" "--no-redirect-step"
else
    if [ -n "$REDIRECT_STEP" ]; then
        bash -c "$REDIRECT_STEP" >/dev/null || fail 7 "redirect step" "$REDIRECT_STEP failed"
    fi
    row_redirect
fi
row_metrics "$METRICS"
row_ping "$TRAEFIK"
if $LOCAL; then
    skip 10 "rollout restart" "local run (one process)"
elif $SKIP_ROLLOUT; then
    skip 10 "rollout restart" "--skip-rollout"
else
    row_rollout
fi

echo "quickstart: $PASSED passed, $FAILED failed, $SKIPPED skipped"
[ "$FAILED" = 0 ]
