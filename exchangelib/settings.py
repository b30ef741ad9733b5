"""Mailbox settings: out-of-office (OOF) automatic replies.

::

    account.oof_settings = OofSettings(state=OofSettings.SCHEDULED, external_audience='Known',
                                       internal_reply='Back Monday', external_reply='Back Monday',
                                       start=start, end=end)

https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/useroofsettings
"""
from __future__ import annotations

from typing import Any, Union

from lxml import etree

from .elements import EWSElement
from .ewsdatetime import UTC
from .fields import ChoiceField, DateTimeField, TextField
from .version import Build, Version
from .xml import TNS

Element = etree._Element

ENABLED = "Enabled"
DISABLED = "Disabled"
SCHEDULED = "Scheduled"
OOF_STATES = (ENABLED, DISABLED, SCHEDULED)
EXTERNAL_AUDIENCES = ("None", "Known", "All")

_T = f"{{{TNS}}}"


class OofSettings(EWSElement):
    """A mailbox's automatic-reply settings.

    ``state`` is :attr:`ENABLED`, :attr:`DISABLED` or :attr:`SCHEDULED` (replies only between ``start`` and
    ``end``, both time zone aware). ``external_audience`` says who outside the organisation gets
    ``external_reply``: ``'None'``, ``'Known'`` (senders in the contacts) or ``'All'`` (the default).
    ``internal_reply``/``external_reply`` are the reply texts (HTML allowed).

    A scheduled state without ``start`` and ``end``, or an ``end`` that is not after ``start``, raises
    ValueError when the object is built (and again before it is sent, if changed since).

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/useroofsettings
    """

    ELEMENT_NAME = "UserOofSettings"
    ENABLED = ENABLED
    DISABLED = DISABLED
    SCHEDULED = SCHEDULED

    state = ChoiceField(xml_name="OofState", choices=OOF_STATES, is_required=True)
    external_audience = ChoiceField(xml_name="ExternalAudience", choices=EXTERNAL_AUDIENCES, default="All")
    start = DateTimeField(xml_name="StartTime")
    end = DateTimeField(xml_name="EndTime")
    internal_reply = TextField(xml_name="InternalReply")
    external_reply = TextField(xml_name="ExternalReply")

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._check()

    def _check(self) -> None:
        if self.state is None:
            raise ValueError(f"OofSettings.state is required: one of {OOF_STATES}")
        start, end = self.start, self.end
        if self.state == SCHEDULED and (start is None or end is None):
            raise ValueError("OofSettings: a SCHEDULED state needs both start and end")
        if (start is None) != (end is None):
            raise ValueError("OofSettings: give both start and end, or neither")
        if start is not None and end is not None and end <= start:
            raise ValueError(f"OofSettings.end ({end}) must be after start ({start})")

    def clean(self, version: Union[Version, Build, None] = None) -> None:
        super().clean(version)
        self._check()

    # --- XML: the reply texts and the period are nested (ReplyBody/Message, Duration/StartTime) ---------
    def to_xml(self, version: Union[Version, Build, None] = None) -> Element:
        """``<t:UserOofSettings>`` as SetUserOofSettings sends it."""
        self.clean(version)
        elem = etree.Element(f"{_T}UserOofSettings", nsmap={"t": TNS})
        etree.SubElement(elem, f"{_T}OofState").text = self.state
        etree.SubElement(elem, f"{_T}ExternalAudience").text = self.external_audience
        if self.start is not None and self.end is not None:
            duration = etree.SubElement(elem, f"{_T}Duration")
            etree.SubElement(duration, f"{_T}StartTime").text = self.start.astimezone(UTC).ewsformat()
            etree.SubElement(duration, f"{_T}EndTime").text = self.end.astimezone(UTC).ewsformat()
        for tag, value in (("InternalReply", self.internal_reply), ("ExternalReply", self.external_reply)):
            if value is not None:
                reply = etree.SubElement(elem, f"{_T}{tag}")
                etree.SubElement(reply, f"{_T}Message").text = value
        return elem

    @classmethod
    def from_xml(cls, elem: Element, account: Any = None) -> "OofSettings":
        """Read ``<t:OofSettings>`` (GetUserOofSettings' answer). Lenient: server data is never refused."""
        obj = cls.__new__(cls)
        d = obj.__dict__
        fields = cls.FIELDS
        state = elem.findtext(f"{_T}OofState")
        if state:
            d["state"] = state.strip()
        audience = elem.findtext(f"{_T}ExternalAudience")
        if audience:
            d["external_audience"] = audience.strip()
        duration = elem.find(f"{_T}Duration")
        if duration is not None:
            for name, tag in (("start", "StartTime"), ("end", "EndTime")):
                value = fields[name].from_text(duration.findtext(f"{_T}{tag}"), account)
                if value is not None:
                    d[name] = value
        for name, tag in (("internal_reply", "InternalReply"), ("external_reply", "ExternalReply")):
            reply = elem.find(f"{_T}{tag}")
            if reply is not None:
                d[name] = reply.findtext(f"{_T}Message") or ""
        return obj



__all__ = ["OofSettings", "ENABLED", "DISABLED", "SCHEDULED", "OOF_STATES", "EXTERNAL_AUDIENCES"]
