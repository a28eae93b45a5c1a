"""Cluster and policy forms: what a person types, validated and normalised."""

from __future__ import annotations

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import CloudAccount, RegistryCredential
from clusters.models import DEFAULT_EXCLUSIONS, Cluster, PullSecretPolicy, SecretStatus, Workload
from clusters.selection import SelectorError, parse_label_selector

DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


class ClusterRenameForm(forms.Form):
    name = forms.CharField(label=_("Cluster name"), max_length=100)

    def __init__(self, *args, instance_pk: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance_pk = instance_pk

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", name):
            raise forms.ValidationError(
                _(
                    "Use letters, digits, dots, dashes and underscores, starting with a letter "
                    "or digit."
                )
            )
        if Cluster.objects.exclude(pk=self.instance_pk).filter(name=name).exists():
            raise forms.ValidationError(_("Another cluster already has that name."))
        return name


def _names(text: str) -> list[str]:
    return sorted({part for part in re.split(r"[\s,]+", text or "") if part})


class PolicyForm(forms.Form):
    """Desired state: which credential goes where, under which Secret name."""

    name = forms.CharField(label=_("Policy name"), max_length=100)
    credential = forms.ModelChoiceField(label=_("Registry credential"), queryset=None)
    target = forms.ChoiceField(label=_("Clusters"), choices=())
    secret_name = forms.CharField(
        label=_("Secret name"),
        max_length=253,
        initial="regcred",
        help_text=_("The name workloads put under imagePullSecrets, e.g. coding-regcred."),
    )
    selection = forms.ChoiceField(
        label=_("Namespaces"),
        choices=PullSecretPolicy.Selection.choices,
        initial="all",
        widget=forms.RadioSelect,
    )
    namespaces = forms.CharField(
        label=_("Namespace list"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("For “a list”: names separated by spaces, commas or new lines."),
    )
    patterns = forms.CharField(
        label=_("Name patterns"),
        required=False,
        help_text=_("For “name patterns”: shell patterns such as team-* or *-prod."),
    )
    label_selector = forms.CharField(
        label=_("Label selector"),
        required=False,
        max_length=500,
        help_text=_("For “label selector”: e.g. team=payments,env in (prod,staging)."),
    )
    exclusions = forms.CharField(
        label=_("Never in"),
        required=False,
        initial=" ".join(DEFAULT_EXCLUSIONS),
        help_text=_("Namespaces or patterns always left out."),
    )
    cover_new_namespaces = forms.BooleanField(
        label=_("Cover new namespaces as soon as they appear"), required=False, initial=True
    )
    service_accounts = forms.ChoiceField(
        label=_("Service accounts"),
        choices=PullSecretPolicy.ServiceAccounts.choices,
        initial="none",
        help_text=_(
            "Add the Secret to the service accounts' imagePullSecrets, so pods need "
            "no change. Existing entries are kept."
        ),
    )
    service_account_names = forms.CharField(
        label=_("Service account names"),
        required=False,
        help_text=_("For “named service accounts”: e.g. builder deployer."),
    )
    adopt_unmanaged = forms.BooleanField(
        label=_("Adopt Secrets of this name that someone else created"),
        required=False,
        help_text=_(
            "Off: they are reported as unmanaged and left alone. On: the dashboard "
            "overwrites them with the credential and manages them from then on."
        ),
    )

    def __init__(self, *args, instance: PullSecretPolicy | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance = instance
        self.fields["credential"].queryset = RegistryCredential.objects.order_by("name")
        clusters = [(f"cluster:{c.pk}", c.name) for c in Cluster.objects.order_by("name")]
        accounts = [
            (f"account:{a.pk}", _("Every cluster of account %(name)s") % {"name": a.name})
            for a in CloudAccount.objects.order_by("name")
        ]
        self.fields["target"].choices = [
            (_("One cluster"), clusters),
            (_("A whole account"), accounts),
        ]

    @classmethod
    def initial_from(cls, policy: PullSecretPolicy) -> dict:
        return {
            "name": policy.name,
            "credential": policy.credential_id,
            "target": f"cluster:{policy.cluster_id}"
            if policy.cluster_id
            else f"account:{policy.account_id}",
            "secret_name": policy.secret_name,
            "selection": policy.selection,
            "namespaces": " ".join(policy.namespaces),
            "patterns": " ".join(policy.patterns),
            "label_selector": policy.label_selector,
            "exclusions": " ".join(policy.exclusions),
            "cover_new_namespaces": policy.cover_new_namespaces,
            "service_accounts": policy.service_accounts,
            "service_account_names": " ".join(policy.service_account_names),
            "adopt_unmanaged": policy.adopt_unmanaged,
        }

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        others = PullSecretPolicy.objects.filter(name=name)
        if self.instance:
            others = others.exclude(pk=self.instance.pk)
        if others.exists():
            raise forms.ValidationError(_("Another policy already has that name."))
        return name

    def clean_secret_name(self) -> str:
        name = self.cleaned_data["secret_name"].strip()
        if len(name) > 253 or not all(DNS_LABEL.match(part) for part in name.split(".")):
            raise forms.ValidationError(
                _(
                    "Kubernetes Secret names use lowercase letters, digits, '-' and '.', and "
                    "start and end with a letter or digit."
                )
            )
        return name

    def clean_namespaces(self) -> list[str]:
        names = _names(self.cleaned_data.get("namespaces", ""))
        bad = [n for n in names if len(n) > 63 or not DNS_LABEL.match(n)]
        if bad:
            raise forms.ValidationError(
                _("Not valid namespace names: %(names)s") % {"names": ", ".join(bad)}
            )
        return names

    def clean_patterns(self) -> list[str]:
        return _names(self.cleaned_data.get("patterns", ""))

    def clean_exclusions(self) -> list[str]:
        return _names(self.cleaned_data.get("exclusions", ""))

    def clean_service_account_names(self) -> list[str]:
        return _names(self.cleaned_data.get("service_account_names", ""))

    def clean_label_selector(self) -> str:
        text = self.cleaned_data.get("label_selector", "").strip()
        try:
            parse_label_selector(text)
        except SelectorError as exc:
            raise forms.ValidationError(str(exc)) from exc
        return text

    def clean(self):
        cleaned = super().clean()
        selection = cleaned.get("selection")
        required = {"list": "namespaces", "patterns": "patterns", "selector": "label_selector"}
        field = required.get(selection or "")
        if field and not cleaned.get(field) and field not in self.errors:
            self.add_error(field, _("Fill this in for the namespace choice you made."))
        if (
            cleaned.get("service_accounts") == "named"
            and not cleaned.get("service_account_names")
            and "service_account_names" not in self.errors
        ):
            self.add_error("service_account_names", _("Name at least one service account."))
        target = cleaned.get("target", "")
        if target:
            kind, _sep, pk = target.partition(":")
            cleaned["cluster"] = (
                Cluster.objects.filter(pk=pk).first() if kind == "cluster" else None
            )
            cleaned["account"] = (
                CloudAccount.objects.filter(pk=pk).first() if kind == "account" else None
            )
        return cleaned

    def policy_fields(self) -> dict:
        data = self.cleaned_data
        keys = (
            "name",
            "credential",
            "cluster",
            "account",
            "secret_name",
            "selection",
            "namespaces",
            "patterns",
            "label_selector",
            "exclusions",
            "cover_new_namespaces",
            "service_accounts",
            "service_account_names",
            "adopt_unmanaged",
        )
        return {key: data[key] for key in keys}


class NamespaceFilterForm(forms.Form):
    q = forms.CharField(label=_("Namespace"), required=False)
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Any status")), *list(SecretStatus.Status.choices)],
    )


COVERAGE_SORTS = {
    "cluster": ("cluster__name", "namespace__name", "secret_name"),
    "namespace": ("namespace__name", "cluster__name", "secret_name"),
    "status": ("status", "cluster__name", "namespace__name"),
    "checked": ("checked_at", "cluster__name", "namespace__name"),
}


class CoverageFilterForm(forms.Form):
    cluster = forms.ModelChoiceField(
        label=_("Cluster"), queryset=None, required=False, empty_label=_("All clusters")
    )
    account = forms.ModelChoiceField(
        label=_("Account"), queryset=None, required=False, empty_label=_("All accounts")
    )
    credential = forms.ModelChoiceField(
        label=_("Credential"), queryset=None, required=False, empty_label=_("All credentials")
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Any status")), *SecretStatus.Status.choices],
    )
    q = forms.CharField(
        label=_("Namespace"),
        required=False,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Search namespaces")}),
    )
    sort = forms.ChoiceField(
        label=_("Sort by"),
        required=False,
        choices=[
            ("cluster", _("Cluster")),
            ("namespace", _("Namespace")),
            ("status", _("Status")),
            ("checked", _("Last checked")),
            ("-checked", _("Last checked, newest first")),
        ],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cluster"].queryset = Cluster.objects.order_by("name")
        self.fields["account"].queryset = CloudAccount.objects.order_by("name")
        self.fields["credential"].queryset = RegistryCredential.objects.order_by("name")


class WorkloadFilterForm(forms.Form):
    cluster = forms.ModelChoiceField(
        label=_("Cluster"), queryset=None, required=False, empty_label=_("All clusters")
    )
    risk = forms.ChoiceField(
        label=_("Risk"), required=False, choices=[("", _("Any risk")), *Workload.Risk.choices]
    )
    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=[("", _("Any kind")), *Workload.Kind.choices]
    )
    q = forms.CharField(
        label=_("Name or namespace"),
        required=False,
        widget=forms.TextInput(attrs={"type": "search"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cluster"].queryset = Cluster.objects.order_by("name")
