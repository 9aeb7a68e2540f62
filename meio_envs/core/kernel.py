"""The compiled period (receive, fulfil, order): one loop over copies, one pass over each network.

This is the only implementation of the dynamics; :mod:`meio_envs.core.dynamics` prepares the
arrays and calls :func:`period`. A period on a handful of numbers costs almost nothing as
arithmetic, so a vectorised NumPy version pays mostly for its dozens of calls per step (about
80 us at B = 1); compiled with Numba the same rules cost a few microseconds per copy at any batch
size, and the code reads as the rules do (per copy, per stock point, per customer queue).

Numba compiles on first use and caches the machine code next to this file (or in Numba's user
cache directory when that is not writable), so only the first process on a machine pays the
compile time (docs/performance.md).

Random numbers: every draw is a pure function of (copy stream, period, slot) (see
:mod:`meio_envs.core.rng`); the slots of a period are laid out
``[demand (R) | lead time of internal edges (E) | lead time of external orders (X) | supplier pick (P)]``.
A slot whose distribution is a single point takes no uniform, and a shipment of zero units draws
no lead time (it changes nothing).
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["inventory_positions", "mix_array", "period", "uniform", "uniforms_array"]

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S11, _S27, _S30, _S31 = np.uint64(11), np.uint64(27), np.uint64(30), np.uint64(31)
_TO_UNIT = 2.0**-53
SLOTS_PER_PERIOD_MAX = 1 << 16  # counter layout: period * this + slot
_MAX_DEMAND = 100_000.0  # = meio_envs.validation.MAX_DEMAND (not imported: this module imports nothing of the package)
with np.errstate(over="ignore"):
    _PERIOD_STEP = np.uint64(SLOTS_PER_PERIOD_MAX) * _GOLDEN  # counter step of one period, premixed

_jit = numba.njit(cache=True, nogil=True, boundscheck=False)


@_jit
def mix64(z: np.uint64) -> np.uint64:
    """SplitMix64 finaliser (wrapping 64-bit arithmetic)."""
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@_jit
def mix_array(z: np.ndarray) -> np.ndarray:
    """:func:`mix64` of every element of a 1-D uint64 array (a new array)."""
    out = np.empty_like(z)
    for i in range(z.shape[0]):
        out[i] = mix64(z[i])
    return out


@_jit
def period_base(stream: np.uint64, t: np.int64) -> np.uint64:
    """Counter origin of period ``t`` of a stream: ``stream + t * SLOTS_PER_PERIOD_MAX * GOLDEN``."""
    return np.uint64(t) * _PERIOD_STEP + stream


@_jit
def uniform(base: np.uint64, slot: np.int64) -> float:
    """The uniform in [0, 1) of ``slot`` in the period whose counter origin is ``base``."""
    z = mix64(base + np.uint64(slot) * _GOLDEN)
    return np.float64(z >> _S11) * _TO_UNIT  # exact: 53 bits


@_jit
def uniforms_array(streams: np.ndarray, periods: np.ndarray, n: np.int64) -> np.ndarray:
    """(B, n) uniforms of slots 0..n-1 of each copy's period."""
    B = streams.shape[0]
    out = np.empty((B, n))
    for b in range(B):
        base = period_base(streams[b], periods[b])
        for j in range(n):
            out[b, j] = uniform(base, j)
    return out


@_jit
def _search_right(flat: np.ndarray, x: float) -> np.int64:
    """``np.searchsorted(flat, x, side="right")`` for a sorted 1-D array."""
    lo, hi = 0, flat.shape[0]
    while lo < hi:
        mid = (lo + hi) >> 1
        if flat[mid] <= x:
            lo = mid + 1
        else:
            hi = mid
    return lo


@_jit
def _draw(base, slot, const, offset, start, flat):  # noqa: ANN001, ANN202
    """Inverse-CDF draw of a table row (``const >= 0``: a single-point PMF, no uniform)."""
    if const >= 0:
        return const
    return _search_right(flat, uniform(base, slot) + offset) - start


@_jit
def _state_mismatch(P, E, R, H, K, X, period_, streams, on_hand, pipeline, in_transit, edge_backorder,  # noqa: ANN001, ANN202
                    edge_new, market_backorder, market_new, cost_factors, external_in, delivered, demand_total,
                    lost_total, spell_left, down_now, ext_backlog):
    """Index (in :data:`STATE_FIELDS`) of the first state array whose shape does not fit the network, else -1.

    The loops below do not check bounds, so this runs first in every entry point: a state that does
    not fit never reaches them."""
    B = period_.shape[0]
    if streams.shape[0] != B:
        return 1
    if on_hand.shape[0] != B or on_hand.shape[1] != P:
        return 2
    if pipeline.shape[0] != B or pipeline.shape[1] != P or pipeline.shape[2] != H:
        return 3
    if in_transit.shape[0] != B or in_transit.shape[1] != P:
        return 4
    if edge_backorder.shape[0] != B or edge_backorder.shape[1] != E:
        return 5
    if edge_new.shape[0] != B or edge_new.shape[1] != E:
        return 6
    if market_backorder.shape[0] != B or market_backorder.shape[1] != R:
        return 7
    if market_new.shape[0] != B or market_new.shape[1] != R:
        return 8
    if cost_factors.shape[0] != B or cost_factors.shape[1] != 2:
        return 9
    if external_in.shape[0] != B:
        return 10
    if delivered.shape[0] != B:
        return 11
    if demand_total.shape[0] != B:
        return 12
    if lost_total.shape[0] != B:
        return 13
    if spell_left.shape[0] != B or spell_left.shape[1] != K:
        return 14
    if down_now.shape[0] != B or down_now.shape[1] != K:
        return 15
    if ext_backlog.shape[0] != B or ext_backlog.shape[1] != X:
        return 16
    return -1


STATE_FIELDS = ("period", "streams", "on_hand", "pipeline", "in_transit", "edge_backorder", "edge_new",
                "market_backorder", "market_new", "cost_factors", "external_in", "delivered", "demand_total",
                "lost", "spell_left", "down", "ext_backlog")
"""The state arrays the kernel reads, in the order of its arguments."""


@_jit
def _ip_copy(b, out, on_hand, in_transit, edge_backorder, edge_new, market_backorder, market_new,  # noqa: ANN001, ANN202
             retailers, edge_sup, edge_cust, ext_nodes, ext_backlog):
    """``out[:] =`` inventory positions of copy ``b``: on hand + in transit + owed to it - owed by it.

    ``ext_backlog`` (B, X) holds orders an external supplier has not shipped yet (a disrupted
    external edge; zero otherwise).
    """
    P = out.shape[0]
    for p in range(P):
        out[p] = on_hand[b, p] + in_transit[b, p]
    for j in range(ext_nodes.shape[0]):
        out[ext_nodes[j]] += ext_backlog[b, j]
    for e in range(edge_sup.shape[0]):
        owed = edge_backorder[b, e] + edge_new[b, e]
        out[edge_cust[e]] += owed
        out[edge_sup[e]] -= owed
    for i in range(retailers.shape[0]):
        out[retailers[i]] -= market_backorder[b, i] + market_new[b, i]


@_jit
def inventory_positions(on_hand, in_transit, edge_backorder, edge_new, market_backorder, market_new,  # noqa: ANN001, ANN201
                        retailers, edge_sup, edge_cust, ext_nodes, ext_backlog):
    """(B, P) int64 inventory positions of every copy; an empty (0, 0) array when the arrays do not fit
    the network (the caller turns that into an error)."""
    B, P = on_hand.shape
    E, R = edge_sup.shape[0], retailers.shape[0]
    if (in_transit.shape[0] != B or in_transit.shape[1] != P or edge_backorder.shape[0] != B
            or edge_backorder.shape[1] != E or edge_new.shape[0] != B or edge_new.shape[1] != E
            or market_backorder.shape[0] != B or market_backorder.shape[1] != R or market_new.shape[0] != B
            or market_new.shape[1] != R or (E and P <= max(edge_sup.max(), edge_cust.max()))
            or (R and P <= retailers.max()) or ext_backlog.shape[0] != B
            or ext_backlog.shape[1] != ext_nodes.shape[0] or (ext_nodes.shape[0] and P <= ext_nodes.max())):
        return np.empty((0, 0), np.int64)
    out = np.empty((B, P), np.int64)
    for b in range(B):
        _ip_copy(b, out[b], on_hand, in_transit, edge_backorder, edge_new, market_backorder, market_new,
                 retailers, edge_sup, edge_cust, ext_nodes, ext_backlog)
    return out


@_jit
def _disruption_status(b, t, base, spell_left, down_out, node_down, edge_down, ext_down,  # noqa: ANN001, ANN202
                       dis_node, dis_edge, dis_ext, dis_p, dl_const, dl_offset, dl_start, dl_flat,
                       sched_ptr, sched_lo, sched_hi, slot_dis):
    """Mark what is down in period ``t`` of copy ``b`` (and advance the random spells)."""
    for k in range(dis_node.shape[0]):  # clear only what a disruption can set (K is small, P + E is not)
        if dis_node[k] >= 0:
            node_down[dis_node[k]] = False
        if dis_edge[k] >= 0:
            edge_down[dis_edge[k]] = False
        if dis_ext[k] >= 0:
            ext_down[dis_ext[k]] = False
    for k in range(dis_node.shape[0]):
        down = False
        for w in range(sched_ptr[k], sched_ptr[k + 1]):
            if sched_lo[w] <= t < sched_hi[w]:
                down = True
        if dis_p[k] > 0.0:
            if spell_left[b, k] > 0:
                spell_left[b, k] -= 1
                down = True
            elif uniform(base, slot_dis + 2 * k) < dis_p[k]:
                spell_left[b, k] = _draw(base, slot_dis + 2 * k + 1, dl_const[k], dl_offset[k], dl_start[k], dl_flat) - 1
                down = True
        down_out[b, k] = down
        if down:
            if dis_node[k] >= 0:
                node_down[dis_node[k]] = True
            if dis_edge[k] >= 0:
                edge_down[dis_edge[k]] = True
            if dis_ext[k] >= 0:
                ext_down[dis_ext[k]] = True


@_jit
def _reroute(p, u, pick, n, edge_by_rank, edge_sup, node_down, edge_down):  # noqa: ANN001, ANN202
    """The rank of the supplier an order of ``p`` goes to when it avoids suppliers that are down:
    uniform ``u`` picks among those that are up; none up: the usual pick (the order waits)."""
    up = 0
    for k in range(n):
        e = edge_by_rank[p, k]
        if not (edge_down[e] or node_down[edge_sup[e]]):
            up += 1
    if up == 0 or up == n:
        return pick
    j = min(np.int64(u * up), up - 1)
    for k in range(n):
        e = edge_by_rank[p, k]
        if not (edge_down[e] or node_down[edge_sup[e]]):
            if j == 0:
                return k
            j -= 1
    return pick


@_jit
def period(  # noqa: ANN201, PLR0913, PLR0915
    # static tables (meio_envs.core.plan.StepPlan)
    H, retailers, edge_sup, edge_cust, edge_rank, sup_ptr, sup_nodes, n_sup, ext_nodes,
    holding, backorder, fixed_cost, unit_cost, free_orders,
    d_const, d_offset, d_start, d_flat, l_const, l_offset, l_start, l_flat,
    # option tables (meio_envs.core.option_tables.OptionTables), each option off unless its flag;
    # mult_table (T, R): demand multipliers of periods 0..T-1, T above every copy's period
    lost_on, bo_frac, lost_cost,
    pat_on, pat_has, mult_table,
    ser_on, ser_len, ser_start, ser_ptr, ser_flat,
    dis_on, dis_node, dis_edge, dis_ext, dis_p, dl_const, dl_offset, dl_start, dl_flat,
    sched_ptr, sched_lo, sched_hi, reroute, edge_by_rank, slot_round, slot_dis,
    # state (changed in place)
    period_, streams, on_hand, pipeline, in_transit, edge_backorder, edge_new, market_backorder, market_new,
    cost_factors, external_in, delivered, demand_total, lost_total, spell_left, down_now, ext_backlog,
    # the period's orders and the outputs
    orders, costs, ip_out, arrivals, want_ip, lost_out,
):
    """Advance every copy one period in place (events 1-3) and return -1, writing the costs into
    ``costs[0:3]`` (holding, backorder, ordering; (5, B, P)) and the lost-sales cost into
    ``costs[4]``, the units lost into ``lost_out`` (B,), the units received into ``arrivals`` when
    it has B rows (any other shape: not written) and, with ``want_ip``, the inventory positions
    after the period into ``ip_out`` (B, P). When an array does not fit the network nothing is
    changed and the index of the first such state field (:data:`STATE_FIELDS`;
    ``len(STATE_FIELDS)`` for the orders, tables or outputs) is returned instead."""
    B, P = on_hand.shape
    keep_arrivals = arrivals.shape[0] == B
    E = edge_sup.shape[0]
    R = retailers.shape[0]
    X = ext_nodes.shape[0]
    bad = _state_mismatch(holding.shape[0], E, R, H, dis_p.shape[0], X, period_, streams, on_hand, pipeline,
                          in_transit, edge_backorder, edge_new, market_backorder, market_new, cost_factors,
                          external_in, delivered, demand_total, lost_total, spell_left, down_now, ext_backlog)
    if bad >= 0:
        return bad
    if (orders.shape[0] != B or orders.shape[1] != P or costs.shape[0] < 5 or costs.shape[1] != B
            or costs.shape[2] != P or lost_out.shape[0] != B or mult_table.shape[1] != R):
        return len(STATE_FIELDS)
    if pat_on:  # the multiplier table must cover every copy's period (it is read without bounds checks)
        for b in range(B):
            if period_[b] < 0 or period_[b] >= mult_table.shape[0]:
                return len(STATE_FIELDS)
    if want_ip and (ip_out.shape[0] != B or ip_out.shape[1] != P):
        return len(STATE_FIELDS)
    ip0 = np.empty(P, np.int64)
    shipped = np.empty(E, np.int64)
    order = np.empty(E, np.int64)  # a supplier's edges in service order
    pick = np.zeros(P, np.int64)
    node_down = np.zeros(P, np.bool_)
    edge_down = np.zeros(E, np.bool_)
    ext_down = np.zeros(X, np.bool_)
    lost_r = np.zeros(R, np.int64)
    for b in range(B):
        t = period_[b]
        base = period_base(streams[b], t)
        # Events 1 and 2 leave every inventory position unchanged, so the positions at the start
        # of the period are the ones that rank customers at event 2.
        if E:
            _ip_copy(b, ip0, on_hand, in_transit, edge_backorder, edge_new, market_backorder, market_new,
                     retailers, edge_sup, edge_cust, ext_nodes, ext_backlog)
        if dis_on:  # what is down holds for the whole period (events 2 and 3)
            _disruption_status(b, t, base, spell_left, down_now, node_down, edge_down, ext_down,
                               dis_node, dis_edge, dis_ext, dis_p, dl_const, dl_offset, dl_start, dl_flat,
                               sched_ptr, sched_lo, sched_hi, slot_dis)

        # Event 1: receive shipments due now.
        s = t % H
        for p in range(P):
            a = pipeline[b, p, s]
            pipeline[b, p, s] = 0
            on_hand[b, p] += a
            in_transit[b, p] -= a
            if keep_arrivals:
                arrivals[b, p] = a

        # Event 2: fulfil. Retailers serve their market (one customer: backorders and last period's
        # demand together).
        lost_units = 0
        for i in range(R):
            r = retailers[i]
            owed = market_backorder[b, i] + market_new[b, i]
            ship = min(on_hand[b, r], owed)
            if dis_on and node_down[r]:
                ship = 0
            on_hand[b, r] -= ship
            short = owed - ship
            if lost_on:
                # Old backorders are served first, so the shortfall falls on last period's demand;
                # of that, the backordered share (rounded down) waits and the rest is lost.
                unmet = min(short, market_new[b, i])
                lost = unmet - np.int64(np.floor(bo_frac[i] * unmet))
                short -= lost
                lost_units += lost
                lost_r[i] = lost
            market_backorder[b, i] = short
            delivered[b] += ship
        # Internal suppliers: all backorders first, then new orders; within each class customers
        # in ascending inventory position, ties to the lower node index.
        for k in range(sup_nodes.shape[0]):
            u = sup_nodes[k]
            lo, hi = sup_ptr[k], sup_ptr[k + 1]
            n = 0
            for e in range(lo, hi):  # insertion sort; edges come in customer order, so ties keep it
                j = n
                while j > 0 and ip0[edge_cust[order[j - 1]]] > ip0[edge_cust[e]]:
                    order[j] = order[j - 1]
                    j -= 1
                order[j] = e
                n += 1
            left = on_hand[b, u]
            if dis_on and node_down[u]:  # a supplier that is down ships nothing
                left = 0
            for j in range(n):
                e = order[j]
                g = min(edge_backorder[b, e], left)
                if dis_on and edge_down[e]:
                    g = 0
                shipped[e] = g
                left -= g
            for j in range(n):
                e = order[j]
                g = min(edge_new[b, e], left)
                if dis_on and edge_down[e]:
                    g = 0
                shipped[e] += g
                left -= g
            if not (dis_on and node_down[u]):
                on_hand[b, u] = left
        for e in range(E):
            edge_backorder[b, e] = edge_backorder[b, e] + edge_new[b, e] - shipped[e]

        # Costs of period t on the stock after fulfilment.
        fh, fb = cost_factors[b, 0], cost_factors[b, 1]
        for p in range(P):
            costs[0, b, p] = on_hand[b, p] * (holding[p] * fh)
            costs[1, b, p] = 0.0
            costs[4, b, p] = 0.0
            q = orders[b, p]
            if free_orders:
                costs[2, b, p] = 0.0
            else:
                costs[2, b, p] = (1.0 if q > 0 else 0.0) * fixed_cost[p] + q * unit_cost[p]
        for i in range(R):
            costs[1, b, retailers[i]] = market_backorder[b, i] * (backorder[i] * fb)
        if lost_on:  # the penalty is a shortage cost, so level 5's backorder factor scales it too
            for i in range(R):
                costs[4, b, retailers[i]] = lost_r[i] * (lost_cost[i] * fb)
            lost_total[b] += lost_units
        lost_out[b] = lost_units

        # Event 3: orders. A customer with several suppliers sends its order to one drawn at random;
        # shipments go into the pipeline with their lead times; the market's demand arrives.
        if E:
            for p in range(P):
                if n_sup[p] > 1:
                    w = uniform(base, R + E + X + p)
                    pick[p] = min(np.int64(w * n_sup[p]), n_sup[p] - 1)
                    if dis_on and reroute[p]:
                        pick[p] = _reroute(p, w, pick[p], n_sup[p], edge_by_rank, edge_sup, node_down, edge_down)
            for e in range(E):
                c = edge_cust[e]
                edge_new[b, e] = orders[b, c] if pick[c] == edge_rank[e] else 0
                qty = shipped[e]
                if qty:
                    lam = _draw(base, R + e, l_const[e], l_offset[e], l_start[e], l_flat)
                    pipeline[b, c, (t + lam) % H] += qty
                    in_transit[b, c] += qty
        for j in range(X):
            x = ext_nodes[j]
            qty = orders[b, x]
            if dis_on:
                if ext_down[j]:  # the external supplier keeps the order until the edge is up
                    ext_backlog[b, j] += qty
                    qty = 0
                else:
                    qty += ext_backlog[b, j]
                    ext_backlog[b, j] = 0
            external_in[b] += qty
            if qty:
                lam = _draw(base, R + E + j, l_const[E + j], l_offset[E + j], l_start[E + j], l_flat)
                pipeline[b, x, (t + lam) % H] += qty
                in_transit[b, x] += qty
        for i in range(R):
            if ser_on and ser_len[i] > 0:
                d = ser_flat[ser_ptr[i] + (ser_start[i] + t) % ser_len[i]]
            else:
                d = _draw(base, i, d_const[i], d_offset[i], d_start[i], d_flat)
            if pat_on and pat_has[i]:
                # m(t) comes from a table (meio_envs.demand_patterns computes it); stochastic rounding keeps the mean exactly m(t) times the base mean; the cap keeps
                # demand within the validated limit (meio_envs.validation.MAX_DEMAND) whatever m(t).
                x = min(d * mult_table[t, i], _MAX_DEMAND)
                d = np.int64(np.floor(x + uniform(base, slot_round + i)))
            market_new[b, i] = d
            demand_total[b] += d
        period_[b] = t + 1
        if want_ip:
            _ip_copy(b, ip_out[b], on_hand, in_transit, edge_backorder, edge_new, market_backorder, market_new,
                     retailers, edge_sup, edge_cust, ext_nodes, ext_backlog)
    return -1
