"""The API group and version of kurator's cluster operator, as Kurator v0.2.0 named them."""

GROUP = "cluster.kurator.dev"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"
CATEGORY = "kurator"  # `kubectl get kurator` lists every kind of the group
