"""The click command ``songmint verify``."""

from __future__ import annotations

import click

from songmint.verify.report import MISMATCH_EXIT
from songmint.verify.run import verify_release
from songmint.verify.target import resolve_target


@click.command("verify")
@click.argument("target", metavar="RELEASE_DIR|METADATA")
@click.option("--no-render", is_flag=True, help="Skip re-rendering deterministic tracks.")
@click.option("--no-chain", is_flag=True, help="Skip the on-chain checks.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON on stdout.")
def verify(target: str, no_render: bool, no_chain: bool, as_json: bool) -> None:
    """Verify a release folder (or one token's metadata) against its files, CIDs, engines and chain.

    Exits 0 when everything matches and 3 when anything does not.
    """
    from songmint.console import output, print_json, wide_table

    root, only = resolve_target(target)
    report = verify_release(root, only=only, rerender=not no_render, chain=not no_chain)
    if as_json:
        print_json({"ok": not report.mismatches, "rows": report.rows})
    else:
        wide_table(
            f"verify {root}",
            [{k: r[k] for k in ("status", "check", "subject", "detail")} for r in report.rows],
        )
    o = output()
    if report.mismatches:
        o.info(
            f"{len(report.mismatches)} mismatch(es): "
            + "; ".join(f"{r['subject']}: {r['detail']}" for r in report.mismatches[:5])
        )
        raise click.exceptions.Exit(MISMATCH_EXIT)
    o.info(f"all {sum(r['status'] == 'ok' for r in report.rows)} checks passed")
