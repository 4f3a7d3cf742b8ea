"""The lightkube resources of the CustomCluster and CustomMachine kinds (generic: their models are ours, in
:mod:`kurator.api`), for whatever reads or writes them."""

from __future__ import annotations

from lightkube.generic_resource import create_namespaced_resource

from kurator.api.names import GROUP, VERSION

CustomClusterResource = create_namespaced_resource(GROUP, VERSION, "CustomCluster", "customclusters")
CustomMachineResource = create_namespaced_resource(GROUP, VERSION, "CustomMachine", "custommachines")
