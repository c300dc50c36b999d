variable "release_name" {
  description = "Helm release name (also the Deployment and Service name prefix)."
  type        = string
  default     = "weir"
}

variable "namespace" {
  description = "Namespace weir runs in. The edge-basics scenario uses `traefik`, where its dashboard IngressRoute and ServiceMonitor live."
  type        = string
  default     = "traefik"
}

variable "create_namespace" {
  description = "Create the namespace (with the kubernetes provider) instead of expecting it."
  type        = bool
  default     = true
}

variable "chart_path" {
  description = "Where the chart comes from: a local path to deploy/helm/weir (the default), or a chart name when chart_repository is set."
  type        = string
  default     = null
}

variable "chart_repository" {
  description = "Helm repository URL (or oci:// registry) serving the weir chart. Null: chart_path is a local directory."
  type        = string
  default     = null
}

variable "chart_version" {
  description = "Chart version to install from chart_repository. Null: the latest (ignored for a local chart)."
  type        = string
  default     = null
}

variable "image_repository" {
  description = "weir image repository (built with the repository's Dockerfile)."
  type        = string
  default     = "weir"
}

variable "image_tag" {
  description = "weir image tag. Null: the chart's appVersion."
  type        = string
  default     = null
}

variable "replicas" {
  description = "Number of weir pods; 2 or more for zero-downtime rollouts and node drains."
  type        = number
  default     = 2

  validation {
    condition     = var.replicas >= 1 && floor(var.replicas) == var.replicas
    error_message = "replicas must be a whole number of at least 1."
  }
}

variable "loadbalancer_ip" {
  description = "Address requested for the LoadBalancer Service (MetalLB: one of its pool). Null: assigned by the load balancer."
  type        = string
  default     = null
}

variable "service_annotations" {
  description = "Annotations of the LoadBalancer Service (e.g. metallb.universe.tf/address-pool)."
  type        = map(string)
  default     = {}
}

variable "external_traffic_policy" {
  description = "Service externalTrafficPolicy: Cluster (default) or Local (keeps client addresses)."
  type        = string
  default     = "Cluster"

  validation {
    condition     = contains(["Cluster", "Local"], var.external_traffic_policy)
    error_message = "external_traffic_policy must be Cluster or Local."
  }
}

variable "resources" {
  description = "Container resources (requests and limits)."
  type = object({
    requests = optional(map(string), { cpu = "100m", memory = "128Mi" })
    limits   = optional(map(string), { cpu = "200m", memory = "256Mi" })
  })
  default = {}
}

variable "default_ingress_class" {
  description = "Make the `weir` IngressClass the cluster's default."
  type        = bool
  default     = false
}

variable "service_monitor" {
  description = "Create a ServiceMonitor and PrometheusRule (needs the Prometheus Operator CRDs)."
  type        = bool
  default     = false
}

variable "values" {
  description = "Extra chart values (YAML documents, later ones win), applied after the module's own settings: anything in deploy/helm/weir/values.yaml."
  type        = list(string)
  default     = []
}

variable "timeout" {
  description = "Seconds Helm waits for the release to become ready."
  type        = number
  default     = 300
}
