"""Promotion metrics computed from Postgres at scrape time: ramp position and open requests."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client.core import GaugeMetricFamily

from governance.promotion.models import CapitalRamp, PromotionRequest, PromotionStatus, RampStatus


def capital_ramp_family() -> Iterable[GaugeMetricFamily]:

    family = GaugeMetricFamily(
        "torghut_capital_ramp_ratio",
        "Share of its target capital a live strategy may use on its ramp today.",
        labels=["strategy_id", "version", "step"],
    )
    for ramp in CapitalRamp.objects.filter(status=RampStatus.ACTIVE).only("strategy_id", "version", "schedule", "step"):
        family.add_metric([str(ramp.strategy_id), ramp.version, str(ramp.step)], ramp.fraction)
    yield family


def pending_promotions_family() -> Iterable[GaugeMetricFamily]:

    family = GaugeMetricFamily("torghut_promotion_requests_pending", "Promotion requests waiting for approval.")
    family.add_metric([], float(PromotionRequest.objects.filter(status=PromotionStatus.PENDING).count()))
    yield family
