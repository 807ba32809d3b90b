"""Audio-reactive video from a cover and its music: ``render_video`` → MP4 (H.264 + AAC) or WebM.

See ``docs/video.md``. The pieces: :mod:`.timeline` (the music's features per frame),
:mod:`.treatments` (how a frame is drawn), :mod:`.encode` (frames streamed to ffmpeg),
:mod:`.clip` (the whole render).
"""

from __future__ import annotations

from cover_art.video.clip import FORMATS, Video, parse_size, render_video
from cover_art.video.encode import CODECS, Encoding, VideoError, ffmpeg_path
from cover_art.video.timeline import Timeline, analyse
from cover_art.video.treatments import TREATMENTS

__all__ = ["CODECS", "FORMATS", "TREATMENTS", "Encoding", "Timeline", "Video", "VideoError", "analyse",
           "ffmpeg_path", "parse_size", "render_video"]
