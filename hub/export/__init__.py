"""Datasets out of the hub."""
