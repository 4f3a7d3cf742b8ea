"""Monitoring configuration rendered once for both Kubernetes manifests and the local fleet, and the
global query client."""
