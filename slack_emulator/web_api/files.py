"""The upload v2 flow: files.getUploadURLExternal, POST bytes, files.completeUploadExternal."""

from __future__ import annotations

from slack_emulator.errors import ApiError
from slack_emulator.state import JSON, Channel, UploadedFile
from slack_emulator.web_api.base import ApiCall, Handler, ok
from slack_emulator.web_api.chat import message_event, require_post_access

MAX_FILE_BYTES = 1024 * 1024 * 1024


async def get_upload_url_external(call: ApiCall) -> JSON:
    call.require_scope("files:write")
    filename = call.req_str("filename")
    length = call.integer("length", -1)
    if not 0 < length <= MAX_FILE_BYTES:
        raise ApiError("invalid_arguments")
    ws = call.ws
    upload = UploadedFile(
        id=ws.ids.new("F"),
        team_id=ws.team_id,
        user=ws.bot_user_id,
        filename=filename,
        length=length,
        created=ws.now(),
        alt_txt=call.opt_str("alt_txt") or "",
    )
    ws.files_by_id[upload.id] = upload
    return ok(upload_url=call.emulator.upload_url(upload), file_id=upload.id)


def _share(call: ApiCall, channel: Channel, uploads: list[UploadedFile]) -> None:
    ws = call.ws
    require_post_access(call, channel)
    base = ws.url.rstrip("/")
    message = ws.add_message(
        channel,
        user=ws.bot_user_id,
        text=call.opt_str("initial_comment") or "",
        thread_ts=call.opt_str("thread_ts"),
        subtype="file_share",
        files=[],
        extra={"upload": True, "display_as_bot": False},
    )
    for upload in uploads:
        if channel.id not in upload.channels:
            upload.channels.append(channel.id)
        upload.shares.setdefault(channel.id, []).append(message.ts)
    message.files = [u.to_api(base) for u in uploads]
    call.emulator.emit_bot_message(ws, message_event(channel, message))


async def complete_upload_external(call: ApiCall) -> JSON:
    call.require_scope("files:write")
    entries = call.json_arg("files")
    if not isinstance(entries, list) or not entries:
        raise ApiError("invalid_arguments")
    uploads: list[UploadedFile] = []
    for entry in entries:
        if not isinstance(entry, dict) or "id" not in entry:
            raise ApiError("invalid_arguments")
        upload = call.ws.files_by_id.get(str(entry["id"]))
        if upload is None or upload.content is None:
            raise ApiError("file_not_found")
        uploads.append(upload)
    targets: list[Channel] = []
    if call.opt_str("channel_id"):
        targets.append(call.channel("channel_id"))
    for ref in (call.opt_str("channels") or "").split(","):
        if ref.strip():
            targets.append(call.resolve_channel(ref.strip()))
    for upload, entry in zip(uploads, entries, strict=True):
        upload.title = str(entry.get("title") or upload.filename)
        upload.completed = True
    for channel in targets:
        _share(call, channel, uploads)
    base = call.ws.url.rstrip("/")
    return ok(files=[u.to_api(base) for u in uploads])


HANDLERS: dict[str, Handler] = {
    "files.getUploadURLExternal": get_upload_url_external,
    "files.completeUploadExternal": complete_upload_external,
}
