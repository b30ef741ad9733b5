"""One module per EWS operation. Each service builds its payload from models, posts it through the
account's protocol and turns the ResponseMessages into values or exception instances, in input order."""
from .common import EWSService
from .convert_id import ConvertId
from .copy_item import CopyItem
from .create_attachment import CreateAttachment
from .create_folder import CreateFolder
from .create_item import CreateItem
from .delete_attachment import DeleteAttachment
from .delete_folder import DeleteFolder
from .delete_item import DeleteItem
from .empty_folder import EmptyFolder
from .export_items import ExportItems
from .find_item import FindItem
from .folders import FindFolder, GetFolder
from .get_attachment import GetAttachment
from .get_item import GetItem
from .get_user_oof_settings import GetUserOofSettings
from .move_folder import MoveFolder
from .move_item import MoveItem
from .resolve_names import ResolveNames
from .send_item import SendItem
from .set_user_oof_settings import SetUserOofSettings
from .update_folder import UpdateFolder
from .update_item import UpdateItem
from .upload_items import UploadItems
from .get_events import GetEvents
from .get_streaming_events import GetStreamingEvents
from .send_notification import SendNotification
from .subscribe import SubscribeToPull, SubscribeToPush, SubscribeToStreaming
from .sync_folder_hierarchy import SyncFolderHierarchy
from .sync_folder_items import SyncFolderItems
from .unsubscribe import Unsubscribe

__all__ = ["EWSService", "ConvertId", "CreateItem", "DeleteItem", "FindItem", "FindFolder", "GetFolder", "GetItem",
           "ResolveNames", "UpdateItem", "CreateFolder", "UpdateFolder", "DeleteFolder", "EmptyFolder",
           "MoveFolder", "ExportItems", "UploadItems", "CreateAttachment", "DeleteAttachment", "GetAttachment",
           "GetUserOofSettings", "SetUserOofSettings", "MoveItem", "CopyItem", "SendItem"]
__all__ += ["SyncFolderItems", "SyncFolderHierarchy", "SubscribeToPull", "SubscribeToPush", "SubscribeToStreaming",
            "Unsubscribe", "GetEvents", "GetStreamingEvents", "SendNotification"]

# Scheduling and directory (issue 14)
from .expand_dl import ExpandDL  # noqa: E402
from .find_people import FindPeople  # noqa: E402
from .get_mail_tips import GetMailTips  # noqa: E402
from .get_persona import GetPersona  # noqa: E402
from .get_room_lists import GetRoomLists  # noqa: E402
from .get_rooms import GetRooms  # noqa: E402
from .get_server_time_zones import GetServerTimeZones  # noqa: E402
from .get_user_availability import GetUserAvailability  # noqa: E402
from .get_user_photo import GetUserPhoto  # noqa: E402

__all__ += ["ExpandDL", "FindPeople", "GetMailTips", "GetPersona", "GetRoomLists", "GetRooms", "GetServerTimeZones",
            "GetUserAvailability", "GetUserPhoto"]
