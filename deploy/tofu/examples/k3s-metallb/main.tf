# An example environment: weir on a K3s cluster with MetalLB, at the address the
# edge-basics scenario uses, with Prometheus Operator objects.
#
#   cd deploy/tofu/examples/k3s-metallb
#   tofu init && tofu apply -var kubeconfig=~/.kube/config
#   ../../../../scripts/quickstart.sh --namespace traefik

terraform {
  required_version = ">= 1.6.0"
}

variable "kubeconfig" {
  description = "Path to the cluster's kubeconfig (K3s: /etc/rancher/k3s/k3s.yaml)."
  type        = string
  default     = "~/.kube/config"
}

variable "loadbalancer_ip" {
  description = "An address from MetalLB's pool."
  type        = string
  default     = "192.168.1.240"
}

provider "kubernetes" {
  config_path = pathexpand(var.kubeconfig)
}

provider "helm" {
  kubernetes {
    config_path = pathexpand(var.kubeconfig)
  }
}

module "weir" {
  source = "../../weir"

  namespace       = "traefik"
  replicas        = 2
  loadbalancer_ip = var.loadbalancer_ip
  # K3s: import the image built from the Dockerfile on each node
  # (`docker save weir:0.1.0 | sudo k3s ctr images import -`), or push it to a registry.
  image_repository = "weir"
  service_monitor  = false

  resources = {
    requests = { cpu = "100m", memory = "128Mi" }
    limits   = { cpu = "500m", memory = "256Mi" }
  }

  values = [
    yamlencode({
      # K3s ships Traefik as its ingress controller; uninstall it (--disable traefik) or
      # keep weir off the default class until you switch.
      ingressClass = { isDefaultClass = true }
      logs         = { access = { enabled = true } }
    }),
  ]
}

output "loadbalancer_address" {
  value = module.weir.loadbalancer_address
}

output "next_steps" {
  value = <<-EOT
    kubectl apply -f <your IngressRoutes, e.g. the edge-basics scenario's kubernetes/>
    curl -H 'Host: whoami.local' http://${coalesce(module.weir.loadbalancer_address, var.loadbalancer_ip)}/
  EOT
}
