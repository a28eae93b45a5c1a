from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.encryption import EncryptedTextField


class CloudAccount(models.Model):
    """Where clusters come from: TKE API keys, a kubeconfig, or a service-account token.

    The credential material is encrypted at rest and write-only in the UI. Each cluster the
    account yields keeps its own encrypted connection (see ``clusters.Cluster``).
    """

    class Kind(models.TextChoices):
        TKE = "tke", _("Tencent TKE")
        KUBECONFIG = "kubeconfig", _("Kubeconfig")
        SERVICEACCOUNT = "serviceaccount", _("Service account")

    name = models.CharField(_("name"), max_length=100, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="cloud_accounts",
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    # Tencent TKE: the SecretId identifies the key pair and is shown masked; the key is secret.
    tke_secret_id = models.CharField(max_length=128, blank=True)
    tke_secret_key = EncryptedTextField(blank=True)
    tke_region = models.CharField(max_length=32, blank=True)
    tke_extranet = models.BooleanField(default=False)

    # Kubeconfig: the validated text as pasted (only inline credentials ever get this far).
    kubeconfig = EncryptedTextField(blank=True)

    # Service account: URL and CA are not secret; the token is.
    api_url = models.CharField(max_length=500, blank=True)
    sa_token = EncryptedTextField(blank=True)
    ca_pem = models.TextField(blank=True)

    warnings = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def masked_secret_id(self) -> str:
        sid = self.tke_secret_id
        return f"{sid[:4]}…{sid[-4:]}" if len(sid) > 10 else "…"


class RegistryCredential(models.Model):
    """A private-registry login that the product writes into clusters as a pull Secret."""

    class Verification(models.TextChoices):
        UNKNOWN = "unknown", _("Not checked")
        CHECKING = "checking", _("Checking")
        VERIFIED = "verified", _("Verified")
        FAILED = "failed", _("Failed")

    name = models.CharField(_("name"), max_length=100, unique=True)
    server = models.CharField(_("registry server"), max_length=255)
    username = models.CharField(_("username"), max_length=255)
    password = EncryptedTextField(_("password or token"))
    email = models.EmailField(_("email"), blank=True)
    # Not secret: only needed for a registry whose certificate a private CA signed.
    ca_pem = models.TextField(_("CA certificate"), blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="registry_credentials",
    )
    is_default = models.BooleanField(
        _("default for its owner"),
        default=False,
        help_text=_("Used for the Secret that onboarding a TKE account creates."),
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    verification = models.CharField(
        max_length=16, choices=Verification.choices, default=Verification.UNKNOWN
    )
    verification_message = models.TextField(blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
