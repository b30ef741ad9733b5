"""Contact and DistributionList (``ContactItemType``, ``DistributionListType``)."""
from __future__ import annotations

from ..fields import (
    Base64Field, Base64ListField, BooleanField, CharField, CharListField, ChoiceField, DateTimeField,
    EWSElementField, EWSElementListField, GuidField, IndexedField, IntegerField, TextField,
    URIField,
)
from ..properties import (
    AbchEmailAddress, CompleteName, ContactUrl, EmailAddress, ImAddress, MailboxField, MailboxListField, Member,
    PhoneNumber, PhysicalAddress,
)
from ..version import EXCHANGE_2010, EXCHANGE_2010_SP2, EXCHANGE_2016
from .base import Item

FILE_AS_MAPPING_CHOICES = frozenset((
    "None", "LastCommaFirst", "FirstSpaceLast", "Company", "LastCommaFirstCompany", "CompanyLastFirst", "LastFirst",
    "LastFirstCompany", "CompanyLastCommaFirst", "LastFirstSuffix", "LastSpaceFirstCompany", "CompanyLastSpaceFirst",
    "LastSpaceFirst", "DisplayName", "FirstName", "LastFirstMiddleSuffix", "LastName", "Empty",
))
CONTACT_SOURCE_CHOICES = frozenset(("ActiveDirectory", "Store"))
POSTAL_ADDRESS_INDEX_CHOICES = frozenset(("None", "Home", "Business", "Other"))


class Contact(Item):
    """A contact (a person in the user's address book).

    Email addresses, phone numbers, IM and postal addresses are lists of labelled entries::

        Contact(given_name='Anne', surname='Smith',
                email_addresses=[EmailAddress(label='EmailAddress1', email='anne@example.com')],
                phone_numbers=[PhoneNumber(label='MobilePhone', phone_number='+45 1234 5678')])

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/contact
    """

    ELEMENT_NAME = "Contact"
    CONTAINER_CLASS = "IPF.Contact"
    REPR_FIELDS = ("_id", "display_name", "email_addresses")

    file_as = CharField("contacts:FileAs")
    file_as_mapping = ChoiceField("contacts:FileAsMapping", choices=FILE_AS_MAPPING_CHOICES)
    display_name = CharField("contacts:DisplayName")
    given_name = CharField("contacts:GivenName")
    initials = CharField("contacts:Initials")
    middle_name = CharField("contacts:MiddleName")
    nickname = CharField("contacts:Nickname")
    complete_name = EWSElementField("contacts:CompleteName", value_cls=CompleteName, is_read_only=True)
    company_name = CharField("contacts:CompanyName")
    email_addresses = IndexedField("contacts:EmailAddresses", value_cls=EmailAddress,
                                   indexed_uri="contacts:EmailAddress")
    abch_email_addresses = EWSElementListField("contacts:AbchEmailAddresses", value_cls=AbchEmailAddress,
                                               is_read_only=True, supported_from=EXCHANGE_2016)
    physical_addresses = IndexedField("contacts:PhysicalAddresses", value_cls=PhysicalAddress,
                                      indexed_uri="contacts:PhysicalAddress")
    phone_numbers = IndexedField("contacts:PhoneNumbers", value_cls=PhoneNumber, indexed_uri="contacts:PhoneNumber")
    assistant_name = CharField("contacts:AssistantName")
    birthday = DateTimeField("contacts:Birthday")
    business_homepage = URIField("contacts:BusinessHomePage")
    children = CharListField("contacts:Children")
    companies = CharListField("contacts:Companies")
    contact_source = ChoiceField("contacts:ContactSource", choices=CONTACT_SOURCE_CHOICES, is_read_only=True)
    department = CharField("contacts:Department")
    generation = CharField("contacts:Generation")
    im_addresses = IndexedField("contacts:ImAddresses", value_cls=ImAddress, indexed_uri="contacts:ImAddress")
    job_title = CharField("contacts:JobTitle")
    manager = CharField("contacts:Manager")
    mileage = CharField("contacts:Mileage")
    office = CharField("contacts:OfficeLocation")
    postal_address_index = ChoiceField("contacts:PostalAddressIndex", choices=POSTAL_ADDRESS_INDEX_CHOICES)
    profession = CharField("contacts:Profession")
    spouse_name = CharField("contacts:SpouseName")
    surname = CharField("contacts:Surname")
    wedding_anniversary = DateTimeField("contacts:WeddingAnniversary")
    has_picture = BooleanField("contacts:HasPicture", is_read_only=True, supported_from=EXCHANGE_2010)
    phonetic_full_name = CharField("contacts:PhoneticFullName", is_read_only=True, supported_from=EXCHANGE_2010_SP2)
    phonetic_first_name = CharField("contacts:PhoneticFirstName", is_read_only=True,
                                    supported_from=EXCHANGE_2010_SP2)
    phonetic_last_name = CharField("contacts:PhoneticLastName", is_read_only=True, supported_from=EXCHANGE_2010_SP2)
    alias = CharField("contacts:Alias", is_read_only=True, supported_from=EXCHANGE_2010_SP2)
    notes = TextField("contacts:Notes", is_read_only=True, supported_from=EXCHANGE_2010_SP2)
    photo = Base64Field("contacts:Photo", is_read_only=True, supported_from=EXCHANGE_2010_SP2)
    user_smime_certificate = Base64ListField("contacts:UserSMIMECertificate", is_read_only=True,
                                             supported_from=EXCHANGE_2010_SP2)
    ms_exchange_certificate = Base64ListField("contacts:MSExchangeCertificate", is_read_only=True,
                                              supported_from=EXCHANGE_2010_SP2)
    directory_id = CharField("contacts:DirectoryId", is_read_only=True, supported_from=EXCHANGE_2010_SP2)
    manager_mailbox = MailboxField("contacts:ManagerMailbox", is_read_only=True, supported_from=EXCHANGE_2010_SP2)
    direct_reports = MailboxListField("contacts:DirectReports", is_read_only=True, supported_from=EXCHANGE_2010_SP2)
    # Exchange Online / address book (ABCH) properties.
    account_name = CharField("contacts:AccountName", supported_from=EXCHANGE_2016)
    is_auto_update_disabled = BooleanField("contacts:IsAutoUpdateDisabled", supported_from=EXCHANGE_2016)
    is_messenger_enabled = BooleanField("contacts:IsMessengerEnabled", supported_from=EXCHANGE_2016)
    comment = TextField("contacts:Comment", supported_from=EXCHANGE_2016)
    contact_short_id = IntegerField("contacts:ContactShortId", supported_from=EXCHANGE_2016)
    contact_type = CharField("contacts:ContactType", supported_from=EXCHANGE_2016)
    gender = CharField("contacts:Gender", supported_from=EXCHANGE_2016)
    is_hidden = BooleanField("contacts:IsHidden", supported_from=EXCHANGE_2016)
    object_id = CharField("contacts:ObjectId", supported_from=EXCHANGE_2016)
    passport_id = IntegerField("contacts:PassportId", supported_from=EXCHANGE_2016)
    is_private = BooleanField("contacts:IsPrivate", supported_from=EXCHANGE_2016)
    source_id = CharField("contacts:SourceId", supported_from=EXCHANGE_2016)
    trust_level = IntegerField("contacts:TrustLevel", supported_from=EXCHANGE_2016)
    created_by = CharField("contacts:CreatedBy", supported_from=EXCHANGE_2016)
    urls = EWSElementListField("contacts:Urls", value_cls=ContactUrl, supported_from=EXCHANGE_2016)
    cid = IntegerField("contacts:Cid", supported_from=EXCHANGE_2016)
    skype_auth_certificate = CharField("contacts:SkypeAuthCertificate", supported_from=EXCHANGE_2016)
    skype_context = CharField("contacts:SkypeContext", supported_from=EXCHANGE_2016)
    skype_id = CharField("contacts:SkypeId", supported_from=EXCHANGE_2016)
    skype_relationship = CharField("contacts:SkypeRelationship", supported_from=EXCHANGE_2016)
    yomi_nickname = CharField("contacts:YomiNickname", supported_from=EXCHANGE_2016)
    xbox_live_tag = CharField("contacts:XboxLiveTag", supported_from=EXCHANGE_2016)
    invite_free = BooleanField("contacts:InviteFree", supported_from=EXCHANGE_2016)
    hide_presence_and_profile = BooleanField("contacts:HidePresenceAndProfile", supported_from=EXCHANGE_2016)
    is_pending_outbound = BooleanField("contacts:IsPendingOutbound", supported_from=EXCHANGE_2016)
    support_group_feeds = BooleanField("contacts:SupportGroupFeeds", supported_from=EXCHANGE_2016)
    user_tile_hash = CharField("contacts:UserTileHash", supported_from=EXCHANGE_2016)
    unified_inbox = BooleanField("contacts:UnifiedInbox", supported_from=EXCHANGE_2016)
    mris = CharListField("contacts:Mris", supported_from=EXCHANGE_2016)
    wlid = CharField("contacts:Wlid", supported_from=EXCHANGE_2016)
    abch_contact_id = GuidField("contacts:AbchContactId", supported_from=EXCHANGE_2016)
    not_in_birthday_calendar = BooleanField("contacts:NotInBirthdayCalendar", supported_from=EXCHANGE_2016)
    shell_contact_type = CharField("contacts:ShellContactType", supported_from=EXCHANGE_2016)
    im_mri = CharField("contacts:ImMri", supported_from=EXCHANGE_2016)
    presence_trust_level = IntegerField("contacts:PresenceTrustLevel", supported_from=EXCHANGE_2016)
    other_mri = CharField("contacts:OtherMri", supported_from=EXCHANGE_2016)
    profile_last_changed = CharField("contacts:ProfileLastChanged", supported_from=EXCHANGE_2016)
    mobile_im_enabled = BooleanField("contacts:MobileIMEnabled", supported_from=EXCHANGE_2016)
    partner_network_profile_photo_url = CharField("contacts:PartnerNetworkProfilePhotoUrl",
                                                  supported_from=EXCHANGE_2016)
    partner_network_thumbnail_photo_url = CharField("contacts:PartnerNetworkThumbnailPhotoUrl",
                                                    supported_from=EXCHANGE_2016)
    person_id = CharField("contacts:PersonId", is_read_only=True, supported_from=EXCHANGE_2016)
    conversation_guid = GuidField("contacts:ConversationGuid", is_read_only=True, supported_from=EXCHANGE_2016)


class DistributionList(Item):
    """A personal distribution list (a contact group).

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/distributionlist
    """

    ELEMENT_NAME = "DistributionList"
    CONTAINER_CLASS = "IPF.Contact"
    REPR_FIELDS = ("_id", "display_name", "members")

    display_name = CharField("contacts:DisplayName", is_required=True)
    file_as = CharField("contacts:FileAs", is_read_only=True)
    contact_source = ChoiceField("contacts:ContactSource", choices=CONTACT_SOURCE_CHOICES, is_read_only=True)
    members = EWSElementListField("distributionlist:Members", value_cls=Member)


__all__ = ["Contact", "DistributionList", "FILE_AS_MAPPING_CHOICES", "CONTACT_SOURCE_CHOICES",
           "POSTAL_ADDRESS_INDEX_CHOICES"]
