"""Seed 002's "Troubleshooting" section, and what a user needs when something goes wrong.

- ``logging.basicConfig(level=logging.DEBUG, handlers=[PrettyXmlHandler()])`` pretty-prints every request
  and response of a real session, coloured on a terminal (a pty here) and plain otherwise;
- no secret reaches a DEBUG log of a full session, whatever the auth type, with every logger (urllib3's and
  pyspnego's too) captured at the root;
- exceptions say what happened, in which operation, and what to do;
- every public class documents itself, with a link to its EWS reference page where EWS has one;
- ``import exchangelib`` stays light.
"""
from __future__ import annotations

import base64
import datetime
import inspect
import json
import logging
import os
import pty
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Tuple

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

import exchangelib
import exchangelib.folders
import exchangelib.items
import exchangelib.properties
from exchangelib import (BASIC, DELEGATE, IMPERSONATION, NTLM, OAUTH2, AccessTokenCredentials, Account, Build,
                         Configuration, Credentials, FaultTolerance, Message, OAuth2ClientCredentials, Version)
from exchangelib import (ClientCertificate, OAuth2AuthorizationCodeCredentials, OAuth2Credentials,
                         OAuth2LegacyCredentials)
from exchangelib.errors import (ErrorItemNotFound, ErrorServerBusy, RateLimitError, ResponseMessageError,
                                TransportError, UnauthorizedError)
from exchangelib.log import REDACTED, SecretFilter
from exchangelib.queryset import QuerySet
from exchangelib.testing import HTTPStatus, LocalExchange, ServerBusy
from exchangelib.testing.auth import TokenStore
from exchangelib.testing.users import OAuthClient

REPO = Path(__file__).resolve().parent.parent
JOHN = "john@example.com"
ANSI = re.compile(r"\x1b\[[0-9;]*m")

# --------------------------------------------------------------------------------------------------------------
# The seed's snippet, as written, in a fresh interpreter
# --------------------------------------------------------------------------------------------------------------

SEED_SNIPPET = """
import logging
# This handler will pretty-print and syntax highlight the request and response XML documents
from exchangelib.util import PrettyXmlHandler

logging.basicConfig(level=logging.DEBUG, handlers=[PrettyXmlHandler({handler_args})])
# Your code using exchangelib goes here
"""

USER_CODE = """
from exchangelib import Message
from exchangelib.testing import LocalExchange

with LocalExchange() as server:
    account = server.account('john@example.com')
    print('PASSWORD=' + server.credentials('john@example.com').password)
    account.drafts.add_items([Message(subject='Quarterly numbers', body='Dear Mary, here they are.')])
    print(account.drafts.filter(subject='Quarterly numbers').count())
"""


def run_script(code: str, tty: bool) -> Tuple[str, str]:
    """Run ``code`` in a fresh interpreter; returns (stdout, stderr). With ``tty``, stderr is a terminal."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    env.pop("NO_COLOR", None)
    args = [sys.executable, "-c", code]
    if not tty:
        proc = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr[-3000:]
        return proc.stdout, proc.stderr
    master, slave = pty.openpty()
    proc2 = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=slave, stdin=subprocess.DEVNULL)
    os.close(slave)
    chunks: List[bytes] = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    stdout = proc2.stdout.read().decode() if proc2.stdout else ""
    assert proc2.wait(timeout=120) == 0, b"".join(chunks)[-3000:]
    return stdout, b"".join(chunks).decode("utf-8", "replace").replace("\r\n", "\n")


@pytest.fixture(scope="module")
def plain_run() -> Tuple[str, str]:
    return run_script(SEED_SNIPPET.format(handler_args="") + USER_CODE, tty=False)


def test_seed_snippet_pretty_prints_every_request_and_response(plain_run):
    stdout, log = plain_run
    assert stdout.splitlines()[-1] == "1"
    # Each request and its response, as indented XML documents, one element per line
    for operation in ("GetFolder", "CreateItem", "FindItem"):
        assert re.search(rf"EWS {operation} request to http://127\.0\.0\.1:\d+/EWS/Exchange\.asmx\n<\?xml", log)
        assert re.search(rf"EWS {operation} response from http://127\.0\.0\.1:\d+/EWS/Exchange\.asmx "
                         rf"\(HTTP 200\)\n<\?xml", log)
    assert "\n  <s:Body>\n    <m:CreateItem MessageDisposition=\"SaveOnly\" " in log
    assert "\n          <t:Subject>Quarterly numbers</t:Subject>\n" in log
    assert "b'<" not in log and "\\n" not in log  # text, not bytes reprs with escaped newlines


def test_plain_output_when_not_a_terminal(plain_run):
    assert "\x1b[" not in plain_run[1]


def test_highlighted_on_a_terminal(plain_run):
    stdout, log = run_script(SEED_SNIPPET.format(handler_args="") + USER_CODE, tty=True)
    assert stdout.splitlines()[-1] == "1"
    assert "\x1b[" in log
    plain = ANSI.sub("", log)
    assert "\n    <m:CreateItem MessageDisposition=\"SaveOnly\" " in plain
    # The colours are on the XML; the text around it is the same as in a plain log
    xml_lines = [line for line in log.splitlines() if line.lstrip().startswith("\x1b") and "<" in line]
    assert len(xml_lines) > 50


def test_debug_log_of_the_seed_snippet_has_no_secrets(plain_run):
    stdout, log = plain_run
    password = stdout.splitlines()[0].split("=", 1)[1]
    assert password not in log
    assert "TlRMTVNTUA" not in log  # NTLM messages (pyspnego logs each one at DEBUG level)
    assert "NTLM step output: ********" in log  # ...and we did see them go by, redacted


def test_anonymized_log_can_be_shared():
    stdout, log = run_script(SEED_SNIPPET.format(handler_args="anonymize=True") + USER_CODE, tty=False)
    assert stdout.splitlines()[-1] == "1"
    assert "<m:CreateItem" in log  # still a useful log
    for personal in ("john@example.com", "Quarterly numbers", "Dear Mary"):
        assert personal not in log, personal
    placeholders = re.findall(r"user-[0-9a-f]{8}@example\.invalid", log)
    assert len(set(placeholders)) >= 1 and len(placeholders) > len(set(placeholders))  # stable placeholders


# --------------------------------------------------------------------------------------------------------------
# No secret in a DEBUG log of a full session, for each auth type (every logger, captured at the root)
# --------------------------------------------------------------------------------------------------------------

class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: List[str] = []
        self.names: set = set()

    def emit(self, record: logging.LogRecord) -> None:
        self.names.add(record.name)
        self.lines.append(self.format(record))

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@pytest.fixture
def root_debug_log() -> Iterator[Capture]:
    root = logging.getLogger()
    capture = Capture()
    level = root.level
    root.addHandler(capture)
    root.setLevel(logging.DEBUG)
    try:
        yield capture
    finally:
        root.removeHandler(capture)
        root.setLevel(level)


@pytest.fixture
def issued_tokens(monkeypatch) -> List[str]:
    """Every access and refresh token the local server issues during the test."""
    tokens: List[str] = []
    original = TokenStore.issue

    def issue(self, *args: Any, **kwargs: Any) -> Dict[str, object]:
        body = original(self, *args, **kwargs)
        tokens.extend(str(body[k]) for k in ("access_token", "refresh_token") if k in body)
        return body

    monkeypatch.setattr(TokenStore, "issue", issue)
    return tokens


def full_session(server: LocalExchange, account: Account) -> None:
    """What an application does: folders, create, search, fetch, update, delete; then an expired token."""
    assert account.inbox.name == "Inbox"
    saved = account.drafts.add_items([Message(subject="Session", body="Body text", to_recipients=[JOHN])])
    assert not isinstance(saved[0], Exception), saved[0]
    found = list(account.drafts.filter(subject="Session"))
    assert [m.subject for m in account.fetch([(m.id, m.changekey) for m in found])] == ["Session"]
    assert account.root.tree()
    server.expire_tokens()  # bearer sessions must get a new token (a no-op for password sessions)
    assert account.drafts.all().count() == 1
    assert account.bulk_delete([(m.id, m.changekey) for m in found]) == [True]


def refreshing_credentials(server: LocalExchange) -> Tuple[AccessTokenCredentials, List[str]]:
    """Delegated OAuth as a web app does it: a password grant, then refresh-token grants when it expires."""
    user = server.user(JOHN)
    secrets: List[str] = [user.password, "local-app-secret"]

    def token_request(**form: str) -> Dict[str, Any]:
        r = requests.post(server.token_url, data=dict(client_id="local-app", client_secret="local-app-secret",
                                                      **form), timeout=10)
        assert r.status_code == 200, r.text
        return r.json()

    state = token_request(grant_type="password", username=JOHN, password=user.password,
                          scope="EWS.AccessAsUser.All")

    def refresh() -> str:
        new = token_request(grant_type="refresh_token", refresh_token=state["refresh_token"])
        state.update(new)
        return new["access_token"]

    return AccessTokenCredentials(access_token=state["access_token"], refresh=refresh, identity=JOHN), secrets


SESSIONS: Dict[str, Callable[[LocalExchange], Tuple[Account, List[str]]]] = {}


def session(name: str) -> Callable:
    def register(fn: Callable) -> Callable:
        SESSIONS[name] = fn
        return fn
    return register


@session("ntlm")
def _ntlm(server: LocalExchange) -> Tuple[Account, List[str]]:
    creds = server.credentials(JOHN)
    config = Configuration(service_endpoint=server.url, credentials=creds, auth_type=NTLM)
    return Account(JOHN, config=config, access_type=DELEGATE), [creds.password]


@session("basic")
def _basic(server: LocalExchange) -> Tuple[Account, List[str]]:
    creds = server.credentials(JOHN)
    header = base64.b64encode(f"{creds.username}:{creds.password}".encode()).decode()
    config = Configuration(service_endpoint=server.url, credentials=creds, auth_type=BASIC)
    return Account(JOHN, config=config, access_type=DELEGATE), [creds.password, header]


@session("oauth-client-credentials")
def _client_credentials(server: LocalExchange) -> Tuple[Account, List[str]]:
    creds = server.oauth_credentials()
    config = Configuration(service_endpoint=server.url, credentials=creds)  # auth type detected: Bearer
    return Account(JOHN, config=config, access_type=IMPERSONATION), ["local-app-secret"]


@session("access-token")
def _access_token(server: LocalExchange) -> Tuple[Account, List[str]]:
    creds, secrets = refreshing_credentials(server)
    config = Configuration(service_endpoint=server.url, credentials=creds)
    return Account(JOHN, config=config, access_type=DELEGATE), secrets


def _rsa_certificate() -> Tuple[bytes, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "leak-test-app")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
    return (cert.public_bytes(serialization.Encoding.PEM),
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()))


@session("oauth-authorization-code")
def _authorization_code(server: LocalExchange) -> Tuple[Account, List[str]]:
    server.add_oauth_client(OAuthClient("leak-web-app", "leak-web-Secret-1", roles=()))
    code = server.authorize("leak-web-app", JOHN)
    creds = OAuth2AuthorizationCodeCredentials(code, "leak-web-app", "leak-web-Secret-1", token_url=server.token_url)
    config = Configuration(service_endpoint=server.url, credentials=creds)
    return Account(JOHN, config=config, access_type=DELEGATE), [code, "leak-web-Secret-1"]


@session("oauth-legacy-password")
def _legacy(server: LocalExchange) -> Tuple[Account, List[str]]:
    password = server.user(JOHN).password
    creds = OAuth2LegacyCredentials(JOHN, password, client_id="local-app", client_secret="local-app-secret",
                                    token_url=server.token_url)
    config = Configuration(service_endpoint=server.url, credentials=creds)
    return Account(JOHN, config=config, access_type=DELEGATE), [password, "local-app-secret"]


@session("oauth-certificate")
def _certificate(server: LocalExchange) -> Tuple[Account, List[str]]:
    cert, key = _rsa_certificate()
    server.add_oauth_client(OAuthClient("leak-cert-app", None, certificate=cert))
    creds = OAuth2Credentials("leak-cert-app", client_certificate=ClientCertificate(cert, key),
                              token_url=server.token_url)
    config = Configuration(service_endpoint=server.url, credentials=creds)
    key_body = b"".join(key.splitlines()[1:-1]).decode()
    return Account(JOHN, config=config, access_type=IMPERSONATION), [key_body[:40], key_body[-40:]]


@pytest.mark.parametrize("auth", sorted(SESSIONS))
def test_no_secret_in_the_debug_log_of_a_full_session(auth, make_exchange, root_debug_log, issued_tokens):
    server = make_exchange(auth=("ntlm", "basic", "bearer"))
    account, secrets = SESSIONS[auth](server)
    full_session(server, account)
    log = root_debug_log.text
    # Everything was logged, from every layer: our XML, HTTP, and the auth libraries
    assert "exchangelib.xml" in root_debug_log.names and "urllib3.connectionpool" in root_debug_log.names
    assert "<m:FindItem" in log and "<m:DeleteItem" in log
    if auth == "ntlm":
        assert "spnego._ntlm" in root_debug_log.names
    if auth.startswith("oauth") or auth == "access-token":
        assert len(issued_tokens) >= 2  # the first token and the one fetched after expire_tokens()
    leaked = [s for s in secrets + issued_tokens if s in log]
    assert leaked == []
    assert "TlRMTVNTUA" not in log  # no NTLM negotiate/challenge/authenticate message
    assert not re.search(r"(?i)authorization['\"]?\s*[:=]\s*['\"]?(basic|bearer|ntlm|negotiate) (?!\*)", log)
    # Nor in what the user sees of the objects
    for text in (repr(account), repr(account.protocol), repr(account.protocol.credentials), str(account.config)):
        assert not [s for s in secrets + issued_tokens if s in text], text


@pytest.mark.parametrize("auth", ["ntlm", "basic", "oauth-client-credentials", "access-token", "oauth-legacy",
                                  "oauth-authorization-code", "oauth-refresh-token"])
def test_rejected_credentials_leave_no_secret_in_log_or_error(auth, make_exchange, root_debug_log):
    server = make_exchange(auth=("ntlm", "basic", "bearer"))
    wrong = "Wr0ng-" + "x" * 20
    if auth == "oauth-legacy":
        creds: Any = OAuth2LegacyCredentials(JOHN, wrong, client_id="local-app", client_secret="local-app-secret",
                                             token_url=server.token_url)
        config = Configuration(service_endpoint=server.url, credentials=creds, auth_type=OAUTH2)
    elif auth == "oauth-authorization-code":
        creds = OAuth2AuthorizationCodeCredentials(wrong, "local-app", "local-app-secret", token_url=server.token_url)
        config = Configuration(service_endpoint=server.url, credentials=creds, auth_type=OAUTH2)
    elif auth == "oauth-refresh-token":
        creds = OAuth2AuthorizationCodeCredentials(client_id="local-app", client_secret="local-app-secret",
                                                   token_url=server.token_url,
                                                   access_token={"access_token": wrong + "-a", "refresh_token": wrong})
        config = Configuration(service_endpoint=server.url, credentials=creds, auth_type=OAUTH2)
    elif auth in ("ntlm", "basic"):
        creds: Any = Credentials(server.credentials(JOHN).username, wrong)
        config = Configuration(service_endpoint=server.url, credentials=creds, auth_type=NTLM if auth == "ntlm"
                               else BASIC, version=Version(Build(15, 1)))
    elif auth == "oauth-client-credentials":
        creds = OAuth2ClientCredentials("local-app", wrong, server.token_url)
        config = Configuration(service_endpoint=server.url, credentials=creds, auth_type=OAUTH2)
    else:
        creds = AccessTokenCredentials(access_token=wrong, identity=JOHN)
        config = Configuration(service_endpoint=server.url, credentials=creds, auth_type=OAUTH2)
    app_only = auth == "oauth-client-credentials"
    account = Account(JOHN, config=config, access_type=IMPERSONATION if app_only else DELEGATE)
    with pytest.raises(UnauthorizedError) as e:
        account.inbox  # noqa: B018
    for text in (str(e.value), repr(e.value), root_debug_log.text):
        assert wrong not in text
    assert re.search(r"(?i)check|refused|rejected", str(e.value))


def test_secret_filter_redacts_records_of_auth_libraries(root_debug_log):
    blob = base64.b64encode(b"NTLMSSP\x00\x03\x00\x00\x00" + os.urandom(40)).decode()
    logging.getLogger("spnego._ntlm").debug("NTLM step output: %s", blob)
    logging.getLogger("spnego._negotiate").debug("SPNEGO step input: %s", "YIIBhgYGKwYBBQUCoIIBejCCAXag")
    logging.getLogger("requests_oauthlib.oauth2_session").debug('Token: {"access_token": "abc.def-123"}')
    assert blob not in root_debug_log.text and "YIIBhg" not in root_debug_log.text
    assert "abc.def-123" not in root_debug_log.text
    assert root_debug_log.text.count(REDACTED) == 3
    assert any(isinstance(f, SecretFilter) for f in logging.getLogger("spnego._ntlm").filters)


# --------------------------------------------------------------------------------------------------------------
# Exceptions say what happened, where, and what to do
# --------------------------------------------------------------------------------------------------------------

def test_per_item_error_names_code_operation_and_message(exchange):
    account = exchange.account(JOHN)
    saved = account.drafts.add_items([Message(subject="gone soon")])[0]
    account.bulk_delete([(saved.id, saved.changekey)])
    (result,) = account.fetch([(saved.id, saved.changekey)])
    assert isinstance(result, ErrorItemNotFound) and isinstance(result, ResponseMessageError)
    assert result.response_code == "ErrorItemNotFound" and result.operation == "GetItem" and result.message
    assert str(result).startswith(f"ErrorItemNotFound in GetItem: {result.message}")
    assert "ErrorItemNotFound" in repr(result) and "GetItem" in repr(result)


def test_throttling_error_tells_how_long_to_wait(exchange):
    inbox = exchange.account(JOHN).inbox
    exchange.inject(ServerBusy(back_off_ms=2500), count=1, operations="FindItem")
    with pytest.raises(ErrorServerBusy) as e:
        inbox.all().count()
    assert e.value.back_off == 2.5 and e.value.operation == "FindItem"
    assert str(e.value).startswith("ErrorServerBusy in FindItem: ")
    assert "wait 2.5 seconds" in str(e.value)


def test_giving_up_names_the_operation_and_the_limit(exchange):
    creds = exchange.credentials(JOHN)
    config = Configuration(service_endpoint=exchange.url, credentials=creds, auth_type=NTLM,
                           retry_policy=FaultTolerance(max_wait=0.3), version=Version(Build(*exchange.build)))
    inbox = Account(JOHN, config=config).inbox
    exchange.inject(ServerBusy(back_off_ms=200), count=None, operations="GetFolder")
    with pytest.raises(RateLimitError) as e:
        inbox.refresh()
    assert e.value.operation == "GetFolder" and e.value.max_wait == 0.3 and e.value.wait == pytest.approx(0.2)
    assert "GetFolder request" in str(e.value) and "max_wait=0.3s" in str(e.value)
    assert isinstance(e.value.__cause__, ErrorServerBusy)


def test_http_errors_name_the_endpoint_and_status(exchange):
    inbox = exchange.account(JOHN).inbox
    exchange.inject(HTTPStatus(503, retry_after=7), count=1, operations="GetFolder")
    with pytest.raises(TransportError) as e:
        inbox.refresh()
    assert exchange.url in str(e.value) and "503" in str(e.value) and "Try again later" in str(e.value)


def test_unreachable_server_is_named():
    config = Configuration(service_endpoint="http://127.0.0.1:9/EWS/Exchange.asmx",
                           credentials=Credentials("EXAMPLE\\john", "irrelevant-pw"))
    with pytest.raises(TransportError) as e:
        Account(JOHN, config=config).inbox  # noqa: B018
    assert "127.0.0.1:9" in str(e.value) and "irrelevant-pw" not in str(e.value)


# --------------------------------------------------------------------------------------------------------------
# Docstrings: print(CalendarItem.__doc__) shows a link to the EWS reference
# --------------------------------------------------------------------------------------------------------------

EWS_LINK = "https://learn.microsoft.com/en-us/exchange/client-developer/"

#: Public classes without an EWS element or operation of their own: they need a real docstring, no link.
NO_EWS_COUNTERPART = {
    "Account", "Configuration", "BaseCredentials", "Credentials", "ServiceAccount", "AccessTokenCredentials",
    "OAuth2ClientCredentials", "EWSError", "BaseProtocol", "NoVerifyHTTPAdapter", "Protocol", "Q", "Restriction",
    "FailFast", "FaultTolerance", "Build", "Version", "FolderTree", "BodyField", "AttendeesField", "MailboxField",
    "MailboxListField", "ResponseObjectsField", "QuerySet",
    "IndexedEntry",  # the abstract base of EmailAddress, PhoneNumber... (each links to its own entry element)
}
#: Classes with an EWS counterpart whose docstring still lacks the link; their modules are being written by
#: others right now (properties/attachments.py, properties/extended.py). The lead empties this at integration.
LINK_IN_PROGRESS: set = set()


def public_classes() -> List[Tuple[str, type]]:
    found: Dict[type, str] = {}
    for module in (exchangelib, exchangelib.items, exchangelib.folders, exchangelib.properties):
        for name in module.__all__:
            obj = getattr(module, name, None)
            if inspect.isclass(obj) and obj not in found:
                found[obj] = name
    found.setdefault(QuerySet, "QuerySet")
    return sorted(((name, cls) for cls, name in found.items()), key=lambda t: t[0])


def test_seed_docstring_example():
    from exchangelib import CalendarItem

    assert EWS_LINK + "web-service-reference/calendaritem" in CalendarItem.__doc__


@pytest.mark.parametrize("name, cls", public_classes(), ids=lambda v: v if isinstance(v, str) else "")
def test_public_class_docstring(name, cls):
    doc = cls.__dict__.get("__doc__") or ""  # its own, not inherited
    assert len(doc.strip()) >= 20, f"{name} needs a docstring saying what it is"
    if name in NO_EWS_COUNTERPART:
        return
    if name in LINK_IN_PROGRESS and EWS_LINK not in doc:
        pytest.xfail(f"{name}: docstring link still being written")
    assert EWS_LINK in doc, f"{name}'s docstring should link to its EWS reference page"


# --------------------------------------------------------------------------------------------------------------
# import exchangelib stays light
# --------------------------------------------------------------------------------------------------------------

HEAVY = ["pygments", "dns", "spnego", "requests_ntlm", "cryptography", "exchangelib.testing", "oauthlib",
         "requests_oauthlib", "requests_kerberos", "msal", "gssapi", "IPython"]


def test_import_does_not_load_optional_heavy_modules():
    code = textwrap.dedent(f"""
        import json, sys
        import exchangelib
        heavy = {HEAVY!r}
        print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in heavy or
                                any(m == h or m.startswith(h + '.') for h in heavy))))
    """)
    stdout, _ = run_script(code, tty=False)
    assert json.loads(stdout) == []


def test_heavy_modules_load_when_used():
    """...and are really there when the feature needs them (a lazy import that fails would only show late)."""
    code = textwrap.dedent("""
        import sys
        from exchangelib.log import PrettyXmlHandler
        from exchangelib.transport import NTLM, get_auth_instance
        from exchangelib import Credentials
        PrettyXmlHandler.highlight_xml('<a/>')
        get_auth_instance(NTLM, Credentials('EXAMPLE\\\\u', 'p'))
        print('pygments' in sys.modules, 'spnego' in sys.modules)
    """)
    stdout, _ = run_script(code, tty=False)
    assert stdout.split() == ["True", "True"]


def test_import_time_benchmark_runs():
    proc = subprocess.run([sys.executable, str(REPO / "benchmarks" / "bench_import.py"), "--runs", "1"],
                          capture_output=True, text=True, timeout=120, cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    assert re.search(r"import exchangelib: +best +[0-9.]+ ms", proc.stdout), proc.stdout
    assert "heavy optional modules imported: none" in proc.stdout

