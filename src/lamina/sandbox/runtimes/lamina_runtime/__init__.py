"""Lamina's Python runtime client: Lambda's Python programming model on top of the Runtime API."""
