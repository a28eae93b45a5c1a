"""Health checks answered before host validation and the HTTPS redirect.

Container health checks call http://127.0.0.1:8000/healthz, a host that production's
ALLOWED_HOSTS rightly does not list and a scheme the HTTPS redirect would bounce. This
middleware sits first and answers only that one path.
"""

from __future__ import annotations

from django.db import connection
from django.http import HttpResponse


class HealthCheckMiddleware:
    path = "/healthz"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path != self.path:
            return self.get_response(request)
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        response = HttpResponse("ok\n", content_type="text/plain")
        response["Cache-Control"] = "no-store"
        return response
