"""Facts about Segmind's MotionCtrl-SVD API, stated once (sources: shared/reference/segmind-api.md)."""

DEFAULT_BASE_URL = "https://api.segmind.com"
MODEL_SLUG = "motionctrl-svd"
# Segmind's free credits look-up: checks a key and bills nothing.
CREDITS_PATH = "/v1/get-user-credits"
# Segmind keeps a v2 job's status and result for one hour after it was submitted (404 afterwards).
JOB_RETENTION_S = 60 * 60
# Segmind's quoted price and duration of one call: the estimate whenever it reports no cost.
PRICE_PER_CALL = 0.089
EXPECTED_JOB_S = 60.0
# v2 job states while a job is still running, and the two ends.
WAITING_STATES = ("QUEUED", "PROCESSING", "IN_PROGRESS", "IN_QUEUE", "PENDING", "STARTING", "RUNNING")
DONE_STATES = ("COMPLETED", "SUCCEEDED", "SUCCESS")
FAILED_STATES = ("FAILED", "ERROR", "CANCELLED", "CANCELED")
