"""``folder.people()``: a lazy, chainable search for personas (FindPeople), like an item QuerySet.

``account.contacts.people().filter(surname='Major').order_by('display_name')[:10]`` pages through FindPeople
with a Restriction and a SortOrder built from :class:`~exchangelib.properties.persona.Persona`'s fields.
``filter('text')`` searches with a query string (each word a prefix of a name or an address). Searching the
distinguished ``directory`` folder (``account.root / 'Directory'`` or
``account.folders.distinguished(Directory)``) finds people of the organisation.
https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/findpeople-operation
"""
from __future__ import annotations

from typing import Any, Iterator, List, Tuple

from .properties.persona import Persona
from .queryset import QuerySet
from .restriction import FieldPath
from .services.find_people import FindPeople
from .services.shapes import DEFAULT, ID_ONLY


class PeopleQuerySet(QuerySet):
    """A QuerySet over the personas of a folder: ``filter``/``exclude``/``order_by``/``only``/``values``,
    slicing, ``count()`` and ``exists()`` work as for items. Calendar views and ``delete()`` do not apply."""

    @property
    def model_classes(self) -> Tuple[type, ...]:
        return (Persona,)

    def _clone(self) -> "PeopleQuerySet":
        new = PeopleQuerySet.__new__(PeopleQuerySet)
        new.__dict__.update(self.__dict__)
        new._cache = None
        return new

    def _find_service(self) -> Any:
        return FindPeople(account=self.account, page_size=self.page_size,
                          base_shape=self.__dict__.get("_persona_shape"))

    def _items(self) -> Iterator[Any]:
        """Personas come whole from FindPeople (no GetItem round): the Default shape, or ids plus the
        properties named in only()/values()."""
        paths = self._wanted_paths()
        if paths is None:
            self._persona_shape = DEFAULT
            return self._found(id_only=True)
        self._persona_shape = ID_ONLY
        additional: List[FieldPath] = [x for fp in paths if fp.attr is None for x in fp.expand()]
        return self._found(additional=additional)

    def view(self, *args: Any, **kwargs: Any) -> "QuerySet":
        raise NotImplementedError("FindPeople has no calendar view")

    def delete(self, *args: Any, **kwargs: Any) -> List[Any]:
        raise NotImplementedError("Personas are read-only; delete the contacts instead")
