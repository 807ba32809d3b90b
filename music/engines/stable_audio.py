"""Stable Audio Open: text-to-audio latent diffusion through diffusers' ``StableAudioPipeline``.

Weights are local only: a diffusers pipeline folder (``model_index.json`` with ``vae``,
``text_encoder``, ``tokenizer``, ``projection_model``, ``transformer``, ``scheduler``), found
by path, in songmint's models folder, or in the local Hugging Face cache
(``stabilityai/stable-audio-open-1.0``); never downloaded.

Operations
----------
``generate``
    Text-to-audio with a duration (capped at the model's window, 47.55 s for SAO 1.0),
    a negative prompt, classifier-free guidance, ``n`` waveforms per prompt and a seed.
``vary``
    Init-audio variation (SDEdit, Meng et al. 2022, in the VAE's latent space): the audio
    is encoded, noised to ``σ' = σ_min (σ_max/σ_min)^strength`` and denoised from there with
    the pipeline's own scheduler restricted to ``[σ_min, σ']``. ``strength=0`` returns the
    input; ``1`` starts from the model's full noise level. (diffusers' own
    ``initial_audio_waveforms`` adds the latents to noise at ``σ_max = 500``, which keeps
    almost nothing of the input.)
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from music.audio import Audio, load, resample, to_channels
from music.engines.base import Progress, Request, Take, params_record
from music.engines.diffusers_engine import DiffusersEngine
from music.engines.weights import hf_cache_dir, models_dir, snapshots
from music.errors import EngineError, ModelNotFoundError

if TYPE_CHECKING:
    from diffusers import StableAudioPipeline

__all__ = ["DEFAULT_MODEL", "StableAudioEngine", "find_pipeline"]

DEFAULT_MODEL = "stable-audio-open-1.0"
REPOS = {"stable-audio-open-1.0": "stabilityai/stable-audio-open-1.0"}
HOW_TO_PROVIDE = (
    "fetch it with `songmint models pull stable-audio-open-1.0` (gated: accept its licence on Hugging Face "
    "and set HF_TOKEN first), or pass --model PATH to a diffusers folder"
)


def is_pipeline(p: Path) -> bool:
    return (p / "model_index.json").is_file() and (p / "transformer").is_dir() and (p / "vae").is_dir()


def search_locations(name: str) -> list[Path]:
    """Every folder looked at for the model called ``name``."""
    locs = [models_dir() / name]
    repo = REPOS.get(name)
    if repo:
        snaps = hf_cache_dir() / ("models--" + repo.replace("/", "--")) / "snapshots"
        locs += snapshots(repo) or [snaps / "<revision>"]
    return locs


def find_pipeline(spec: str | os.PathLike[str] | None = None) -> tuple[str, Path]:
    """``(name, folder)`` of a Stable Audio pipeline: a path or a known name (default SAO 1.0).

    Raises
    ------
    ModelNotFoundError
        One line naming where songmint looked and how to provide the weights.
    """
    if spec is None:
        spec = DEFAULT_MODEL
    text = os.fspath(spec)
    p = Path(text).expanduser()
    if text not in REPOS and (p.exists() or os.sep in text):
        if not is_pipeline(p):
            raise ModelNotFoundError(
                f"{p} is not a diffusers Stable Audio folder (no model_index.json with "
                f"transformer/ and vae/); {HOW_TO_PROVIDE}"
            )
        return p.name, p
    locs = search_locations(text)
    for loc in locs:
        if is_pipeline(loc):
            return text, loc
    raise ModelNotFoundError(
        f"Stable Audio model {text!r} not found locally (looked in "
        f"{', '.join(map(str, locs))}); {HOW_TO_PROVIDE}"
    )


@dataclass(frozen=True)
class StableAudioParams:
    """Per-request settings (``Request.params``): ``negative_prompt``, ``steps`` and ``guidance``
    (default: the engine's), ``n`` variations, ``init_audio`` (path or :class:`Audio`) with
    ``strength`` (0..1, default 0.5) for a variation, ``prompt_embeds`` (a tensor, instead of the
    prompt), ``source`` (a name recorded in provenance)."""

    negative_prompt: str | None = None
    steps: int | None = None
    guidance: float | None = None
    n: int = 1
    init_audio: Any = None
    strength: float | None = None
    prompt_embeds: Any = None
    source: str | None = None

    def __post_init__(self) -> None:
        if self.n < 1:
            raise EngineError("n (number of variations) must be at least 1")


_DD_ONLY = ("inpaint", "extend", "loop", "sampler", "repaint")


class StableAudioEngine(DiffusersEngine):
    """Text-to-audio with Stable Audio Open (diffusers ``StableAudioPipeline``).

    Parameters
    ----------
    model : str or path-like, optional
        A pipeline folder or a known name (default, where the CLI does not pass ``$SONGMINT_STABLE_AUDIO``:
        ``stable-audio-open-1.0``), looked up locally only; ``checkpoint`` is its older name.
    pipeline : StableAudioPipeline, optional
        An already built pipeline (tests; then ``model`` only names it).
    device : str
        ``"cpu"``, ``"cuda"`` or ``"auto"``.
    dtype : {"float32", "float16", "bfloat16"}
    steps : int
        Default denoising steps (100 in Stability's reference settings).
    guidance : float
        Classifier-free guidance scale (7.0).
    """

    name = "stable-audio"
    Params = StableAudioParams
    DTYPES = ("float32", "float16", "bfloat16")

    def __init__(
        self,
        *,
        model: str | None = None,
        checkpoint: str | None = None,
        pipeline: StableAudioPipeline | None = None,
        device: str = "cpu",
        dtype: str = "float32",
        steps: int = 100,
        guidance: float = 7.0,
    ) -> None:
        super().__init__(model=model, checkpoint=checkpoint, loaded=pipeline, device=device, dtype=dtype)
        self._folder: Path | None = None
        self._model_name = str(self._spec) if self._spec else ("in-memory" if pipeline else DEFAULT_MODEL)
        self.steps = int(steps)
        self.guidance = float(guidance)

    def _find(self) -> tuple[str, Path]:
        return find_pipeline(self._spec)

    def _load(self) -> StableAudioPipeline:
        import torch
        from diffusers import StableAudioPipeline

        self._model_name, self._folder = self._find()
        try:
            pipe = StableAudioPipeline.from_pretrained(
                self._folder, local_files_only=True, dtype=getattr(torch, self.dtype_name)
            )
        except (OSError, ValueError) as exc:
            raise EngineError(
                f"{self._folder}: cannot load a StableAudioPipeline ({' '.join(str(exc).split())[:200]})"
            ) from exc
        return pipe.to(self.device)

    def _hash_weights(self) -> str | None:
        """sha256 over the sorted ``(relative path, sha256)`` of every weights file of the pipeline."""
        from music.hashing import weights_sha256

        return None if self._folder is None else (weights_sha256(self._folder) or "")

    @property
    def pipe(self) -> StableAudioPipeline:
        """The pipeline, loaded on first use (local files only)."""
        pipe = self._model()
        pipe.set_progress_bar_config(disable=True)
        return pipe

    @property
    def sample_rate(self) -> int:
        return int(self.pipe.vae.config.sampling_rate)

    @property
    def max_seconds(self) -> float:
        p = self.pipe
        return float(p.transformer.config.sample_size * p.vae.hop_length / self.sample_rate)

    def model_info(self) -> dict[str, Any]:
        """Model name, weights sha256, rate and scheduler: the provenance of the weights."""
        pipe = self.pipe
        return {"model": self._model_name, "weights_sha256": self._weights_sha256(),
                "model_sample_rate": self.sample_rate, "scheduler": type(pipe.scheduler).__name__}

    def _parse(self, request: Request) -> StableAudioParams:
        other = [k for k in _DD_ONLY if request.params.get(k) is not None]
        if other:
            raise EngineError(f"{', '.join(other)} apply to --engine dance-diffusion, not stable-audio")
        return super()._parse(request)

    def _settings(self, p: StableAudioParams) -> tuple[int, float]:
        """Sampler steps and guidance scale of a request: its own, else the engine's."""
        return int(p.steps or self.steps), self.guidance if p.guidance is None else float(p.guidance)

    def _call(
        self,
        p: StableAudioParams,
        *,
        prompt: str | None,
        seconds: float | None,
        seed: int,
        latents: Any = None,
    ) -> list[Audio]:
        """``p.n`` clips of ``seconds`` (default the model's window) from one pipeline call, with
        ``p``'s negative prompt, prompt embeddings, steps and guidance."""
        import torch

        pipe = self.pipe
        end = self.max_seconds if seconds is None else float(seconds)
        if end <= 0:
            raise EngineError("seconds must be positive")
        if end > self.max_seconds + 1e-9:
            raise EngineError(
                f"Stable Audio makes at most {self.max_seconds:.2f} s per take; asked for {end:g} s"
            )
        if prompt is None and p.prompt_embeds is None:
            raise EngineError("Stable Audio needs a text prompt")
        steps, guidance = self._settings(p)
        gen = torch.Generator("cpu").manual_seed(int(seed))
        out = pipe(
            prompt=None if p.prompt_embeds is not None else prompt,
            prompt_embeds=p.prompt_embeds,
            negative_prompt=p.negative_prompt,
            audio_end_in_s=end,
            num_inference_steps=int(steps),
            guidance_scale=float(guidance),
            num_waveforms_per_prompt=int(p.n),
            generator=gen,
            latents=latents,
            output_type="pt",
        ).audios
        arr = out.float().clamp(-1, 1).cpu().numpy()
        return [Audio(np.ascontiguousarray(a), self.sample_rate) for a in arr]

    def generate(self, request: Request, *, progress: Progress | None = None) -> Take:
        """Text-to-audio; ``init_audio`` + ``strength`` (:class:`StableAudioParams`) make it a variation.
        ``progress`` is accepted for the protocol (the pipeline runs as one call)."""
        p = self._parse(request)
        if p.init_audio is not None:
            audio = load(p.init_audio) if not isinstance(p.init_audio, Audio) else p.init_audio
            source = p.source or str(p.init_audio)
            return self.vary(audio, Request(prompt=request.prompt, seed=request.seed,
                                            params={**request.params, "init_audio": None, "source": source}))
        steps, guidance = self._settings(p)
        clips = self._call(p, prompt=request.prompt, seconds=request.seconds, seed=request.seed)
        params = {**params_record(p), "prompt": request.prompt, "seconds": request.seconds, "steps": steps,
                  "guidance": guidance}
        params.pop("prompt_embeds")
        return self._take(clips, "generate", request.seed, params)

    def vary(self, audio: Audio, request: Request | None = None, *, progress: Progress | None = None
             ) -> Take:
        """Variations of ``audio`` guided by ``request.prompt`` (see the module docs).

        ``request.params`` (:class:`StableAudioParams`): ``strength`` (default 0.5),
        ``negative_prompt``, ``n``, ``steps``, ``guidance``, ``prompt_embeds``, ``source``. The
        output has the input's length (capped at the model's window) at the model's rate.
        """
        request = request or Request()
        return self._vary(audio, self._parse(request), prompt=request.prompt, seed=request.seed)

    def _vary(self, audio: Audio, p: StableAudioParams, *, prompt: str | None, seed: int) -> Take:
        import torch

        strength = 0.5 if p.strength is None else p.strength
        n = p.n
        if not 0.0 <= strength <= 1.0:
            raise EngineError(f"strength must be in [0, 1], got {strength}")
        pipe = self.pipe
        sr = self.sample_rate
        a = to_channels(resample(audio, sr), int(pipe.vae.config.audio_channels))
        n_out = min(a.n, round(self.max_seconds * sr))
        a = a.with_samples(a.samples[:, :n_out])
        steps, guidance = self._settings(p)
        params = {
            "prompt": prompt,
            "negative_prompt": p.negative_prompt,
            "strength": strength,
            "steps": steps,
            "guidance": guidance,
            "n": n,
            "init_audio": p.source,
        }
        if strength == 0.0:
            clips = [a] * n
        else:
            window = int(pipe.transformer.config.sample_size) * int(pipe.vae.hop_length)
            x = torch.zeros((1, a.channels, window), dtype=pipe.vae.dtype)
            x[0, :, :n_out] = torch.from_numpy(np.array(a.samples))
            gen = torch.Generator("cpu").manual_seed(int(seed))
            with torch.inference_mode():
                z0 = pipe.vae.encode(x.to(self.device)).latent_dist.mode()
            scheduler = pipe.scheduler
            cfg = scheduler.config
            smin, smax = float(cfg.sigma_min), float(cfg.sigma_max)
            sigma = smin * (smax / smin) ** strength
            noise = torch.randn((n, *z0.shape[1:]), generator=gen).to(self.device, z0.dtype)
            varied = type(scheduler).from_config(cfg, sigma_max=sigma)
            # The pipeline multiplies latents by init_noise_sigma = sqrt(σ'^2 + 1); pre-divide so
            # that the start is exactly z0 + σ' ε.
            latents = (z0.repeat(n, 1, 1) + sigma * noise) / varied.init_noise_sigma
            pipe.scheduler = varied
            try:
                clips = self._call(p, prompt=prompt, seconds=n_out / sr, seed=seed, latents=latents)
            finally:
                pipe.scheduler = scheduler
        return self._take(clips, "vary", seed, params)
