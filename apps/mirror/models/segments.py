"""Mirrored segments: audiences Constant Contact defines by rules over contact data.

`criteria` is `segment_criteria` parsed: Constant Contact stores it as one JSON
string (contract §3.5); the mirror keeps the structure so the segments area can
describe it in words and estimate its size from the mirror. Campaigns read a
segment as an audience, bulk jobs as a selection, both from here.
"""

from django.db import models
from django.db.models.functions import Lower

from apps.mirror.models.audience import MirroredModel


class Segment(MirroredModel):
    # segment_id is an integer upstream; kept as text like every other cc_id.
    name = models.CharField(max_length=255)
    criteria = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "cc_id"], name="segment_cc_id_unique")
        ]
        ordering = [Lower("name")]

    def __str__(self) -> str:
        return self.name
