"""The local fleet: real control planes on one machine, for users and for every integration test."""
