"""cover_art."""
