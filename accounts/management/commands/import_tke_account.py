"""Onboard a Tencent TKE account: discover clusters, fetch kubeconfigs, store."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from accounts import services
from accounts.cloud import TkeError
from accounts.forms import TkeAccountForm
from accounts.management.commands._common import owner_for, secret_from_stdin


class Command(BaseCommand):
    help = "Import a Tencent TKE account (SecretKey read from stdin)."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True)
        parser.add_argument("--region", required=True)
        parser.add_argument("--secret-id", required=True)
        parser.add_argument("--secret-key-stdin", action="store_true", required=True)
        parser.add_argument(
            "--cluster",
            action="append",
            default=[],
            dest="clusters",
            help="TKE cluster id to import (repeatable; default: all)",
        )
        parser.add_argument(
            "--extranet",
            action="store_true",
            help="use the public endpoint instead of the private one",
        )
        parser.add_argument("--owner", help="username that owns the account")

    def handle(self, *args, **opts):
        owner = owner_for(opts["owner"])
        secret_key = secret_from_stdin("SecretKey")
        form = TkeAccountForm(
            {
                "name": opts["name"],
                "secret_id": opts["secret_id"],
                "secret_key": secret_key,
                "region": opts["region"],
                "endpoint": "public" if opts["extranet"] else "private",
                "cluster_ids": " ".join(opts["clusters"]),
            }
        )
        if not form.is_valid():
            raise CommandError(
                "; ".join(f"{field}: {' '.join(errors)}" for field, errors in form.errors.items())
            )
        data = form.cleaned_data
        try:
            account, failures = services.tke_account_create(
                actor=owner,
                name=data["name"],
                secret_id=data["secret_id"],
                secret_key=data["secret_key"],
                region=data["region"],
                cluster_ids=data["cluster_ids"],
                extranet=opts["extranet"],
            )
        except (TkeError, services.ApplicationError) as exc:
            raise CommandError(exc.message) from exc
        for failure in failures:
            self.stderr.write(f"{failure.cluster_id}: {failure.message}")
        clusters = ", ".join(account.clusters.values_list("name", flat=True))
        self.stdout.write(
            f"Imported TKE account {account.name} (id {account.pk}); clusters: {clusters}."
        )
