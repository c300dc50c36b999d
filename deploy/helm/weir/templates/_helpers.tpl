{{/* Names and labels shared by every template. */}}

{{- define "weir.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "weir.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "weir.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Selector labels: stable across upgrades (a Deployment's selector is immutable). */}}
{{- define "weir.selectorLabels" -}}
app.kubernetes.io/name: {{ include "weir.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "weir.labels" -}}
helm.sh/chart: {{ include "weir.chart" . }}
{{ include "weir.selectorLabels" . }}
app.kubernetes.io/version: {{ include "weir.imageTag" . | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: weir
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "weir.imageTag" -}}
{{- default .Chart.AppVersion .Values.image.tag -}}
{{- end -}}

{{- define "weir.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "weir.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The file provider is on when asked for or when TLS certificates are mounted. */}}
{{- define "weir.fileProvider" -}}
{{- if or .Values.providers.file.enabled .Values.tls.certificates .Values.tls.defaultCertificate.secretName -}}
true
{{- end -}}
{{- end -}}

{{/* Seconds in a Go-style duration of whole seconds, minutes or hours ("10s", "1m"). */}}
{{- define "weir.seconds" -}}
{{- $d := toString . -}}
{{- if hasSuffix "ms" $d -}}
{{- 1 -}}
{{- else if hasSuffix "s" $d -}}
{{- trimSuffix "s" $d | int -}}
{{- else if hasSuffix "m" $d -}}
{{- mul (trimSuffix "m" $d | int) 60 -}}
{{- else if hasSuffix "h" $d -}}
{{- mul (trimSuffix "h" $d | int) 3600 -}}
{{- else -}}
{{- $d | int -}}
{{- end -}}
{{- end -}}

{{- define "weir.terminationGracePeriodSeconds" -}}
{{- if kindIs "invalid" .Values.lifecycle.terminationGracePeriodSeconds -}}
{{- $accept := include "weir.seconds" .Values.lifecycle.requestAcceptGraceTimeout | int -}}
{{- $grace := include "weir.seconds" .Values.lifecycle.graceTimeOut | int -}}
{{- add (int .Values.lifecycle.preStopSleepSeconds) $accept $grace 5 -}}
{{- else -}}
{{- .Values.lifecycle.terminationGracePeriodSeconds -}}
{{- end -}}
{{- end -}}

{{/*
The IngressClass the Ingress provider is restricted to. Empty by default: weir serves the
classes whose controller is weir.dev/ingress-controller (the `weir` class below) or
traefik.io/ingress-controller. In nginx migration mode: the `nginx` class, whatever its
controller.
*/}}
{{- define "weir.servedIngressClass" -}}
{{- if .Values.ingressClass.nginxMigration.enabled -}}
nginx
{{- end -}}
{{- end -}}

{{/*
weir's static configuration as Traefik-style flags (the same flags Traefik takes).
One argument per line, already quoted for a YAML list. Every flag has a dot: weir takes
dotted flags as static configuration (`--ping.entrypoint=traefik` turns ping on, as
`--ping=true` does for Traefik).
*/}}
{{- define "weir.args" -}}
{{- $v := .Values -}}
- "serve"
{{- range $name, $p := $v.ports }}
- "--entrypoints.{{ $name }}.address=:{{ $p.port }}{{ if and $p.protocol (eq (lower $p.protocol) "udp") }}/udp{{ end }}"
- "--entrypoints.{{ $name }}.transport.lifecycle.requestacceptgracetimeout={{ $v.lifecycle.requestAcceptGraceTimeout }}"
- "--entrypoints.{{ $name }}.transport.lifecycle.gracetimeout={{ $v.lifecycle.graceTimeOut }}"
{{- if $p.redirectTo }}
- "--entrypoints.{{ $name }}.http.redirections.entrypoint.to={{ $p.redirectTo }}"
- "--entrypoints.{{ $name }}.http.redirections.entrypoint.scheme=https"
- "--entrypoints.{{ $name }}.http.redirections.entrypoint.permanent=true"
{{- end }}
{{- if $p.tls }}
- "--entrypoints.{{ $name }}.http.tls=true"
{{- end }}
{{- end }}
- "--ping.entrypoint=traefik"
{{- if $v.api.dashboard }}
- "--api.dashboard=true"
{{- else }}
- "--api.dashboard=false"
{{- end }}
{{- if $v.api.insecure }}
- "--api.insecure=true"
{{- end }}
- "--log.level={{ $v.logs.general.level }}"
- "--log.format={{ $v.logs.general.format }}"
{{- if $v.logs.access.enabled }}
- "--accesslog.format={{ $v.logs.access.format }}"
{{- end }}
{{- with $v.metrics.prometheus }}
{{- if .enabled }}
- "--metrics.prometheus=true"
- "--metrics.prometheus.entrypoint={{ .entryPoint }}"
- "--metrics.prometheus.prefix={{ .prefix }}"
- "--metrics.prometheus.addentrypointslabels={{ .addEntryPointsLabels }}"
- "--metrics.prometheus.addrouterslabels={{ .addRoutersLabels }}"
- "--metrics.prometheus.addserviceslabels={{ .addServicesLabels }}"
{{- if .buckets }}
- "--metrics.prometheus.buckets={{ join "," .buckets }}"
{{- end }}
{{- end }}
{{- end }}
{{- with $v.providers.kubernetesCRD }}
{{- if .enabled }}
- "--providers.kubernetescrd=true"
{{- if .namespaces }}
- "--providers.kubernetescrd.namespaces={{ join "," .namespaces }}"
{{- end }}
{{- if .labelSelector }}
- "--providers.kubernetescrd.labelselector={{ .labelSelector }}"
{{- end }}
{{- if .ingressClass }}
- "--providers.kubernetescrd.ingressclass={{ .ingressClass }}"
{{- end }}
- "--providers.kubernetescrd.allowcrossnamespace={{ .allowCrossNamespace }}"
- "--providers.kubernetescrd.allowexternalnameservices={{ .allowExternalNameServices }}"
- "--providers.kubernetescrd.allowemptyservices={{ .allowEmptyServices }}"
- "--providers.kubernetescrd.nativelbbydefault={{ .nativeLBByDefault }}"
{{- end }}
{{- end }}
{{- with $v.providers.kubernetesIngress }}
{{- if .enabled }}
- "--providers.kubernetesingress=true"
{{- if .namespaces }}
- "--providers.kubernetesingress.namespaces={{ join "," .namespaces }}"
{{- end }}
{{- if .labelSelector }}
- "--providers.kubernetesingress.labelselector={{ .labelSelector }}"
{{- end }}
{{- with include "weir.servedIngressClass" $ }}
- "--providers.kubernetesingress.ingressclass={{ . }}"
{{- end }}
- "--providers.kubernetesingress.allowexternalnameservices={{ .allowExternalNameServices }}"
- "--providers.kubernetesingress.allowemptyservices={{ .allowEmptyServices }}"
- "--providers.kubernetesingress.nativelbbydefault={{ .nativeLBByDefault }}"
{{- if .publishedService.enabled }}
- "--providers.kubernetesingress.ingressendpoint.publishedservice={{ default (printf "%s/%s" $.Release.Namespace (include "weir.fullname" $)) .publishedService.pathOverride }}"
{{- end }}
{{- end }}
{{- end }}
{{- if include "weir.fileProvider" . }}
- "--providers.file.directory=/etc/weir/dynamic"
- "--providers.file.watch={{ $v.providers.file.watch }}"
{{- end }}
{{- range $v.additionalArguments }}
- {{ . | quote }}
{{- end }}
{{- end -}}

{{/* Names of the TLS Secrets mounted for the file provider, without duplicates (JSON). */}}
{{- define "weir.certSecrets" -}}
{{- $names := list -}}
{{- range .Values.tls.certificates -}}
{{- $names = append $names .secretName -}}
{{- end -}}
{{- with .Values.tls.defaultCertificate.secretName -}}
{{- $names = append $names . -}}
{{- end -}}
{{- $names | uniq | toJson -}}
{{- end -}}
