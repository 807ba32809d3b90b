"""The v-objective samplers on a problem with a known answer.

For Gaussian data ``x0 ~ N(mu, s^2)`` the optimal v-prediction is analytic, and the
probability-flow ODE maps noise ``z`` to ``mu + s z`` exactly; every deterministic
sampler must converge to that, and inversion must map ``mu + s z`` back to ``z``.
"""

from __future__ import annotations

import math

import pytest
import torch

from music.engines.sampling import (
    DEFAULT_STEPS,
    SAMPLERS,
    alpha_sigma,
    crash_schedule,
    get_sampler,
    renoise,
    slerp,
)
from music.errors import EngineError

MU, SD = 0.3, 0.5


def v_gauss(x: torch.Tensor, t: float) -> torch.Tensor:
    """Optimal v for x0 ~ N(MU, SD^2) at time t."""
    a, s = alpha_sigma(t)
    var = a * a * SD * SD + s * s
    x0 = MU + a * SD * SD / var * (x - a * MU)
    eps = s / var * (x - a * MU)
    return a * eps - s * x0


def integrate(name: str, x: torch.Tensor, steps: int, **kw: float) -> torch.Tensor:
    sm = get_sampler(name)
    sm.set_timesteps(steps, **kw)
    for i, t in enumerate(sm.timesteps):
        x = sm.step(v_gauss(x, sm.times[i]), t, x).prev_sample
    return x


@pytest.fixture(scope="module")
def z() -> torch.Tensor:
    return torch.randn(2, 2, 2048, generator=torch.Generator().manual_seed(0), dtype=torch.float64)


def test_schedule_ends_and_shape() -> None:
    for name in SAMPLERS:
        sm = get_sampler(name)
        sm.set_timesteps(10)
        assert sm.timesteps.shape == (10,)
        assert sm.times[0] == 1.0 and sm.times[-1] == 0.0
        assert all(a > b for a, b in zip(sm.times, sm.times[1:], strict=False))
        sm.set_timesteps(4, t_start=0.4)
        assert sm.times[0] == pytest.approx(0.4) and sm.times[-1] == 0.0
    assert crash_schedule(0.0) == 0.0 and crash_schedule(1.0) == pytest.approx(1.0)


@pytest.mark.parametrize("name", list(SAMPLERS))
def test_converges_to_the_exact_ode_solution(name: str, z: torch.Tensor) -> None:
    exact = MU + SD * z
    errors = [float((integrate(name, z.clone(), n) - exact).abs().max()) for n in (10, 40, 160)]
    assert errors[2] < errors[0]
    assert errors[2] < 0.05 if name == "ddim" else errors[2] < 5e-3


def test_fast_sampler_matches_ipndm_at_a_fifth_of_the_steps(z: torch.Tensor) -> None:
    ref = integrate("ipndm", z.clone(), DEFAULT_STEPS["ipndm"])
    fast = integrate("dpmpp-2m", z.clone(), DEFAULT_STEPS["dpmpp-2m"])
    ddim = integrate("ddim", z.clone(), DEFAULT_STEPS["dpmpp-2m"])
    assert DEFAULT_STEPS["ipndm"] >= 4 * DEFAULT_STEPS["dpmpp-2m"]
    rms = float((fast - ref).pow(2).mean().sqrt())
    assert rms < 0.03 * SD  # under 2 % of the data scale
    # second order pays: DDIM at the same step count is much further off
    assert float((ddim - ref).pow(2).mean().sqrt()) > 3 * rms


@pytest.mark.parametrize(("name", "tol"), [("ddim", 0.05), ("dpmpp-2m", 0.01)])
def test_inversion_round_trip(name: str, tol: float, z: torch.Tensor) -> None:
    x0 = MU + SD * z
    noise = integrate(name, x0.clone(), 200, t_start=0.0, t_end=1.0)
    assert float((noise - z).abs().max()) < 0.05
    back = integrate(name, noise, 200)
    assert float((back - x0).abs().max()) < tol


def test_partial_denoising_starts_at_t_start(z: torch.Tensor) -> None:
    # from the exact marginal at t = 0.5 the ODE lands on the same clean sample
    x0 = MU + SD * z
    a, s = alpha_sigma(0.5)
    scale = math.sqrt(a * a * SD * SD + s * s)
    xt = a * MU + scale * z
    out = integrate("dpmpp-2m", xt, 40, t_start=0.5)
    assert float((out - x0).abs().max()) < 5e-3


def test_step_checks_its_schedule() -> None:
    sm = get_sampler("ddim")
    x = torch.zeros(1, 1, 8)
    with pytest.raises(RuntimeError):
        sm.step(x, 1.0, x)
    sm.set_timesteps(2)
    with pytest.raises(ValueError):
        sm.step(x, 0.3, x)
    sm.step(x, sm.timesteps[0], x)
    sm.step(x, sm.timesteps[1], x)
    with pytest.raises(RuntimeError):
        sm.step(x, 0.0, x)
    with pytest.raises(EngineError, match="unknown sampler"):
        get_sampler("euler-a")


def test_slerp_keeps_the_norm_and_the_ends() -> None:
    g = torch.Generator().manual_seed(1)
    a, b = torch.randn(1, 2, 4096, generator=g), torch.randn(1, 2, 4096, generator=g)
    assert torch.allclose(slerp(a, b, 0.0), a, atol=1e-6)
    assert torch.allclose(slerp(a, b, 1.0), b, atol=1e-6)
    mid = slerp(a, b, 0.5)
    lerp = 0.5 * (a + b)
    assert abs(float(mid.norm() / a.norm()) - 1) < 0.02
    assert float(lerp.norm() / a.norm()) < 0.8  # what slerp avoids


def test_renoise_draws_from_the_forward_process() -> None:
    """Diffusing x_{0.3} on to t=0.6 gives the marginal of t=0.6: mean α·x0, std σ."""
    g = torch.Generator().manual_seed(0)
    x0 = torch.full((200_000,), 0.7, dtype=torch.float64)
    a0, s0 = alpha_sigma(0.3)
    x = a0 * x0 + s0 * torch.randn(x0.shape, generator=g, dtype=torch.float64)
    y = renoise(x, t_from=0.3, t_to=0.6, noise=torch.randn(x0.shape, generator=g, dtype=torch.float64))
    a1, s1 = alpha_sigma(0.6)
    assert float(y.mean()) == pytest.approx(a1 * 0.7, abs=5e-3)
    assert float(y.std()) == pytest.approx(s1, rel=1e-2)
    assert torch.equal(renoise(x, t_from=0.3, t_to=0.3, noise=torch.ones_like(x)), x)
    with pytest.raises(ValueError):
        renoise(x, t_from=0.6, t_to=0.3, noise=x)
