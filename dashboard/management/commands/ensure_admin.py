"""Make sure someone can log in the first time, without ever shipping a fixed password."""

from __future__ import annotations

import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from dashboard.roles import ADMIN
from dashboard.services import user_set_role


class Command(BaseCommand):
    help = "Create an admin user with a random password if no admin exists yet."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")

    def handle(self, *args, username: str, **options):
        User = get_user_model()
        admins = User.objects.filter(is_active=True).filter(
            is_superuser=True
        ) | User.objects.filter(is_active=True, groups__name=ADMIN)
        if admins.exists():
            self.stdout.write(
                "An admin user exists. Forgot the password? "
                "Run: .venv/bin/python manage.py changepassword <username>"
            )
            return
        if User.objects.filter(username=username).exists():
            self.stderr.write(f"User {username!r} exists but is not an admin; pick --username.")
            raise SystemExit(1)
        password = secrets.token_urlsafe(12)
        user = User.objects.create_superuser(username=username, email="", password=password)
        user_set_role(actor=None, user=user, role=ADMIN)
        bar = "=" * 64
        self.stdout.write(
            f"{bar}\nFirst run: log in as  {username}  with password  {password}\n"
            f"It is shown only this once; change it with\n"
            f"  .venv/bin/python manage.py changepassword {username}\n{bar}"
        )
