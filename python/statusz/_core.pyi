"""Type stubs of statusz._core, the compiled part of statusz."""

import enum
from typing import Any, Callable, Iterator, Literal, Optional, Sequence, Tuple, TypeVar, Union, final, overload

__version__: str

_T = TypeVar("_T")

class Status(enum.Enum):
    """The health of a component or of the whole server, ordered from best to
    worst: OK < WARNING < UNKNOWN < KO. str() gives the document's spelling
    ("Ok", "Warning", "Unknown", "Ko")."""

    OK = 0
    WARNING = 1
    UNKNOWN = 2
    KO = 3

    @staticmethod
    def parse(text: str) -> "Status":
        """Parses a status name, case-insensitively; ValueError otherwise."""
    def __lt__(self, other: "Status") -> bool: ...
    def __le__(self, other: "Status") -> bool: ...
    def __gt__(self, other: "Status") -> bool: ...
    def __ge__(self, other: "Status") -> bool: ...

def worst(*statuses: Status) -> Status:
    """The worst of the given statuses; OK when none are given."""

class Kind(enum.Enum):
    """What is registered at a path of a Registry."""

    GROUP = 0
    METER = 1
    COUNTER = 2
    KEYED_COUNTER = 3
    GAUGE = 4
    HISTOGRAM = 5
    TIMER = 6

class SharedStoreError(OSError):
    """A shared registry's store cannot be opened or joined."""

class KindError(ValueError):
    """A path is already registered as another kind."""

    path: str
    existing: Kind
    requested: Kind

class Clock:
    """A source of time for meters, probes and registries."""

    @property
    def now_ns(self) -> int:
        """Monotonic time in nanoseconds since an arbitrary origin."""
    @property
    def now(self) -> float:
        """Monotonic time in seconds since an arbitrary origin."""
    @property
    def wall_time(self) -> float:
        """Wall-clock time in seconds since the Unix epoch."""

@final
class SteadyClock(Clock):
    """Real monotonic time; meters on it are ticked by a background thread."""

    def __init__(self) -> None: ...

@final
class ManualClock(Clock):
    """A clock that moves only when told to (tests never sleep)."""

    def __init__(self, wall_start: float = 0.0) -> None: ...
    def advance(self, seconds: float) -> None:
        """Moves time forward, ticking meters and waking probe waiters."""
    def advance_ns(self, ns: int) -> None:
        """Like advance(), in integer nanoseconds."""
    @property
    def waiters(self) -> int:
        """How many threads are blocked waiting on this clock."""
    def await_waiters(self, n: int, timeout: Optional[float] = None) -> bool:
        """Blocks until at least n threads wait on this clock."""

def default_clock() -> Clock:
    """The process-wide SteadyClock used when no clock is given."""

@final
class ProbeReport:
    """One observation of a probe."""

    @property
    def status(self) -> Status: ...
    @property
    def message(self) -> str: ...
    @property
    def duration(self) -> float: ...
    @property
    def duration_ns(self) -> int: ...
    @property
    def timed_out(self) -> bool: ...
    @property
    def reused(self) -> bool: ...

@final
class Meter:
    """Counts events; mean rate and 1/5/15-minute moving averages."""

    def __init__(self, clock: Optional[Clock] = None) -> None: ...
    def mark(self, n: int = 1) -> None:
        """Records n events (n >= 0)."""
    @property
    def count(self) -> int: ...
    @property
    def mean_rate(self) -> float: ...
    @property
    def one_minute_rate(self) -> float: ...
    @property
    def five_minute_rate(self) -> float: ...
    @property
    def fifteen_minute_rate(self) -> float: ...
    def snapshot(self) -> dict[str, Union[int, float]]:
        """{"count", "meanRate", "oneMinuteRate", "fiveMinuteRate", "fifteenMinuteRate"}."""
    @property
    def clock(self) -> Clock: ...

@final
class Histogram:
    """The distribution of non-negative ints, cumulative and over a sliding
    window of the last window_ticks 5-s ticks (60 s by default).

    Log-linear buckets (64 per power of two): quantiles, the window's min and
    max, and stddev are within 1/128 (0.79 %) of the exact figures; values
    below 128 are exact. update() is lock-free and keeps the GIL."""

    def __init__(self, clock: Optional[Clock] = None, window_ticks: int = 12) -> None:
        """ValueError unless window_ticks > 0."""
    def update(self, value: int) -> None:
        """Records value (0 <= value < 2**64); TypeError / ValueError otherwise."""
    @property
    def count(self) -> int:
        """Values recorded since creation."""
    def quantile(self, q: float, *, window: bool = True) -> float:
        """The ceil(q * count)-th smallest value (nearest rank), within 1/128,
        over the window (or since creation); 0.0 when empty. ValueError unless
        0 <= q <= 1."""
    def snapshot(self) -> dict[str, Union[int, float]]:
        """{"count", "sum"} (ints, since creation), then over the window
        "min", "mean", "max", "stddev", "p50", "p75", "p95", "p98", "p99",
        "p999" (floats in the values' unit; 0.0 when the window is empty)."""
    @property
    def clock(self) -> Clock: ...

@final
class TimerContext:
    """What Timer.time() returns: ``with t.time(): ...`` times the block and
    ``@t.time()`` each call of the decorated function; both record also when
    the body raises (the exception propagates). One per block: entering the
    same context twice at once times from the later entry."""

    def __enter__(self) -> "TimerContext": ...
    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> bool: ...
    def __call__(self, fn: Callable[..., _T]) -> Callable[..., _T]:
        """fn wrapped so that every call is timed (functools.wraps)."""

@final
class Timer:
    """How often and how long: a Meter of the events and a Histogram of their
    durations in nanoseconds (quantiles within 1/128; window of window_ticks
    5-s ticks). Recording is lock-free."""

    def __init__(self, clock: Optional[Clock] = None, window_ticks: int = 12) -> None:
        """clock's now() is what time() reads (default_clock() if None)."""
    def time(self) -> TimerContext:
        """A context manager and decorator that records elapsed time."""
    def update(self, seconds: float) -> None:
        """Records a duration in seconds; ValueError unless 0 <= seconds < 9.2e9."""
    def update_ns(self, ns: int) -> None:
        """Records a duration in nanoseconds; ValueError unless 0 <= ns < 2**63."""
    @property
    def count(self) -> int:
        """Durations recorded since creation."""
    def quantile(self, q: float, *, window: bool = True) -> float:
        """The ceil(q * count)-th shortest duration in seconds, within 1/128,
        over the window (or since creation); 0.0 when empty."""
    def snapshot(self) -> dict[str, Any]:
        """{"fiveMinuteRate", "oneMinuteRate", "fifteenMinuteRate", "count",
        "meanRate", "durationMs": {"min", "mean", "max", "stddev", "p50",
        "p75", "p95", "p98", "p99", "p999"}}: rates in events per second,
        durations in milliseconds over the window (0.0 when it is empty)."""
    @property
    def clock(self) -> Clock: ...

@final
class Counter:
    """A signed 64-bit value that goes up and down."""

    def __init__(self, value: int = 0) -> None: ...
    def inc(self, n: int = 1) -> None: ...
    def dec(self, n: int = 1) -> None: ...
    def set(self, value: int) -> None: ...
    @property
    def value(self) -> int: ...
    def __int__(self) -> int: ...

@final
class KeyedCounter:
    """Counts per str key, bounded; a read-only mapping of key -> count."""

    OVERFLOW_KEY: str
    def __init__(self, max_keys: int = 10000, max_key_bytes: int = 256) -> None: ...
    def inc(self, key: str, n: int = 1) -> None: ...
    def __getitem__(self, key: str) -> int: ...
    @overload
    def get(self, key: str) -> Optional[int]: ...
    @overload
    def get(self, key: str, default: _T) -> Union[int, _T]: ...
    def __contains__(self, key: object) -> bool: ...
    def __len__(self) -> int: ...
    def __iter__(self) -> Iterator[str]: ...
    def keys(self) -> list[str]: ...
    def values(self) -> list[int]: ...
    def items(self) -> list[Tuple[str, int]]: ...
    def snapshot(self) -> dict[str, int]: ...
    @property
    def size(self) -> int: ...
    @property
    def dropped(self) -> int: ...
    @property
    def max_keys(self) -> int: ...
    @property
    def max_key_bytes(self) -> int: ...

@final
class Gauge:
    """A value computed by a Python callable when the document is built."""

    def __init__(self, fn: Callable[[], Any]) -> None: ...
    def value(self) -> Any: ...

_ProbeResult = Union[Status, Tuple[Status, Optional[str]]]

@final
class Probe:
    """A health check run on a worker thread with a timeout."""

    def __init__(
        self,
        fn: Callable[[], _ProbeResult],
        *,
        clock: Optional[Clock] = None,
        timeout: float = 5.0,
        max_age: float = 0.0,
    ) -> None: ...
    def run(self) -> ProbeReport: ...
    @property
    def running(self) -> bool: ...
    @property
    def timeout(self) -> float: ...
    @timeout.setter
    def timeout(self, value: float) -> None: ...
    @property
    def max_age(self) -> float: ...
    @max_age.setter
    def max_age(self, value: float) -> None: ...

@final
class Registry:
    """Named metrics and probes arranged by dotted path into the document."""

    def __init__(
        self,
        *,
        clock: Optional[Clock] = None,
        host_name: Optional[str] = None,
        version: str = "",
        time_zone: str = "UTC",
        shared: Optional[str] = None,
        shared_slots: Optional[int] = None,
        shared_cells: Optional[int] = None,
        shared_entries: Optional[int] = None,
        shared_key_bytes: Optional[int] = None,
    ) -> None:
        """shared: a store every process of this user opening NAME counts into
        (meters, counters and keyed counters; histograms and timers raise
        RuntimeError). shared_*: the store's capacities (defaults 128 slots,
        16384 cells, 1024 entries, 8 MiB of key bytes), the same in every
        process of the pool; SharedStoreError otherwise."""
    def meter(self, path: str) -> Meter: ...
    def counter(
        self, path: str, *, mode: Literal["sum", "max", "min", "live-sum"] = "sum"
    ) -> Counter: ...
    @property
    def shared(self) -> Optional[str]: ...
    def keyed(self, path: str, max_keys: int = 10000) -> KeyedCounter:
        """The KeyedCounter at path, created on first use. On a shared registry,
        the pool's keys and counts under one max_keys (the first process's); it
        reserves max_keys + 2 cells and max_keys x 264 key bytes of the store
        (SharedStoreError when they are not left)."""
    def timer(self, path: str, window_ticks: int = 12) -> Timer:
        """The Timer at path, created on first use; KindError if another kind."""
    def histogram(self, path: str, window_ticks: int = 12) -> Histogram:
        """The Histogram at path, created on first use; KindError if another kind."""
    @overload
    def gauge(self, path: str, fn: Callable[[], Any]) -> Gauge: ...
    @overload
    def gauge(self, path: str, fn: None = None) -> Callable[[Callable[[], Any]], Gauge]: ...
    def ratio(self, path: str, *, errors: Meter, successes: Meter) -> Gauge: ...
    @overload
    def probe(
        self,
        path: str,
        fn: Callable[[], _ProbeResult],
        *,
        timeout: float = 5.0,
        max_age: float = 0.0,
        groups: Optional[Sequence[str]] = None,
    ) -> Probe: ...
    @overload
    def probe(
        self,
        path: str,
        fn: None = None,
        *,
        timeout: float = 5.0,
        max_age: float = 0.0,
        groups: Optional[Sequence[str]] = None,
    ) -> Callable[[Callable[[], _ProbeResult]], Probe]: ...
    def contains(self, path: str) -> bool: ...
    def __contains__(self, path: object) -> bool: ...
    def kind(self, path: str) -> Kind: ...
    def snapshot(self, details: bool = True) -> dict[str, Any]: ...
    def to_json(self, details: bool = True, pretty: bool = False) -> str: ...
    def to_prometheus(self, *, prefix: str = "statusz", openmetrics: bool = False) -> str: ...
    def process_metrics(self, group: str = "process") -> bool:
        """Adds cpuSecondsTotal, residentMemoryBytes, virtualMemoryBytes,
        openFds, maxFds, startTimeSeconds and threads under `group`, read from
        /proc/self when rendered (Linux; False and None values elsewhere)."""
    def status(self) -> Status: ...
    @property
    def clock(self) -> Clock: ...
    @property
    def host_name(self) -> str: ...
    @property
    def version(self) -> str: ...
    @property
    def time_zone(self) -> str: ...

class HttpHandler:
    """The C++ HTTP handler of a Registry (statusz.serve() holds one)."""

    MIN_TARGET_BYTES: int
    def __init__(
        self,
        registry: Registry,
        *,
        bearer_token: Optional[str] = "",
        metrics_prefix: str = ...,
        max_target_bytes: int = ...,
    ) -> None: ...
    def handle(
        self, method: str, target: str, headers: list[Tuple[str, str]] = ...
    ) -> Tuple[int, str, list[Tuple[str, str]], bytes]:
        """One request: (status, content type, other headers, body bytes)."""
    @property
    def metrics_prefix(self) -> str: ...
    @property
    def max_target_bytes(self) -> int: ...

_EXPOSITION_CONTENT_TYPES: Tuple[str, str]

def _accepts_gzip(accept_encoding: Optional[str]) -> bool:
    """Whether a response may be gzipped for this Accept-Encoding value."""

def to_json(value: Any, pretty: bool = False) -> str:
    """Renders a value with the C++ JSON renderer."""

def remove_shared(name: str) -> bool:
    """Unlinks the shared store `name`; False if there was none."""

def shared_path(name: str) -> str:
    """The file backing the shared store `name` (/dev/shm/statusz.NAME)."""
