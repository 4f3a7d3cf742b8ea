"""The cluster lifecycle as pure functions: what Kubespray is given (inventory, group vars, the Job that runs
it), what to do next, and what the cluster's status says. No I/O: the operator reads objects, calls these
and writes what they return, so every decision can be tested without a cluster."""
