"""Talking to Kubernetes: kubeconfig handling, clients, server-side apply and waits."""
