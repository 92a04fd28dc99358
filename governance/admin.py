"""Django admin autodiscovery reads `<app>.admin`: each governance package registers its own models."""

from governance.drills import admin as drills_admin
from governance.emergency import admin as emergency_admin
from governance.evidence import admin as evidence_admin
from governance.killswitch import admin as killswitch_admin
from governance.lanes import admin as lanes_admin
from governance.promotion import admin as promotion_admin

__all__ = ["drills_admin", "emergency_admin", "evidence_admin", "killswitch_admin", "lanes_admin", "promotion_admin"]
