"""What runs inside the Kubespray Job's container: ``python -m kurator.worker ansible-playbook ARGS...``
runs the playbook, streams its output (``kubectl logs``), and leaves a JSON summary of why it failed (host,
task, message) in the container's termination message, where the operator reads it into a condition.

Standard library only (plus ``kurator.core``): it runs in Kubespray's image, next to Ansible, not in
kurator's own. The Ansible callback plugin in ``callback_plugins/`` is loaded by ``ansible-playbook``, never
imported by kurator.
"""
