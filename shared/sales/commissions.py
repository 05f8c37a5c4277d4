"""Commission rules: what a member earns on each line of an attributed order.

A rule applies to a line when its channel (if set) is the order's and its category (if set) is
the line's; a fixed rule applies only to orders in its own currency (no conversion). Among the
rules that apply, the most specific wins: channel and category, then category alone, then
channel alone, then a rule for everything; between equals, the first listed. No rule: nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from shared.brands.models import CommissionRule
from shared.sales.models import OrderLine


@dataclass(frozen=True)
class LineCommission:
    """The commission of one line and the index of the rule that gave it (None: no rule)."""

    amount_minor: int
    rule_index: int | None


def _specificity(rule: CommissionRule) -> int:
    # Category outranks channel: a product-specific rate is the brand's most deliberate choice.
    return (2 if rule.category is not None else 0) + (1 if rule.channel is not None else 0)


def rule_for(rules: Sequence[CommissionRule], *, channel: str, category: str | None,
             currency: str) -> int | None:
    """The index of the most specific rule applying to a line, or None."""
    best: int | None = None
    for index, rule in enumerate(rules):
        if rule.channel is not None and rule.channel != channel:
            continue
        if rule.category is not None and rule.category != category:
            continue
        if rule.kind == "fixed" and rule.currency != currency:
            continue
        if best is None or _specificity(rule) > _specificity(rules[best]):
            best = index
    return best


def _amount(rule: CommissionRule, line: OrderLine) -> int:
    if rule.kind == "fixed":
        return int(rule.amount_minor or 0) * line.quantity
    rate = Decimal(str(rule.rate_percent or 0))
    return int((Decimal(line.amount_minor) * rate / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def for_lines(rules: Sequence[CommissionRule], *, channel: str, currency: str,
              lines: Sequence[OrderLine]) -> list[LineCommission]:
    """The commission of each line under the brand's rules."""
    result = []
    for line in lines:
        index = rule_for(rules, channel=channel, category=line.category, currency=currency)
        result.append(LineCommission(_amount(rules[index], line) if index is not None else 0, index))
    return result


def due_after_refunds(full_minor: int, *, amount_minor: int, refunded_minor: int) -> int:
    """The commission still due once part of the order is refunded: reduced in proportion."""
    if amount_minor <= 0 or refunded_minor >= amount_minor:
        return 0
    kept = Decimal(full_minor) * Decimal(amount_minor - refunded_minor) / Decimal(amount_minor)
    return int(kept.quantize(Decimal(1), rounding=ROUND_HALF_UP))
