"""Lamina's runtimes, bind-mounted read-only at `/var/runtime` in every environment.

`lamina_runtime` is the Python runtime client (stdlib only, any Python 3.9+); `nodejs/bootstrap.js` is the
Node.js one. Both speak only the Runtime API 2018-06-01, like any custom runtime would.
"""
