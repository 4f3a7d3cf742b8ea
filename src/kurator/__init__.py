"""kurator: create Kubernetes clusters, join them into a fleet, install shared components, watch the fleet."""

__version__ = "0.1.0"
