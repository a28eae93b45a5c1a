"""Celery tasks for accounts: take ids, never credentials."""

from __future__ import annotations

from celery import shared_task

from accounts import services


@shared_task(acks_late=True)
def verify_credential(credential_id: int) -> None:
    services.credential_verify(credential_id=credential_id)
