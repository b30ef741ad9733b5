"""Autodiscover: find the EWS endpoint, auth type, server version and primary address for an email address.

For ``user@example.com`` the candidates are, in Microsoft's documented order:

1. ``https://example.com/autodiscover/autodiscover.svc`` (SOAP), then ``.../autodiscover.xml`` (POX);
2. the same two on ``https://autodiscover.example.com``;
3. an *unauthenticated* ``GET http://autodiscover.example.com/autodiscover/autodiscover.xml``; a
   redirect it answers with is followed only to an ``https`` URL;
4. the DNS SRV record ``_autodiscover._tcp.example.com`` (highest priority first, weight-aware,
   always over https).

Answers may redirect to another address (``RedirectAddress``/``redirectAddr``) or URL
(``RedirectUrl``/``redirectUrl``); at most ``max_redirects`` (10) are followed, and never to the
same address twice.

Safety (the lessons of the 2021 "autodiscover leak"): candidate hosts come only from the *full*
domain of the address (``autodiscover.com`` is never tried for ``user@example.com``); credentials
are only ever sent over https to a host whose certificate verifies (the one plain-http request,
step 3, carries no credentials and no cookies); and Basic auth is used only when the caller
asked for it (``auth_type=BASIC``), never because a server offers nothing else.

Results are cached (:mod:`.cache`). If every candidate fails, one :class:`AutoDiscoverFailed`
lists each step and why it failed.

https://learn.microsoft.com/en-us/exchange/client-developer/exchange-web-services/autodiscover-for-exchange
"""
from __future__ import annotations

import ipaddress
import logging
import random
import re
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterator, List, Optional, Set, Tuple, Union
from urllib.parse import urljoin, urlsplit, urlunsplit

from ..credentials import AccessTokenCredentials, BaseCredentials, Credentials, KerberosCredentials
from ..errors import AutoDiscoverFailed, EWSError, TransportError
from ..lazy import LazyModule
from ..protocol import BaseProtocol, _retry_after
from ..retry import FailFast, Retriable, RetryPolicy
from ..transport import (AUTH_TYPES, DIGEST, GSSAPI, NOAUTH, NTLM, OAUTH2, get_auth_instance, parse_www_authenticate,
                         www_authenticate_values)
from . import pox, soap
from .cache import AutodiscoverCache, cache_key
from .models import REDIRECT_ADDRESS, REDIRECT_URL, SETTINGS, Answer, AutodiscoverResult
from .resolver import HostMap

if TYPE_CHECKING:
    import requests
else:
    requests = LazyModule("requests")  # imported with the first request, not by ``import exchangelib``

log = logging.getLogger(__name__)

__all__ = ["Autodiscovery", "discover", "get_default_cache", "set_default_cache", "clear_cache", "check_endpoint",
           "srv_order", "MAX_REDIRECTS"]

MAX_REDIRECTS = 10
SOAP = "soap"
POX = "pox"
SVC_PATH = "/autodiscover/autodiscover.svc"
XML_PATH = "/autodiscover/autodiscover.xml"
CONTENT_TYPE = "text/xml; charset=utf-8"
_REDIRECT_STATUSES = (301, 302, 303, 307, 308)
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+$")

_default_cache: Optional[AutodiscoverCache] = None
_default_cache_lock = threading.Lock()
_discovery_locks: Dict[str, threading.Lock] = {}
_discovery_locks_lock = threading.Lock()


def get_default_cache() -> AutodiscoverCache:
    """The process-wide cache used when ``discover(cache=None)`` (file under :func:`~.cache.default_cache_dir`)."""
    global _default_cache
    with _default_cache_lock:
        if _default_cache is None:
            _default_cache = AutodiscoverCache()
        return _default_cache


def set_default_cache(cache: Optional[AutodiscoverCache]) -> None:
    """Replace the process-wide cache (None: a fresh default one is made on next use)."""
    global _default_cache
    if cache is not None and not isinstance(cache, AutodiscoverCache):
        raise TypeError(f"set_default_cache() expects an AutodiscoverCache or None, got {type(cache).__name__}")
    with _default_cache_lock:
        _default_cache = cache


def clear_cache() -> None:
    """Forget every cached autodiscover result of the default cache, in memory and on disk."""
    get_default_cache().clear()


@dataclass(frozen=True)
class Endpoint:
    """An autodiscover URL to POST to, the protocol it speaks and why we are trying it."""

    url: str
    protocol: str
    reason: str


class _Abort(Exception):
    """Stop discovery at once (redirect loop or limit); carries the reason for AutoDiscoverFailed."""


class Autodiscovery:
    """One autodiscover run for an email address; see the module docstring. Use :func:`discover`.

    ``auth_type``: use this auth type at every endpoint (BASIC only if given here); default: choose
    from what each endpoint offers (NTLM, Digest or OAuth 2.0). ``verify``: TLS verification, as in
    requests (``True`` or a CA bundle path). ``host_map``: a :class:`~.resolver.HostMap` for
    name-resolution overrides. ``dns_nameserver``: ``'ip'``, ``'ip:port'`` or ``(ip, port)`` for the
    SRV lookup (default: the system resolver). ``srv``: set False to skip the SRV step.
    ``timeout``: seconds per HTTP request (a number or ``(connect, read)``).
    """

    #: Attributes set on the ``dns.resolver.Resolver`` of the SRV step, e.g. ``{"edns": False}`` (as the
    #: peer library documents: ``Autodiscovery.DNS_RESOLVER_ATTRS["edns"] = False``).
    DNS_RESOLVER_ATTRS: Dict[str, Any] = {}
    #: Retry policy for requests to candidate autodiscover servers answering 503/429. Default: no retry,
    #: the next candidate is tried. ``Autodiscovery.INITIAL_RETRY_POLICY = FaultTolerance(max_wait=30)``
    #: waits (honouring Retry-After) for a busy candidate instead.
    INITIAL_RETRY_POLICY: RetryPolicy = FailFast()

    def __init__(self, email: str, credentials: Optional[BaseCredentials] = None, *,
                 auth_type: Optional[str] = None, verify: Any = True, host_map: Optional[HostMap] = None,
                 dns_nameserver: Union[str, Tuple[str, int], None] = None, srv: bool = True,
                 timeout: Union[float, Tuple[float, float]] = (10, 60), max_redirects: int = MAX_REDIRECTS,
                 dns_timeout: float = 5.0):
        if not isinstance(email, str) or not _EMAIL_RE.match(email.strip()):
            raise ValueError(f"Autodiscover needs an email address like 'user@example.com', got {email!r}")
        if credentials is not None and not isinstance(credentials, BaseCredentials):
            raise TypeError(f"credentials must be a Credentials instance, got {type(credentials).__name__}")
        if auth_type is not None and auth_type not in AUTH_TYPES:
            raise ValueError(f"auth_type {auth_type!r} is not one of {AUTH_TYPES}")
        if host_map is not None and not isinstance(host_map, HostMap):
            raise TypeError(f"host_map must be a HostMap, got {type(host_map).__name__}")
        if not isinstance(max_redirects, int) or max_redirects < 0:
            raise ValueError(f"max_redirects must be a non-negative int, got {max_redirects!r}")
        self.email = email.strip()
        _domain_of(self.email)  # validates the domain
        self.credentials = credentials
        self.auth_type = auth_type
        self.verify = verify
        self.host_map = host_map
        self.dns_nameserver = _parse_nameserver(dns_nameserver) if dns_nameserver is not None else None
        self.srv = srv
        self.timeout = timeout
        self.dns_timeout = dns_timeout
        self.max_redirects = max_redirects
        #: Human-readable record of every step tried, in order: "what -> outcome".
        self.steps: List[str] = []
        self._redirects = 0
        self._seen_addresses: Set[str] = set()
        self._tried: Set[Tuple[str, str]] = set()
        self._session: Optional[requests.Session] = None
        self._last_auth_type: Optional[str] = None

    # --- entry point ------------------------------------------------------------------------------
    def run(self) -> AutodiscoverResult:
        """Walk the candidates until one answers with settings; raise AutoDiscoverFailed if none does."""
        self._session = self._make_session()
        try:
            return self._run()
        finally:
            self._session.close()
            self._session = None

    def _run(self) -> AutodiscoverResult:
        address = self.email
        self._seen_addresses.add(address.lower())
        first: Optional[Endpoint] = None
        while True:
            redirected_to: Optional[str] = None
            try:
                for endpoint in self._candidates(_domain_of(address), first):
                    if (endpoint.url.lower(), address.lower()) in self._tried:
                        continue  # e.g. an SRV target that is one of the hosts already tried
                    answer, endpoint = self._follow(endpoint, address)
                    if answer is None:
                        continue
                    if answer.kind == SETTINGS:
                        result = self._result(answer, endpoint, address)
                        if result is not None:
                            return result
                        continue
                    if answer.kind == REDIRECT_ADDRESS:
                        redirected_to = self._redirect_address(answer, endpoint, address)
                        if redirected_to is not None:
                            first = endpoint if _domain_of(redirected_to) == _domain_of(address) else None
                            break
            except _Abort as e:
                raise self._failure(str(e)) from None
            if redirected_to is None:
                raise self._failure("no candidate answered with EWS settings")
            address = redirected_to

    # --- candidates ---------------------------------------------------------------------------------
    def _candidates(self, domain: str, first: Optional[Endpoint]) -> Iterator[Endpoint]:
        """Endpoints to try for ``domain``, lazily (the GET and SRV steps run only if reached)."""
        if first is not None:
            yield Endpoint(first.url, first.protocol, "the server that redirected the address")
        for step, host in ((1, domain), (2, f"autodiscover.{domain}")):
            yield Endpoint(f"https://{host}{SVC_PATH}", SOAP, f"step {step}")
            yield Endpoint(f"https://{host}{XML_PATH}", POX, f"step {step}")
        location = self._unauthenticated_get(domain)
        if location is not None:
            for e in _endpoints_for(location, f"step 3: redirect from http://autodiscover.{domain}"):
                yield e
        if self.srv:
            for host, port in self._srv_targets(domain):
                netloc = host if port == 443 else f"{host}:{port}"
                yield Endpoint(f"https://{netloc}{SVC_PATH}", SOAP, f"step 4: SRV _autodiscover._tcp.{domain}")
                yield Endpoint(f"https://{netloc}{XML_PATH}", POX, f"step 4: SRV _autodiscover._tcp.{domain}")

    def _unauthenticated_get(self, domain: str) -> Optional[str]:
        """Step 3: GET http://autodiscover.<domain>/autodiscover/autodiscover.xml without credentials or
        cookies; return the https redirect target, or None."""
        url = f"http://autodiscover.{domain}{XML_PATH}"
        what = f"GET {url} (unauthenticated)"
        with self._make_session() as bare:  # fresh: no cookies from earlier https responses
            try:
                r = bare.get(url, allow_redirects=False, timeout=self.timeout,
                             headers={"User-Agent": BaseProtocol.USERAGENT})
                r.close()
            except requests.exceptions.RequestException as e:
                self._step(what, f"failed: {_short(e)}")
                return None
        if r.status_code not in _REDIRECT_STATUSES:
            self._step(what, f"HTTP {r.status_code}, not a redirect")
            return None
        location = urljoin(url, r.headers.get("Location") or "")
        if urlsplit(location).scheme != "https":
            self._step(what, f"redirect to {location!r} refused: only https redirects are followed")
            return None
        self._step(what, f"redirected to {location}")
        return location

    def _srv_targets(self, domain: str) -> List[Tuple[str, int]]:
        """Step 4: targets of _autodiscover._tcp.<domain> in RFC 2782 order."""
        name = f"_autodiscover._tcp.{domain}"
        what = f"DNS SRV {name}"
        # dnspython is only needed here: import it when this step is reached.
        import dns.exception  # noqa: PLC0415
        import dns.resolver  # noqa: PLC0415

        try:
            resolver = dns.resolver.Resolver(configure=self.dns_nameserver is None)
        except dns.exception.DNSException as e:
            self._step(what, f"no DNS resolver configured: {_short(e)}")
            return []
        if self.dns_nameserver is not None:
            resolver.nameservers = [self.dns_nameserver[0]]
            resolver.port = self.dns_nameserver[1]
        resolver.lifetime = self.dns_timeout
        for attr, value in self.DNS_RESOLVER_ATTRS.items():
            setattr(resolver, attr, value)
        try:
            answer = resolver.resolve(name, "SRV")
        except dns.exception.DNSException as e:
            self._step(what, f"failed: {type(e).__name__}: {_short(e)}")
            return []
        records = [(r.priority, r.weight, str(r.target).rstrip(".").lower(), r.port) for r in answer]
        records = [r for r in records if r[2]]  # a target of "." means "no such service"
        if not records:
            self._step(what, "no usable record")
            return []
        ordered = srv_order(records)
        self._step(what, "found " + ", ".join(f"{h}:{p}" for h, p in ordered))
        return ordered

    # --- one endpoint -------------------------------------------------------------------------------
    def _follow(self, endpoint: Endpoint, address: str) -> Tuple[Optional[Answer], Endpoint]:
        """POST to the endpoint, following URL redirects; return the final answer (None: step failed)."""
        while True:
            answer = self._try(endpoint, address)
            if answer is None or answer.kind != REDIRECT_URL:
                return answer, endpoint
            url = answer.redirect or ""
            if urlsplit(url).scheme != "https":
                self._step(f"redirect from {endpoint.url}", f"refused: {url!r} is not an https URL")
                return None, endpoint
            if (url.lower(), address.lower()) in self._tried:
                raise _Abort(f"redirect loop: {endpoint.url} redirected {address} to {url}, which was already tried")
            self._count_redirect(f"{endpoint.url} -> URL {url}")
            endpoint = Endpoint(url, _protocol_for(url, endpoint.protocol), f"redirect from {endpoint.url}")

    def _redirect_address(self, answer: Answer, endpoint: Endpoint, address: str) -> Optional[str]:
        new = (answer.redirect or "").strip()
        if new.lower().startswith("smtp:"):
            new = new[5:]
        try:
            if not _EMAIL_RE.match(new):
                raise ValueError(new)
            _domain_of(new)
        except ValueError:
            self._step(f"address redirect from {endpoint.url}", f"ignored: {new!r} is not an email address")
            return None
        if new.lower() in self._seen_addresses:
            raise _Abort(f"redirect loop: {endpoint.url} redirected {address} to {new}, which was already tried")
        self._count_redirect(f"{address} -> address {new}")
        self._seen_addresses.add(new.lower())
        return new

    def _count_redirect(self, what: str) -> None:
        self._redirects += 1
        if self._redirects > self.max_redirects:
            raise _Abort(f"more than {self.max_redirects} redirects (last: {what})")
        log.debug("Autodiscover redirect %d: %s", self._redirects, what)

    def _try(self, endpoint: Endpoint, address: str) -> Optional[Answer]:
        url = endpoint.url
        what = f"POST {url} ({endpoint.protocol.upper()}, {endpoint.reason}) for {address}"
        if urlsplit(url).scheme != "https":
            self._step(what, "refused: credentials are only sent over https")
            return None
        self._tried.add((url.lower(), address.lower()))
        body = soap.build_request(address, url) if endpoint.protocol == SOAP else pox.build_request(address)
        headers = {"Content-Type": CONTENT_TYPE, "User-Agent": BaseProtocol.USERAGENT}
        auth_type = self.auth_type
        try:
            if auth_type is None:
                r = self._post(url, body, headers, None)
                if r.status_code == 401:
                    offered = parse_www_authenticate(www_authenticate_values(r))
                    auth_type, why = self._choose_auth(offered)
                    if auth_type is None:
                        self._step(what, f"HTTP 401: {why}")
                        return None
                    r = self._post(url, body, headers, auth_type)
                else:
                    auth_type = NOAUTH
            else:
                r = self._post(url, body, headers, auth_type)
        except requests.exceptions.SSLError as e:
            self._step(what, f"TLS certificate or handshake failed, nothing sent: {_short(e)}")
            return None
        except requests.exceptions.RequestException as e:
            self._step(what, f"failed: {_short(e)}")
            return None
        except (TypeError, ValueError) as e:  # credentials that cannot do this auth type
            self._step(what, f"cannot authenticate: {e}")
            return None
        status = r.status_code
        if status in _REDIRECT_STATUSES:
            location = urljoin(url, r.headers.get("Location") or "")
            self._step(what, f"HTTP {status} redirect to {location}")
            return Answer(REDIRECT_URL, redirect=location)
        if status == 401:
            self._step(what, f"HTTP 401: the server rejected the credentials of "
                             f"{self.credentials.identity if self.credentials else 'nobody'} ({auth_type})")
            return None
        parser = soap.parse_response if endpoint.protocol == SOAP else pox.parse_response
        if status != 200 and not (status == 500 and endpoint.protocol == SOAP):
            self._step(what, f"HTTP {status}")
            return None
        try:
            answer = parser(r.content)
        except ValueError as e:
            self._step(what, f"HTTP {status} with an unreadable answer: {e}")
            return None
        if answer.kind == SETTINGS:
            self._step(what, f"settings: EWS URL {answer.ews_url}")
            self._last_auth_type = auth_type
        elif answer.kind == REDIRECT_ADDRESS:
            self._step(what, f"redirect to address {answer.redirect}")
        elif answer.kind == REDIRECT_URL:
            self._step(what, f"redirect to URL {answer.redirect}")
        else:
            self._step(what, f"error {answer.error_code}: {answer.error_message or ''}".rstrip(": "))
            return None
        return answer

    def _post(self, url: str, body: bytes, headers: Dict[str, str], auth_type: Optional[str]) -> requests.Response:
        assert self._session is not None
        auth = get_auth_instance(auth_type, self.credentials, hostname=urlsplit(url).hostname) if auth_type not in (
            None, NOAUTH) else None
        session = self._session
        policy = self.INITIAL_RETRY_POLICY

        def attempt() -> requests.Response:
            # verify is passed per request: a session-level value would lose to $REQUESTS_CA_BUNDLE.
            r = session.post(url, data=body, headers=headers, auth=auth, timeout=self.timeout,
                             verify=self.verify, allow_redirects=False)
            _ = r.content
            if r.status_code in (429, 503) and not policy.fail_fast:
                raise Retriable(f"HTTP {r.status_code} from {url}", hint=_retry_after(r))
            return r

        return policy.run(attempt, operation="autodiscover")

    def _choose_auth(self, offered: List[str]) -> Tuple[Optional[str], str]:
        """Our auth type for what a server offers, or (None, why not). Never Basic unless configured."""
        offered = [o.lower() for o in offered]
        creds = self.credentials
        if creds is None:
            return None, "the server requires authentication and no credentials were given"
        if isinstance(creds, AccessTokenCredentials):
            if "bearer" in offered:
                return OAUTH2, ""
            return None, f"the server does not offer OAuth 2.0 bearer auth (it offers {offered})"
        if isinstance(creds, KerberosCredentials):
            if "negotiate" in offered:
                return GSSAPI, ""
            return None, f"the server does not offer Negotiate (Kerberos) auth (it offers {offered})"
        if isinstance(creds, Credentials):
            if "ntlm" in offered or "negotiate" in offered:
                return NTLM, ""
            if "digest" in offered:
                return DIGEST, ""
            if "basic" in offered:
                return None, ("the server offers only Basic auth; autodiscover does not fall back to Basic by "
                              "itself. Pass auth_type=BASIC if you want to send the password that way")
            return None, f"no supported auth scheme offered (server offers {offered})"
        return None, f"unsupported credentials type {type(creds).__name__}"

    def _result(self, answer: Answer, endpoint: Endpoint, address: str) -> Optional[AutodiscoverResult]:
        ews_url = answer.ews_url or ""
        parts = urlsplit(ews_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            self._step(f"settings from {endpoint.url}", f"ignored: EWS URL {ews_url!r} is not an http(s) URL")
            return None
        if parts.scheme == "http" and not _is_loopback(parts.hostname):
            self._step(f"settings from {endpoint.url}",
                       f"ignored: EWS URL {ews_url!r} is plain http, which would send credentials unencrypted")
            return None
        auth_type = self._last_auth_type
        return AutodiscoverResult(
            email=self.email, ews_url=ews_url, primary_smtp_address=answer.primary_smtp_address or address,
            auth_type=None if auth_type in (None, NOAUTH) else auth_type, version=answer.version,
            display_name=answer.display_name, autodiscover_url=endpoint.url, protocol=endpoint.protocol)

    # --- helpers ------------------------------------------------------------------------------------
    def _make_session(self) -> requests.Session:
        session = requests.Session()
        base = BaseProtocol.HTTP_ADAPTER_CLS
        adapter = self.host_map.adapter(base, max_retries=0) if self.host_map is not None else base(max_retries=0)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        session.verify = self.verify
        if self.host_map is not None:
            session.trust_env = False  # a proxy would resolve the names itself, bypassing the map
        return session

    def _step(self, what: str, outcome: str) -> None:
        log.debug("Autodiscover: %s -> %s", what, outcome)
        self.steps.append(f"{what}: {outcome}")

    def _failure(self, reason: str) -> AutoDiscoverFailed:
        lines = [f"Autodiscover failed for {self.email}: {reason}."]
        if self.steps:
            lines.append("Steps tried:")
            lines += [f"  {i}. {s}" for i, s in enumerate(self.steps, 1)]
        lines.append("Check the address and credentials, or skip autodiscover with "
                     "Configuration(service_endpoint='https://<server>/EWS/Exchange.asmx', ...).")
        exc = AutoDiscoverFailed("\n".join(lines))
        exc.steps = list(self.steps)  # type: ignore[attr-defined]
        return exc


def discover(email: str, credentials: Optional[BaseCredentials] = None, *,
             cache: Union[AutodiscoverCache, None, bool] = None,
             validate: Optional[Callable[[AutodiscoverResult], Any]] = None, **kwargs: Any) -> AutodiscoverResult:
    """Find the EWS settings for ``email``: from the cache, else by running :class:`Autodiscovery`.

    ``cache``: an :class:`~.cache.AutodiscoverCache`, None for the process-wide default (shared with other
    processes through a file), or False for no caching. ``validate``: called with a *cached* result
    before it is returned; if it raises (e.g. the endpoint stopped working), the entry is dropped and
    discovery runs once more. Other keyword arguments go to :class:`Autodiscovery`.
    """
    runner = Autodiscovery(email, credentials, **kwargs)  # validates the arguments early
    store: Optional[AutodiscoverCache]
    if cache is False:
        store = None
    elif cache is None or cache is True:
        store = get_default_cache()
    elif isinstance(cache, AutodiscoverCache):
        store = cache
    else:
        raise TypeError(f"cache must be an AutodiscoverCache, None or False, got {type(cache).__name__}")
    if store is None:
        return runner.run()
    with _lock_for(email, credentials):
        cached = store.get(runner.email, credentials)
        if cached is not None:
            if validate is None:
                return cached
            try:
                validate(cached)
                return cached
            except (EWSError, requests.exceptions.RequestException, OSError) as e:
                log.info("Cached autodiscover result for %s stopped working (%s); discovering again", email, e)
                store.forget(runner.email, credentials)
        result = runner.run()
        store.put(runner.email, credentials, result)
        return result


def check_endpoint(result: AutodiscoverResult, verify: Any = True, host_map: Optional[HostMap] = None,
                   timeout: float = 10) -> None:
    """A ``validate`` callable for :func:`discover`: raise if the EWS endpoint no longer answers like one.

    Sends one unauthenticated request (no credentials): 200, 401, 405 and 500 mean "alive"; a
    connection failure or another status raises :class:`~exchangelib.errors.TransportError`.
    """
    session = requests.Session()
    adapter = host_map.adapter(BaseProtocol.HTTP_ADAPTER_CLS) if host_map else BaseProtocol.HTTP_ADAPTER_CLS()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    if host_map is not None:
        session.trust_env = False
    try:
        r = session.post(result.ews_url, data=b"", headers={"Content-Type": CONTENT_TYPE,
                                                             "User-Agent": BaseProtocol.USERAGENT},
                         timeout=timeout, verify=verify, allow_redirects=False)
    except requests.exceptions.RequestException as e:
        raise TransportError(f"EWS endpoint {result.ews_url} is unreachable: {_short(e)}") from e
    finally:
        session.close()
    if r.status_code not in (200, 401, 405, 500):
        raise TransportError(f"EWS endpoint {result.ews_url} answered HTTP {r.status_code}",
                             status_code=r.status_code)


def srv_order(records: List[Tuple[int, int, str, int]], rng: Optional[random.Random] = None) -> List[Tuple[str, int]]:
    """Order SRV records ``(priority, weight, target, port)`` as RFC 2782 says: lowest priority first;
    within a priority, a weighted random order (zero-weight records get a small chance)."""
    rng = rng or random.Random()
    out: List[Tuple[str, int]] = []
    for prio in sorted({r[0] for r in records}):
        group = [r for r in records if r[0] == prio]
        group.sort(key=lambda r: r[1])  # zero weights first, as RFC 2782 asks
        while group:
            total = sum(r[1] for r in group)
            pick = rng.randint(0, total) if total else 0
            running = 0
            for i, r in enumerate(group):
                running += r[1]
                if running >= pick:
                    out.append((r[2], r[3]))
                    del group[i]
                    break
    seen: Set[Tuple[str, int]] = set()
    return [t for t in out if not (t in seen or seen.add(t))]  # type: ignore[func-returns-value]


def _endpoints_for(url: str, reason: str) -> List[Endpoint]:
    """Endpoints for a redirect target: its SOAP sibling first if it is an autodiscover.xml URL."""
    parts = urlsplit(url)
    if parts.path.lower().endswith("/autodiscover.xml"):
        svc = urlunsplit((parts.scheme, parts.netloc, parts.path[:-4] + ".svc", "", ""))
        return [Endpoint(svc, SOAP, reason), Endpoint(url, POX, reason)]
    return [Endpoint(url, _protocol_for(url, POX), reason)]


def _protocol_for(url: str, default: str) -> str:
    path = urlsplit(url).path.lower()
    if path.endswith(".svc"):
        return SOAP
    if path.endswith(".xml"):
        return POX
    return default


def _domain_of(email: str) -> str:
    domain = email.rpartition("@")[2].strip().rstrip(".").lower()
    try:
        ascii_domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        raise ValueError(f"The domain of {email!r} is not a valid host name") from None
    labels = ascii_domain.split(".")
    if not ascii_domain or any(not lbl or len(lbl) > 63 or not re.match(r"^[a-z0-9-]+$", lbl) for lbl in labels):
        raise ValueError(f"The domain of {email!r} is not a valid host name")
    return ascii_domain


def _parse_nameserver(value: Union[str, Tuple[str, int]]) -> Tuple[str, int]:
    if isinstance(value, tuple) and len(value) == 2:
        host, port = value
    elif isinstance(value, str):
        host, _, p = value.rpartition(":") if value.count(":") == 1 else (value, "", "53")
        port = int(p) if p.isdigit() else -1
    else:
        raise TypeError(f"dns_nameserver must be 'ip', 'ip:port' or (ip, port), got {value!r}")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(f"dns_nameserver must be an IP address, got {host!r}") from None
    if not isinstance(port, int) or not 0 < port < 65536:
        raise ValueError(f"dns_nameserver port must be in 1..65535, got {port!r}")
    return host, port


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _short(e: BaseException) -> str:
    """A one-line reason for an exception: the innermost cause of a requests/urllib3 error, without the
    pool and connection reprs."""
    inner: BaseException = e
    for _ in range(4):
        nxt = getattr(inner.args[0], "reason", None) if inner.args else None
        if nxt is None and inner.args and isinstance(inner.args[0], BaseException):
            nxt = inner.args[0]
        if not isinstance(nxt, BaseException):
            break
        inner = nxt
    text = str(inner).splitlines()[0] if str(inner) else type(inner).__name__
    text = re.sub(r"^(?:<[^>]*>|\w+\(host='[^']*', port=\d+\)): ", "", text)
    text = text.replace("Failed to establish a new connection: ", "")
    return text if len(text) <= 300 else text[:297] + "..."


def _lock_for(email: str, credentials: Optional[BaseCredentials]) -> threading.Lock:
    key = cache_key(email.rpartition("@")[2], credentials)
    with _discovery_locks_lock:
        lock = _discovery_locks.get(key)
        if lock is None:
            lock = _discovery_locks[key] = threading.Lock()
        return lock
