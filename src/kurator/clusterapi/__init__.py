"""Cluster API and its AWS provider as their releases define them: the four managers (core, kubeadm
bootstrap, kubeadm control plane, AWS), and their CRDs, webhook configurations, RBAC and Deployments read
from each release's ``config`` folder and completed as its kustomize overlays would complete them, for two
places: the local fleet, where the managers run as processes and the API server reaches their webhooks at a
URL, and a host cluster (``kurator install cluster-api``), where they run as Deployments behind Services.
Pure: folders and values in, Kubernetes objects and command lines out."""
