"""``songmint verify RELEASE_DIR | METADATA``: check a release against its own claims.

Checks, each reported as a row (ok / MISMATCH / skipped with the reason):

- every asset in ``manifest.json``: present, sha256 and CID recomputed;
- every token's metadata document: its hash, and each ``properties.assets`` entry's sha256
  and CID against the file on disk;
- ``release.car``: every block hashes to its CID, no missing links, root CID as recorded,
  and the root recomputed from ``assets/ + metadata/ + collection.json``;
- tracks from deterministic engines (composer, units): re-rendered from the recorded request
  and compared byte for byte with the lossless asset;
- on a reachable network, every published claim against what the chain says: the contract's
  name, symbol, ``contractURI`` and URI prefix; the royalty (``royaltyInfo``) against
  ``collection.json``'s ``seller_fee_basis_points``/``fee_recipient`` and the spec's declared
  values, and per token; each token's ``uri(id)``, cap (also as its metadata states it) and
  ``totalSupply``.

Exit status: 0 when everything checked matches, 3 when anything does not.

The package: :mod:`~songmint.verify.files` (claims about files), :mod:`~songmint.verify.render`
(re-renders), :mod:`~songmint.verify.chain` (claims about the chain and its sales),
:mod:`~songmint.verify.run` (``verify_release``), :mod:`~songmint.verify.target`,
:mod:`~songmint.verify.report` and :mod:`~songmint.verify.command` (the click command).
"""

from songmint.verify.command import verify
from songmint.verify.report import MISMATCH_EXIT, Report
from songmint.verify.run import verify_release
from songmint.verify.target import resolve_target

__all__ = ["MISMATCH_EXIT", "Report", "resolve_target", "verify", "verify_release"]
