output "namespace" {
  description = "Namespace weir runs in."
  value       = helm_release.weir.namespace
}

output "release_name" {
  description = "Helm release name."
  value       = helm_release.weir.name
}

output "chart_version" {
  description = "Chart version installed."
  value       = helm_release.weir.metadata[0].version
}

output "app_version" {
  description = "weir version installed (the chart's appVersion unless image_tag is set)."
  value       = coalesce(var.image_tag, helm_release.weir.metadata[0].app_version)
}

output "service_name" {
  description = "Name of the LoadBalancer Service."
  value       = data.kubernetes_service_v1.weir.metadata[0].name
}

output "loadbalancer_address" {
  description = "Address the load balancer assigned (IP or hostname); null until it has one."
  value = try(
    coalesce(
      data.kubernetes_service_v1.weir.status[0].load_balancer[0].ingress[0].ip,
      data.kubernetes_service_v1.weir.status[0].load_balancer[0].ingress[0].hostname,
    ),
    null,
  )
}
