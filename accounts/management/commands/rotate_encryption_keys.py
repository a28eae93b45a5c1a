"""Re-encrypt every stored credential with the newest key in REGCRED_ENCRYPTION_KEYS."""

from __future__ import annotations

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.encryption import EncryptedTextField


class Command(BaseCommand):
    help = "Re-encrypt every stored secret with the first (newest) encryption key."

    def handle(self, *args, **options):
        total = 0
        for model in apps.get_models():
            names = [
                f.attname for f in model._meta.get_fields() if isinstance(f, EncryptedTextField)
            ]
            if not names:
                continue
            count = 0
            with transaction.atomic():
                # Reading decrypts with whichever key matches; writing encrypts with the first.
                for row in model._base_manager.values("pk", *names).iterator():
                    pk = row.pop("pk")
                    model._base_manager.filter(pk=pk).update(**row)
                    count += 1
            self.stdout.write(f"{model._meta.label}: {count} rows ({', '.join(names)})")
            total += count
        self.stdout.write(f"Re-encrypted {total} rows with the newest key.")
