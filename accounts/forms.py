"""Onboarding forms: validation and normalisation a person sees, nothing else."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.cloud import tke_regions
from accounts.dockerconfig import normalise_registry_server
from accounts.kubeconfig import (
    KubeconfigError,
    ValidatedKubeconfig,
    parse_ca_certificate,
    service_account_context,
    validate_api_server_url,
    validate_kubeconfig,
)

MAX_KUBECONFIG_BYTES = 256 * 1024

SECRET_WIDGET_ATTRS = {"autocomplete": "off", "spellcheck": "false"}


class WriteOnlyTextarea(forms.Textarea):
    """A textarea that never renders its value back: a refused kubeconfig holds credentials."""

    def format_value(self, value):
        return None


class AccountNameMixin(forms.Form):
    name = forms.CharField(
        label=_("Account name"),
        max_length=100,
        help_text=_("How this account is shown in the dashboard, e.g. “prod-tke” or “team-a”."),
    )

    def clean_name(self) -> str:
        return self.cleaned_data["name"].strip()


class KubeconfigAccountForm(AccountNameMixin):
    kubeconfig = forms.CharField(
        label=_("Paste it"),
        required=False,
        strip=False,
        widget=WriteOnlyTextarea(attrs={"rows": 12, **SECRET_WIDGET_ATTRS}),
        help_text=_(
            "Paste the file (YAML or JSON). Only inline credentials are accepted: "
            "certificate and key data, tokens or basic auth — no exec plugins, "
            "auth providers or file paths. It is never shown again, so after an error "
            "paste it once more."
        ),
    )
    upload = forms.FileField(label=_("…or upload the file"), required=False)

    validated: ValidatedKubeconfig | None = None

    def __init__(self, *args, upload_dropped: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        # Uploads are kept in memory only; Django silently drops one over its memory limit.
        self.upload_dropped = upload_dropped

    def clean(self):
        cleaned = super().clean()
        text, upload = cleaned.get("kubeconfig") or "", cleaned.get("upload")
        if self.upload_dropped and not upload:
            self.add_error("upload", _("The kubeconfig is larger than 256 KiB."))
            return cleaned
        if upload and text.strip():
            raise forms.ValidationError(_("Paste the kubeconfig or upload it, not both."))
        if upload:
            if upload.size > MAX_KUBECONFIG_BYTES:
                self.add_error("upload", _("The kubeconfig is larger than 256 KiB."))
                return cleaned
            raw = upload.read()
        elif text.strip():
            raw = text.encode()
        else:
            self.add_error("kubeconfig", _("Paste a kubeconfig or choose a file to upload."))
            return cleaned
        try:
            self.validated = validate_kubeconfig(raw)
        except KubeconfigError as exc:
            self.add_error("upload" if upload else "kubeconfig", exc.message)
            return cleaned
        cleaned["kubeconfig_text"] = raw.decode("utf-8")
        return cleaned


class ServiceAccountForm(AccountNameMixin):
    server = forms.CharField(
        label=_("API server URL"),
        max_length=500,
        widget=forms.TextInput(attrs={"placeholder": "https://k8s.example.com:6443"}),
    )
    token = forms.CharField(
        label=_("Service-account token"),
        strip=True,
        widget=forms.PasswordInput(attrs=SECRET_WIDGET_ATTRS, render_value=False),
        help_text=_("As printed by the first command above. Never shown again."),
    )
    ca = forms.CharField(
        label=_("CA certificate"),
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_(
            "PEM (-----BEGIN CERTIFICATE-----) or base64, as printed by the second command above."
        ),
    )

    context = None

    # Each rule is checked at its own field, so the message sits next to what to fix.
    def clean_server(self) -> str:
        try:
            return validate_api_server_url(self.cleaned_data["server"])
        except KubeconfigError as exc:
            raise forms.ValidationError(exc.message) from exc

    def clean_ca(self) -> str:
        try:
            return parse_ca_certificate(self.cleaned_data["ca"])
        except KubeconfigError as exc:
            raise forms.ValidationError(exc.message) from exc

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            self.context = service_account_context(
                server=cleaned["server"],
                token=cleaned["token"],
                ca=cleaned["ca"],
                name=cleaned.get("name") or "service-account",
            )
        except KubeconfigError as exc:
            # Server and CA passed above: what is left to refuse is the token.
            self.add_error("token", exc.message)
        return cleaned


ENDPOINT_CHOICES = [
    ("private", _("Private network endpoint (inside the VPC)")),
    ("public", _("Public endpoint (over the internet)")),
]


class TkeAccountForm(AccountNameMixin):
    secret_id = forms.CharField(label=_("SecretId"), max_length=128)
    secret_key = forms.CharField(
        label=_("SecretKey"), widget=forms.PasswordInput(attrs=SECRET_WIDGET_ATTRS)
    )
    region = forms.ChoiceField(label=_("Region"), choices=())
    endpoint = forms.ChoiceField(
        label=_("Connect through"),
        choices=ENDPOINT_CHOICES,
        initial="public",
        widget=forms.RadioSelect,
        help_text=_(
            "Which API server endpoint of each cluster the dashboard uses. It must be "
            "enabled in the TKE console (Cluster > Basic information)."
        ),
    )
    cluster_ids = forms.CharField(
        label=_("Only these cluster IDs"),
        required=False,
        help_text=_(
            "Space- or comma-separated, e.g. cls-abc123. Leave empty to import every "
            "cluster in the region."
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].choices = tke_regions()

    def clean_secret_id(self) -> str:
        return self.cleaned_data["secret_id"].strip()

    def clean_cluster_ids(self) -> list[str]:
        raw = self.cleaned_data.get("cluster_ids") or ""
        ids = [part for part in raw.replace(",", " ").split() if part]
        bad = [i for i in ids if not i.startswith("cls-")]
        if bad:
            raise forms.ValidationError(
                _("TKE cluster IDs look like cls-abc123; not: %(ids)s") % {"ids": ", ".join(bad)}
            )
        return ids


class AccountEditForm(forms.Form):
    name = forms.CharField(label=_("Account name"), max_length=100)
    secret_key = forms.CharField(
        label=_("New SecretKey"),
        required=False,
        widget=forms.PasswordInput(attrs=SECRET_WIDGET_ATTRS),
        help_text=_("Leave empty to keep the stored key."),
    )
    token = forms.CharField(
        label=_("New service-account token"),
        required=False,
        widget=forms.PasswordInput(attrs=SECRET_WIDGET_ATTRS),
        help_text=_("Leave empty to keep the stored token."),
    )

    def __init__(self, *args, kind: str, **kwargs):
        super().__init__(*args, **kwargs)
        if kind != "tke":
            del self.fields["secret_key"]
        if kind != "serviceaccount":
            del self.fields["token"]

    def clean_name(self) -> str:
        return self.cleaned_data["name"].strip()

    def clean_token(self) -> str:
        token = self.cleaned_data.get("token") or ""
        # The same rule as when the account was added: a header value, nothing else.
        if token and not all(0x21 <= ord(char) <= 0x7E for char in token):
            raise forms.ValidationError(
                _("The service-account token contains spaces or control characters.")
            )
        return token


class RegistryCredentialForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        help_text=_("e.g. “coding-team” — shown in policies and snippets."),
    )
    server = forms.CharField(
        label=_("Registry server"),
        max_length=255,
        widget=forms.TextInput(attrs={"placeholder": "team-docker.pkg.coding.net"}),
        help_text=_(
            "Host name with optional port, e.g. ccr.ccs.tencentyun.com or "
            "registry.example.com:5000."
        ),
    )
    username = forms.CharField(label=_("Username"), max_length=255)
    password = forms.CharField(
        label=_("Password or access token"),
        error_messages={"required": _("Enter the password or access token.")},
        strip=False,
        widget=forms.PasswordInput(attrs=SECRET_WIDGET_ATTRS, render_value=False),
    )
    email = forms.EmailField(label=_("Email"), required=False)
    ca_pem = forms.CharField(
        label=_("CA certificate"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": "-----BEGIN CERTIFICATE-----"}),
        help_text=_(
            "Only for a registry whose TLS certificate is signed by a private CA: that CA "
            "in PEM (or base64). Leave empty for registries with a public certificate."
        ),
    )
    is_default = forms.BooleanField(
        label=_("My default credential"),
        required=False,
        help_text=_("Used when you onboard a TKE account, as the seed product does."),
    )
    verify = forms.BooleanField(
        label=_("Check the login against the registry now"), required=False, initial=True
    )

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.editing = editing
        if editing:
            self.fields["password"].required = False
            self.fields["password"].help_text = _("Leave empty to keep the stored password.")

    def clean_server(self) -> str:
        raw = self.cleaned_data["server"].strip()
        try:
            server = normalise_registry_server(raw)
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from exc
        if not server or " " in server:
            raise forms.ValidationError(_("Enter a registry host name, e.g. registry.example.com."))
        return server

    def clean_ca_pem(self) -> str:
        text = self.cleaned_data.get("ca_pem") or ""
        if not text.strip():
            return ""
        try:
            return parse_ca_certificate(text)
        except KubeconfigError as exc:
            raise forms.ValidationError(exc.message) from exc


class TkePickForm(forms.Form):
    """Second step of TKE onboarding: which of the discovered clusters to import."""

    clusters = forms.MultipleChoiceField(
        label=_("Clusters to import"),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Pick at least one cluster.")},
    )
    endpoint = forms.ChoiceField(
        label=_("Connect through"),
        choices=ENDPOINT_CHOICES,
        widget=forms.RadioSelect,
    )

    def __init__(self, *args, discovered: list[dict], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["clusters"].choices = [
            (c["id"], f"{c['name']} ({c['id']}) · {c['version']} · {c['status']}")
            for c in discovered
        ]
