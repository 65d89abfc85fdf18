"""`minyi privacy purge`: erase contact data a retention period after drafts are adopted."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import with_appcontext

from app import privacy
from app.extensions import db


@click.group("privacy")
def privacy_group() -> None:
    """Personal data: retention."""


@privacy_group.command("purge")
@click.option("--days", type=click.IntRange(min=0), default=None,
              help="Days after adoption (default MINYI_RETENTION_DAYS, 365).")
@click.option("--origin-days", type=click.IntRange(min=0), default=None,
              help="Days a comment keeps its address hash (default MINYI_ORIGIN_DAYS, 30).")
@click.option("--apply", "apply_", is_flag=True,
              help="Erase for real; without it nothing changes and the counts are shown.")
@with_appcontext
def purge_command(days: int | None, origin_days: int | None, apply_: bool) -> None:
    """Erase e-mail addresses, phone numbers and address hashes of commenters and
    registrants on drafts adopted at least DAYS ago, and the address hashes of comments older
    than ORIGIN-DAYS (a dry run unless --apply)."""
    report = privacy.purge(days=days, origin_days=origin_days, apply=apply_)
    if apply_:
        db.session.commit()
    else:
        db.session.rollback()
    verb = "erased" if apply_ else "would erase"
    click.echo(f"drafts adopted on or before {report.cutoff:%Y-%m-%d %H:%M} UTC: "
               f"{', '.join(report.drafts) or 'none'}")
    click.echo(f"{verb}: {report.guest_emails} guest e-mail addresses, "
               f"{report.comment_origins} comment address hashes, "
               f"{report.speaker_contacts} speaker contacts, "
               f"{report.observer_phones} observer phone numbers")
    if not apply_ and report.total:
        click.echo("dry run: nothing was changed; run again with --apply to erase")


def init_app(app: Flask) -> None:
    """Add `minyi privacy` to the command line."""
    app.cli.add_command(privacy_group)
