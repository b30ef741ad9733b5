"""Response shapes shared by item and folder services: ItemShape / FolderShape with AdditionalProperties."""
from __future__ import annotations

import copy
from typing import Any, Iterable, Optional

from ..properties.extended import registered_property_paths
from ..registry import FOLDER_CLASSES, ITEM_CLASSES
from ..xml import Element, add_child, create_element

ID_ONLY = "IdOnly"
DEFAULT = "Default"
ALL_PROPERTIES = "AllProperties"
SHAPE_CHOICES = (ID_ONLY, DEFAULT, ALL_PROPERTIES)


def shape_xml(tag: str, shape: str, additional_fields: Optional[Iterable[Any]] = None,
              body_type: Optional[str] = None) -> Element:
    """``<m:ItemShape>`` or ``<m:FolderShape>``: BaseShape, optional BodyType, AdditionalProperties.

    ``additional_fields`` are Field objects (their ``field_path_xml()``) or ready path elements.
    """
    if shape not in SHAPE_CHOICES:
        raise ValueError(f"shape must be one of {SHAPE_CHOICES}, got {shape!r}")
    elem = create_element(tag)
    add_child(elem, "t:BaseShape", text=shape)
    if body_type:
        add_child(elem, "t:BodyType", text=body_type)
    paths = []
    for f in additional_fields or ():
        # Copy ready elements: appending would move them out of any payload built before this one
        paths.append(copy.deepcopy(f) if isinstance(f, Element) else f.field_path_xml())
    if shape != ID_ONLY:
        # Exchange returns extended properties only when asked: whole items/folders include the registered ones.
        classes = FOLDER_CLASSES if tag.endswith("FolderShape") else ITEM_CLASSES
        paths.extend(registered_property_paths(classes.values()))
    if paths:
        props = add_child(elem, "t:AdditionalProperties")
        seen = set()
        for p in paths:
            key = (p.tag, tuple(sorted(p.attrib.items())))
            if key in seen:
                continue
            seen.add(key)
            props.append(p)
    return elem
