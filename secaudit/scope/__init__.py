"""Authorization guard and target expansion: nothing is scanned outside the written scope."""

from secaudit.scope.audit import AuditEntry, AuditTrail, current_user
from secaudit.scope.guard import (
    AddressVerdict,
    Resolver,
    ScopedAddress,
    ScopeGuard,
    ScopePlan,
    TargetVerdict,
    system_resolver,
)
from secaudit.scope.targets import MAX_ADDRESSES, Target, TargetKind, parse_target

__all__ = [
    "MAX_ADDRESSES",
    "AddressVerdict",
    "AuditEntry",
    "AuditTrail",
    "Resolver",
    "ScopeGuard",
    "ScopePlan",
    "ScopedAddress",
    "Target",
    "TargetKind",
    "TargetVerdict",
    "current_user",
    "parse_target",
    "system_resolver",
]
