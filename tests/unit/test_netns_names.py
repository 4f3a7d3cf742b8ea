from __future__ import annotations

import ipaddress

from kurator.local.netns import LINK_POOL, Link


def test_link_names_fit_ifnamsiz_and_addresses_share_a_slash_30() -> None:
    for name in ("a", "x" * 20, "fleet-1"):
        link = Link.for_fleet(name, 7)
        assert len(link.host_if) <= 15 and len(link.ns_if) <= 15
        net = ipaddress.ip_network(f"{link.host_addr}/30", strict=False)
        assert ipaddress.ip_address(link.ns_addr) in net
        assert net.subnet_of(LINK_POOL)  # type: ignore[arg-type]
    assert Link.for_fleet("a", 0).host_if != Link.for_fleet("b", 0).host_if
