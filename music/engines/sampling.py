"""Samplers for v-objective waveform diffusion (Dance Diffusion), diffusers-style.

The models predict ``v`` on the cosine schedule of Salimans & Ho (2022): at time
``t ∈ [0, 1]`` the noised signal is ``x_t = α x_0 + σ ε`` with ``α = cos(πt/2)``,
``σ = sin(πt/2)``, and the network predicts ``v = α ε − σ x_0``, so that
``x̂_0 = α x_t − σ v`` and ``ε̂ = σ x_t + α v``.

Each sampler follows the diffusers scheduler contract::

    sampler = get_sampler("dpmpp-2m")
    sampler.set_timesteps(20)
    for t in sampler.timesteps:
        v = unet(x, t).sample
        x = sampler.step(v, t, x).prev_sample

Samplers
--------
``ipndm``
    The improved pseudo linear multistep sampler (Zhang & Chen 2022, "iPNDM") on the
    "crash" schedule, as ``iplms_sample`` in Harmonai's sample-generator and diffusers'
    ``IPNDMScheduler`` run it: 4th-order Adams–Bashforth on the predicted noise.
``ddim``
    Deterministic DDIM (Song et al. 2021), first order; also the inversion sampler
    (run it with ``t_start < t_end`` to map audio to noise).
``dpmpp-2m``
    DPM-Solver++(2M) (Lu et al. 2022), second-order multistep in log-SNR on the data
    prediction; the fast sampler. Its last step (into ``σ = 0``) is first order, as in
    k-diffusion.

All arithmetic on the schedule is in float64 Python scalars; tensors keep their dtype.
Pure torch, no diffusers import.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from music.errors import EngineError

__all__ = [
    "DEFAULT_STEPS",
    "SAMPLERS",
    "DDIMSampler",
    "DPMSolverPlusPlus2MSampler",
    "IPNDMSampler",
    "SamplerOutput",
    "VSampler",
    "alpha_sigma",
    "crash_schedule",
    "get_sampler",
    "renoise",
    "slerp",
]


def resolve_device(name: str) -> str:
    """``"auto"`` → ``"cuda"`` when a GPU is visible, else ``"cpu"``; any other name unchanged."""
    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return name


def alpha_sigma(t: float) -> tuple[float, float]:
    """``(α, σ) = (cos(πt/2), sin(πt/2))`` with exact end points (float64)."""
    if t <= 0.0:
        return 1.0, 0.0
    if t >= 1.0:
        return 0.0, 1.0
    return math.cos(t * math.pi / 2), math.sin(t * math.pi / 2)


def crash_schedule(u: float) -> float:
    """sample-generator's "crash" re-spacing of uniform time ``u ∈ [0, 1]``.

    ``σ' = sin²(πu/2)``, ``α' = sqrt(1 − σ'²)`` and ``t = atan2(σ', α')·2/π``: steps
    crowd towards low noise, where audio detail is decided.
    """
    s = math.sin(u * math.pi / 2) ** 2
    return math.atan2(s, math.sqrt(max(1.0 - s * s, 0.0))) * 2 / math.pi


def _crash_inverse(t: float) -> float:
    """``u`` with ``crash_schedule(u) == t``."""
    return 2 / math.pi * math.asin(math.sqrt(max(math.sin(t * math.pi / 2), 0.0)))


def _lambda(t: float) -> float:
    """Half log-SNR ``log(α/σ)`` (±inf at the ends)."""
    a, s = alpha_sigma(t)
    if s == 0.0:
        return math.inf
    if a == 0.0:
        return -math.inf
    return math.log(a / s)


def slerp(a: torch.Tensor, b: torch.Tensor, w: float) -> torch.Tensor:
    """Spherical interpolation between two noise tensors (per batch item).

    Gaussian noise lives near a sphere of radius ``sqrt(n)``; linear mixing would shrink
    the norm and give the sampler off-distribution noise (Shoemake 1985; White 2016).
    """
    fa, fb = a.flatten(1).double(), b.flatten(1).double()
    cos = (fa * fb).sum(1) / (fa.norm(dim=1) * fb.norm(dim=1)).clamp_min(1e-12)
    omega = torch.arccos(cos.clamp(-1.0, 1.0))
    so = torch.sin(omega)
    small = so.abs() < 1e-6
    wa = torch.where(small, 1.0 - w, torch.sin((1.0 - w) * omega) / so.where(~small, 1.0))
    wb = torch.where(small, torch.full_like(omega, w), torch.sin(w * omega) / so.where(~small, 1.0))
    out = wa[:, None] * fa + wb[:, None] * fb
    return out.reshape(a.shape).to(a.dtype)


def renoise(x: torch.Tensor, *, t_from: float, t_to: float, noise: torch.Tensor) -> torch.Tensor:
    """Diffuse ``x_{t_from}`` forward to ``t_to >= t_from``: a draw from ``q(x_{t_to} | x_{t_from})``.

    On the VP cosine schedule, with ``r = α_to/α_from``,
    ``x_{t_to} = r x_{t_from} + sqrt(σ_to² − r² σ_from²) ε``; this is RePaint's "go back one
    step" (Lugmayr et al. 2022, eq. 8 generalised to any two times).
    """
    a0, s0 = alpha_sigma(t_from)
    a1, s1 = alpha_sigma(t_to)
    if not t_to >= t_from or a0 == 0.0:
        raise ValueError(f"renoise needs 0 <= t_from <= t_to and t_from < 1, got {t_from} -> {t_to}")
    ratio = a1 / a0
    return ratio * x + math.sqrt(max(s1 * s1 - ratio * ratio * s0 * s0, 0.0)) * noise


@dataclass
class SamplerOutput:
    """One step's result.

    Attributes
    ----------
    prev_sample : torch.Tensor, shape (batch, channels, n)
        The sample at the next time of the schedule.
    pred_original_sample : torch.Tensor, shape (batch, channels, n)
        The model's estimate of the clean signal at this step.
    """

    prev_sample: torch.Tensor
    pred_original_sample: torch.Tensor


class VSampler:
    """Base class: the time grid and the v → (x̂₀, ε̂) conversion.

    Parameters
    ----------
    spacing : {"crash", "linear"}
        How the ``num_inference_steps + 1`` times are spread between ``t_start`` and
        ``t_end``: sample-generator's crash schedule, or uniform in ``t``.
    """

    name = "base"
    order = 1
    default_spacing = "crash"

    def __init__(self, *, spacing: str | None = None) -> None:
        spacing = spacing or self.default_spacing
        if spacing not in ("crash", "linear"):
            raise ValueError(f"unknown spacing {spacing!r}; use 'crash' or 'linear'")
        self.spacing = spacing
        self.times: list[float] = []
        self.timesteps = torch.zeros(0)
        self.num_inference_steps = 0
        self._index = 0

    def set_timesteps(
        self,
        num_inference_steps: int,
        *,
        device: str | torch.device | None = None,
        t_start: float = 1.0,
        t_end: float = 0.0,
    ) -> None:
        """Prepare ``num_inference_steps`` steps from ``t_start`` to ``t_end``.

        ``t_start > t_end`` denoises (1 → 0 is full generation; a smaller ``t_start``
        is partial denoising for variations); ``t_start < t_end`` runs the ODE the other
        way, mapping audio to noise (inversion; deterministic samplers only).
        """
        if num_inference_steps < 1:
            raise ValueError("num_inference_steps must be at least 1")
        n = int(num_inference_steps)
        if self.spacing == "crash":
            u0, u1 = _crash_inverse(t_start), _crash_inverse(t_end)
            times = [crash_schedule(u0 + (u1 - u0) * i / n) for i in range(n + 1)]
        else:
            times = [t_start + (t_end - t_start) * i / n for i in range(n + 1)]
        times[0], times[-1] = float(t_start), float(t_end)  # exact ends, whatever the re-spacing
        self.times = times
        self.num_inference_steps = n
        self.timesteps = torch.tensor(times[:-1], dtype=torch.float32, device=device)
        self._index = 0
        self._reset()

    def _reset(self) -> None:
        pass

    @property
    def step_index(self) -> int:
        return self._index

    def step(
        self, model_output: torch.Tensor, timestep: float | torch.Tensor, sample: torch.Tensor
    ) -> SamplerOutput:
        """Advance ``sample`` from the current time to the next one.

        Parameters
        ----------
        model_output : torch.Tensor, shape (batch, channels, n)
            The model's ``v`` prediction at ``timestep``.
        timestep : float or torch.Tensor
            The current time (``self.timesteps[self.step_index]``); checked, not used.
        sample : torch.Tensor, shape (batch, channels, n)
            ``x_t``.
        """
        if not self.times:
            raise RuntimeError("call set_timesteps() before step()")
        i = self._index
        if i >= self.num_inference_steps:
            raise RuntimeError("all steps of the schedule have been taken; call set_timesteps() again")
        t, t_next = self.times[i], self.times[i + 1]
        given = float(timestep)
        if abs(given - t) > 1e-4:
            raise ValueError(f"step {i} expects t={t:.6f}, got {given:.6f}")
        a, s = alpha_sigma(t)
        x0 = a * sample - s * model_output
        eps = s * sample + a * model_output
        prev = self._update(i, sample, x0, eps, t, t_next)
        self._index += 1
        return SamplerOutput(prev_sample=prev, pred_original_sample=x0)

    def _update(
        self, i: int, x: torch.Tensor, x0: torch.Tensor, eps: torch.Tensor, t: float, t_next: float
    ) -> torch.Tensor:
        raise NotImplementedError


class DDIMSampler(VSampler):
    """Deterministic DDIM on the v-objective: ``x' = α' x̂₀ + σ' ε̂``."""

    name = "ddim"
    default_spacing = "crash"

    def _update(self, i, x, x0, eps, t, t_next):  # type: ignore[no-untyped-def]
        a1, s1 = alpha_sigma(t_next)
        return a1 * x0 + s1 * eps


class IPNDMSampler(VSampler):
    """iPNDM: Adams–Bashforth on ε̂ up to 4th order (sample-generator's ``iplms_sample``)."""

    name = "ipndm"
    order = 4
    default_spacing = "crash"

    def _reset(self) -> None:
        self._eps: list[torch.Tensor] = []

    def _update(self, i, x, x0, eps, t, t_next):  # type: ignore[no-untyped-def]
        self._eps.append(eps)
        self._eps = self._eps[-4:]
        e = self._eps
        if len(e) == 1:
            eps_m, x0_m = eps, x0  # exact even at α = 0
        else:
            if len(e) == 2:
                eps_m = (3 * e[-1] - e[-2]) / 2
            elif len(e) == 3:
                eps_m = (23 * e[-1] - 16 * e[-2] + 5 * e[-3]) / 12
            else:
                eps_m = (55 * e[-1] - 59 * e[-2] + 37 * e[-3] - 9 * e[-4]) / 24
            a, s = alpha_sigma(t)
            x0_m = (x - s * eps_m) / max(a, 1e-8)
        a1, s1 = alpha_sigma(t_next)
        return a1 * x0_m + s1 * eps_m


class DPMSolverPlusPlus2MSampler(VSampler):
    """DPM-Solver++(2M) on the data prediction ``x̂₀`` (Lu et al. 2022, Alg. 2).

    With ``h = λ' − λ`` (``λ = log α/σ``) and ``r = h_prev / h`` the update is
    ``x' = α' D + σ' (x − α D)/σ`` with ``D = (1 + 1/2r) x̂₀ − (1/2r) x̂₀_prev``, which
    is ``(σ'/σ) x − α'(e^{−h} − 1) D`` rearranged so that it stays finite at ``α = 0``.
    The first step, and any step that reaches ``σ = 0`` or starts at ``σ = 0``, is
    first order (DDIM).
    """

    name = "dpmpp-2m"
    order = 2
    default_spacing = "crash"

    def _reset(self) -> None:
        self._prev: tuple[torch.Tensor, float] | None = None

    def _update(self, i, x, x0, eps, t, t_next):  # type: ignore[no-untyped-def]
        a, s = alpha_sigma(t)
        a1, s1 = alpha_sigma(t_next)
        lam, lam1 = _lambda(t), _lambda(t_next)
        h = lam1 - lam
        d = x0
        if self._prev is not None and s > 0.0 and s1 > 0.0 and math.isfinite(h) and h != 0.0:
            x0_prev, h_prev = self._prev
            if math.isfinite(h_prev):
                r = h_prev / h
                d = (1 + 1 / (2 * r)) * x0 - (1 / (2 * r)) * x0_prev
        self._prev = (x0, h)
        if s == 0.0:  # inverting from clean audio: ε̂ from the model
            return a1 * x0 + s1 * eps
        return a1 * d + s1 * (x - a * d) / s


SAMPLERS: dict[str, type[VSampler]] = {
    "ipndm": IPNDMSampler,
    "ddim": DDIMSampler,
    "dpmpp-2m": DPMSolverPlusPlus2MSampler,
}
"""Sampler name -> class."""

DEFAULT_STEPS: dict[str, int] = {"ipndm": 100, "ddim": 50, "dpmpp-2m": 20}
"""Steps each sampler needs for quality comparable to IPNDM at 100 (see benchmarks/diffusion.py)."""


def get_sampler(name: str, *, spacing: str | None = None) -> VSampler:
    """A fresh sampler called ``name`` (one of :data:`SAMPLERS`)."""
    cls = SAMPLERS.get(name)
    if cls is None:
        raise EngineError(f"unknown sampler {name!r}; choose one of: {', '.join(SAMPLERS)}")
    return cls(spacing=spacing)
