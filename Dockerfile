# The one image behind web, worker, beat and watcher in docker-compose.yml.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 REGCRED_VAR_DIR=/var/lib/regcred
WORKDIR /app
COPY pyproject.toml README.md ./
COPY dashboard dashboard
COPY accounts accounts
COPY clusters clusters
RUN pip install --no-cache-dir .
COPY . .
RUN useradd --system --home /var/lib/regcred regcred && mkdir -p /var/lib/regcred \
    && chown regcred /var/lib/regcred \
    && DJANGO_DEBUG=0 DJANGO_SECRET_KEY=build-only REGCRED_ENCRYPTION_KEYS=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= \
       DJANGO_STATIC_ROOT=/app/staticfiles python manage.py collectstatic --noinput
ENV DJANGO_STATIC_ROOT=/app/staticfiles
USER regcred
EXPOSE 8000
CMD ["gunicorn", "dashboard.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
