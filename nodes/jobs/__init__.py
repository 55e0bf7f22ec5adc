"""The job engine: batches, the result cache, resume of paid jobs and concurrency across nodes."""
