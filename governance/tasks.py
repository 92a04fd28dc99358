"""Celery autodiscovery reads `<app>.tasks`: the governance app's tasks live in the package that owns each."""
from governance.drills.tasks import run_drill
from governance.emergency.tasks import evaluate_emergency_stop
from governance.promotion.tasks import expire_promotion_requests, request_promotions, step_capital_ramps

__all__ = ["evaluate_emergency_stop", "expire_promotion_requests", "request_promotions", "run_drill", "step_capital_ramps"]
