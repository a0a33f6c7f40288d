"""Lamina: a self-hosted serverless platform compatible with AWS Lambda on the wire."""

__version__ = "0.1.0"
