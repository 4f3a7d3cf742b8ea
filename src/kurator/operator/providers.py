"""The cluster providers the operator runs: each is one :class:`~kurator.operator.provider.Registration`
(see :mod:`kurator.operator.provider` for what one gives and gets)."""

from __future__ import annotations

from kurator.operator.aws import REGISTRATION as AWS
from kurator.operator.kubespray import REGISTRATION as KUBESPRAY
from kurator.operator.provider import Registration

REGISTERED: tuple[Registration, ...] = (KUBESPRAY, AWS)
