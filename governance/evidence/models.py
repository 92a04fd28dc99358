"""Evidence packages: the snapshot written on every halt, hashed and chained to the one before."""

from __future__ import annotations

import json

from django.db import models


class EvidencePackage(models.Model):
    """What the system saw when it halted, as canonical JSON hashed into a chain.

    `body` holds the exact bytes hashed; it embeds `previous_sha256`, so editing any package breaks
    either its own hash or the link of the next one.
    """

    created_at = models.DateTimeField(db_index=True)
    triggers = models.JSONField(default=list)
    body = models.TextField()
    sha256 = models.CharField(max_length=64, unique=True)
    previous_sha256 = models.CharField(max_length=64, blank=True)
    missing_sources = models.JSONField(default=list, blank=True)
    # HMAC-SHA256 of `body` under the key named `key_id` (settings); empty on packages written before signing.
    hmac = models.CharField(max_length=64, blank=True)
    key_id = models.CharField(max_length=32, blank=True)

    class Meta:
        ordering = ["-id"]

    @property
    def content(self) -> dict:
        return json.loads(self.body)

    def __str__(self) -> str:
        return f"evidence {self.pk} {self.created_at:%Y-%m-%d %H:%M:%S} {','.join(self.triggers)}"
