"""The workflow's hub rules, in the order the engine must run them.

The lifecycle rule runs first: it refuses moves a side may not make and stamps the submission, so
the channel-conflict check sees a clean submission (a deal registered again has its old decision
cleared) and may then move it on to ``under_review`` or ``rejected``. The co-sell rule is
independent of both.
"""

from __future__ import annotations

from channel_sync.sync.rules import HubRule
from channel_sync.workflow.channel_conflicts import ChannelConflictCheck
from channel_sync.workflow.cosell import CoSellRequests
from channel_sync.workflow.matching import CustomerMatcher
from channel_sync.workflow.numbers import RegistrationNumbers
from channel_sync.workflow.registration import RegistrationLifecycle
from channel_sync.workflow.settings import WorkflowSettings


def workflow_rules(
    settings: WorkflowSettings | None = None,
    *,
    numbers: RegistrationNumbers | None = None,
    matcher: CustomerMatcher | None = None,
) -> list[HubRule]:
    settings = settings or WorkflowSettings()
    return [
        RegistrationLifecycle(settings, numbers),
        ChannelConflictCheck(settings, matcher),
        CoSellRequests(),
    ]
