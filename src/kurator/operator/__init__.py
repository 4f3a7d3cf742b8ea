"""The cluster operator: it watches CustomClusters, CustomMachines, their Kubespray Jobs and Cluster API's
Clusters and KubeadmControlPlanes, and drives each cluster's lifecycle with the pure decisions of
:mod:`kurator.lifecycle`.

kopf watches the API (list, watch, reconnects, credentials) and feeds every event into an in-memory view
of the objects; one idempotent reconcile per CustomCluster, run from a work queue, reads that view, decides
the next step and writes what it implies. A cluster's state depends on five kinds of objects, so the
reconcile is level-triggered (any change of any of them queues the cluster again) rather than one kopf
handler per change of one object. ``kurator operator run`` starts it, under a Lease so that of several
replicas only one acts.
"""
