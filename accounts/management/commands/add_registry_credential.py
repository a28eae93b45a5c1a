"""Store a registry credential; the password comes on standard input."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from accounts import services
from accounts.forms import RegistryCredentialForm
from accounts.management.commands._common import owner_for, secret_from_stdin


class Command(BaseCommand):
    help = "Add a private-registry credential (password read from stdin)."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True)
        parser.add_argument("--server", required=True)
        parser.add_argument("--username", required=True)
        parser.add_argument("--email", default="")
        parser.add_argument(
            "--ca-file",
            help="PEM file of the private CA that signed the registry's TLS certificate",
        )
        parser.add_argument(
            "--password-stdin",
            action="store_true",
            required=True,
            help="read the password or token from standard input",
        )
        parser.add_argument(
            "--verify",
            action="store_true",
            help="log in to the registry now; exit non-zero if it refuses",
        )
        parser.add_argument(
            "--default", action="store_true", help="make it the owner's default credential"
        )
        parser.add_argument("--owner", help="username that owns the credential")

    def handle(self, *args, **opts):
        owner = owner_for(opts["owner"])
        ca_pem = ""
        if opts["ca_file"]:
            ca_file = Path(opts["ca_file"])
            if not ca_file.is_file():
                raise CommandError(f"No such file: {opts['ca_file']}")
            ca_pem = ca_file.read_text(errors="replace")
        password = secret_from_stdin("password")
        form = RegistryCredentialForm(
            {
                "name": opts["name"],
                "server": opts["server"],
                "username": opts["username"],
                "password": password,
                "email": opts["email"],
                "ca_pem": ca_pem,
                "is_default": opts["default"],
            }
        )
        if not form.is_valid():
            raise CommandError(
                "; ".join(f"{field}: {' '.join(errors)}" for field, errors in form.errors.items())
            )
        data = form.cleaned_data | {"verify": False}
        try:
            credential = services.credential_create(actor=owner, **data)
        except services.ApplicationError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"Stored credential {credential.name} (id {credential.pk}).")
        if opts["verify"]:
            credential = services.credential_verify(credential_id=credential.pk)
            if credential.verification != credential.Verification.VERIFIED:
                raise CommandError(f"Verification failed: {credential.verification_message}")
            self.stdout.write(f"Verified: {credential.verification_message}")
