"""Names the charts and the commands share, in a module light enough to import when the CLI starts."""

NAMESPACE = "kurator-monitoring"
CONFIGMAP = "prometheus-config"  # names and keys as the charts spell them
CONFIG_KEY = "prometheus.yml"
OBJSTORE_SECRET = "thanos-objstore"  # noqa: S105 (a Secret's name, not a password)
OBJSTORE_KEY = "objstore.yml"
SIDECAR_SERVICE = "thanos-sidecar"
