"""What the Deleting condition names while CAPA cannot delete: refused credentials wherever CAPA reports them
(before a condition that failed first by order with an error AWS's answer left unnamed), a 401/403 without a
code said to be a refusal, and the first failed condition otherwise."""

from __future__ import annotations

from typing import Any

from kurator.lifecycle.aws.status import blocker


def _aws(*conditions: tuple[str, str]) -> dict[str, Any]:
    return {
        "metadata": {"name": "c1"},
        "status": {
            "conditions": [
                {"type": t, "status": "False", "severity": "Error", "reason": "DeletionFailed", "message": m}
                for t, m in conditions
            ]
        },
    }


ELB_403 = (
    "unexpected aws error: operation error Elastic Load Balancing: https response error StatusCode: 403, "
    "api error UnknownError: UnknownError"
)
VPC_401 = (
    "failed to query ec2 for VPCs: StatusCode: 401, "
    "api error AuthFailure: AWS was not able to validate the provided access credentials"
)


def test_refused_credentials_are_named_before_a_condition_that_came_first() -> None:
    said = blocker(_aws(("LoadBalancerReady", ELB_403), ("VpcReady", VPC_401)), [])
    assert said == f"CAPA cannot delete: AWSCluster c1: VpcReady: {VPC_401}"


def test_a_refusal_without_a_code_is_said_to_be_one() -> None:
    said = blocker(_aws(("LoadBalancerReady", ELB_403)), [])
    assert said is not None and said.startswith("CAPA cannot delete: AWSCluster c1: LoadBalancerReady: ")
    assert "credentials are revoked, wrong or without permission" in said


def test_other_failures_are_named_in_capas_words() -> None:
    said = blocker(_aws(("VpcReady", "failed to delete VPC: DependencyViolation")), [])
    assert said == "CAPA cannot delete: AWSCluster c1: VpcReady: failed to delete VPC: DependencyViolation"
    assert blocker(None, []) is None
