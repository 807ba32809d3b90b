"""minting."""
