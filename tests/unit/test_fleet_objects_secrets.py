"""Secret values in plans: a changed value is a change (it is applied); a diff names it, never shows it."""

from __future__ import annotations

from kurator.fleet import objects


def _secret(value: str) -> dict[str, object]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "cacerts", "namespace": "istio-system", "resourceVersion": "7"},
        "type": "Opaque",
        "data": {"root-cert.pem": value, "kept": "same"},
    }


def test_a_changed_secret_value_is_a_change() -> None:
    assert objects.same(_secret("b2xk"), _secret("b2xk"))
    assert not objects.same(_secret("b2xk"), _secret("bmV3"))


def test_a_diff_names_the_changed_value_without_showing_either() -> None:
    text = objects.diff(_secret("b2xk"), _secret("bmV3"), "Secret istio-system/cacerts")
    assert "b2xk" not in text and "bmV3" not in text and "same" not in text
    assert "root-cert.pem: <redacted> (changed)" in text
    assert "kept" not in [line[1:].split(":")[0].strip() for line in text.splitlines() if line[:1] in "+-"]
