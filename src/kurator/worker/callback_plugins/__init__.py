"""Ansible plugins shipped with the worker; Ansible loads them by path (this file is only for packaging)."""
