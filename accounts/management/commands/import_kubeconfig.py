"""Store a kubeconfig as a cloud account; the same validation as the web form."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from accounts import services
from accounts.forms import MAX_KUBECONFIG_BYTES
from accounts.kubeconfig import KubeconfigError, validate_kubeconfig
from accounts.management.commands._common import owner_for


class Command(BaseCommand):
    help = "Import a kubeconfig file as a cloud account (each context becomes a cluster)."

    def add_arguments(self, parser):
        parser.add_argument("path", help="kubeconfig file, or - for standard input")
        parser.add_argument("--name", required=True, help="account name")
        parser.add_argument("--owner", help="username that owns the account")

    def handle(self, *args, path: str, name: str, owner: str | None, **options):
        user = owner_for(owner)
        if path == "-":
            import sys

            raw = sys.stdin.buffer.read(MAX_KUBECONFIG_BYTES + 1)
        else:
            file = Path(path)
            if not file.is_file():
                raise CommandError(f"No such file: {path}")
            with file.open("rb") as handle:
                raw = handle.read(MAX_KUBECONFIG_BYTES + 1)
        try:
            validated = validate_kubeconfig(raw)
            account = services.kubeconfig_account_create(
                actor=user, name=name, kubeconfig=raw.decode("utf-8"), validated=validated
            )
        except KubeconfigError as exc:
            raise CommandError(exc.message) from exc
        except services.ApplicationError as exc:
            raise CommandError(exc.message) from exc
        for warning in validated.warnings:
            self.stderr.write(f"warning: {warning}")
        clusters = ", ".join(account.clusters.values_list("name", flat=True))
        self.stdout.write(
            f"Imported account {account.name} (id {account.pk}); clusters: "
            f"{clusters}. Connection checks are queued."
        )
