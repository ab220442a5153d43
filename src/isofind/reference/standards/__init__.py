"""Isotopic standards, certified reference materials and inter-standard shifts."""
