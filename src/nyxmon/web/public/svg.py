"""Shields-style SVG badges, drawn here: a grey label and a coloured message.

Text widths are summed from approximate Verdana 11 px advance widths (the font shields.io
measures with), so badges fit their text without a browser or a font file.
"""

from __future__ import annotations

from html import escape

__all__ = ["COLOURS", "badge_svg", "text_width"]

COLOURS = {
    "up": "#4c1",
    "down": "#e05d44",
    "degraded": "#dfb317",
    "flapping": "#fe7d37",
    "maintenance": "#007ec6",
    "paused": "#9f9f9f",
    "pending": "#9f9f9f",
    "unknown": "#9f9f9f",
}

# Approximate Verdana 11 px advance widths (px) of printable ASCII; others count as 7 px.
_CHARS = "".join(chr(code) for code in range(32, 127))
# fmt: off
_ADVANCES = (
    3.87, 4.33, 5.05, 9.0, 7.0, 11.84, 7.99, 2.95, 4.99, 4.99, 7.0, 9.0, 4.0, 4.99, 4.0,
    4.99, 7.0, 7.0, 7.0, 7.0, 7.0, 7.0, 7.0, 7.0, 7.0, 7.0, 4.99, 4.99, 9.0, 9.0, 9.0,
    6.0, 11.0, 7.52, 7.54, 7.68, 8.48, 6.96, 6.32, 8.53, 8.27, 4.63, 5.0, 7.62, 6.12,
    9.27, 8.23, 8.66, 6.63, 8.66, 7.65, 7.52, 6.78, 8.05, 7.52, 10.88, 7.54, 6.77, 7.54,
    4.99, 4.99, 4.99, 9.0, 7.0, 7.0, 6.61, 6.86, 5.73, 6.86, 6.56, 3.87, 6.86, 7.01,
    3.0, 3.78, 6.59, 3.0, 10.7, 7.01, 6.68, 6.86, 6.86, 4.69, 5.73, 4.33, 7.01, 6.52,
    9.0, 6.52, 6.52, 5.82, 6.98, 4.99, 6.98, 9.0,
)
# fmt: on
_WIDTHS = dict(zip(_CHARS, _ADVANCES, strict=True))
_DEFAULT_WIDTH = 7.0


def text_width(text: str) -> float:
    return sum(_WIDTHS.get(char, _DEFAULT_WIDTH) for char in text)


def badge_svg(label: str, message: str, colour: str) -> str:
    """The SVG of a flat badge ``label | message``; ``colour`` is a CSS colour."""
    left = round(text_width(label) + 10)
    right = round(text_width(message) + 10)
    total = left + right
    label_x = left * 5  # text is drawn at 10x scale for sub-pixel placement, as shields does
    message_x = (left + right / 2) * 10
    title = escape(f"{label}: {message}")
    label_text = escape(label)
    message_text = escape(message)
    fill = escape(colour)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{total}" height="20" role="img" '
        f'aria-label="{title}"><title>{title}</title>'
        '<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" '
        'stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient>'
        f'<clipPath id="r"><rect width="{total}" height="20" rx="3" fill="#fff"/></clipPath>'
        f'<g clip-path="url(#r)"><rect width="{left}" height="20" fill="#555"/>'
        f'<rect x="{left}" width="{right}" height="20" fill="{fill}"/>'
        f'<rect width="{total}" height="20" fill="url(#s)"/></g>'
        '<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" '
        'text-rendering="geometricPrecision" font-size="110">'
        f'<text aria-hidden="true" x="{label_x:.0f}" y="150" fill="#010101" fill-opacity=".3" '
        f'transform="scale(.1)">{label_text}</text>'
        f'<text x="{label_x:.0f}" y="140" transform="scale(.1)">{label_text}</text>'
        f'<text aria-hidden="true" x="{message_x:.0f}" y="150" fill="#010101" '
        f'fill-opacity=".3" transform="scale(.1)">{message_text}</text>'
        f'<text x="{message_x:.0f}" y="140" transform="scale(.1)">{message_text}</text></g></svg>'
    )
