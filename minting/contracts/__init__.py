"""The SongmintEditions Solidity source, its committed artifact (ABI + bytecode) and the build script.

See docs/chain.md. ``python -m minting.contracts.build`` rebuilds the artifacts with the pinned
solc-js; :func:`minting.chain.load_artifact` reads them.
"""
