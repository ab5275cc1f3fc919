"""Exact 2-D geometry for plotting regions: clip a box by a polyhedron's constraints.

>>> from fractions import Fraction as F
>>> from theory._affine import Affine
>>> from theory._region import Region
>>> half = Region.where(Affine.var("x") + Affine.var("y") + 1, "<=")
>>> corners = clip_polyhedron(half.pieces[0], (F(-2), F(1), F(-2), F(1)), ("x", "y"))
>>> [(str(x), str(y)) for x, y in corners]
[('-2', '-2'), ('1', '-2'), ('-2', '1')]
"""

from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING

from theory._exponent import ExponentError

if TYPE_CHECKING:
    from theory._region import Polyhedron

__all__ = ["clip_polyhedron"]

Point = tuple[Fraction, Fraction]


def clip_polyhedron(
    piece: Polyhedron, box: tuple[Fraction, Fraction, Fraction, Fraction], names: tuple[str, str]
) -> tuple[Point, ...]:
    """Vertices (counter-clockwise, exact) of the closure of ``piece`` inside ``box``: three or more
    for an area, two for a segment, one for a point, none when it misses the box."""
    x0, x1, y0, y1 = (Fraction(v) for v in box)
    polygon: list[Point] = [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
    for c in piece.constraints:
        unknown = c.affine.variables - set(names)
        if unknown:
            raise ExponentError(f"cannot draw a region in {sorted(unknown)} on axes {names}")
        a, b, k = c.affine.coeff(names[0]), c.affine.coeff(names[1]), c.affine.const
        polygon = _clip(polygon, a, b, k)
        if c.rel == "==":
            polygon = _clip(polygon, -a, -b, -k)
        if not polygon:
            return ()
    return tuple(dict.fromkeys(polygon))


def _clip(polygon: list[Point], a: Fraction, b: Fraction, k: Fraction) -> list[Point]:
    """Sutherland–Hodgman: keep a x + b y + k <= 0."""

    def value(p: Point) -> Fraction:
        return a * p[0] + b * p[1] + k

    out: list[Point] = []
    for i, p in enumerate(polygon):
        q = polygon[(i + 1) % len(polygon)]
        vp, vq = value(p), value(q)
        if vp <= 0:
            out.append(p)
        if (vp < 0 < vq) or (vq < 0 < vp):
            s = vp / (vp - vq)
            out.append((p[0] + s * (q[0] - p[0]), p[1] + s * (q[1] - p[1])))
    return out
