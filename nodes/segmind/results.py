"""What a Segmind call gives back: the record of an accepted v2 job, and a finished video with its accounting.

These are the client's public types; the cache and the job engine use them without knowing how they were
fetched. Accounting is read only from Segmind's own field names (see shared/reference/segmind-api.md): the
charge is `x-cost` (v1 header) or `metrics.cost` (v2 body); the balance `x-remaining-credits` or
`metrics.remaining_credits`; the seed used `x-seed-value`. A field Segmind leaves out stays None, so the
node can say "~$0.089" (an estimate) instead of presenting a guess as the real charge.
"""

from dataclasses import asdict, dataclass

from .contract import JOB_RETENTION_S, PRICE_PER_CALL


@dataclass(frozen=True)
class SubmittedJob:
    """What must be kept to pick a v2 job up again after a cancel or a restart."""
    request_id: str
    status_url: str
    response_url: str
    submitted_at: float  # wall-clock time.time(): a record outlives the process

    def to_dict(self):
        return asdict(self)

    @classmethod
    def from_dict(cls, data):
        return cls(str(data["request_id"]), str(data["status_url"]), str(data["response_url"]),
                   float(data["submitted_at"]))

    def expires_at(self):
        return self.submitted_at + JOB_RETENTION_S


@dataclass(frozen=True)
class Accounting:
    cost: float = None  # US dollars Segmind charged, when it said
    remaining_credits: float = None
    seed: int = None
    generation_time: float = None

    @property
    def cost_reported(self):
        return self.cost is not None

    def cost_or_estimate(self):
        return self.cost if self.cost is not None else PRICE_PER_CALL


@dataclass(frozen=True)
class GenerationResult:
    video: bytes
    container: str
    api_version: str
    request_id: str = None
    accounting: Accounting = Accounting()
    elapsed: float = None

    # Flat views, for the cache's metadata and the status line.
    @property
    def cost(self):
        return self.accounting.cost

    @property
    def remaining_credits(self):
        return self.accounting.remaining_credits

    @property
    def seed(self):
        return self.accounting.seed

    def meta(self):
        return {"request_id": self.request_id, "api_version": self.api_version, "elapsed": self.elapsed,
                "cost": self.accounting.cost, "cost_reported": self.accounting.cost_reported,
                "remaining_credits": self.accounting.remaining_credits, "seed": self.accounting.seed,
                "generation_time": self.accounting.generation_time}


# Each field under Segmind's name first; the others are spellings seen on Segmind's other endpoints and SDK
# versions. Exact keys only: a substring match once took `remaining_credits` for the cost.
_HEADER_NAMES = {"cost": ("x-cost",), "remaining_credits": ("x-remaining-credits",),
                 "seed": ("x-seed-value", "x-seed"), "generation_time": ("x-generation-time",)}
_METRIC_NAMES = {"cost": ("cost", "credits_used", "price"),
                 "remaining_credits": ("remaining_credits", "remainingCredits", "credits_remaining"),
                 "seed": ("seed",), "generation_time": ("inference_time", "generation_time")}


def accounting_from(headers, metrics=None, body=None):
    """Accounting from response headers (lower-cased names) and a v2 body's `metrics` (and top level)."""
    values = {}
    for field, names in _HEADER_NAMES.items():
        values[field] = _first(headers, names)
    for source in (metrics, body):
        if not isinstance(source, dict):
            continue
        for field, names in _METRIC_NAMES.items():
            if values[field] is None:
                values[field] = _first(source, names)
    seed = values["seed"]
    return Accounting(cost=values["cost"], remaining_credits=values["remaining_credits"],
                      seed=int(seed) if seed is not None and float(seed).is_integer() else None,
                      generation_time=values["generation_time"])


def _first(mapping, names):
    for name in names:
        number = to_number(mapping.get(name))
        if number is not None:
            return number
    return None


def to_number(value):
    """A finite float from a header or JSON value, else None."""
    if isinstance(value, bool):
        return None
    try:
        number = float(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if number == number and abs(number) != float("inf") else None
