"""Every model serialises its fields in the order of the matching XSD sequence in types.xsd.

EWS rejects elements out of sequence order, so a field declared in the wrong place breaks requests.
The XSD is read with lxml (no DTD, no network); extension bases are flattened.
"""
from __future__ import annotations

from typing import Dict, List, Tuple

import pytest
from lxml import etree

from exchangelib.folders import BaseFolder, CalendarFolder, ContactsFolder, Folder, SearchFolder, TasksFolder
from exchangelib.items import (
    CalendarItem, Contact, DistributionList, Item, MeetingCancellation, MeetingMessage, MeetingRequest,
    MeetingResponse, Message, PostItem, Task,
)
from exchangelib.properties import (
    AbchEmailAddress, AttachmentId, Attendee, CompleteName, ContactUrl, DeletedOccurrence, DistinguishedFolderId,
    EffectiveRights, EmailAddress, Flag, FolderId, ImAddress, ItemId, Mailbox, ManagedFolderInformation, Member,
    MessageHeader, OccurrenceInfo, PhoneNumber, PhysicalAddress, ReferenceAttachment, ReminderMessageData,
    RetentionTag, RootItemId, FileAttachment,
)
from exchangelib.properties import permissions, rules
from exchangelib.testing.schema import find_schema_dir

XS = "{http://www.w3.org/2001/XMLSchema}"

# Elements of a sequence that a model deliberately doesn't declare as a field, and why.
NOT_MODELLED = {
    # Extended properties repeat without a wrapper and are matched on their ExtendedFieldURI; they
    # are registered per class at run time rather than declared as one field.
    "ExtendedProperty",
}

MODELS = [
    (Item, "ItemType"), (Message, "MessageType"), (CalendarItem, "CalendarItemType"), (Task, "TaskType"),
    (Contact, "ContactItemType"), (DistributionList, "DistributionListType"), (PostItem, "PostItemType"),
    (MeetingMessage, "MeetingMessageType"), (MeetingRequest, "MeetingRequestMessageType"),
    (MeetingResponse, "MeetingResponseMessageType"), (MeetingCancellation, "MeetingCancellationMessageType"),
    (BaseFolder, "BaseFolderType"), (Folder, "FolderType"), (CalendarFolder, "CalendarFolderType"),
    (ContactsFolder, "ContactsFolderType"), (SearchFolder, "SearchFolderType"), (TasksFolder, "TasksFolderType"),
    (Mailbox, "EmailAddressType"), (Attendee, "AttendeeType"), (EffectiveRights, "EffectiveRightsType"),
    (Flag, "FlagType"), (CompleteName, "CompleteNameType"), (ReminderMessageData, "ReminderMessageDataType"),
    (OccurrenceInfo, "OccurrenceInfoType"), (DeletedOccurrence, "DeletedOccurrenceInfoType"),
    (Member, "MemberType"), (ContactUrl, "ContactUrlDictionaryEntryType"),
    (AbchEmailAddress, "AbchEmailAddressDictionaryEntryType"),
    (ManagedFolderInformation, "ManagedFolderInformationType"),
    (PhysicalAddress, "PhysicalAddressDictionaryEntryType"),
    (EmailAddress, "EmailAddressDictionaryEntryType"), (PhoneNumber, "PhoneNumberDictionaryEntryType"),
    (ImAddress, "ImAddressDictionaryEntryType"), (DistinguishedFolderId, "DistinguishedFolderIdType"),
    (ItemId, "ItemIdType"), (FolderId, "FolderIdType"), (RootItemId, "RootItemIdType"),
    (AttachmentId, "AttachmentIdType"), (FileAttachment, "FileAttachmentType"),
    (ReferenceAttachment, "ReferenceAttachmentType"), (MessageHeader, "InternetHeaderType"),
    (RetentionTag, "RetentionTagType"),
]
# Mailbox administration (issue 15)
MODELS += [
    (rules.Rule, "RuleType"), (rules.Conditions, "RulePredicatesType"), (rules.Exceptions, "RulePredicatesType"),
    (rules.Actions, "RuleActionsType"), (rules.WithinDateRange, "RulePredicateDateRangeType"),
    (rules.WithinSizeRange, "RulePredicateSizeRangeType"),
    (permissions.UserId, "UserIdType"), (permissions.Permission, "PermissionType"),
    (permissions.CalendarPermission, "CalendarPermissionType"),
    (permissions.DelegateUser, "DelegateUserType"), (permissions.DelegatePermissions, "DelegatePermissionsType"),
]


@pytest.fixture(scope="module")
def complex_types() -> Dict[str, etree._Element]:
    schema_dir = find_schema_dir()
    assert schema_dir is not None, "EWS schema not found (set EWS_SCHEMA_DIR)"
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    root = etree.parse(str(schema_dir / "types.xsd"), parser).getroot()
    return {c.get("name"): c for c in root.iter(f"{XS}complexType") if c.get("name")}


def _flatten(types: Dict[str, etree._Element], name: str) -> Tuple[List[str], List[str]]:
    """(element names in sequence order, attribute names) of a complex type, bases first."""
    ctype = types[name]
    elements: List[str] = []
    attributes: List[str] = []
    body = ctype
    ext = ctype.find(f"{XS}complexContent/{XS}extension")
    if ext is None:
        ext = ctype.find(f"{XS}simpleContent/{XS}extension")
    if ext is not None:
        base = ext.get("base").split(":")[-1]
        if base in types:
            elements, attributes = _flatten(types, base)
        body = ext
    for child in body:
        if child.tag in (f"{XS}sequence", f"{XS}choice"):
            elements.extend(_particles(child))
        elif child.tag == f"{XS}attribute":
            attributes.append(child.get("name"))
    return elements, attributes


def _particles(group: etree._Element) -> List[str]:
    """Element names of a sequence/choice, descending into nested groups but not into inline types."""
    out: List[str] = []
    for child in group:
        if child.tag == f"{XS}element" and child.get("name"):
            out.append(child.get("name"))
        elif child.tag in (f"{XS}sequence", f"{XS}choice"):
            out.extend(_particles(child))
    return out


@pytest.mark.parametrize("model, type_name", MODELS, ids=[m[0].__name__ for m in MODELS])
def test_field_order_matches_xsd_sequence(complex_types, model, type_name):
    xsd_elements, xsd_attributes = _flatten(complex_types, type_name)
    ours = [f.xml_name for f in model.FIELDS if not f.is_attribute and not f.is_text]
    expected = [e for e in xsd_elements if e not in NOT_MODELLED]
    assert ours == expected, f"{model.__name__} fields differ from {type_name}"
    ours_attrs = [f.xml_name for f in model.FIELDS if f.is_attribute]
    assert set(ours_attrs) <= set(xsd_attributes), f"{model.__name__} has attributes {type_name} doesn't"


def test_not_modelled_set_is_really_in_the_schema(complex_types):
    # Guards against NOT_MODELLED hiding a typo: each name must occur in some modelled sequence.
    names = {e for _, t in MODELS for e in _flatten(complex_types, t)[0]}
    assert NOT_MODELLED <= names


def test_field_uris_are_valid_schema_values():
    """Every field URI we send in a FieldURI element is a value of UnindexedFieldURIType."""
    schema_dir = find_schema_dir()
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    root = etree.parse(str(schema_dir / "types.xsd"), parser).getroot()
    allowed = {e.get("value") for e in root.find(f"{XS}simpleType[@name='UnindexedFieldURIType']").iter(
        f"{XS}enumeration")}
    dictionary = {e.get("value") for e in root.find(f"{XS}simpleType[@name='DictionaryURIType']").iter(
        f"{XS}enumeration")}
    for model, _ in MODELS:
        for f in model.FIELDS:
            if f.field_uri is not None:
                assert f.field_uri in allowed, f"{model.__name__}.{f.name}: {f.field_uri}"
            if f.is_indexed:
                subs = [f"{f.indexed_uri}:{s.xml_name}" for s in f.subfields] or [f.indexed_uri]
                assert set(subs) <= dictionary, f"{model.__name__}.{f.name}"


@pytest.mark.parametrize("model, type_name", [(CalendarItem, "CalendarItemType"), (Folder, "FolderType")],
                         ids=["CalendarItem", "Folder"])
def test_registered_extended_properties_take_their_schema_position(complex_types, model, type_name):
    from exchangelib.properties import ExtendedProperty

    class Prop(ExtendedProperty):
        distinguished_property_set_id = "PublicStrings"
        property_name = "x"

    class Other(ExtendedProperty):
        property_tag = 0x1090
        property_type = "Integer"

    model.register("prop_one", Prop)
    model.register("prop_two", Other)
    try:
        ours = [f.xml_name for f in model.FIELDS if not f.is_attribute and not f.is_text]
        xsd = _flatten(complex_types, type_name)[0]
        i = xsd.index("ExtendedProperty")
        assert ours == xsd[:i] + ["ExtendedProperty", "ExtendedProperty"] + xsd[i + 1:]
    finally:
        model.deregister("prop_one")
        model.deregister("prop_two")
