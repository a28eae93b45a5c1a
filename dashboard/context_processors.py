from __future__ import annotations

from django.http import HttpRequest

from dashboard.roles import user_role


def roles(request: HttpRequest) -> dict:
    """Expose the user's role so templates show only the buttons they may press."""
    role = user_role(request.user) if hasattr(request, "user") else None
    return {
        "user_role": role,
        "can_operate": role in ("operator", "admin"),
        "is_admin": role == "admin",
    }
