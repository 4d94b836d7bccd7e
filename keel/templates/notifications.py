"""Where an environment's alarms notify: what service templates subscribe their alarms to. CDK."""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_sns as sns

from keel.constructs.discovery import DiscoveryParameters
from keel.constructs.keys import allow_alarm_notifications
from keel.contract.outputs import EcsEnvOutputs, NetworkOutputs

#: Discovery key of the notification topic an environment creates on first use (alarms notify it).
NOTIFICATIONS_KEY = "notifications/topic-arn"


def notification_topic(environment: NetworkOutputs) -> sns.ITopic:
    """Where the environment's alarms notify: its own topic (ecs-env's control-plane topic), or, for an
    environment without one, an encrypted topic created in the environment's stack the first time a service
    asks, published as `/keel/<environment>/notifications/topic-arn`."""
    if isinstance(environment, EcsEnvOutputs):
        return environment.notifications
    stack = Stack.of(environment.vpc)
    existing = stack.node.try_find_child("Notifications")
    if isinstance(existing, sns.Topic):
        return existing
    allow_alarm_notifications(environment.key)
    topic = sns.Topic(stack, "Notifications", display_name=f"Keel {environment.name} notifications",
                      master_key=environment.key, enforce_ssl=True)
    discovery = stack.node.try_find_child("Discovery")
    if isinstance(discovery, DiscoveryParameters):
        discovery.add(NOTIFICATIONS_KEY, topic.topic_arn)
    return topic
