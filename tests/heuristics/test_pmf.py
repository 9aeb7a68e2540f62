"""PMF algebra: brute force, closed forms and the heuristics-spec section 2 reference table."""

import numpy as np
import pytest

from heuristics import pmf as P

RNG = np.random.default_rng(7)


def rand_pmf(k):
    x = RNG.random(k + 1)
    return x / x.sum()


def test_convolve_matches_brute_force():
    for ka, kb in [(0, 3), (5, 9), (40, 17), (120, 300)]:
        a, b = rand_pmf(ka), rand_pmf(kb)
        ref = np.convolve(a, b)
        got = P.convolve(a, b)
        assert len(got) <= len(ref)
        np.testing.assert_allclose(got, ref[: len(got)], atol=1e-13)


def test_convolve_many_and_power():
    a, b, c = rand_pmf(4), rand_pmf(7), rand_pmf(2)
    ref = np.convolve(np.convolve(a, b), c)
    got = P.convolve_many([a, b, c])
    np.testing.assert_allclose(got, ref[: len(got)], atol=1e-13)
    ref3 = np.convolve(np.convolve(a, a), a)
    np.testing.assert_allclose(P.power(a, 3), ref3[: len(P.power(a, 3))], atol=1e-13)
    np.testing.assert_array_equal(P.power(a, 0), [1.0])


def test_sum_of_poissons_is_poisson():
    got = P.convolve(P.poisson_pmf(3.5), P.poisson_pmf(6.5))
    ref = P.poisson_pmf(10)
    m = min(len(got), len(ref))
    np.testing.assert_allclose(got[:m], ref[:m], atol=1e-13)
    np.testing.assert_allclose(P.power(P.poisson_pmf(2), 5)[:40], P.poisson_pmf(10)[:40], atol=1e-13)


def test_mix_whole_order_reference():
    x = P.convolve(P.poisson_pmf(5), P.mix(P.poisson_pmf(10), 0.5))
    ref = [0.003369126, 0.016847162, 0.042129376, 0.070272983, 0.088056316, 0.088701579]
    np.testing.assert_allclose(x[:6], ref, atol=1e-9)
    assert P.mean(x) == pytest.approx(10, abs=1e-9)
    assert P.variance(x) == pytest.approx(35, abs=1e-8)
    # whole-order mixing is not binomial thinning: P(0) keeps the 1 - q atom
    m = P.mix(P.poisson_pmf(10), 0.3)
    assert m[0] == pytest.approx(0.7 + 0.3 * np.exp(-10))


def test_compound_lead_time_demand_reference():
    y = P.lead_time_demand(P.poisson_pmf(5), np.array([0, 0.5, 0.5]))
    np.testing.assert_allclose(y[:4], [0.003391673, 0.017071867, 0.043247167, 0.073970275], atol=1e-9)
    ref = 0.5 * P.poisson_pmf(5)[:30] + 0.5 * P.poisson_pmf(10)[:30]
    np.testing.assert_allclose(y[:30], ref, atol=1e-14)


def test_deterministic_lead_time_models_agree_and_crossing_moments():
    f = P.mixed_poisson_uniform_pmf(5, 15)
    for L in (1, 3):
        lt = P.point_mass(L)
        a = P.lead_time_demand(f, lt, "compound")
        b = P.lead_time_demand(f, lt, "crossing")
        np.testing.assert_allclose(a, b, atol=1e-13)
    lt = np.array([0, 0.2, 0.2, 0.2, 0.2, 0.2])
    comp = P.lead_time_demand(f, lt, "compound")
    cross = P.lead_time_demand(f, lt, "crossing")
    assert P.mean(comp) == pytest.approx(30, abs=1e-8)
    assert P.mean(cross) == pytest.approx(30, abs=1e-8)
    assert P.variance(cross) < P.variance(comp)
    # compound variance E[L]Var(D) + Var(L)E[D]^2
    assert P.variance(comp) == pytest.approx(3 * 20 + 2 * 100, abs=1e-6)


def test_lead_time_demand_sum_of_blocks():
    f1, f2 = P.poisson_pmf(4), P.poisson_pmf(6)
    x = P.lead_time_demand_sum([(f1, P.point_mass(2)), (f2, P.point_mass(1))])
    ref = P.poisson_pmf(14)
    np.testing.assert_allclose(x[:40], ref[:40], atol=1e-13)
    # a block with a list of stage lead times = demand over their sum
    y = P.lead_time_demand_sum([(f1, [P.point_mass(1), P.point_mass(2)])])
    np.testing.assert_allclose(y[:40], P.poisson_pmf(12)[:40], atol=1e-13)


def test_mixed_poisson_reference():
    z = P.mixed_poisson_uniform_pmf(5, 15)
    assert P.mean(z) == pytest.approx(10, abs=1e-12)
    assert P.variance(z) == pytest.approx(20, abs=1e-10)
    assert z[0] == pytest.approx(9.690088e-04, abs=1e-10)
    assert z[10] == pytest.approx(0.081668078, abs=1e-9)


@pytest.mark.parametrize(
    "mu,s,ref",
    [(30, 30, 2.179035794), (30, 31, 1.727387307), (5, 10, 0.022187601), (10, 17, 0.027696667),
     (15, 23, 0.043478463), (32, 31, 2.774400890), (16, 18, 0.812786558)],
)
def test_expected_backorders_reference(mu, s, ref):
    assert P.expected_backorders(P.poisson_pmf(mu), s) == pytest.approx(ref, abs=1e-9)


def test_expected_backorders_real_argument_is_linear_and_on_hand():
    f = P.poisson_pmf(30)
    b = P.expected_backorders
    assert b(f, 30.25) == pytest.approx(0.75 * b(f, 30) + 0.25 * b(f, 31), abs=1e-15)
    assert b(f, -2) == pytest.approx(32, abs=1e-9)
    assert b(f, 10_000) == 0.0
    assert P.expected_on_hand(f, 30) == pytest.approx(b(f, 30), abs=1e-9)
    brute = sum(f[x] * max(x - 25, 0) for x in range(len(f)))
    assert b(f, 25) == pytest.approx(brute, abs=1e-12)


@pytest.mark.parametrize(
    "mu,alpha,q", [(5, 0.98, 10), (10, 0.95, 15), (10, 19 / 19.6, 16), (20, 0.95, 28), (30, 0.95, 39), (30, 19 / 19.6, 41)]
)
def test_quantile_reference(mu, alpha, q):
    assert P.quantile(P.poisson_pmf(mu), alpha) == q


def test_quantile_tolerance_and_match():
    f = np.array([0.25, 0.25, 0.5])
    assert P.quantile(f, 0.5) == 1
    assert P.quantile(f, 0.5 + 1e-13) == 1  # within the 1e-12 CDF tolerance
    assert P.quantile(f, 1.0) == 2
    n, real, near = P.match_backorders(P.poisson_pmf(30), 2.136596)
    assert (n, near) == (31, 30)
    assert real == pytest.approx(30.093966, abs=1e-6)


@pytest.mark.parametrize(
    "bad,msg",
    [([0.5, 0.6], "sum"), ([1.2, -0.2], "negative"), ([np.nan, 1.0], "finite"), ([], "non-empty"),
     ([[0.5, 0.5]], "1-D")],
)
def test_validate_pmf_errors(bad, msg):
    with pytest.raises(ValueError, match=msg):
        P.validate_pmf(bad, "x")


def test_bad_arguments():
    with pytest.raises(ValueError, match="mean"):
        P.poisson_pmf(-1)
    with pytest.raises(ValueError, match="lo"):
        P.mixed_poisson_uniform_pmf(5, 4)
    with pytest.raises(ValueError, match="model"):
        P.lead_time_demand(P.poisson_pmf(1), P.point_mass(1), "binomial")
    with pytest.raises(ValueError, match="q must"):
        P.mix(P.poisson_pmf(1), 1.5)
