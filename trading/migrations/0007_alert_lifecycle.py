"""Alert lifecycle: who acknowledged or closed an alert and why, and the permission to do it."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("trading", "0006_order_admission"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="alert",
            options={"ordering": ["-opened_at", "-id"], "permissions": [("manage_alert", "Can acknowledge and close alerts")]},
        ),
        migrations.AddField(
            model_name="alert",
            name="acknowledge_reason",
            field=models.TextField(blank=True, default=""),
        ),
        migrations.AddField(
            model_name="alert",
            name="acknowledged_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="alert",
            name="acknowledged_by",
            field=models.CharField(blank=True, default="", max_length=150),
        ),
        migrations.AddField(
            model_name="alert",
            name="close_reason",
            field=models.TextField(blank=True, default=""),
        ),
        migrations.AddField(
            model_name="alert",
            name="closed_by",
            field=models.CharField(blank=True, default="", max_length=150),
        ),
    ]
