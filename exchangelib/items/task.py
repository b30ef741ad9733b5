"""Task: a to-do item (``TaskType``)."""
from __future__ import annotations

import decimal

from ..fields import (
    BooleanField, CharField, CharListField, ChoiceField, DateTimeField, DecimalField, EWSElementField, IntegerField,
    TextField,
)
from ..properties.recurrence import TaskRecurrence
from .base import Item, VersionLike
from .kind_methods import TaskMethods

TASK_STATUS_CHOICES = frozenset(("NotStarted", "InProgress", "Completed", "WaitingOnOthers", "Deferred"))
DELEGATION_STATE_CHOICES = frozenset(("NoMatch", "OwnNew", "Owned", "Accepted", "Declined", "Max"))


class Task(TaskMethods, Item):
    """A task.

    ``Task(subject='Write report', due_date=..., status='InProgress', percent_complete=Decimal(50))``.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/task
    """

    ELEMENT_NAME = "Task"
    CONTAINER_CLASS = "IPF.Task"
    REPR_FIELDS = ("_id", "subject", "status", "due_date")

    actual_work = IntegerField("task:ActualWork", min=0)
    assigned_time = DateTimeField("task:AssignedTime", is_read_only=True)
    billing_information = TextField("task:BillingInformation")
    change_count = IntegerField("task:ChangeCount", is_read_only=True)
    companies = CharListField("task:Companies")
    complete_date = DateTimeField("task:CompleteDate")
    contacts = CharListField("task:Contacts")
    delegation_state = ChoiceField("task:DelegationState", choices=DELEGATION_STATE_CHOICES, is_read_only=True)
    delegator = CharField("task:Delegator", is_read_only=True)
    due_date = DateTimeField("task:DueDate")
    is_editable = BooleanField("task:IsAssignmentEditable", is_read_only=True)
    is_complete = BooleanField("task:IsComplete", is_read_only=True)
    is_recurring = BooleanField("task:IsRecurring", is_read_only=True)
    is_team_task = BooleanField("task:IsTeamTask", is_read_only=True)
    mileage = TextField("task:Mileage")
    owner = CharField("task:Owner", is_read_only=True)
    percent_complete = DecimalField("task:PercentComplete", min=0, max=100)
    recurrence = EWSElementField("task:Recurrence", value_cls=TaskRecurrence)
    start_date = DateTimeField("task:StartDate")
    status = ChoiceField("task:Status", choices=TASK_STATUS_CHOICES)
    status_description = CharField("task:StatusDescription", is_read_only=True)
    total_work = IntegerField("task:TotalWork", min=0)

    def clean(self, version: VersionLike = None) -> None:
        super().clean(version)
        if self.due_date is not None and self.start_date is not None and self.due_date < self.start_date:
            raise ValueError(f"Task.due_date ({self.due_date}) must not be before start_date ({self.start_date})")
        # Keep status, completion date and percentage consistent the way Exchange does.
        if self.status == "Completed":
            if self.percent_complete is None:
                self.percent_complete = decimal.Decimal(100)
        elif self.percent_complete == 100 and self.status is None:
            self.status = "Completed"


__all__ = ["Task", "TASK_STATUS_CHOICES", "DELEGATION_STATE_CHOICES"]
