"""Rendering shared by every env view: a text table (``"ansi"``) and a network image (``"rgb_array"``).

Every env builds a :class:`Frame` of one copy from the batched core and passes it to
:func:`render_frame`; the env classes hold no drawing code. Matplotlib is imported inside
:func:`draw_rgb` only, so importing :mod:`meio_envs` does not import it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from meio_envs.envs.batch import BatchedMEIO

__all__ = ["RENDER_MODES", "Frame", "check_render_mode", "draw_ansi", "draw_rgb", "frame_of", "render_frame"]

RENDER_MODES: tuple[str, ...] = ("ansi", "rgb_array")
"""The render modes every env accepts (``metadata["render_modes"]``)."""

IMAGE_SIZE = (480, 640)  # (H, W) pixels of an rgb_array frame


def check_render_mode(render_mode: str | None) -> str | None:
    """``render_mode`` itself if it is None or one of :data:`RENDER_MODES`; a ValueError otherwise."""
    if render_mode is None or (isinstance(render_mode, str) and render_mode in RENDER_MODES):
        return render_mode
    raise ValueError(f"render_mode must be None or one of {list(RENDER_MODES)}, got {render_mode!r}")


@dataclass(frozen=True)
class Frame:
    """What a rendering shows of one copy at the current period (arrays are per stock point)."""

    title: str
    period: int
    episode_length: int
    names: tuple[str, ...]
    echelons: np.ndarray  # (P,) 1 = retailers
    edges: np.ndarray  # (E, 2) supplier, customer
    on_hand: np.ndarray  # (P,) units
    in_transit: np.ndarray  # (P,) units in the pipeline to the stock point
    backorders: np.ndarray  # (P,) units the stock point owes (its market and its customers)
    last_orders: np.ndarray  # (P,) units ordered in the last period (0 at reset)
    last_costs: np.ndarray  # (P,) cost of the last period (0 at reset)
    stock_scale: np.ndarray  # (P,) on hand that fills a node's stock bar


def frame_of(
    core: BatchedMEIO,
    i: int = 0,
    last_orders: np.ndarray | None = None,
    last_costs: np.ndarray | None = None,
) -> Frame:
    """The :class:`Frame` of copy ``i`` of a batched core (``last_*`` default to zeros)."""
    p, st = core.params, core.state
    P = p.num_nodes
    owed = np.zeros(P, dtype=np.int64)
    if len(p.edges):
        np.add.at(owed, p.edges[:, 0], st.edge_backorder[i])
    owed[p.retailers] += st.market_backorder[i]
    zeros_i, zeros_f = np.zeros(P, dtype=np.int64), np.zeros(P, dtype=np.float64)
    return Frame(
        title=str(core.name),
        period=int(st.period[i]),
        episode_length=int(core.episode_length),
        names=tuple(p.network.names),
        echelons=np.asarray(p.network.echelons),
        edges=np.asarray(p.edges),
        on_hand=st.on_hand[i].copy(),
        in_transit=st.in_transit[i].copy(),
        backorders=owed,
        last_orders=zeros_i if last_orders is None else np.asarray(last_orders).copy(),
        last_costs=zeros_f if last_costs is None else np.asarray(last_costs, dtype=np.float64).copy(),
        stock_scale=np.maximum(p.base_stock, 1).astype(np.float64),
    )


def draw_ansi(frame: Frame) -> str:
    """A fixed-width table: one row per stock point, then the network total of the last period's cost."""
    head = ("stock point", "echelon", "on hand", "in transit", "backorders", "last order", "last cost")
    rows = [
        (n, str(int(e)), str(int(oh)), str(int(tr)), str(int(bo)), str(int(q)), f"{c:.2f}")
        for n, e, oh, tr, bo, q, c in zip(
            frame.names, frame.echelons, frame.on_hand, frame.in_transit, frame.backorders,
            frame.last_orders, frame.last_costs,
        )
    ]
    widths = [max(len(h), *(len(r[k]) for r in rows)) for k, h in enumerate(head)]

    def line(cells: tuple[str, ...]) -> str:
        # names left-aligned, numbers right-aligned so columns of digits line up
        return "  ".join(c.ljust(w) if k == 0 else c.rjust(w) for k, (c, w) in enumerate(zip(cells, widths)))

    out = [f"{frame.title}  period {frame.period}/{frame.episode_length}", line(head),
           "  ".join("-" * w for w in widths), *(line(r) for r in rows),
           f"total last cost: {float(frame.last_costs.sum()):.2f}"]
    return "\n".join(out) + "\n"


def _layout(frame: Frame) -> np.ndarray:
    """(P, 2) node positions in [0, 1]^2: echelons as columns (upstream on the left)."""
    ech = frame.echelons.astype(int)
    top = int(ech.max())
    pos = np.zeros((len(ech), 2))
    for e in np.unique(ech):
        members = np.nonzero(ech == e)[0]
        pos[members, 0] = 0.5 if top == 1 else (top - e) / (top - 1)
        pos[members, 1] = (np.arange(len(members))[::-1] + 0.5) / len(members)
    return pos


def draw_rgb(frame: Frame) -> np.ndarray:
    """(H, W, 3) uint8 image: nodes by echelon, supply edges, a stock bar and the on-hand number per node."""
    from matplotlib.figure import Figure  # lazily: rendering is optional
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    H, W = IMAGE_SIZE
    fig = Figure(figsize=(W / 100, H / 100), dpi=100)
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_axes((0.0, 0.0, 1.0, 0.92))
    ax.set_xlim(-0.15, 1.15)
    ax.set_ylim(-0.05, 1.05)
    ax.axis("off")
    fig.suptitle(f"{frame.title}  period {frame.period}/{frame.episode_length}  "
                 f"cost {float(frame.last_costs.sum()):.1f}", fontsize=11)
    pos = _layout(frame)
    P = len(frame.names)
    bw, bh = 0.08, min(0.8 / max(np.bincount(frame.echelons.astype(int)).max(), 1), 0.16)
    for s, c in frame.edges:
        ax.annotate("", xy=pos[c], xytext=pos[s],
                    arrowprops={"arrowstyle": "->", "color": "0.6", "lw": 1.0, "shrinkA": 18, "shrinkB": 18})
    fill = np.clip(frame.on_hand / frame.stock_scale, 0.0, 1.0)
    for k in range(P):
        x, y = pos[k]
        ax.add_patch(_rect((x - bw / 2, y - bh / 2), bw, bh, face="white", edge="black"))
        ax.add_patch(_rect((x - bw / 2, y - bh / 2), bw, bh * fill[k], face="tab:blue", edge=None))
        if frame.backorders[k] > 0:
            ax.add_patch(_rect((x + bw / 2, y - bh / 2), bw / 5, bh, face="tab:red", edge=None))
        ax.text(x, y + bh / 2 + 0.01, frame.names[k], ha="center", va="bottom", fontsize=8)
        ax.text(x, y - bh / 2 - 0.01, f"{int(frame.on_hand[k])}", ha="center", va="top", fontsize=7)
    canvas.draw()
    img = np.asarray(canvas.buffer_rgba())[..., :3].copy()
    return img


def _rect(xy: tuple[float, float], w: float, h: float, face: str, edge: str | None):  # noqa: ANN202
    from matplotlib.patches import Rectangle

    return Rectangle(xy, w, h, facecolor=face, edgecolor=edge if edge else "none", lw=1.0)


def render_frame(render_mode: str | None, frame: Frame) -> str | np.ndarray | None:
    """The rendering of ``frame`` in ``render_mode`` (None for no render mode, Gymnasium's convention)."""
    if render_mode is None:
        return None
    if render_mode == "ansi":
        return draw_ansi(frame)
    if render_mode == "rgb_array":
        return draw_rgb(frame)
    check_render_mode(render_mode)  # raises with the allowed modes
    return None  # pragma: no cover
