"""The fleet: members joined to Karmada, and the install engine that propagates components to them."""
