"""The AWS ``Cluster`` kind's pure decisions: which Cluster API and CAPA objects a Cluster becomes
(render), what their state says about it (status), and what to change next (upgrades one minor at a time,
deletion in order)."""
