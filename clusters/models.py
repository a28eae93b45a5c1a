from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.encryption import EncryptedTextField
from accounts.models import CloudAccount, RegistryCredential

DEFAULT_EXCLUSIONS = ["kube-system", "kube-public", "kube-node-lease"]


def default_exclusions() -> list[str]:
    return list(DEFAULT_EXCLUSIONS)


class Cluster(models.Model):
    """One Kubernetes API server reached through a cloud account."""

    class Check(models.TextChoices):
        PENDING = "pending", _("Not checked yet")
        CHECKING = "checking", _("Checking")
        OK = "ok", _("Reachable")
        UNREACHABLE = "unreachable", _("Unreachable")
        ERROR = "error", _("Error")

    account = models.ForeignKey(CloudAccount, on_delete=models.CASCADE, related_name="clusters")
    name = models.CharField(_("name"), max_length=100, unique=True)
    context_name = models.CharField(max_length=255, blank=True)
    server = models.CharField(_("API server"), max_length=500)
    # JSON of accounts.kubeconfig.KubeContext: the only thing clusters.kube builds a client from.
    connection = EncryptedTextField()
    tke_cluster_id = models.CharField(max_length=64, blank=True)
    tke_region = models.CharField(max_length=32, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    check_status = models.CharField(max_length=16, choices=Check.choices, default=Check.PENDING)
    check_message = models.TextField(blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)
    version = models.CharField(max_length=64, blank=True)
    permissions = models.JSONField(default=dict, blank=True)
    insecure = models.BooleanField(default=False)

    last_scan_at = models.DateTimeField(null=True, blank=True)
    last_scan_error = models.TextField(blank=True)
    # Where the watcher resumes; reset on 410 Gone.
    namespaces_resource_version = models.CharField(max_length=64, blank=True)
    serviceaccounts_resource_version = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def missing_permissions(self) -> list[str]:
        return sorted(key for key, allowed in self.permissions.items() if not allowed)


class Namespace(models.Model):
    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="namespaces")
    name = models.CharField(max_length=253)
    labels = models.JSONField(default=dict, blank=True)
    first_seen = models.DateTimeField(auto_now_add=True)
    last_seen = models.DateTimeField(null=True, blank=True)
    gone = models.BooleanField(default=False)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["cluster", "name"], name="uniq_namespace_per_cluster")
        ]

    def __str__(self) -> str:
        return f"{self.cluster.name}/{self.name}"


class PullSecretPolicy(models.Model):
    """Desired state: credential R goes into these namespaces of these clusters as Secret S."""

    class Selection(models.TextChoices):
        ALL = "all", _("All namespaces")
        LIST = "list", _("A list of namespaces")
        PATTERNS = "patterns", _("Name patterns")
        SELECTOR = "selector", _("Label selector")

    class ServiceAccounts(models.TextChoices):
        NONE = "none", _("Do not patch service accounts")
        DEFAULT = "default", _("The default service account")
        NAMED = "named", _("Named service accounts")
        ALL = "all", _("All service accounts of the namespace")

    name = models.CharField(_("name"), max_length=100, unique=True)
    credential = models.ForeignKey(
        RegistryCredential, on_delete=models.PROTECT, related_name="policies"
    )
    cluster = models.ForeignKey(
        Cluster, null=True, blank=True, on_delete=models.CASCADE, related_name="policies"
    )
    account = models.ForeignKey(
        CloudAccount, null=True, blank=True, on_delete=models.CASCADE, related_name="policies"
    )
    secret_name = models.CharField(_("Secret name"), max_length=253)
    selection = models.CharField(max_length=16, choices=Selection.choices, default=Selection.ALL)
    namespaces = models.JSONField(default=list, blank=True)
    patterns = models.JSONField(default=list, blank=True)
    label_selector = models.CharField(max_length=500, blank=True)
    exclusions = models.JSONField(default=default_exclusions, blank=True)
    cover_new_namespaces = models.BooleanField(default=True)
    service_accounts = models.CharField(
        max_length=16, choices=ServiceAccounts.choices, default=ServiceAccounts.NONE
    )
    service_account_names = models.JSONField(default=list, blank=True)
    adopt_unmanaged = models.BooleanField(default=False)
    enabled = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "pull secret policies"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(cluster__isnull=False) | models.Q(account__isnull=False),
                name="policy_targets_cluster_or_account",
            )
        ]

    def __str__(self) -> str:
        return self.name


class SecretStatus(models.Model):
    """Observed state, one row per cluster x namespace x policy Secret. Never the content."""

    class Status(models.TextChoices):
        IN_SYNC = "in_sync", _("In sync")
        MISSING = "missing", _("Missing")
        STALE = "stale", _("Stale")
        UNMANAGED = "unmanaged", _("Unmanaged")
        COVERED_BY_VENDOR = "covered_by_vendor", _("Covered by vendor key")
        ERROR = "error", _("Error")

    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="secret_statuses")
    namespace = models.ForeignKey(Namespace, on_delete=models.CASCADE, related_name="statuses")
    policy = models.ForeignKey(PullSecretPolicy, on_delete=models.CASCADE, related_name="statuses")
    secret_name = models.CharField(max_length=253)
    status = models.CharField(max_length=20, choices=Status.choices, db_index=True)
    observed_checksum = models.CharField(max_length=64, blank=True)
    last_manager = models.CharField(max_length=128, blank=True)
    last_changed_at = models.DateTimeField(null=True, blank=True)
    service_accounts_ok = models.BooleanField(default=True)
    service_accounts_missing = models.JSONField(default=list, blank=True)
    message = models.TextField(blank=True)
    checked_at = models.DateTimeField()

    class Meta:
        ordering = ["cluster__name", "namespace__name", "secret_name"]
        constraints = [
            models.UniqueConstraint(fields=["namespace", "policy"], name="uniq_status_per_policy")
        ]

    def __str__(self) -> str:
        return f"{self.namespace_id}/{self.secret_name}: {self.status}"


class SyncRun(models.Model):
    """One sync, started by a person, a scan or the watcher; one Celery task per cluster."""

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        PARTIAL = "partial", _("Partly failed")
        FAILED = "failed", _("Failed")

    TERMINAL = (State.SUCCEEDED, State.PARTIAL, State.FAILED)

    class Trigger(models.TextChoices):
        UI = "ui", _("Dashboard")
        CLI = "cli", _("Command line")
        SCAN = "scan", _("Scan")
        WATCH = "watch", _("Watcher")
        RETRY = "retry", _("Retry")

    policy = models.ForeignKey(
        PullSecretPolicy, null=True, blank=True, on_delete=models.SET_NULL, related_name="runs"
    )
    clusters = models.ManyToManyField(Cluster, related_name="sync_runs")
    only_namespaces = models.JSONField(default=list, blank=True)
    trigger = models.CharField(max_length=16, choices=Trigger.choices, default=Trigger.UI)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    state = models.CharField(max_length=16, choices=State.choices, default=State.QUEUED)
    created = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    clusters_total = models.PositiveIntegerField(default=0)
    clusters_done = models.PositiveIntegerField(default=0)
    # Which clusters have finished, so a redelivered task never counts a cluster twice.
    finished_cluster_ids = models.JSONField(default=list, blank=True)
    total = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    unchanged_count = models.PositiveIntegerField(default=0)
    skipped_count = models.PositiveIntegerField(default=0)
    failed_count = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created", "-id"]

    def __str__(self) -> str:
        return f"sync #{self.pk}"

    @property
    def is_finished(self) -> bool:
        return self.state in self.TERMINAL

    @property
    def done_count(self) -> int:
        return (
            self.created_count
            + self.updated_count
            + self.unchanged_count
            + self.skipped_count
            + self.failed_count
        )

    @property
    def percent(self) -> int:
        if self.is_finished:
            return 100
        return int(100 * self.done_count / self.total) if self.total else 0


class SyncResult(models.Model):
    class Outcome(models.TextChoices):
        CREATED = "created", _("Created")
        UPDATED = "updated", _("Updated")
        UNCHANGED = "unchanged", _("Unchanged")
        SKIPPED = "skipped", _("Skipped")
        FAILED = "failed", _("Failed")

    run = models.ForeignKey(SyncRun, on_delete=models.CASCADE, related_name="results")
    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="+")
    namespace = models.CharField(max_length=253)
    secret_name = models.CharField(max_length=253)
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    service_accounts = models.CharField(max_length=255, blank=True)
    reason = models.TextField(blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["run", "outcome"])]

    def __str__(self) -> str:
        return f"{self.namespace}/{self.secret_name}: {self.outcome}"


class Workload(models.Model):
    """A workload the last scan found at risk of ImagePullBackOff. Healthy ones are not kept."""

    class Kind(models.TextChoices):
        DEPLOYMENT = "Deployment", "Deployment"
        STATEFULSET = "StatefulSet", "StatefulSet"
        DAEMONSET = "DaemonSet", "DaemonSet"
        CRONJOB = "CronJob", "CronJob"
        POD = "Pod", "Pod"

    class Risk(models.TextChoices):
        NO_PULL_SECRET = "no_pull_secret", _("No pull secret for a private registry")
        MISSING_SECRET = "missing_secret", _("Names a pull secret that does not exist")

    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="workloads")
    namespace = models.ForeignKey(Namespace, on_delete=models.CASCADE, related_name="workloads")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    name = models.CharField(max_length=253)
    service_account = models.CharField(max_length=253, blank=True)
    images = models.JSONField(default=list, blank=True)
    pull_secrets = models.JSONField(default=list, blank=True)
    risk = models.CharField(max_length=20, choices=Risk.choices, db_index=True)
    registry = models.CharField(max_length=255, blank=True)
    detail = models.TextField(blank=True)
    checked_at = models.DateTimeField()

    class Meta:
        ordering = ["cluster__name", "namespace__name", "kind", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["namespace", "kind", "name"], name="uniq_workload_per_namespace"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind}/{self.name}"
