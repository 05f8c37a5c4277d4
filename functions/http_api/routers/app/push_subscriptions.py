"""App API: the member's own push subscriptions, one per device (docs/notifications.md).

Which kinds of pushes the devices receive is the member's profile (`notifications`, PATCH /me).
"""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from functions.http_api.access import CurrentMember, access
from functions.http_api.deps import ContainerDep
from functions.http_api.problems import problem_responses
from shared.notifications import subscriptions
from shared.notifications.subscriptions import SubscriptionCreate, SubscriptionRead

router = APIRouter(prefix="/api/v1/app/{brand_id}/me/push-subscriptions", tags=["app: notifications"])


@router.post(
    "", response_model=SubscriptionRead, response_model_by_alias=True, status_code=status.HTTP_201_CREATED,
    responses=problem_responses(401, 404, 422), **access("member"),
)
def register_push_subscription(
    brand_id: str, body: SubscriptionCreate, member: CurrentMember, container: ContainerDep
) -> SubscriptionRead:
    """Register this device's push subscription (the browser's `PushSubscription.toJSON()` and a label).

    Idempotent by endpoint: registering the same device again updates its keys and label.
    """
    return subscriptions.register(store=container.store.for_brand(brand_id), member_id=member.id, data=body,
                                  now=container.clock.now())


@router.get("", response_model=list[SubscriptionRead], response_model_by_alias=True,
            responses=problem_responses(401, 404), **access("member"))
def list_push_subscriptions(brand_id: str, member: CurrentMember, container: ContainerDep) -> list[SubscriptionRead]:
    """The member's own devices, newest first (endpoints and keys are not shown back)."""
    return subscriptions.list_for_member(store=container.store.for_brand(brand_id), member_id=member.id)


@router.delete("/{subscription_id}", status_code=status.HTTP_204_NO_CONTENT, responses=problem_responses(401, 404),
               **access("member"))
def delete_push_subscription(
    brand_id: str, subscription_id: str, member: CurrentMember, container: ContainerDep
) -> Response:
    """Stop pushes to one of the member's devices; another member's device answers 404."""
    subscriptions.delete(store=container.store.for_brand(brand_id), member_id=member.id,
                         subscription_id_=subscription_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
