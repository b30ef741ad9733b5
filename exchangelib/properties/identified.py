"""What items and folders share: a server id + change key, writable-field serialisation, and
registration of extended properties."""
from __future__ import annotations

from typing import Any, ClassVar, Dict, List, Optional, Tuple, Union

from lxml import etree

from ..elements import EWSElement
from ..fields import Field
from ..version import Build, Version
from ..xml import TNS, Element
from .extended import deregister_extended_property, register_extended_property

VersionLike = Union[Version, Build, None]


class IdentifiedElement(EWSElement):
    """An EWSElement stored on the server under an id (``_id`` field holding an ItemId/FolderId).

    Subclasses set ``ID_CLASS`` (ItemId or FolderId), ``ID_ALIAS`` (the seed-era name of ``id``:
    'item_id' or 'folder_id') and ``EXTENDED_PROPERTY_ANCHOR`` (the field registered extended
    properties are serialised after, per the XSD).
    """

    ID_CLASS: ClassVar[type]
    ID_ALIAS: ClassVar[str]
    EXTENDED_PROPERTY_ANCHOR: ClassVar[str]
    _WRITABLE_ELEMENT_FIELDS: ClassVar[Tuple[Field, ...]] = ()

    @classmethod
    def _rebuild_caches(cls) -> None:
        super()._rebuild_caches()
        cls._WRITABLE_ELEMENT_FIELDS = tuple(f for f in cls._ELEMENT_FIELDS if not f.is_read_only)

    @classmethod
    def _pop_id_kwargs(cls, kwargs: Dict[str, Any]) -> Tuple[Optional[str], Optional[str]]:
        """Take ``id`` (or its alias) and ``changekey`` out of constructor kwargs."""
        the_id = kwargs.pop("id", None)
        alias = kwargs.pop(cls.ID_ALIAS, None)
        if the_id is not None and alias is not None and the_id != alias:
            raise TypeError(f"{cls.__name__}() got both id={the_id!r} and {cls.ID_ALIAS}={alias!r}")
        return (the_id if the_id is not None else alias), kwargs.pop("changekey", None)

    @property
    def id(self) -> Optional[str]:
        """The id on the server, or None if this hasn't been saved or fetched."""
        i = self.__dict__.get("_id")
        return i.id if i is not None else None

    @property
    def changekey(self) -> Optional[str]:
        """The change key: it changes on every write on the server."""
        i = self.__dict__.get("_id")
        return i.changekey if i is not None else None

    def _set_id(self, id: Optional[str], changekey: Optional[str] = None) -> None:
        """Record the id/changekey the server gave this object (library use: after create/update/fetch)."""
        if id is None:
            if changekey is not None:
                raise ValueError(f"{type(self).__name__}: a changekey needs an id")
            self._set_field("_id", None)
            return
        self._set_field("_id", self.ID_CLASS(id, changekey))

    @classmethod
    def register(cls, attr_name: str, attr_cls: Any) -> None:
        """Make the extended property ``attr_cls`` (an ExtendedProperty subclass) available as ``attr_name``.

        It applies to this class and its subclasses: ``CalendarItem.register('lunch_menu', LunchMenu)``.
        """
        register_extended_property(cls, attr_name, attr_cls, anchor=cls.EXTENDED_PROPERTY_ANCHOR)

    @classmethod
    def deregister(cls, attr_name: str) -> None:
        """Remove an extended property registered with :meth:`register`."""
        deregister_extended_property(cls, attr_name)

    @classmethod
    def writable_fields(cls, version: VersionLike = None) -> List[Field]:
        """The fields a user can set (and a Create request sends), optionally only those ``version`` knows."""
        return [f for f in cls.FIELDS if not f.is_read_only and f.is_supported(version)]

    def to_xml(self, version: VersionLike = None, *, include_read_only: bool = False) -> Element:
        """The element with the set, writable fields (what CreateItem/CreateFolder sends).

        With ``include_read_only=True`` the server-set fields are included too (a full copy).
        """
        elem = etree.Element(self.qualified_tag(), nsmap={"t": TNS})
        self._fill_xml(elem, version, None if include_read_only else self._WRITABLE_ELEMENT_FIELDS)
        return elem
