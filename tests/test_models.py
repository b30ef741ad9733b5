"""EWSElement behaviour, value types (ids, mailboxes, bodies) and the folder data classes."""
from __future__ import annotations

import copy
import pickle

import pytest
from lxml import etree

from exchangelib.elements import EWSElement
from exchangelib.fields import CharField, IntegerField
from exchangelib.folders import (
    DISTINGUISHED_FOLDER_CLASSES, FOLDER_CLASSES, KNOWN_FOLDER_CLASSES, Calendar, CalendarFolder, Contacts,
    ContactsFolder, DeletedItems, Folder, Inbox, Root, SearchFolder, Tasks, TasksFolder,
)
from exchangelib.properties import (
    Attendee, Body, DistinguishedFolderId, EffectiveRights, HTMLBody, ItemId, Mailbox, ParentFolderId,
)
from exchangelib.testing.schema import find_schema_dir, validate
from exchangelib.version import EXCHANGE_2013, Version
from exchangelib.xml import TNS, create_element, add_child

T = f"{{{TNS}}}"


class Pet(EWSElement):
    ELEMENT_NAME = "Pet"
    name = CharField(xml_name="Name", is_required=True)
    legs = IntegerField(xml_name="Legs")


class Dog(Pet):
    ELEMENT_NAME = "Dog"
    breed = CharField(xml_name="Breed")


def test_fields_are_collected_in_order_and_subclasses_append():
    assert Pet.FIELDS.names() == ["name", "legs"]
    assert Dog.FIELDS.names() == ["name", "legs", "breed"]


def test_unknown_constructor_kwarg_is_a_type_error_naming_class_and_kwarg():
    with pytest.raises(TypeError) as e:
        Dog(nmae="Rex")
    assert "Dog()" in str(e.value) and "'nmae'" in str(e.value) and "did you mean 'name'" in str(e.value)


def test_unknown_attribute_is_an_attribute_error():
    d = Dog(name="Rex")
    with pytest.raises(AttributeError, match=r"Dog has no field or attribute 'colour'"):
        d.colour = "brown"


def test_positional_arguments_fill_fields_in_order():
    assert Dog("Rex", 4, "Beagle") == Dog(name="Rex", legs=4, breed="Beagle")
    with pytest.raises(TypeError, match="at most 3"):
        Dog("a", 1, "b", "c")
    with pytest.raises(TypeError, match="multiple values"):
        Dog("Rex", name="Max")


def test_clean_requires_required_fields():
    with pytest.raises(ValueError, match=r"Dog\.name is required"):
        Dog(legs=3).clean()
    Dog(name="Rex").clean()


def test_xml_round_trip_and_unknown_children_ignored():
    d = Dog(name="Rex", breed="Beagle")
    elem = d.to_xml()
    assert [c.tag for c in elem] == [f"{T}Name", f"{T}Breed"]
    etree.SubElement(elem, f"{T}SomethingNew").text = "x"
    assert Dog.from_xml(elem) == d


def test_equality_hash_repr_copy_pickle():
    a, b = Dog(name="Rex", legs=4), Dog(name="Rex", legs=4)
    assert a == b and hash(a) == hash(b) and a != Dog(name="Rex", legs=3)
    assert a != Pet(name="Rex", legs=4)
    assert repr(a) == "Dog(name='Rex', legs=4)"
    assert repr(Dog(name="x" * 200)).endswith("...)")
    c = copy.deepcopy(a)
    assert c == a and c is not a
    assert pickle.loads(pickle.dumps(a)) == a


def test_add_and_remove_field_at_a_position():
    class Cat(Pet):
        ELEMENT_NAME = "Cat"

    Pet.add_field(CharField(xml_name="Colour"), name="colour", insert_after="name")
    try:
        assert Pet.FIELDS.names() == ["name", "colour", "legs"]
        assert Cat.FIELDS.names() == ["name", "colour", "legs"]
        assert Dog.FIELDS.names() == ["name", "colour", "legs", "breed"]
        cat = Cat(name="Tom", colour="black")
        assert [c.tag for c in cat.to_xml()] == [f"{T}Name", f"{T}Colour"]
        assert Cat.from_xml(cat.to_xml()).colour == "black"
        with pytest.raises(ValueError, match="already has"):
            Pet.add_field(CharField(xml_name="X"), name="legs")
    finally:
        Pet.remove_field("colour")
    assert Dog.FIELDS.names() == ["name", "legs", "breed"]
    with pytest.raises(AttributeError):
        Dog(name="Rex").colour = "x"


def test_supported_fields():
    names = [f.name for f in EffectiveRights.supported_fields(Version(EXCHANGE_2013))]
    assert "view_private_items" in names
    assert len(EffectiveRights.supported_fields(None)) == 7


# --- value types -----------------------------------------------------------------------------------------
def test_item_id_attributes_and_unpacking():
    i = ItemId("AAA", "CK")
    assert etree.tostring(i.to_xml()) == f'<t:ItemId xmlns:t="{TNS}" Id="AAA" ChangeKey="CK"/>'.encode()
    assert tuple(i) == ("AAA", "CK") and {i: 1}[ItemId("AAA", "CK")] == 1
    assert ParentFolderId("F").to_xml().tag == f"{T}ParentFolderId"
    with pytest.raises(ValueError, match="ItemId.id is required"):
        ItemId().clean()


def test_distinguished_folder_id_with_mailbox_validates():
    d = DistinguishedFolderId("inbox", mailbox="anne@example.com")
    assert d.mailbox == Mailbox(email_address="anne@example.com")
    req = create_element("m:GetFolder")
    shape = add_child(req, "m:FolderShape")
    add_child(shape, "t:BaseShape", text="IdOnly")
    add_child(req, "m:FolderIds").append(d.to_xml())
    assert validate(req) == (True, "")
    with pytest.raises(ValueError, match="DistinguishedFolderId.id"):
        DistinguishedFolderId("inboxx")


def test_mailbox_equality_is_by_address_ignoring_case():
    assert Mailbox(email_address="Anne@Example.com") == Mailbox(name="Anne", email_address="anne@example.com")
    assert len({Mailbox(email_address="A@x.com"), Mailbox(email_address="a@X.com")}) == 1
    assert str(Mailbox("Anne", "anne@example.com")) == "Anne <anne@example.com>"
    with pytest.raises(ValueError, match="email_address or an item_id"):
        Mailbox(name="nobody").clean()
    with pytest.raises(ValueError, match=r"Mailbox\.mailbox_type must be one of"):
        Mailbox(email_address="a@b.c", mailbox_type="Robot")
    assert Mailbox(email_address="a@b.c").routing_type == "SMTP"


def test_attendee_accepts_address_strings():
    a = Attendee(mailbox="anne@example.com", response_type="Accept")
    assert a.mailbox.email_address == "anne@example.com"
    with pytest.raises(ValueError, match="Attendee.response_type"):
        Attendee(mailbox="a@b.c", response_type="Maybe")


def test_body_types_keep_their_kind():
    b = HTMLBody("<b>hi</b>")
    assert isinstance(b + "!", HTMLBody) and (b + "!").body_type == "HTML"
    assert isinstance(Body("x %s") % "y", Body) and Body("{}").format(1) == "1"
    assert repr(b) == "HTMLBody('<b>hi</b>')"


# --- folders ------------------------------------------------------------------------------------------------
def test_folder_registries():
    assert FOLDER_CLASSES == {"Folder": Folder, "CalendarFolder": CalendarFolder, "ContactsFolder": ContactsFolder,
                              "SearchFolder": SearchFolder, "TasksFolder": TasksFolder}
    assert DISTINGUISHED_FOLDER_CLASSES["calendar"] is Calendar and issubclass(Calendar, CalendarFolder)
    assert issubclass(Contacts, ContactsFolder) and issubclass(Tasks, TasksFolder) and issubclass(Inbox, Folder)
    assert Calendar.CONTAINER_CLASS == "IPF.Appointment" and Inbox.CONTAINER_CLASS == "IPF.Note"
    assert DeletedItems.DISTINGUISHED_FOLDER_ID == "deleteditems"
    assert "Indbakke" in Inbox.localized_names("da_DK") and Inbox.localized_names()[0] == "Inbox"


def test_one_class_per_distinguished_folder_name_in_the_schema():
    xs = "{http://www.w3.org/2001/XMLSchema}"
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    root = etree.parse(str(find_schema_dir() / "types.xsd"), parser).getroot()
    names = {e.get("value") for e in root.find(f"{xs}simpleType[@name='DistinguishedFolderIdNameType']").iter(
        f"{xs}enumeration")}
    assert set(DISTINGUISHED_FOLDER_CLASSES) == names
    assert len(KNOWN_FOLDER_CLASSES) == len(names)
    for cls in KNOWN_FOLDER_CLASSES:
        assert "https://learn.microsoft.com/" in cls.__doc__


def test_folder_construction_and_ids():
    parent = Inbox(account="acct")
    f = Folder(parent=parent, name="My New Folder")
    assert f.parent is parent and f.name == "My New Folder" and f.id is None
    f._set_id("FID", "FCK")
    assert (f.id, f.changekey, f.folder_id) == ("FID", "FCK", "FID")
    with pytest.raises(AttributeError, match="read-only"):
        f.total_count = 3
    with pytest.raises(AttributeError, match="read-only"):
        f.id = "x"
    # CreateFolder sends only the writable fields; the request validates.
    f2 = Folder._construct(name="x", total_count=5, folder_class="IPF.Note")
    req = create_element("m:CreateFolder")
    add_child(req, "m:ParentFolderId").append(DistinguishedFolderId("inbox").to_xml())
    add_child(req, "m:Folders").append(f2.to_xml())
    assert [c.tag for c in req[1][0]] == [f"{T}FolderClass", f"{T}DisplayName"]
    assert validate(req) == (True, "")


def test_folder_parses_get_folder_response_element():
    src = f"""<t:CalendarFolder xmlns:t="{TNS}">
      <t:FolderId Id="CAL" ChangeKey="AgAA"/><t:ParentFolderId Id="ROOT" ChangeKey="AQAA"/>
      <t:FolderClass>IPF.Appointment</t:FolderClass><t:DisplayName>Calendar</t:DisplayName>
      <t:TotalCount>3</t:TotalCount><t:ChildFolderCount>0</t:ChildFolderCount>
      <t:EffectiveRights><t:CreateAssociated>true</t:CreateAssociated><t:CreateContents>true</t:CreateContents>
      <t:CreateHierarchy>true</t:CreateHierarchy><t:Delete>true</t:Delete><t:Modify>true</t:Modify>
      <t:Read>true</t:Read><t:ViewPrivateItems>true</t:ViewPrivateItems></t:EffectiveRights>
      <t:DistinguishedFolderId>calendar</t:DistinguishedFolderId>
    </t:CalendarFolder>"""
    f = Calendar.from_xml(etree.fromstring(src), account="acct")
    assert isinstance(f, Calendar) and f.account == "acct"
    assert (f.id, f.changekey, f.name, f.total_count) == ("CAL", "AgAA", "Calendar", 3)
    assert f.parent_folder_id == ParentFolderId("ROOT", "AQAA")
    assert "read" in f.effective_rights and f.distinguished_folder_id == "calendar"
    assert Root.from_xml(etree.fromstring(src)).name == "Calendar"


def test_update_folder_field_elements():
    f = Folder(name="Renamed")
    f._set_id("FID")
    (s,) = f.update_xml(["name"])
    assert s.tag == f"{T}SetFolderField" and s[0].get("FieldURI") == "folder:DisplayName"
    assert s[1].tag == f"{T}Folder" and s[1][0].text == "Renamed"
    f.name = None
    (d,) = f.update_xml(["name"])
    assert d.tag == f"{T}DeleteFolderField"
    with pytest.raises(ValueError, match="read-only"):
        f.update_xml(["total_count"])


def test_effective_rights_write_all_required_children():
    e = EffectiveRights._construct(read=True)
    assert [c.text for c in e.to_xml()] == ["false", "false", "false", "false", "false", "true"]
