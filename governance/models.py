"""The governance app's models, defined in the package that owns each (Django loads an app's models from here)."""

from governance.drills.models import DrillRun
from governance.emergency.models import EmergencyStopPolicy, Trigger, TriggerState
from governance.evidence.models import EvidencePackage
from governance.killswitch.models import KillSwitch, KillSwitchSource, KillSwitchState, KillSwitchTransition
from governance.lanes.models import LaneChange, LaneChangeCause
from governance.promotion.models import (
    AUTONOMY_ACTOR,
    Approval,
    ApprovalDecision,
    CapitalRamp,
    CapitalRampStep,
    CheckpointPolicy,
    PromotionRequest,
    PromotionStatus,
    RampCause,
    RampStatus,
)

__all__ = [
    "AUTONOMY_ACTOR",
    "Approval",
    "ApprovalDecision",
    "CapitalRamp",
    "CapitalRampStep",
    "CheckpointPolicy",
    "DrillRun",
    "EmergencyStopPolicy",
    "EvidencePackage",
    "KillSwitch",
    "KillSwitchSource",
    "KillSwitchState",
    "KillSwitchTransition",
    "LaneChange",
    "LaneChangeCause",
    "PromotionRequest",
    "PromotionStatus",
    "RampCause",
    "RampStatus",
    "Trigger",
    "TriggerState",
]
