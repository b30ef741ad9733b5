"""One module per EWS operation. Each service builds its payload from models, posts it through the
account's protocol and turns the ResponseMessages into values or exception instances, in input order."""
from .common import EWSService
from .convert_id import ConvertId
from .create_folder import CreateFolder
from .create_item import CreateItem
from .delete_folder import DeleteFolder
from .delete_item import DeleteItem
from .empty_folder import EmptyFolder
from .export_items import ExportItems
from .find_item import FindItem
from .folders import FindFolder, GetFolder
from .get_item import GetItem
from .move_folder import MoveFolder
from .resolve_names import ResolveNames
from .update_folder import UpdateFolder
from .update_item import UpdateItem
from .upload_items import UploadItems

__all__ = ["EWSService", "ConvertId", "CreateItem", "DeleteItem", "FindItem", "FindFolder", "GetFolder", "GetItem",
           "ResolveNames", "UpdateItem", "CreateFolder", "UpdateFolder", "DeleteFolder", "EmptyFolder",
           "MoveFolder", "ExportItems", "UploadItems"]
