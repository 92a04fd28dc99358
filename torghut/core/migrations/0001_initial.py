import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="AuditEvent",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("actor", models.CharField(help_text="Username, or a system actor such as `autonomy`.", max_length=150)),
                ("action", models.CharField(db_index=True, max_length=100)),
                ("object_type", models.CharField(max_length=100)),
                ("object_id", models.CharField(max_length=100)),
                ("old", models.JSONField(blank=True, null=True)),
                ("new", models.JSONField(blank=True, null=True)),
                ("reason", models.TextField(blank=True)),
                ("at", models.DateTimeField(auto_now_add=True, db_index=True)),
            ],
            options={
                "ordering": ["-at"],
            },
        ),
        migrations.CreateModel(
            name="DeadLetter",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("task_name", models.CharField(db_index=True, max_length=200)),
                ("task_id", models.CharField(max_length=64, unique=True)),
                ("args", models.JSONField(default=list)),
                ("kwargs", models.JSONField(default=dict)),
                ("queue", models.CharField(max_length=64)),
                ("exception_class", models.CharField(max_length=300)),
                ("exception_message", models.TextField(blank=True)),
                ("traceback", models.TextField(blank=True)),
                ("retries", models.PositiveIntegerField(default=0)),
                ("first_failed_at", models.DateTimeField()),
                ("last_failed_at", models.DateTimeField()),
                (
                    "status",
                    models.CharField(
                        choices=[("pending", "Pending"), ("replayed", "Replayed"), ("discarded", "Discarded")],
                        db_index=True,
                        default="pending",
                        max_length=16,
                    ),
                ),
                ("spooled", models.BooleanField(default=False, help_text="Arrived through the local spool while Postgres was down.")),
                ("replay_task_id", models.CharField(blank=True, max_length=64)),
                ("resolved_at", models.DateTimeField(blank=True, null=True)),
                ("resolution_note", models.TextField(blank=True)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "resolved_by",
                    models.ForeignKey(
                        blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL
                    ),
                ),
            ],
            options={
                "ordering": ["-last_failed_at"],
                "permissions": [("replay_deadletter", "Can replay or discard dead letters")],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("status", "replayed"), _negated=True),
                            models.Q(("replay_task_id", ""), _negated=True),
                            _connector="OR",
                        ),
                        name="deadletter_replayed_has_task_id",
                    )
                ],
            },
        ),
    ]
