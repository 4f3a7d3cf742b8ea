"""Basics every layer shares: errors and well-known paths."""
