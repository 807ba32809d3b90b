"""The ``musicgen`` engine: MusicGen [1]_ through transformers, from local weights only.

- **Text-to-music**: ``generate(Request(prompt=..., seconds=...))`` with top-k / top-p / temperature /
  classifier-free guidance and a seed.
- **Continuation**: ``continue_(audio, request)`` encodes the prompt with EnCodec (``input_values`` +
  ``padding_mask``) and generates what follows; the prompt itself is kept bit for bit at the start of the
  output, except its last ``crossfade_ms``, which crossfade into the model's reconstruction.
- **Melody conditioning** (``musicgen-melody`` checkpoints): ``params["melody"]`` (an :class:`Audio` or a
  path); its chromagram is computed with librosa as in audiocraft (n_fft 16384, hop 4096 at 32 kHz, one-hot
  argmax chroma), not with the torchaudio feature extractor.
- **Long form**: beyond ``window_s`` (30 s), a sliding window: each new window is prompted with the last
  ``window_s − extend_stride_s`` seconds and adds ``extend_stride_s`` seconds, joined with a short crossfade
  against the window's reconstruction of its own prompt.

Weights load from a local folder or the local Hugging Face cache with ``local_files_only=True``; torch and
transformers are imported only here.

Output length: EnCodec runs at 50 frames/s (640 samples at 32 kHz) and MusicGen's delay pattern drops
``num_codebooks − 1`` frames, so ``max_new_tokens = 50 · seconds + 3`` gives ``seconds`` of audio.

References
----------
.. [1] J. Copet et al., "Simple and controllable music generation", NeurIPS 2023.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Literal

import numpy as np

from music import hashing
from music.audio import Audio, conform, load, resample
from music.engines import weights
from music.engines.base import Progress, Request, Take, params_record, parse_params
from music.errors import EngineError, ModelNotFoundError

DEFAULT_MODEL = "facebook/musicgen-small"
DEFAULT_SECONDS = 10.0
"""Length of text-to-music when the request gives none."""
MODEL_ENV = "SONGMINT_MUSICGEN_MODEL"
"""Read by the CLI (``--model``'s default for this engine), never here."""
WEIGHT_SUFFIXES = (".safetensors", ".bin")

@dataclass(frozen=True)
class MusicgenParams:
    """Per-request settings (``Request.params``; all recorded in provenance). ``top_k`` 250 and
    ``guidance_scale`` 3 are audiocraft's defaults; ``top_p`` 0 disables nucleus sampling; ``cache``
    ``"static"`` pre-allocates the key/value cache (same samples, see ``benchmarks/continuation.py``);
    ``dtype`` and ``quantize`` override the engine's own numerics; ``melody`` is an :class:`Audio` or a
    path (melody checkpoints). The checkpoint itself is chosen when the engine is built."""

    top_k: int = 250
    top_p: float = 0.0
    temperature: float = 1.0
    guidance_scale: float = 3.0
    window_s: float = 30.0
    extend_stride_s: float = 18.0
    crossfade_ms: float = 20.0
    melody: Any = None
    cache: Literal["dynamic", "static"] = "dynamic"
    dtype: Literal["float32", "bfloat16"] | None = None
    quantize: Literal["int8"] | None = None


DEFAULTS: dict[str, Any] = {f.name: f.default for f in fields(MusicgenParams)}
"""The defaults of :class:`MusicgenParams`, by name."""

DTYPES = ("float32", "bfloat16")
QUANTIZE = (None, "int8")


@dataclass
class Loaded:
    """A loaded checkpoint: model, tokenizer (or ``None``), where it came from and its weights hash."""

    model: Any
    tokenizer: Any
    path: Path
    model_id: str
    weights_sha256: str
    melody: bool
    dtype: str = "float32"
    quantize: str | None = None

    @property
    def sr(self) -> int:
        return int(self.model.config.audio_encoder.sampling_rate)

    @property
    def channels(self) -> int:
        return int(self.model.config.decoder.audio_channels)

    @property
    def frame_rate(self) -> int:
        return int(self.model.config.audio_encoder.frame_rate)

    @property
    def hop(self) -> int:
        return self.sr // self.frame_rate


def resolve_checkpoint(model: str | os.PathLike[str] | None = None) -> tuple[Path, str]:
    """Local folder of a MusicGen checkpoint: ``model`` as a folder, else as a Hugging Face id in the
    local cache (never downloaded). Returns ``(folder, model id)``.

    Raises
    ------
    ModelNotFoundError
        Naming where it looked and how to provide the weights.
    """
    name = str(model or DEFAULT_MODEL)
    p = Path(name).expanduser()
    if p.is_dir():
        if not (p / "config.json").is_file():
            raise ModelNotFoundError(f"{p} has no config.json; it is not a MusicGen checkpoint folder")
        return p.resolve(), name
    entry = weights.known(name)
    if entry is None and not weights.is_repo_id(name):
        names = ", ".join(k for k, m in weights.KNOWN_MODELS.items() if m.engine == "musicgen")
        raise ModelNotFoundError(
            f"no MusicGen checkpoint folder at {p}; pass --model with a folder holding config.json, "
            f"or a model name ({names})"
        )
    repo = entry.repo if entry else name
    folder = weights.snapshot(repo, check=_complete)
    if folder is None:
        raise ModelNotFoundError(
            f"MusicGen weights {name!r} are not in the Hugging Face cache {weights.hf_cache_dir()}; "
            f"fetch them once with {weights.pull_hint(name)} (or pass --model /path/to/checkpoint)"
        )
    return folder, repo


def _complete(folder: Path) -> bool:
    """A snapshot with a config and its weights (a pull that failed half-way has no weights)."""
    names = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin")
    return (folder / "config.json").is_file() and any((folder / f).exists() for f in names)


def weights_sha256(folder: Path) -> str:
    """sha256 of the weight file, or of ``"name sha256"`` lines when the weights are sharded."""
    digest = hashing.weights_sha256(folder)
    if digest is None:
        raise ModelNotFoundError(f"{folder} has no weight files (*.safetensors or *.bin)")
    return digest


def melody_chroma(audio: Audio, *, sr: int = 32_000, n_fft: int = 16_384, hop: int = 4_096) -> np.ndarray:
    """Audiocraft's melody conditioning, with librosa: one-hot dominant pitch class per frame.

    Parameters
    ----------
    audio : Audio
        Any rate and channel count (mixed to mono, resampled to ``sr``).

    Returns
    -------
    np.ndarray, shape=(frames, 12), dtype=float32
        ``frames = 1 + n // hop``; a 1 at the strongest chroma bin of each frame.
    """
    import librosa

    y = resample(conform(audio, channels=1), sr).mono().astype(np.float64)
    if y.size < n_fft:
        pad = n_fft - y.size
        y = np.pad(y, (pad // 2, pad - pad // 2))
    spec = np.abs(librosa.stft(y, n_fft=n_fft, hop_length=hop, center=True, pad_mode="reflect")) ** 2
    fb = librosa.filters.chroma(sr=sr, n_fft=n_fft, tuning=0.0, n_chroma=12)
    chroma = fb @ spec
    out = np.zeros((chroma.shape[1], 12), dtype=np.float32)
    out[np.arange(chroma.shape[1]), np.argmax(chroma, axis=0)] = 1.0
    return out


class MusicgenEngine:
    """MusicGen text-to-music, continuation, melody conditioning and long form, on local weights.

    Parameters
    ----------
    model : str or path-like, optional
        A name (``musicgen-small``), a Hugging Face id in the local cache or a checkpoint folder;
        default ``facebook/musicgen-small`` (the CLI passes ``$SONGMINT_MUSICGEN_MODEL`` when set).
        Fixed for the engine's life.
    dtype : {"float32", "bfloat16"}
        Weights and activations (``params["dtype"]`` overrides it).
    quantize : {None, "int8"}
        ``"int8"``: the decoder's linear layers in dynamic int8, ~2.7x less CPU per token here
        (``params["quantize"]`` overrides it).
    """

    name = "musicgen"
    version = "1.0.0"
    deterministic = False
    Params = MusicgenParams

    def __init__(self, *, model: str | os.PathLike[str] | None = None, dtype: str = "float32",
                 quantize: str | None = None) -> None:
        _check_numerics(dtype, quantize)
        self.model = model
        self.dtype = dtype
        self.quantize = quantize
        self._loaded: dict[str, Loaded] = {}
        self._fixed: Loaded | None = None

    @classmethod
    def from_model(cls, model: Any, *, tokenizer: Any = None, model_id: str = "in-memory",
                   quantize: str | None = None) -> MusicgenEngine:
        """An engine around an already constructed model (its weights are hashed from the state dict,
        before any quantisation)."""
        import torch
        import transformers

        engine = cls(dtype=str(model.dtype).removeprefix("torch."), quantize=quantize)
        h = hashlib.sha256()
        for name, tensor in sorted(model.state_dict().items()):
            h.update(name.encode())
            h.update(tensor.detach().contiguous().view(-1).view(torch.uint8).numpy())
        melody = isinstance(model, transformers.MusicgenMelodyForConditionalGeneration)
        if quantize:
            import copy

            model = copy.deepcopy(model)  # leave the caller's model as it was
        model = _quantized(model.eval(), quantize)
        engine._fixed = Loaded(model, tokenizer, Path("<memory>"), model_id, h.hexdigest(), melody,
                               engine.dtype, quantize)
        return engine

    # ------------------------------------------------------------------ loading

    def require_weights(self) -> None:
        """Find the checkpoint without loading it (:func:`resolve_checkpoint`; raises when it is missing)."""
        if self._fixed is None:
            resolve_checkpoint(self.model)

    def load(self, model: str | os.PathLike[str] | None = None, *, dtype: str | None = None,
             quantize: str | None = None) -> Loaded:
        """Load (once) the checkpoint ``model`` (or the engine's default), in ``dtype`` and with
        ``quantize`` (default: the engine's). An engine made by :meth:`from_model` returns its model."""
        if self._fixed is not None and model is None:
            return self._fixed
        dtype, quantize = dtype or self.dtype, quantize or self.quantize
        _check_numerics(dtype, quantize)
        folder, model_id = resolve_checkpoint(model or self.model)
        key = f"{folder}|{dtype}|{quantize}"
        if key in self._loaded:
            return self._loaded[key]
        import torch
        import transformers

        config = json.loads((folder / "config.json").read_text())
        melody = config.get("model_type") == "musicgen_melody"
        cls = (transformers.MusicgenMelodyForConditionalGeneration if melody
               else transformers.MusicgenForConditionalGeneration)
        try:
            model_obj = cls.from_pretrained(folder, local_files_only=True, dtype=getattr(torch, dtype)).eval()
            model_obj = _quantized(model_obj, quantize)
        except OSError as exc:
            why = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise ModelNotFoundError(f"cannot load MusicGen from {folder}: {why}") from exc
        tokenizer = None
        tok_files = ("tokenizer.json", "spiece.model", "tokenizer_config.json")
        if any((folder / f).is_file() for f in tok_files):
            tokenizer = transformers.AutoTokenizer.from_pretrained(folder, local_files_only=True)
        loaded = Loaded(model_obj, tokenizer, folder, model_id, weights_sha256(folder), melody,
                        dtype, quantize)
        self._loaded[key] = loaded
        return loaded

    # ------------------------------------------------------------------ operations

    def generate(self, request: Request, *, progress: Progress | None = None) -> Take:
        """Text-to-music: ``request.prompt`` (may be empty: unconditional), ``request.seconds`` long
        (:data:`DEFAULT_SECONDS` if not given); ``params["melody"]`` for melody checkpoints.
        ``progress(done, total)`` is called after each window."""
        return self._run(request, prompt_audio=None, progress=progress)

    def continue_(self, audio: Audio, request: Request, *, progress: Progress | None = None) -> Take:
        """Continue ``audio`` by ``request.seconds``; ``request.prompt`` (text) steers it if given.

        Returns a take whose mix is the prompt (kept as it was, at its own rate and channels) followed by
        the continuation; ``extras["continuation"]`` holds the continuation alone.
        """
        return self._run(request, prompt_audio=audio, progress=progress)

    # ------------------------------------------------------------------ internals

    def _run(self, request: Request, *, prompt_audio: Audio | None, progress: Progress | None = None) -> Take:
        parsed = parse_params(MusicgenParams, request.params, engine="musicgen")
        params = {f.name: getattr(parsed, f.name) for f in fields(parsed)}
        seconds = request.seconds
        if seconds is None and prompt_audio is None:
            seconds = DEFAULT_SECONDS
        if seconds is None or not 0 < float(seconds) <= 3600:
            raise EngineError("give the length in seconds (0 < seconds <= 3600)")
        window_s, stride_s = float(params["window_s"]), float(params["extend_stride_s"])
        if not 0 < stride_s < window_s:
            raise EngineError(f"extend_stride_s ({stride_s:g}) must be in (0, window_s = {window_s:g})")
        loaded = self.load(dtype=params["dtype"], quantize=params["quantize"])
        if params["melody"] is not None and not loaded.melody:
            raise EngineError(f"{loaded.model_id} is not a melody checkpoint; use e.g. "
                              "facebook/musicgen-melody for --melody")
        if prompt_audio is not None and loaded.melody:
            raise EngineError("audio continuation needs a non-melody MusicGen checkpoint "
                              "(e.g. facebook/musicgen-small)")
        melody = params["melody"]
        chroma = None
        if melody is not None:
            melody_audio = melody if isinstance(melody, Audio) else load(melody)
            chroma = melody_chroma(melody_audio, sr=loaded.sr)
        context = None
        if prompt_audio is not None:
            context = conform(prompt_audio, sr=loaded.sr, channels=loaded.channels).samples
        text_inputs = self._text_inputs(loaded, request.prompt)
        gen = {"do_sample": True, "top_k": int(params["top_k"]), "top_p": float(params["top_p"]) or None,
               "temperature": float(params["temperature"]), "guidance_scale": float(params["guidance_scale"])}
        if gen["top_k"] == 0:
            gen["top_k"] = None
        if params["cache"] == "static":
            gen["cache_implementation"] = "static"
        import torch

        torch.manual_seed(int(request.seed))
        xfade = int(float(params["crossfade_ms"]) * 1e-3 * loaded.sr)
        new, recon_tail, windows = self._long_form(loaded, text_inputs, context, float(seconds), gen,
                                                   window_s=window_s, stride_s=stride_s, xfade=xfade,
                                                   chroma=chroma, progress=progress)
        provenance = {
            "engine": self.name, "engine_version": self.version,
            "operation": "continue" if prompt_audio is not None else "generate",
            "model_id": loaded.model_id, "model_path": str(loaded.path),
            "weights_sha256": loaded.weights_sha256, "seed": request.seed, "prompt": request.prompt,
            "seconds": float(seconds),
            "params": {**params_record(parsed),
                       "melody": None if params["melody"] is None else str(params["melody"])},
            "sample_rate": loaded.sr, "windows": windows, "dtype": loaded.dtype, "quantize": loaded.quantize,
            "torch": torch.__version__,
        }
        if chroma is not None:
            provenance["melody_chroma_sha256"] = hashlib.sha256(chroma.tobytes()).hexdigest()
        if prompt_audio is None:
            mix = Audio(np.ascontiguousarray(new, dtype=np.float32), loaded.sr)
            return Take(mix=mix, provenance=provenance, seed=request.seed)
        provenance["audio_prompt"] = {"duration_s": round(prompt_audio.duration, 6),
                                      "sample_rate": prompt_audio.sr, "channels": prompt_audio.channels}
        full, cont = _join_prompt(prompt_audio, recon_tail, new, loaded.sr)
        return Take(mix=full, provenance=provenance, seed=request.seed, extras={"continuation": cont})

    def _text_inputs(self, loaded: Loaded, text: str | None) -> dict[str, Any]:
        import torch

        if text:
            if loaded.tokenizer is None:
                raise ModelNotFoundError(f"{loaded.path} has no tokenizer files; text prompts need them")
            enc = loaded.tokenizer([text], return_tensors="pt", padding=True)
            return {"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"]}
        # unconditional: a null (all-zero, masked) text encoding, as get_unconditional_inputs does
        hidden = loaded.model.config.text_encoder.hidden_size
        return {"encoder_outputs": (torch.zeros((1, 1, hidden), dtype=loaded.model.dtype),),
                "attention_mask": torch.zeros((1, 1), dtype=torch.long)}

    def _window(self, loaded: Loaded, text_inputs: dict[str, Any], context: np.ndarray | None,
                new_frames: int, gen: dict[str, Any], chroma: np.ndarray | None) -> tuple[np.ndarray, int]:
        """One generate call; returns the decoded audio ``(channels, n)`` and the context length in it."""
        import torch

        kwargs = dict(text_inputs)
        ctx = 0
        if context is not None and context.shape[1] >= loaded.hop:
            ctx = context.shape[1] // loaded.hop * loaded.hop  # whole frames: the boundary is exact
            x = torch.from_numpy(np.array(context[:, -ctx:], dtype=np.float32))[None].to(loaded.model.dtype)
            if loaded.melody:
                codes = loaded.model.audio_encoder.encode(x).audio_codes[0]  # (1, codebooks, frames)
                kwargs["decoder_input_ids"] = codes.reshape(-1, codes.shape[-1])
            else:
                kwargs["input_values"] = x
                kwargs["padding_mask"] = torch.ones((1, ctx), dtype=torch.long)
        if chroma is not None:
            kwargs["input_features"] = torch.from_numpy(chroma)[None].to(loaded.model.dtype)
        if "encoder_outputs" in kwargs and gen.get("guidance_scale", 1) > 1:
            # a null text encoding is its own unconditional branch: guidance would change nothing
            gen = {**gen, "guidance_scale": None}
        with torch.inference_mode():
            out = loaded.model.generate(**kwargs, **gen, max_new_tokens=new_frames + 3)
        return out[0].float().numpy(), ctx

    def _long_form(self, loaded: Loaded, text_inputs: dict[str, Any], context: np.ndarray | None,
                   seconds: float, gen: dict[str, Any], *, window_s: float, stride_s: float, xfade: int,
                   chroma: np.ndarray | None, progress: Progress | None = None
                   ) -> tuple[np.ndarray, np.ndarray | None, int]:
        """Generate ``seconds`` of new audio; returns it, the reconstruction of the prompt's last ``xfade``
        samples (``None`` without a prompt) and the number of windows."""
        fr, sr = loaded.frame_rate, loaded.sr
        want = round(seconds * fr)  # frames to add
        ctx_s = window_s - stride_s
        history = context
        new = np.zeros((loaded.channels, 0), dtype=np.float32)
        recon_tail = None
        windows = 0
        chroma_rate = sr / 4096
        ctx_max = int(ctx_s * sr) // loaded.hop * loaded.hop  # context samples per window, whole frames
        while new.shape[1] < want * loaded.hop:
            done = new.shape[1] // loaded.hop
            part_ctx = None if history is None else history[:, -ctx_max:]
            ctx_frames = 0 if part_ctx is None else part_ctx.shape[1] // loaded.hop
            step = min(want - done, round(window_s * fr) - ctx_frames)
            ch = None
            if chroma is not None:  # the melody where this window starts (its context included)
                start = max(0, int((done - ctx_frames) / fr * chroma_rate))
                ch = chroma[start:] if chroma.shape[0] > start else chroma[-1:]
            audio, ctx = self._window(loaded, text_inputs, part_ctx, step, gen, ch)
            piece = audio[:, ctx:ctx + step * loaded.hop]
            if ctx and windows == 0 and context is not None:
                recon_tail = audio[:, max(0, ctx - xfade):ctx]
            elif ctx and new.shape[1] >= xfade > 0:
                g_out, g_in = _equal_power(xfade)
                new[:, -xfade:] = g_out * new[:, -xfade:] + g_in * audio[:, ctx - xfade:ctx]
            new = np.concatenate([new, piece], axis=1)
            history = new if context is None else np.concatenate([context, new], axis=1)
            windows += 1
            if progress is not None:
                progress(min(new.shape[1] // loaded.hop, want), want)
        return new[:, : want * loaded.hop], recon_tail, windows


def _check_numerics(dtype: str, quantize: str | None) -> None:
    if dtype not in DTYPES:
        raise EngineError(f"dtype {dtype!r} is not one of: {', '.join(DTYPES)}")
    if quantize not in QUANTIZE:
        raise EngineError(f"quantize={quantize!r} must be None or 'int8'")
    if quantize and dtype != "float32":
        raise EngineError("int8 quantisation starts from float32 weights; leave dtype='float32'")


def _quantized(model: Any, quantize: str | None) -> Any:
    """``model`` (changed in place) with its decoder's linear layers in dynamic int8 (int8 weights,
    activations quantised per call) when ``quantize="int8"``: the decoder is memory-bound on CPUs and
    int8 weights cut its traffic 4x. The text encoder and EnCodec stay in float32."""
    if quantize != "int8":
        return model
    import warnings

    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.ao.quantization is deprecated in favour of torchao
        model.decoder = torch.ao.quantization.quantize_dynamic(model.decoder, {torch.nn.Linear},
                                                               dtype=torch.qint8)
    return model


def _equal_power(n: int) -> tuple[np.ndarray, np.ndarray]:
    t = (np.arange(n) + 0.5) / n
    return np.cos(0.5 * np.pi * t).astype(np.float32), np.sin(0.5 * np.pi * t).astype(np.float32)


def _join_prompt(prompt: Audio, recon_tail: np.ndarray | None, new: np.ndarray, model_sr: int
                 ) -> tuple[Audio, Audio]:
    """The prompt (as it was) then the continuation, at the prompt's rate and channel count; the last
    samples of the prompt crossfade into the model's reconstruction of them."""
    tail = recon_tail if recon_tail is not None else np.zeros((new.shape[0], 0), dtype=np.float32)
    model_side = Audio(np.ascontiguousarray(np.concatenate([tail, new], axis=1), dtype=np.float32), model_sr)
    model_side = conform(model_side, sr=prompt.sr, channels=prompt.channels)
    xf = min(round(tail.shape[1] * prompt.sr / model_sr), prompt.n, model_side.n)
    x = model_side.samples
    head = prompt.samples.copy()
    if xf > 0:
        g_out, g_in = _equal_power(xf)
        head[:, -xf:] = g_out * head[:, -xf:] + g_in * x[:, :xf]
    cont = np.ascontiguousarray(x[:, xf:])
    full = np.concatenate([head, cont], axis=1)
    return Audio(full, prompt.sr), Audio(cont, prompt.sr)
