"""Domain models, one module per noun; import them from here."""

from contact_center.models.agent import Agent
from contact_center.models.attachment import Attachment
from contact_center.models.canned import CannedResponse
from contact_center.models.company import Company
from contact_center.models.conversation import Conversation
from contact_center.models.customer import Customer
from contact_center.models.identity import Identity
from contact_center.models.inbox import Inbox
from contact_center.models.label import Label
from contact_center.models.mention import Mention
from contact_center.models.outbox import Delivery, EarlyProviderReport
from contact_center.models.raw_inbound import RawInbound
from contact_center.models.saved_view import SavedView
from contact_center.models.security import AgentSession, RecoveryCode, SecurityPolicy, TwoFactor
from contact_center.models.survey import SatisfactionRating
from contact_center.models.team import Team
from contact_center.models.timeline import TimelineEntry

__all__ = [
    "Agent",
    "AgentSession",
    "Attachment",
    "CannedResponse",
    "Company",
    "Conversation",
    "Customer",
    "Delivery",
    "EarlyProviderReport",
    "Identity",
    "Inbox",
    "Label",
    "Mention",
    "RawInbound",
    "RecoveryCode",
    "SatisfactionRating",
    "SavedView",
    "SecurityPolicy",
    "Team",
    "TimelineEntry",
    "TwoFactor",
]
