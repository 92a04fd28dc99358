"""Promotion tasks through a real worker: the autonomous lane's request and request expiry."""

import pytest
from django.utils import timezone

from governance.promotion.models import PromotionRequest
from governance.promotion.tasks import expire_promotion_requests, request_promotions
from tests.factories import research_run_create, strategy_ready_for_live

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_the_worker_files_the_autonomy_request_and_later_expires_it(celery_worker):
    strategy = strategy_ready_for_live()
    run = research_run_create(strategy=strategy)
    type(run).objects.filter(pk=run.pk).update(target_lane="live")
    filed = request_promotions.delay().get(timeout=60)
    request = PromotionRequest.objects.get(research_run_ids__contains=[run.run_id])
    request_id = request.pk
    assert request_id in filed
    assert (request.requester, request.to_lane, request.status) == ("autonomy", "live", "pending")
    assert request.checkpoint_at_request["passed"], request.checkpoint_at_request["failures"]

    PromotionRequest.objects.filter(pk=request_id).update(expires_at=timezone.now() - timezone.timedelta(seconds=1))
    assert expire_promotion_requests.delay().get(timeout=60) == 1
    assert PromotionRequest.objects.get(pk=request_id).status == "expired"
