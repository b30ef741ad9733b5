"""The client reads real Exchange answers right (issue #19, items 4, 16, 17, 18).

Response bodies are written from the examples on Microsoft's EWS reference pages (ids shortened as
there) and replayed by :class:`tests.replay.ReplayAdapter`; everything else goes to a fresh strict local
server.
"""
from __future__ import annotations

from exchangelib import FileAttachment, Message
from exchangelib.version import Build
from tests.replay import replay, soap  # noqa: F401 - fixture

JOHN = "john@example.com"
M = 'xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages"'
T = 'xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"'


def _account(make_exchange):
    server = make_exchange()
    return server, server.account(JOHN, auth_type="basic")


# https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/getattachment-operation
GET_ATTACHMENT = soap(f"""
    <m:GetAttachmentResponse {M} {T}>
      <m:ResponseMessages>
        <m:GetAttachmentResponseMessage ResponseClass="Success">
          <m:ResponseCode>NoError</m:ResponseCode>
          <m:Attachments>
            <t:FileAttachment>
              <t:AttachmentId Id="AAAtAEFkbWluaX..."/>
              <t:Name>SomeFile</t:Name>
              <t:ContentType>text/plain</t:ContentType>
              <t:Size>5</t:Size>
              <t:IsInline>false</t:IsInline>
              <t:Content>AQIDBAU=</t:Content>
            </t:FileAttachment>
          </m:Attachments>
        </m:GetAttachmentResponseMessage>
      </m:ResponseMessages>
    </m:GetAttachmentResponse>""")


def test_file_attachment_content_keeps_the_other_fields_getattachment_returned(make_exchange, replay):
    _server, acc = _account(make_exchange)
    item = Message(account=acc, folder=acc.inbox, id="AAMkAGE...", changekey="CQAAABYA...")
    att = FileAttachment(name="SomeFile", parent_item=item)
    att._set_id("AAAtAEFkbWluaX...")
    assert att.content_type is None
    replay.answers["GetAttachment"] = GET_ATTACHMENT
    assert att.content == b"\x01\x02\x03\x04\x05"
    assert [op for op, _ in replay.replayed] == ["GetAttachment"]
    assert att.content_type == "text/plain"
    assert att.size == 5 and att.is_inline is False
    assert att.attachment_id.id == "AAAtAEFkbWluaX..."


# https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/pox-autodiscover-response-for-exchange
# (the example's namespaces are the real http:// ones; the EXPR block has no ServerVersion, as in Exchange Online)
POX_RESPONSE = b"""<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">
  <Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a">
    <User>
      <DisplayName>First Last</DisplayName>
      <LegacyDN>/o=contoso/ou=First Administrative Group/cn=Recipients/cn=iuser885646</LegacyDN>
      <DeploymentId>644560b8-a1ce-429c-8ace-23395843f701</DeploymentId>
    </User>
    <Account>
      <AccountType>email</AccountType>
      <Action>settings</Action>
      <Protocol>
        <Type>EXCH</Type>
        <Server>MBX-SERVER.mail.internal.contoso.com</Server>
        <ServerDN>/o=contoso/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Configuration/cn=Servers/cn=MBX-SERVER</ServerDN>
        <ServerVersion>73C18880</ServerVersion>
        <MdbDN>/o=contoso/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Configuration/cn=Servers/cn=MBX-SERVER/cn=Microsoft Private MDB</MdbDN>
        <ASUrl>https://mail.internal.contoso.com/ews/exchange.asmx</ASUrl>
        <OOFUrl>https://mail.internal.contoso.com/ews/exchange.asmx</OOFUrl>
      </Protocol>
      <Protocol>
        <Type>EXPR</Type>
        <Server>mail.contoso.com</Server>
        <ASUrl>https://mail.contoso.com/ews/exchange.asmx</ASUrl>
        <OOFUrl>https://mail.contoso.com/ews/exchange.asmx</OOFUrl>
        <EwsUrl>https://mail.contoso.com/ews/exchange.asmx</EwsUrl>
      </Protocol>
    </Account>
  </Response>
</Autodiscover>"""


def test_pox_version_comes_from_the_exch_block_when_expr_has_none():
    from exchangelib.autodiscover.pox import parse_response

    answer = parse_response(POX_RESPONSE)
    assert answer.ews_url == "https://mail.contoso.com/ews/exchange.asmx"  # EXPR (external) still preferred
    assert answer.version is not None
    assert answer.version.build == Build(15, 1, 2176)  # 0x73C18880: format 7, major 15, minor 1, build 0x880


def test_local_server_pox_answer_carries_the_version_in_exch_only(make_exchange):
    import requests as rq
    from exchangelib.autodiscover.pox import build_request, parse_response

    server = make_exchange(version="2019")
    r = rq.post(server.url.replace("/EWS/Exchange.asmx", "/autodiscover/autodiscover.xml"),
                data=build_request(JOHN), auth=(server.credentials(JOHN).username, server.credentials(JOHN).password),
                headers={"Content-Type": "text/xml"}, verify=server.verify)
    assert r.status_code == 200
    assert r.content.count(b"<ServerVersion>") == 1
    assert parse_response(r.content).version.build.major_version == 15
