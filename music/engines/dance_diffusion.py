"""Dance Diffusion: unconditional waveform diffusion on Harmonai's v-objective UNet.

The model is diffusers' :class:`~diffusers.UNet1DModel` (not the deprecated
``DanceDiffusionPipeline``); sampling is :mod:`music.engines.sampling`. Operations, all
on raw waveforms at the model's own rate and channel count:

``generate``
    ``n`` unconditional variations at once; the length is rounded to a valid size (a
    multiple of ``2**len(up_blocks)``, at least three of them).
``vary``
    Partial noising to ``t = strength`` then denoising (SDEdit, Meng et al. 2022; the
    "regenerate your own sounds" of Harmonai's notebook). ``strength=0`` is the input.
``interpolate``
    Invert both clips to noise with a deterministic sampler (DDIM inversion, Song et al.
    2021), slerp the noises, decode each frame.
``inpaint``
    Regenerate ``[start, end)`` and keep the rest sample-exact: the kept part is re-noised
    to the current time after every step (the replacement method of Song et al. 2021), and
    the joins are stitched (see ``_stitch``). With ``repaint=U > 1`` each step is first
    taken ``U − 1`` times, diffused back with fresh noise and taken again (RePaint's
    resampling, Lugmayr et al. 2022, jump length 1), so that the generated part follows
    the kept context instead of only meeting it at the seam; it costs ``U`` UNet calls per step.
``extend``
    Outpainting in chunks: each window starts with the last ``overlap`` of the audio as
    known context and generates the rest.
``loop``
    Rotate by half, inpaint around the old end→start seam, rotate back: the end then
    flows into the start.

Determinism: noise is drawn from a CPU ``torch.Generator`` seeded per request, so the
same request and seed give the same samples on the CPU.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from music.audio import Audio, load, resample, to_channels
from music.engines.base import Progress, Request, Take, params_record
from music.engines.dd_checkpoints import Checkpoint, find_checkpoint, load_unet
from music.engines.diffusers_engine import DiffusersEngine
from music.engines.sampling import DEFAULT_STEPS, SAMPLERS, alpha_sigma, get_sampler, renoise, slerp
from music.errors import EngineError

if TYPE_CHECKING:
    import torch
    from diffusers import UNet1DModel

__all__ = ["DanceDiffusionEngine", "DanceDiffusionParams", "Repainting", "parse_range"]
_RESAMPLE_SEED_OFFSET = 0x5EED


def parse_range(text: str) -> tuple[float, float]:
    """``"1.5:3"`` -> ``(1.5, 3.0)`` seconds; an empty side means the clip's start or end."""
    try:
        a, b = text.split(":")
        start = float(a) if a.strip() else 0.0
        end = float(b) if b.strip() else math.inf
    except ValueError as exc:
        raise EngineError(f"--inpaint wants START:END in seconds (e.g. 1.5:3), got {text!r}") from exc
    if start < 0 or end <= start:
        raise EngineError(f"--inpaint {text!r}: need 0 <= START < END")
    return start, end


@dataclass
class _Known:
    """A region to keep while sampling: clean signal, mask (True = keep) and fixed noise."""

    x0: torch.Tensor
    mask: torch.Tensor
    noise: torch.Tensor
    raw: torch.Tensor | None = field(default=None)
    repaint: int = 1
    generator: torch.Generator | None = field(default=None)

    def pin(self, x: torch.Tensor, t: float) -> torch.Tensor:
        """``x`` with the kept region replaced by the clean signal noised to time ``t``."""
        a, s = alpha_sigma(t)
        return torch_where(self.mask, a * self.x0 + s * self.noise, x)

    def fresh_noise(self) -> torch.Tensor:
        return _randn(tuple(self.x0.shape), self.generator, self.x0.device)


@dataclass(frozen=True)
class Repainting:
    """How :meth:`~DanceDiffusionEngine.inpaint_audio`, ``extend_audio`` and ``loop_audio`` regenerate
    a region: ``sampler`` and ``steps`` (``None``: the engine's), ``repaint`` UNet calls per step (RePaint's
    resampling, 1 = none; see the module docstring) and ``stitch_s``, the width of the fade that joins the
    regenerated part to the kept one (0: no stitching)."""

    sampler: str | None = None
    steps: int | None = None
    repaint: int = 1
    stitch_s: float = 0.01


@dataclass(frozen=True)
class DanceDiffusionParams:
    """Per-request settings (``Request.params``), recorded whole in provenance.

    ``n`` variations; ``steps`` and ``sampler`` (default: the engine's); ``init_audio`` (a path or
    :class:`Audio`) to start from, ``strength`` to vary it; ``inpaint`` (``"START:END"`` seconds),
    ``extend`` (seconds) and ``loop`` with ``repaint`` resamplings per step; ``frames`` and ``gap_s``
    for :meth:`DanceDiffusionEngine.interpolate`; ``source``/``sources``: names kept in provenance.
    """

    n: int = 1
    steps: int | None = None
    sampler: str | None = None
    init_audio: Any = None
    strength: float | None = None
    inpaint: str | None = None
    extend: float | None = None
    loop: bool = False
    repaint: int = 1
    frames: int = 5
    gap_s: float = 0.0
    source: str | None = None
    sources: Any = None

    def __post_init__(self) -> None:
        if self.n < 1:
            raise EngineError("n (number of variations) must be at least 1")
        if self.strength is not None and not 0.0 <= self.strength <= 1.0:
            raise EngineError(f"strength {self.strength:g} must be in 0..1")
        if self.sampler is not None and self.sampler not in SAMPLERS:
            raise EngineError(f"unknown sampler {self.sampler!r}; choose one of: {', '.join(SAMPLERS)}")


class DanceDiffusionEngine(DiffusersEngine):
    """Unconditional waveform diffusion with Harmonai's Dance Diffusion models.

    Parameters
    ----------
    model : str or path-like, optional
        A registry name (``maestro-150k`` …), a diffusers folder or a sample-generator
        ``.ckpt``; default ``maestro-150k`` (the CLI passes ``$SONGMINT_DD_CHECKPOINT``). Looked up
        locally only (see :func:`music.engines.dd_checkpoints.find_checkpoint`); loaded on
        first use and fixed for the engine's life. ``checkpoint`` is its older name.
    unet : UNet1DModel, optional
        An already built model (then ``model`` only names it in provenance).
    device : str
        ``"cpu"``, ``"cuda"`` or ``"auto"``.
    dtype : {"float32", "bfloat16"}
        Precision of the UNet; the sampler state stays float32.
    sampler : str
        Default sampler (see :data:`music.engines.sampling.SAMPLERS`).
    steps : int, optional
        Default steps (per sampler default when ``None``).
    batch_size : int
        Largest batch per UNet call.
    trust_pickle : bool
        Allow full unpickling of ``.ckpt`` files (trusted sources only).
    """

    name = "dance-diffusion"
    Params = DanceDiffusionParams

    def __init__(
        self,
        *,
        model: str | None = None,
        checkpoint: str | None = None,
        unet: UNet1DModel | None = None,
        device: str = "cpu",
        dtype: str = "float32",
        sampler: str = "dpmpp-2m",
        steps: int | None = None,
        batch_size: int = 4,
        trust_pickle: bool = False,
    ) -> None:
        if sampler not in SAMPLERS:
            raise EngineError(f"unknown sampler {sampler!r}; choose one of: {', '.join(SAMPLERS)}")
        super().__init__(model=model, checkpoint=checkpoint, loaded=unet, device=device, dtype=dtype)
        self._ckpt: Checkpoint | None = None
        self.sampler = sampler
        self.steps = steps
        self.batch_size = max(1, int(batch_size))
        self.trust_pickle = trust_pickle

    # ------------------------------------------------------------------ model

    def _find(self) -> Checkpoint:
        return find_checkpoint(self._spec)

    def _load(self) -> UNet1DModel:
        import torch

        self._ckpt = self._find()
        unet = load_unet(self._ckpt, trust_pickle=self.trust_pickle)
        # torch's own Module.to: diffusers' override (0.42) warns about "modules that should
        # be kept in float32" on every dtype cast, even when the list is empty, as it is here.
        torch.nn.Module.to(unet, self.device, dtype=getattr(torch, self.dtype_name))
        return unet

    def _hash_weights(self) -> str | None:
        return self._ckpt.sha256() if self._ckpt is not None else None

    @property
    def unet(self) -> UNet1DModel:
        """The UNet, loaded on first use."""
        return self._model()

    @property
    def sample_rate(self) -> int:
        return int(self.unet.config.sample_rate or 48_000)

    @property
    def channels(self) -> int:
        return int(self.unet.config.in_channels)

    @property
    def factor(self) -> int:
        """Every length must be a multiple of this (one halving per up block)."""
        return 2 ** len(self.unet.up_blocks)

    def valid_length(self, n: int) -> int:
        """The nearest valid sample count to ``n`` (at least ``3 × factor``)."""
        f = self.factor
        return max(3 * f, round(n / f) * f)

    def _pad_length(self, n: int) -> int:
        """The smallest valid sample count ``>= n``."""
        f = self.factor
        return max(3 * f, -(-n // f) * f)

    def model_info(self) -> dict[str, Any]:
        """Model id, weights sha256, rate and size: the provenance of the weights."""
        unet = self.unet
        return {
            "model": self._ckpt.name if self._ckpt else (str(self._spec) if self._spec else "in-memory"),
            "checkpoint_format": self._ckpt.format if self._ckpt else None,
            "weights_sha256": self._weights_sha256(),
            "model_sample_rate": self.sample_rate,
            "model_sample_size": int(unet.config.sample_size),
            "channels": self.channels,
        }

    # ------------------------------------------------------------------ core sampling

    def _v(self, x: torch.Tensor, t: float) -> torch.Tensor:
        """The UNet's v prediction at time ``t``, in batches, returned as float32."""
        import torch

        unet = self.unet
        dtype = next(unet.parameters()).dtype
        outs = []
        with torch.inference_mode():
            for i in range(0, x.shape[0], self.batch_size):
                xb = x[i : i + self.batch_size]
                tb = torch.full((xb.shape[0],), float(t), device=xb.device, dtype=dtype)
                outs.append(unet(xb.to(dtype), tb).sample.float())
        return torch.cat(outs)

    def _run(
        self,
        x: torch.Tensor,
        *,
        sampler: str,
        steps: int,
        t_start: float = 1.0,
        t_end: float = 0.0,
        known: _Known | None = None,
        progress: Progress | None = None,
    ) -> torch.Tensor:
        """Integrate from ``t_start`` to ``t_end``; ``known`` pins a region while denoising."""
        sm = get_sampler(sampler)
        sm.set_timesteps(steps, t_start=t_start, t_end=t_end)
        ddim = get_sampler("ddim")  # RePaint's first-order inner step
        for i, t in enumerate(sm.timesteps):
            t_now, t_next = sm.times[i], sm.times[i + 1]
            for _ in range(known.repaint - 1 if known is not None else 0):
                # RePaint: a first-order step, pin the kept part, diffuse back to t_now with fresh
                # noise; the next model call sees the generated part in the light of the kept one
                ddim.set_timesteps(1, t_start=t_now, t_end=t_next)
                y = ddim.step(self._v(x, t_now), ddim.timesteps[0], x).prev_sample
                x = renoise(known.pin(y, t_next), t_from=t_next, t_to=t_now, noise=known.fresh_noise())
            x = sm.step(self._v(x, t_now), t, x).prev_sample
            if known is not None:
                if i == len(sm.timesteps) - 1:
                    known.raw = x.clone()  # the model's own version of the kept part, for stitching
                x = known.pin(x, t_next)
            if progress is not None:
                progress(i + 1, len(sm.timesteps))
        return x

    def _noise(self, shape: tuple[int, ...], seed: int) -> torch.Tensor:
        import torch

        return _randn(shape, torch.Generator("cpu").manual_seed(int(seed)), self.device)

    def _steps(self, sampler: str | None, steps: int | None) -> tuple[str, int]:
        name = sampler or self.sampler
        if name not in SAMPLERS:
            raise EngineError(f"unknown sampler {name!r}; choose one of: {', '.join(SAMPLERS)}")
        n = int(steps or self.steps or DEFAULT_STEPS[name])
        if n < 1:
            raise EngineError("steps must be at least 1")
        return name, n

    def _resolve(self, how: Repainting) -> Repainting:
        """``how`` with its sampler and steps resolved (:meth:`_steps`)."""
        name, k = self._steps(how.sampler, how.steps)
        return replace(how, sampler=name, steps=k)

    def _to_tensor(self, audio: Audio) -> tuple[torch.Tensor, int]:
        """Audio at the model's rate/channels as a ``(1, C, n_padded)`` tensor, and its length."""
        import torch

        a = to_channels(resample(audio, self.sample_rate), self.channels)
        n = a.n
        pad = self._pad_length(n)
        x = np.zeros((1, self.channels, pad), np.float32)
        x[0, :, :n] = a.samples
        return torch.from_numpy(x).to(self.device), n

    def _to_audio(self, x: torch.Tensor, n: int | None = None) -> list[Audio]:
        arr = x.detach().float().clamp(-1, 1).cpu().numpy()
        return [Audio(np.ascontiguousarray(a[:, :n] if n else a), self.sample_rate) for a in arr]

    # ------------------------------------------------------------------ operations

    def sample(
        self,
        *,
        n: int = 1,
        seconds: float | None = None,
        seed: int = 0,
        sampler: str | None = None,
        steps: int | None = None,
        progress: Progress | None = None,
    ) -> list[Audio]:
        """``n`` unconditional clips of ``seconds`` (rounded to a valid size; default: the model's)."""
        name, k = self._steps(sampler, steps)
        length = (
            int(self.unet.config.sample_size)
            if seconds is None
            else self.valid_length(round(seconds * self.sample_rate))
        )
        if n < 1:
            raise EngineError("n (number of variations) must be at least 1")
        x = self._noise((n, self.channels, length), seed)
        return self._to_audio(self._run(x, sampler=name, steps=k, progress=progress))

    def vary_audio(
        self,
        audio: Audio,
        *,
        strength: float,
        n: int = 1,
        seed: int = 0,
        sampler: str | None = None,
        steps: int | None = None,
        progress: Progress | None = None,
    ) -> list[Audio]:
        """``n`` variations of ``audio``: noise to ``t = strength``, then denoise.

        ``strength=0`` returns the input (at the model's rate and channels) unchanged;
        ``1`` ignores it. Steps scale with strength (at least one).
        """
        if not 0.0 <= strength <= 1.0:
            raise EngineError(f"strength must be in [0, 1], got {strength}")
        conformed = to_channels(resample(audio, self.sample_rate), self.channels)
        if strength == 0.0:
            return [conformed] * n
        name, k = self._steps(sampler, steps)
        x0, length = self._to_tensor(conformed)
        x0 = x0.repeat(n, 1, 1)
        noise = self._noise(tuple(x0.shape), seed)
        a, s = alpha_sigma(strength)
        x = a * x0 + s * noise
        k = max(1, math.ceil(k * strength))
        return self._to_audio(
            self._run(x, sampler=name, steps=k, t_start=strength, progress=progress), length
        )

    def invert(
        self, audio: Audio, *, steps: int | None = None, sampler: str = "ddim"
    ) -> tuple[torch.Tensor, int]:
        """Map ``audio`` to the noise the deterministic sampler would decode into it.

        Returns the noise ``(1, C, n_padded)`` and the audio's length at the model rate.
        """
        if sampler == "ipndm":
            raise EngineError("inversion needs a single-step-consistent sampler: use ddim or dpmpp-2m")
        _, k = self._steps(sampler, steps)
        x, length = self._to_tensor(audio)
        return self._run(x, sampler=sampler, steps=k, t_start=0.0, t_end=1.0), length

    def interpolate_audio(
        self,
        a: Audio,
        b: Audio,
        *,
        frames: int = 5,
        steps: int | None = None,
        sampler: str = "ddim",
        progress: Progress | None = None,
    ) -> list[Audio]:
        """``frames`` clips morphing from ``a`` to ``b`` (inversion, slerp, decoding).

        Both clips are cut to the shorter one. Deterministic: no seed involved.
        """
        import torch

        if frames < 2:
            raise EngineError("interpolation needs at least 2 frames")
        ca = to_channels(resample(a, self.sample_rate), self.channels)
        cb = to_channels(resample(b, self.sample_rate), self.channels)
        n = min(ca.n, cb.n)
        ca, cb = ca.with_samples(ca.samples[:, :n]), cb.with_samples(cb.samples[:, :n])
        za, _ = self.invert(ca, steps=steps, sampler=sampler)
        zb, _ = self.invert(cb, steps=steps, sampler=sampler)
        z = torch.cat([slerp(za, zb, w) for w in np.linspace(0.0, 1.0, frames)])
        _, k = self._steps(sampler, steps)
        return self._to_audio(self._run(z, sampler=sampler, steps=k, progress=progress), n)

    def inpaint_audio(
        self,
        audio: Audio,
        *,
        start: float,
        end: float,
        n: int = 1,
        seed: int = 0,
        how: Repainting = Repainting(),
        progress: Progress | None = None,
    ) -> list[Audio]:
        """Regenerate ``[start, end)`` seconds of ``audio``; everything else is kept sample-exact.

        ``how``: sampler, steps, RePaint resampling and stitching (:class:`Repainting`).
        """
        import torch

        conformed = to_channels(resample(audio, self.sample_rate), self.channels)
        sr = self.sample_rate
        i0, i1 = round(start * sr), min(conformed.n, round(min(end, conformed.duration) * sr))
        if not 0 <= i0 < i1:
            raise EngineError(
                f"inpaint region {start}:{end} s is outside the {conformed.duration:.2f} s clip"
            )
        how = self._resolve(how)
        x0, length = self._to_tensor(conformed)
        keep = torch.zeros_like(x0, dtype=torch.bool)
        keep[..., :length] = True
        keep[..., i0:i1] = False
        out = self._inpaint(x0.repeat(n, 1, 1), keep.repeat(n, 1, 1), seed=seed, how=how, progress=progress)
        out = self._stitch(out, x0.repeat(n, 1, 1), [(i0, i1)], int(how.stitch_s * sr))
        return self._to_audio(out, length)

    def _inpaint(
        self,
        x0: torch.Tensor,
        keep: torch.Tensor,
        *,
        seed: int,
        how: Repainting,
        progress: Progress | None = None,
    ) -> torch.Tensor:
        """Sample with ``keep`` pinned to ``x0``; ``how`` has its sampler and steps resolved."""
        import torch

        repaint = how.repaint
        if int(repaint) < 1:
            raise EngineError(f"repaint must be at least 1, got {repaint}")
        if repaint > 1 and get_sampler(how.sampler).order > 2:
            # IPNDM's 4th-order history extrapolates across the resampled jumps and drifts (measured)
            raise EngineError("repaint needs a one-step-memory sampler: use --sampler dpmpp-2m or ddim")
        noise = self._noise(tuple(x0.shape), seed)
        # RePaint's fresh noise: its own CPU stream, so repaint=1 draws exactly what it always did
        g = torch.Generator("cpu").manual_seed(int(seed) + _RESAMPLE_SEED_OFFSET)
        known = _Known(x0=x0, mask=keep, noise=noise, repaint=int(repaint), generator=g)
        x = self._run(noise.clone(), sampler=how.sampler, steps=how.steps, known=known, progress=progress)
        self._raw = known.raw
        return x

    def _stitch(
        self, x: torch.Tensor, x0: torch.Tensor, regions: list[tuple[int, int]], width: int
    ) -> torch.Tensor:
        """Remove steps at the edges of regenerated regions.

        The model's own last estimate of the kept sample next to each edge (``raw``) is
        compared with the true one; the difference is added to the regenerated side with
        a raised-cosine fade over ``width`` samples. The kept side is never touched, and the
        join becomes as smooth as the model's output is inside the region.
        """
        raw = self._raw
        y = x.clone()
        if width <= 0:
            return y
        n = x.shape[-1]
        for i0, i1 in regions:
            w = max(1, min(width, (i1 - i0) // 2))
            ramp = torch_cos_ramp(w, x)
            if i0 > 0:  # left edge: continue from the last kept sample
                d = x0[..., i0 - 1 : i0] - raw[..., i0 - 1 : i0]
                y[..., i0 : i0 + w] += d * ramp.flip(-1)
            if i1 < n:  # right edge: arrive at the first kept sample
                d = x0[..., i1 : i1 + 1] - raw[..., i1 : i1 + 1]
                y[..., i1 - w : i1] += d * ramp
        return y

    def extend_audio(
        self,
        audio: Audio,
        *,
        seconds: float,
        seed: int = 0,
        overlap: float = 0.5,
        how: Repainting = Repainting(),
        progress: Progress | None = None,
    ) -> Audio:
        """Grow ``audio`` by ``seconds`` in model-sized windows.

        Each window holds the last ``overlap`` (fraction of the window) of what exists as
        context and generates the rest (as ``how`` says); the original audio is kept sample-exact.
        """
        import torch

        if seconds <= 0:
            raise EngineError("--extend wants a positive number of seconds")
        how = self._resolve(how)
        cur = to_channels(resample(audio, self.sample_rate), self.channels).samples
        target = cur.shape[1] + round(seconds * self.sample_rate)
        window = int(self.unet.config.sample_size)
        ctx = min(int(window * overlap), cur.shape[1])
        chunk = 0
        while cur.shape[1] < target:
            ctx_n = min(ctx, cur.shape[1])
            x0 = np.zeros((1, self.channels, window), np.float32)
            x0[0, :, :ctx_n] = cur[:, -ctx_n:]
            xt = torch.from_numpy(x0).to(self.device)
            keep = torch.zeros_like(xt, dtype=torch.bool)
            keep[..., :ctx_n] = True
            out = self._inpaint(xt, keep, seed=seed + chunk, how=how, progress=progress)
            out = self._stitch(out, xt, [(ctx_n, window)], int(how.stitch_s * self.sample_rate))
            new = out[0, :, ctx_n:].float().clamp(-1, 1).cpu().numpy()
            cur = np.concatenate([cur, new], axis=1)
            chunk += 1
        return Audio(np.ascontiguousarray(cur[:, :target]), self.sample_rate)

    def loop_audio(
        self,
        audio: Audio,
        *,
        seed: int = 0,
        seam_s: float = 0.25,
        how: Repainting = Repainting(),
        progress: Progress | None = None,
    ) -> Audio:
        """Make the end of ``audio`` flow into its start (regenerates ``seam_s`` on each side, as ``how``
        says)."""
        conformed = to_channels(resample(audio, self.sample_rate), self.channels)
        n = conformed.n
        half = n // 2
        w = max(1, min(int(seam_s * self.sample_rate), n // 4))
        rolled = conformed.with_samples(np.roll(conformed.samples, -half, axis=1))
        seam = n - half  # where the old end meets the old start
        fixed = self.inpaint_audio(
            rolled,
            start=(seam - w) / self.sample_rate,
            end=(seam + w) / self.sample_rate,
            seed=seed,
            how=how,
            progress=progress,
        )[0]
        return fixed.with_samples(np.roll(fixed.samples, half, axis=1))

    # ------------------------------------------------------------------ engine protocol

    def _parse(self, request: Request) -> DanceDiffusionParams:
        if request.params.get("negative_prompt") is not None:
            raise EngineError("Dance Diffusion is unconditional; --negative-prompt is for stable-audio")
        return super()._parse(request)

    def generate(self, request: Request, *, progress: Progress | None = None) -> Take:
        """Generate, or transform ``init_audio``, as :class:`DanceDiffusionParams` say.

        Without ``init_audio``, a clip is first generated unconditionally and
        ``inpaint``/``extend``/``loop`` apply to it; ``progress(done, total)`` follows the
        unconditional sampling.
        """
        p = self._parse(request)
        # A malformed span fails before the model loads or anything is sampled.
        span = parse_range(p.inpaint) if p.inpaint else None
        seed = int(request.seed)
        name, k = self._steps(p.sampler, p.steps)
        n = p.n
        how = Repainting(sampler=name, steps=k, repaint=p.repaint)
        init = p.init_audio
        if isinstance(init, str | bytes) or hasattr(init, "__fspath__"):
            init = load(init)
        params = {**params_record(p), "sampler": name, "steps": k, "seconds": request.seconds}
        if p.init_audio is not None:
            params["init_audio"] = str(p.init_audio)
        if init is None:
            clips = self.sample(n=n, seconds=request.seconds, seed=seed, sampler=name, steps=k,
                                progress=progress)
            op = "generate"
        elif p.strength is not None:
            clips = self.vary_audio(init, strength=p.strength, n=n, seed=seed, sampler=name, steps=k,
                                    progress=progress)
            op = "vary"
        else:
            clips = [to_channels(resample(init, self.sample_rate), self.channels)]
            op = "edit"
        if span is not None:
            start, end = span
            clips = [
                self.inpaint_audio(c, start=start, end=end, seed=seed + i, how=how)[0]
                for i, c in enumerate(clips)
            ]
            op += "+inpaint"
        if p.extend:
            clips = [
                self.extend_audio(c, seconds=p.extend, seed=seed + i, how=how)
                for i, c in enumerate(clips)
            ]
            op += "+extend"
        if p.loop:
            clips = [self.loop_audio(c, seed=seed + i, how=how) for i, c in enumerate(clips)]
            op += "+loop"
        return self._take(clips, op, seed, params)

    def vary(self, audio: Audio, request: Request | None = None, *, progress: Progress | None = None
             ) -> Take:
        """:meth:`vary_audio` as a take (variation 1 is the mix, the others are extras).

        ``request.params`` (:class:`DanceDiffusionParams`): ``strength`` (default 0.5), ``n``,
        ``sampler``, ``steps``, ``source`` (a name recorded in provenance); ``request.seed``
        seeds the noise.
        """
        request = request or Request()
        p = self._parse(request)
        name, k = self._steps(p.sampler, p.steps)
        strength = 0.5 if p.strength is None else p.strength
        clips = self.vary_audio(audio, strength=strength, n=p.n, seed=request.seed, sampler=name, steps=k,
                                progress=progress)
        params = {**params_record(p), "strength": strength, "sampler": name, "steps": k}
        return self._take(clips, "vary", request.seed, params)

    def interpolate(self, a: Audio, b: Audio, request: Request | None = None, *,
                    progress: Progress | None = None) -> Take:
        """:meth:`interpolate_audio` as a take: the mix is the frames in order, each frame an extra.

        ``request.params`` (:class:`DanceDiffusionParams`): ``frames`` (default 5), ``steps``,
        ``sampler`` (``ddim`` or ``dpmpp-2m``; default ``ddim``), ``gap_s`` (silence between
        frames in the mix), ``sources`` (names recorded in provenance).
        """
        request = request or Request()
        p = self._parse(request)
        sampler = p.sampler or "ddim"
        _, k = self._steps(sampler, p.steps)
        clips = self.interpolate_audio(a, b, frames=p.frames, steps=k, sampler=sampler, progress=progress)
        gap = np.zeros((self.channels, int(p.gap_s * self.sample_rate)), np.float32)
        parts: list[np.ndarray] = []
        for i, c in enumerate(clips):
            parts += [c.samples] if i == 0 or not gap.shape[1] else [gap, c.samples]
        mix = Audio(np.concatenate(parts, axis=1), self.sample_rate)
        extras = {f"frame-{i:02d}": c for i, c in enumerate(clips)}
        params = {**params_record(p), "sampler": sampler, "steps": k}
        return Take(mix=mix, extras=extras, provenance=self._provenance("interpolate", None, params))


def _randn(shape: tuple[int, ...], generator: torch.Generator | None, device: Any) -> torch.Tensor:
    """Standard normal noise drawn on the CPU (same numbers whatever the device), moved to ``device``."""
    import torch

    return torch.randn(shape, generator=generator, dtype=torch.float32).to(device)


def torch_where(mask: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    import torch

    return torch.where(mask, a, b)


def torch_cos_ramp(w: int, like: torch.Tensor) -> torch.Tensor:
    """Raised-cosine ramp from 0 to 1 over ``w`` samples, shape ``(w,)``."""
    import torch

    i = torch.arange(w, dtype=torch.float32, device=like.device)
    return 0.5 - 0.5 * torch.cos(math.pi * (i + 1) / (w + 1))
