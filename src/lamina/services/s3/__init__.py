"""S3: buckets, versioned objects on disk, multipart uploads (provider.py on the wire, engine.py behaviour)."""
