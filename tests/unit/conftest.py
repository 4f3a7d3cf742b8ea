from __future__ import annotations

import pytest

from .charts import HELM


@pytest.fixture
def helm_in_cache() -> None:
    assert HELM.exists(), f"helm is not in the cache ({HELM}): run scripts/setup.sh"
