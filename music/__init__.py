"""music: audio I/O and loudness, generation engines, takes, and trait extraction.

``music.audio.Audio`` is the one audio value: ``(channels, n)`` float32 plus ``sr``.
Engines live in ``music.engines`` (imported lazily by name); traits in ``music.traits``.
"""
