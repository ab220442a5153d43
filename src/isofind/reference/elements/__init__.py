"""Predefined and custom isotopic elements."""
