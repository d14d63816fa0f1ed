"""Server-rendered SVG charts: no JavaScript, no CDN, works offline. Decimal arithmetic only.

Each function returns the shapes a template draws: the plot area, horizontal gridlines with their
value labels (round steps: 1, 2, 2.5 or 5 times a power of ten), day ticks along the x axis with
their labels, the axis titles, and the bars or lines.
"""

import datetime as dt
import math
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

WIDTH, HEIGHT = 600, 250
LEFT, RIGHT, TOP, BOTTOM = 70, 16, 16, 52  # room for the value labels, the day labels and the axis titles
MAX_X_TICKS = 8
COLORS = {"JOD": "#2f6f4f", "USD": "#3b5ba5", "EUR": "#b5651d"}


def _coord(value) -> str:
    return str(Decimal(value).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def nice_step(top: Decimal, *, ticks: int = 4, whole: bool = False) -> Decimal:
    """A round step that splits [0, top] into about ``ticks`` intervals."""
    raw = top / ticks
    base = Decimal(1).scaleb(raw.adjusted())
    step = next(base * factor for factor in (1, 2, Decimal("2.5"), 5, 10) if base * factor >= raw)
    return max(step.to_integral_value(rounding=ROUND_CEILING), Decimal(1)) if whole else step


def _label(value: Decimal) -> str:
    """A tick value: thousands grouped, no trailing zeros."""
    return f"{value.normalize():,f}"


def y_axis(values: list[Decimal], *, whole: bool) -> tuple[Decimal, list[dict]]:
    """The axis maximum and its ticks (value label and y coordinate), from 0 up."""
    top = max(values, default=Decimal(0))
    step = nice_step(top if top > 0 else Decimal(1), whole=whole)
    count = max(int((top / step).to_integral_value(rounding=ROUND_CEILING)), 1)
    axis_max = step * count
    height = Decimal(HEIGHT - TOP - BOTTOM)
    ticks = [{"y": _coord(HEIGHT - BOTTOM - height * step * index / axis_max), "label": _label(step * index)}
             for index in range(count + 1)]
    return axis_max, ticks


def x_ticks(days: list[dt.date], centres: list[Decimal]) -> list[dict]:
    """At most MAX_X_TICKS evenly spaced day labels ("30 Nov"), the last day always included; with the
    year ("30 Nov 2026") when the days span more than one year."""
    if not days:
        return []
    stride = max(math.ceil(len(days) / MAX_X_TICKS), 1)
    indices = list(range(len(days) - 1, -1, -stride))[::-1]
    years = days[0].year != days[-1].year
    return [{"x": _coord(centres[index]),
             "label": f"{days[index].day} {days[index]:%b}" + (f" {days[index].year}" if years else "")}
            for index in indices]


def _frame(days: list[dt.date], *, title: str, unit: str) -> dict:
    span = f"{days[0]:%Y-%m-%d} – {days[-1]:%Y-%m-%d}" if days else ""
    return {"title": title, "unit": unit, "width": WIDTH, "height": HEIGHT, "left": LEFT, "right": WIDTH - RIGHT,
            "top": TOP, "bottom": HEIGHT - BOTTOM, "x_title": f"Day (Asia/Amman), {span}",
            "x_title_x": (LEFT + WIDTH - RIGHT) // 2, "x_title_y": HEIGHT - 8,
            "y_title_x": 14, "y_title_y": (TOP + HEIGHT - BOTTOM) // 2, "label_y": HEIGHT - BOTTOM + 16,
            "y_label_x": LEFT - 6}


def _centres(count: int) -> tuple[Decimal, list[Decimal]]:
    slot = Decimal(WIDTH - LEFT - RIGHT) / max(count, 1)
    return slot, [LEFT + slot * index + slot / 2 for index in range(count)]


def bar_chart(days: list[dt.date], values: list[Decimal], *, title: str, unit: str, color: str = "#2f6f4f",
              whole: bool = False) -> dict:
    """Bars for one series (one per day)."""
    axis_max, ticks = y_axis(values, whole=whole)
    slot, centres = _centres(len(days))
    plot = Decimal(HEIGHT - TOP - BOTTOM)
    bars = []
    for day, value, centre in zip(days, values, centres, strict=True):
        height = plot * value / axis_max
        bars.append({"x": _coord(centre - slot * 4 / 10), "y": _coord(HEIGHT - BOTTOM - height),
                     "width": _coord(slot * 8 / 10), "height": _coord(height),
                     "label": day.isoformat(), "value": _label(value)})
    return {**_frame(days, title=title, unit=unit), "y_ticks": ticks, "x_ticks": x_ticks(days, centres),
            "bars": bars, "color": color, "max": _label(max(values, default=Decimal(0)))}


def line_chart(days: list[dt.date], series: dict[str, list[Decimal]], *, title: str, unit: str,
               whole: bool = False) -> dict:
    """One polyline per series (e.g. transfers per currency), with a dot per day."""
    axis_max, ticks = y_axis([value for values in series.values() for value in values], whole=whole)
    _, centres = _centres(len(days))
    plot = Decimal(HEIGHT - TOP - BOTTOM)
    lines = []
    for name, values in series.items():
        points = [(_coord(centre), _coord(HEIGHT - BOTTOM - plot * value / axis_max))
                  for centre, value in zip(centres, values, strict=True)]
        lines.append({"name": name, "color": COLORS.get(name, "#555555"),
                      "points": " ".join(f"{x},{y}" for x, y in points),
                      "dots": [{"x": x, "y": y, "label": f"{day.isoformat()}: {_label(value)}"}
                               for (x, y), day, value in zip(points, days, values, strict=True)],
                      "total": _label(sum(values, Decimal(0)))})
    return {**_frame(days, title=title, unit=unit), "y_ticks": ticks, "x_ticks": x_ticks(days, centres),
            "lines": lines}
