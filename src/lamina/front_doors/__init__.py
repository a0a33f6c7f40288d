"""HTTP front doors: translate HTTP requests to Lambda events and function answers back to HTTP."""
