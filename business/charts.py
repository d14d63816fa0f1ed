"""Server-rendered SVG charts: no JavaScript, no CDN, works offline. Decimal arithmetic only."""

from decimal import ROUND_HALF_UP, Decimal

WIDTH, HEIGHT, PAD = Decimal(560), Decimal(180), Decimal(28)
COLORS = {"JOD": "#2f6f4f", "USD": "#3b5ba5", "EUR": "#b5651d"}


def _coord(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def _scale(values: list[Decimal]) -> Decimal:
    top = max(values, default=Decimal(0))
    return top if top > 0 else Decimal(1)


def bar_chart(labels: list[str], values: list[Decimal], *, title: str, color: str = "#2f6f4f") -> dict:
    """Bars for one series: a dict of SVG shapes the template draws."""
    top = _scale(values)
    count = max(len(values), 1)
    slot = (WIDTH - 2 * PAD) / count
    bars = []
    for index, (label, value) in enumerate(zip(labels, values, strict=True)):
        height = (HEIGHT - 2 * PAD) * value / top
        bars.append({
            "x": _coord(PAD + slot * index + slot / 10), "y": _coord(HEIGHT - PAD - height),
            "width": _coord(slot * 8 / 10), "height": _coord(height), "label": label, "value": str(value),
        })
    return {"title": title, "bars": bars, "max": str(top), "color": color, "width": str(WIDTH),
            "height": str(HEIGHT), "baseline": _coord(HEIGHT - PAD), "first": labels[0] if labels else "",
            "last": labels[-1] if labels else ""}


def line_chart(labels: list[str], series: dict[str, list[Decimal]], *, title: str) -> dict:
    """One polyline per series (e.g. transfers per currency)."""
    top = _scale([value for values in series.values() for value in values])
    count = max(len(labels) - 1, 1)
    step = (WIDTH - 2 * PAD) / count
    lines = []
    for name, values in series.items():
        points = " ".join(
            f"{_coord(PAD + step * index)},{_coord(HEIGHT - PAD - (HEIGHT - 2 * PAD) * value / top)}"
            for index, value in enumerate(values)
        )
        lines.append({"name": name, "points": points, "color": COLORS.get(name, "#555555"),
                      "total": str(sum(values, Decimal(0)))})
    return {"title": title, "lines": lines, "max": str(top), "width": str(WIDTH), "height": str(HEIGHT),
            "baseline": _coord(HEIGHT - PAD), "first": labels[0] if labels else "",
            "last": labels[-1] if labels else ""}
