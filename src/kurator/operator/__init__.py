"""The cluster operator: it runs a registry of cluster providers (:mod:`kurator.operator.providers`; the
seam is :mod:`kurator.operator.provider`). Kubespray's (:mod:`kurator.operator.kubespray`) reconciles
CustomClusters from their CustomMachines, their Kubespray Jobs and Cluster API's Clusters and
KubeadmControlPlanes, with the pure decisions of :mod:`kurator.lifecycle`.

kopf watches the API (list, watch, reconnects, credentials) and each event goes, through its route, to the
providers watching its kind, which keep it in their caches and queue the objects it concerns; one idempotent
reconcile per object, run from the provider's work queue, reads the cache, decides and writes what that
implies. An object's state depends on several kinds of objects, so the reconcile is level-triggered (any
change of any of them queues the object again) rather than one kopf handler per change of one object.
``kurator operator run`` starts it, under a Lease so that of several replicas only one acts.
"""
