"""Geometry for small inline SVG charts; the template draws them, so no script loads from anywhere."""

from dataclasses import dataclass
from datetime import date, datetime

WIDTH, HEIGHT = 640, 180
LEFT, BOTTOM, TOP = 40, 24, 10
MAX_POINTS = 600


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value: int


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    y_max: int
    plot_left: int
    plot_bottom: float
    y_top: float
    points: str = ""
    bars: tuple[Bar, ...] = ()
    x_labels: tuple[tuple[float, str], ...] = ()
    y_min: float = 0


def _frame(values: list[int]) -> tuple[int, float, float]:
    y_max = max(1, max(values))
    plot_height = HEIGHT - BOTTOM - TOP
    return y_max, HEIGHT - BOTTOM, plot_height


def line_chart(series: list[tuple[datetime, float]], *, zone=None, floor: float = 0) -> Chart | None:
    """A line over time (concurrent viewers per bucket; a latency, a loudness), its axis from
    `floor` (values below it are drawn on it) to the highest value."""
    if not series:
        return None
    if len(series) > MAX_POINTS:  # keep each group's peak so the peak stays visible
        step = -(-len(series) // MAX_POINTS)
        series = [max(series[i : i + step], key=lambda point: point[1]) for i in range(0, len(series), step)]
    series = [(at, max(0, n - floor)) for at, n in series]
    y_max, bottom, plot_height = _frame([n for _, n in series])
    start, end = series[0][0].timestamp(), series[-1][0].timestamp()
    span = max(end - start, 1)
    plot_width = WIDTH - LEFT - 10
    coordinates = []
    for at, n in series:
        x = LEFT + (at.timestamp() - start) / span * plot_width if len(series) > 1 else LEFT + plot_width / 2
        coordinates.append(f"{x:.1f},{bottom - n / y_max * plot_height:.1f}")
    first, last = series[0][0], series[-1][0]
    if zone is not None:
        first, last = first.astimezone(zone), last.astimezone(zone)
    labels = ((LEFT, f"{first:%d %b %H:%M}"), (LEFT + plot_width, f"{last:%d %b %H:%M}"))
    top = y_max + floor
    if isinstance(top, float):
        top = round(top, 1)
    return Chart(WIDTH, HEIGHT, top, LEFT, bottom, TOP, points=" ".join(coordinates), x_labels=labels, y_min=floor)


def bar_chart(series: list[tuple[date, int]]) -> Chart | None:
    """One bar per day: registrations over time."""
    if not series:
        return None
    y_max, bottom, plot_height = _frame([n for _, n in series])
    plot_width = WIDTH - LEFT - 10
    slot = plot_width / len(series)
    bars = tuple(
        Bar(
            x=LEFT + i * slot + slot * 0.1,
            y=bottom - n / y_max * plot_height,
            width=max(slot * 0.8, 1),
            height=n / y_max * plot_height,
            label=f"{day:%d %b %Y}",
            value=n,
        )
        for i, (day, n) in enumerate(series)
    )
    labels = ((LEFT, f"{series[0][0]:%d %b}"), (LEFT + plot_width, f"{series[-1][0]:%d %b}"))
    return Chart(WIDTH, HEIGHT, y_max, LEFT, bottom, TOP, bars=bars, x_labels=labels)
