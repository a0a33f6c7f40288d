"""The web console: static pages served at /console/ and a small JSON API under /console/api/.

The console is a client of the AWS APIs: everything it shows or changes goes through the services' public
operations (called in-process, `api/local_calls.py`), never through the store behind them. Its only state of
its own is the saved test events of each function (one document per function, kind `console-test-events`).
"""
