"""Create or update a pull-secret policy and sync it, from scripts."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from accounts.models import RegistryCredential
from clusters import services, sync
from clusters.forms import PolicyForm
from clusters.management.commands._runs import report, wait_for
from clusters.models import Cluster, PullSecretPolicy, SyncRun


class Command(BaseCommand):
    help = "Put a registry credential into namespaces of a cluster as a pull Secret, now."

    def add_arguments(self, parser):
        parser.add_argument("--cluster", required=True, help="cluster name")
        parser.add_argument("--credential", required=True, help="registry credential name")
        parser.add_argument("--secret-name", required=True)
        where = parser.add_mutually_exclusive_group(required=True)
        where.add_argument("--all-namespaces", action="store_true")
        where.add_argument("--namespace", action="append", dest="namespaces", metavar="NS")
        where.add_argument("--selector", help="label selector, e.g. team=payments")
        parser.add_argument("--patch-default-service-account", action="store_true")
        parser.add_argument(
            "--adopt",
            action="store_true",
            help="take over Secrets of that name that someone else created",
        )
        how = parser.add_mutually_exclusive_group()
        how.add_argument("--wait", action="store_true", help="wait for the workers to finish")
        how.add_argument(
            "--inline", action="store_true", help="run the sync in this process (no worker needed)"
        )
        parser.add_argument("--timeout", type=float, default=600)

    def handle(self, *args, **opts):
        cluster = Cluster.objects.filter(name=opts["cluster"]).first()
        if cluster is None:
            raise CommandError(f'No cluster named "{opts["cluster"]}".')
        credential = RegistryCredential.objects.filter(name=opts["credential"]).first()
        if credential is None:
            raise CommandError(f'No registry credential named "{opts["credential"]}".')
        existing = PullSecretPolicy.objects.filter(
            cluster=cluster, secret_name=opts["secret_name"]
        ).first()
        selection = (
            "all" if opts["all_namespaces"] else "list" if opts["namespaces"] else "selector"
        )
        data = {
            "name": existing.name if existing else f"{cluster.name}-{opts['secret_name']}",
            "credential": credential.pk,
            "target": f"cluster:{cluster.pk}",
            "secret_name": opts["secret_name"],
            "selection": selection,
            "namespaces": " ".join(opts["namespaces"] or []),
            "patterns": "",
            "label_selector": opts["selector"] or "",
            "exclusions": " ".join(existing.exclusions)
            if existing
            else "kube-system kube-public kube-node-lease",
            "cover_new_namespaces": existing.cover_new_namespaces if existing else True,
            "service_accounts": "default" if opts["patch_default_service_account"] else "none",
            "service_account_names": "",
            "adopt_unmanaged": opts["adopt"],
        }
        form = PolicyForm(data, instance=existing)
        if not form.is_valid():
            raise CommandError(
                "; ".join(f"{field}: {' '.join(errors)}" for field, errors in form.errors.items())
            )
        if existing:
            policy = services.policy_update(actor="cli", policy=existing, **form.policy_fields())
        else:
            policy = services.policy_create(actor="cli", **form.policy_fields())
        run = services.sync_run_start(
            actor="cli",
            clusters=[cluster],
            policy=policy,
            trigger=SyncRun.Trigger.CLI,
            dispatch=not opts["inline"],
        )
        path = reverse("clusters:run-detail", args=[run.pk])
        self.stdout.write(
            f"Policy {policy.name}; sync run {run.pk}: "
            f"{settings.REGCRED_PUBLIC_URL.rstrip('/')}{path}"
        )
        if opts["inline"]:
            sync.sync_cluster(run_id=run.pk, cluster_id=cluster.pk)
            run.refresh_from_db()
        elif opts["wait"]:
            run = wait_for(run, timeout=opts["timeout"], stdout=self.stdout)
        else:
            return
        report(run, self.stdout)
        if run.state != SyncRun.State.SUCCEEDED:
            raise CommandError(f"Run {run.pk} ended {run.state}.")
