"""SSH to a cluster's machines before and after Kubespray runs: a preflight that says per host what stops
an install (``preflight``), and an SFTP fetch of the new cluster's ``admin.conf`` (``fetch``). The private
key comes from a Secret and never appears in a message this package builds (``keys``)."""
