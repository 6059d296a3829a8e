"""Hallserver: a real-time virtual exhibition hall server."""

__version__ = "0.1.0"
