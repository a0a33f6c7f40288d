"""AWS X-Ray: Lambda's own segments for sampled invocations, the daemon's UDP endpoint, and the xray API."""
