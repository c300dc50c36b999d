# weir as a Helm release: the chart in deploy/helm/weir (or a published copy), with the
# settings most installs change as variables and everything else through `values`.

locals {
  chart = coalesce(var.chart_path, var.chart_repository == null ? "${path.module}/../../helm/weir" : "weir")

  # The module's settings, as chart values. Nulls are left out so the chart's defaults hold.
  module_values = {
    replicas = var.replicas
    image = merge(
      { repository = var.image_repository },
      var.image_tag == null ? {} : { tag = var.image_tag },
    )
    resources = var.resources
    service = merge(
      {
        annotations           = var.service_annotations
        externalTrafficPolicy = var.external_traffic_policy
      },
      var.loadbalancer_ip == null ? {} : { loadBalancerIP = var.loadbalancer_ip },
    )
    ingressClass = {
      isDefaultClass = var.default_ingress_class
    }
    metrics = {
      serviceMonitor = { enabled = var.service_monitor }
      prometheusRule = { enabled = var.service_monitor }
    }
  }
}

resource "kubernetes_namespace_v1" "weir" {
  count = var.create_namespace ? 1 : 0

  metadata {
    name = var.namespace
    labels = {
      "app.kubernetes.io/part-of" = "weir"
      # weir runs non-root with RuntimeDefault seccomp: it passes the restricted profile.
      "pod-security.kubernetes.io/enforce" = "restricted"
    }
  }
}

resource "helm_release" "weir" {
  name       = var.release_name
  namespace  = var.create_namespace ? kubernetes_namespace_v1.weir[0].metadata[0].name : var.namespace
  chart      = local.chart
  repository = var.chart_repository
  version    = var.chart_version

  values = concat([yamlencode(local.module_values)], var.values)

  # CRDs come from the chart's crds/ on install; Helm never upgrades or deletes them.
  skip_crds       = false
  atomic          = true
  cleanup_on_fail = true
  wait            = true
  timeout         = var.timeout
}

# The Service, read back for its LoadBalancer address.
data "kubernetes_service_v1" "weir" {
  metadata {
    # The chart's full name: the release name when it contains "weir", else "<release>-weir".
    name      = length(regexall("weir", helm_release.weir.name)) > 0 ? helm_release.weir.name : "${helm_release.weir.name}-weir"
    namespace = helm_release.weir.namespace
  }
}
