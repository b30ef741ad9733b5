"""Autodiscover end to end: the client against the local server's autodiscover endpoints.

Every simulated host (``example.com``, ``autodiscover.example.com``, SRV targets...) is an
:class:`AutodiscoverFrontend` on its own loopback address, reached through a strict
:class:`HostMap` (names without an entry are refused and recorded, never resolved), with TLS
certificates from a throw-away CA. The SRV step asks a :class:`DNSServer` on loopback.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Dict, List, Optional

import pytest
import requests

from exchangelib import DELEGATE, Account, Configuration
from exchangelib.autodiscover import (AutodiscoverCache, AutodiscoverResult, Autodiscovery, HostMap, check_endpoint,
                                      discover)
from exchangelib.autodiscover import discovery as discovery_module
from exchangelib.credentials import AccessTokenCredentials, Credentials
from exchangelib.errors import AutoDiscoverFailed, TransportError
from exchangelib.protocol import BaseProtocol
from exchangelib.testing.autodiscover import AutodiscoverFrontend, AutodiscoverSettings, settings_for
from exchangelib.testing.dns import DNSServer
from exchangelib.testing.server import EWSServer
from exchangelib.testing.tls import make_certificates, server_ssl_context
from exchangelib.testing.users import User, default_users
from exchangelib.transport import BASIC, NTLM, OAUTH2
from exchangelib.version import Build

REPO = Path(__file__).resolve().parents[1]
EWS_URL = "https://mail.example.com/EWS/Exchange.asmx"
HOSTNAMES = ["example.com", "autodiscover.example.com", "mail.example.com", "srv.example.net", "backup.example.net",
             "other.org", "autodiscover.other.org", "mail.sub.example.co.uk", "autodiscover.mail.sub.example.co.uk"]
JOHN = Credentials("EXAMPLE\\john", "Exchange-john-1")


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """A CA + one certificate for every test host name, and a second CA's certificate (not trusted)."""
    good = make_certificates(str(tmp_path_factory.mktemp("pki")), hostnames=HOSTNAMES)
    rogue = make_certificates(str(tmp_path_factory.mktemp("rogue")), hostnames=HOSTNAMES)
    return {"ca": good.ca_path, "ctx": server_ssl_context(good), "rogue_ctx": server_ssl_context(rogue)}


@pytest.fixture(scope="module")
def ews():
    users = list(default_users()) + [User("olga", "Exchange-olga-1", "olga@other.org", "Olga Other",
                                          aliases=("sales@other.org",))]
    with EWSServer(users, strict=False, auth=("ntlm", "basic", "bearer"), version="2016") as server:
        yield server


class World:
    """Front ends, a strict host map, a DNS server and a private cache for one test."""

    def __init__(self, ews: EWSServer, pki: dict, tmp_path: Path):
        self.ews = ews
        self.pki = pki
        self.hosts = HostMap(strict=True)
        self.frontends: List[AutodiscoverFrontend] = []
        self.dns = DNSServer().start()
        self.cache = AutodiscoverCache(tmp_path / "cache")
        self.settings = AutodiscoverSettings(ews_url=EWS_URL)
        self._next_ip = 2

    def serve(self, name: str, *, tls: bool = True, rogue: bool = False, redirect_to: Optional[str] = None,
              settings: Optional[AutodiscoverSettings] = None, server: Optional[EWSServer] = None,
              port: Optional[int] = None) -> AutodiscoverFrontend:
        """Start a front end for host ``name`` (optionally only for one port of it) and map the name to it."""
        ip = f"127.0.0.{self._next_ip}"
        self._next_ip += 1
        ctx = (self.pki["rogue_ctx"] if rogue else self.pki["ctx"]) if tls else None
        fe = AutodiscoverFrontend(server or self.ews, host=ip, ssl_context=ctx, redirect_to=redirect_to,
                                  settings=settings or self.settings).start()
        self.frontends.append(fe)
        self.hosts.add(f"{name}:{port}" if port else name, fe.address)
        return fe

    def discover(self, email: str, credentials=JOHN, **kwargs):
        kwargs.setdefault("cache", self.cache)
        kwargs.setdefault("dns_nameserver", self.dns.address)
        kwargs.setdefault("timeout", 5)
        return discover(email, credentials, host_map=self.hosts, verify=self.pki["ca"], **kwargs)

    def run(self, email: str, credentials=JOHN, **kwargs) -> Autodiscovery:
        """A discovery without cache; returns the runner (result in .result, or .error)."""
        runner = Autodiscovery(email, credentials, host_map=self.hosts, verify=self.pki["ca"],
                               dns_nameserver=self.dns.address, timeout=5, **kwargs)
        runner.result = runner.error = None
        try:
            runner.result = runner.run()
        except AutoDiscoverFailed as e:
            runner.error = e
        return runner

    def all_requests(self):
        return [r for fe in self.frontends for r in fe.requests]

    def close(self):
        for fe in self.frontends:
            fe.stop()
        self.dns.stop()


@pytest.fixture
def world(ews, pki, tmp_path, monkeypatch):
    monkeypatch.setenv("EXCHANGELIB_CACHE_DIR", str(tmp_path / "default-cache"))
    discovery_module.set_default_cache(None)
    w = World(ews, pki, tmp_path)
    yield w
    w.close()
    discovery_module.set_default_cache(None)


def assert_no_credentials_in_clear(world: World) -> None:
    for r in world.all_requests():
        if not r.tls:
            assert r.authorization is None, f"credentials sent over plain http: {r}"


# --- each step on its own ---------------------------------------------------------------------------------

def test_step1_domain_itself_soap_and_alias_resolves_to_primary(world):
    fe = world.serve("example.com")
    result = world.discover("j.doe@example.com")
    assert result.ews_url == EWS_URL
    assert result.primary_smtp_address == "john@example.com"
    assert result.auth_type == NTLM
    assert result.protocol == "soap"
    assert result.version.build == Build(15, 1, 2507, 6)
    assert result.display_name == "John Doe"
    assert result.autodiscover_url == "https://example.com/autodiscover/autodiscover.svc"
    assert world.hosts.hosts_tried() == ["example.com"]
    assert {r.host for r in fe.requests} == {"example.com"}


def test_step1_falls_back_to_pox_when_only_pox_is_offered(world):
    world.settings.protocols = ("pox",)
    world.serve("example.com")
    runner = world.run("mary@example.com")
    assert runner.result.protocol == "pox"
    assert runner.result.ews_url == EWS_URL
    assert runner.result.primary_smtp_address == "mary@example.com"
    assert runner.result.version.build.major_version == 15
    assert "autodiscover.svc" in runner.steps[0] and "HTTP 404" in runner.steps[0]


def test_step1_soap_only_server(world):
    world.settings.protocols = ("soap",)
    world.serve("example.com")
    assert world.run("mary@example.com").result.protocol == "soap"


def test_step2_autodiscover_subdomain(world):
    world.serve("autodiscover.example.com")
    runner = world.run("john@example.com")
    assert runner.result.autodiscover_url == "https://autodiscover.example.com/autodiscover/autodiscover.svc"
    assert world.hosts.hosts_tried() == ["example.com", "autodiscover.example.com"]


def test_step3_unauthenticated_get_redirect_followed_to_https(world):
    plain = world.serve("autodiscover.example.com", tls=False, port=80,
                        redirect_to="https://mail.example.com/autodiscover/autodiscover.xml")
    target = world.serve("mail.example.com")
    runner = world.run("john@example.com")
    assert runner.result is not None, runner.error
    assert runner.result.autodiscover_url == "https://mail.example.com/autodiscover/autodiscover.svc"
    assert [(r.method, r.authorization) for r in plain.requests] == [("GET", None)]
    assert plain.requests[0].path == "/autodiscover/autodiscover.xml"
    assert any(r.authorization == "NTLM" for r in target.requests)
    assert_no_credentials_in_clear(world)


def test_plain_http_redirect_refused(world):
    plain = world.serve("autodiscover.example.com", tls=False, port=80,
                        redirect_to="http://mail.example.com/autodiscover/autodiscover.xml")
    world.serve("mail.example.com", tls=False, port=80)
    runner = world.run("john@example.com", srv=False)
    assert runner.result is None
    assert "only https redirects are followed" in str(runner.error)
    assert [r.method for r in plain.requests] == ["GET"]
    assert ("mail.example.com", 80) not in world.hosts.attempts  # never contacted, let alone with credentials
    assert_no_credentials_in_clear(world)


def test_post_redirect_to_plain_http_refused(world):
    world.serve("example.com", redirect_to="http://mail.example.com/autodiscover/autodiscover.svc")
    world.serve("mail.example.com", tls=False, port=80)
    runner = world.run("john@example.com", srv=False)
    assert runner.result is None
    assert "is not an https URL" in str(runner.error)
    assert ("mail.example.com", 80) not in world.hosts.attempts


def test_step4_srv_record_highest_priority_first(world):
    fe = world.serve("srv.example.net")
    world.dns.add_srv("_autodiscover._tcp.example.com", "backup.example.net", port=443, priority=20, weight=100)
    world.dns.add_srv("_autodiscover._tcp.example.com", "srv.example.net", port=fe.port, priority=5, weight=1)
    runner = world.run("john@example.com")
    assert runner.result.autodiscover_url == f"https://srv.example.net:{fe.port}/autodiscover/autodiscover.svc"
    assert "backup.example.net" not in world.hosts.hosts_tried()
    assert world.dns.queries == [("_autodiscover._tcp.example.com", "SRV")]


def test_srv_falls_back_to_the_next_priority(world):
    fe = world.serve("backup.example.net")
    world.dns.add_srv("_autodiscover._tcp.example.com", "srv.example.net", port=443, priority=0)
    world.dns.add_srv("_autodiscover._tcp.example.com", "backup.example.net", port=fe.port, priority=10)
    runner = world.run("john@example.com")
    assert runner.result.autodiscover_url.startswith("https://backup.example.net:")
    tried = world.hosts.hosts_tried()
    assert tried.index("srv.example.net") < tried.index("backup.example.net")


def test_srv_target_dot_means_no_service(world):
    world.dns.add_srv("_autodiscover._tcp.example.com", ".", port=0)
    runner = world.run("john@example.com")
    assert "no usable record" in str(runner.error)


# --- redirects --------------------------------------------------------------------------------------------

def test_redirect_address_within_domain(world):
    world.settings.redirect_addresses["info@example.com"] = "mary@example.com"
    world.serve("example.com")
    result = world.run("info@example.com").result
    assert result.primary_smtp_address == "mary@example.com"
    assert result.email == "info@example.com"


def test_redirect_address_to_another_domain_uses_that_domain(world):
    world.settings.redirect_addresses["olga@example.com"] = "sales@other.org"
    world.serve("example.com")
    fe = world.serve("autodiscover.other.org")
    runner = world.run("olga@example.com")
    assert runner.result.primary_smtp_address == "olga@other.org"
    assert runner.result.autodiscover_url.startswith("https://autodiscover.other.org/")
    assert fe.requests
    assert "other.org" in world.hosts.hosts_tried()  # the new address's full domain, tried first


@pytest.mark.parametrize("protocol", ["soap", "pox"])
def test_redirect_url(world, protocol):
    redirecting = AutodiscoverSettings(protocols=(protocol,), redirect_urls={
        "john@example.com": f"https://mail.example.com/autodiscover/autodiscover.{'svc' if protocol == 'soap' else 'xml'}"})
    world.serve("example.com", settings=redirecting)
    world.serve("mail.example.com")
    result = world.run("john@example.com").result
    assert result.autodiscover_url.startswith("https://mail.example.com/")
    assert result.protocol == protocol


def test_redirect_address_loop_is_a_clear_error(world):
    world.settings.redirect_addresses.update({"a@example.com": "b@example.com", "b@example.com": "a@example.com"})
    fe = world.serve("example.com")
    runner = world.run("a@example.com")
    assert "redirect loop" in str(runner.error)
    assert len(fe.requests) < 12


def test_redirect_url_loop_is_a_clear_error(world):
    world.settings.redirect_urls.update({
        "/autodiscover/autodiscover.svc": "https://example.com/hop/autodiscover.svc",
        "/hop/autodiscover.svc": "https://example.com/autodiscover/autodiscover.svc"})
    world.serve("example.com")
    runner = world.run("john@example.com")
    assert "redirect loop" in str(runner.error)


def _chain(world: World, hops: int) -> None:
    for i in range(hops - 1):
        world.settings.redirect_addresses[f"u{i}@example.com"] = f"u{i + 1}@example.com"
    world.settings.redirect_addresses[f"u{hops - 1}@example.com"] = "j.doe@example.com"


def test_ten_redirects_are_followed(world):
    _chain(world, 10)
    world.serve("example.com")
    runner = world.run("u0@example.com")
    assert runner.result is not None, runner.error
    assert runner.result.primary_smtp_address == "john@example.com"


def test_eleventh_redirect_is_refused(world):
    _chain(world, 11)
    world.serve("example.com")
    runner = world.run("u0@example.com")
    assert "more than 10 redirects" in str(runner.error)


# --- safety -----------------------------------------------------------------------------------------------

def test_never_tries_autodiscover_tld_or_strips_labels(world):
    runner = world.run("john@example.com")
    assert isinstance(runner.error, AutoDiscoverFailed)
    assert world.hosts.hosts_tried() == ["example.com", "autodiscover.example.com"]
    assert world.dns.queries == [("_autodiscover._tcp.example.com", "SRV")]

    world.hosts.attempts.clear()
    world.dns.queries.clear()
    runner = world.run("john@mail.sub.example.co.uk")
    tried = world.hosts.hosts_tried()
    assert tried == ["mail.sub.example.co.uk", "autodiscover.mail.sub.example.co.uk"]
    assert not any(h in tried for h in ("autodiscover.com", "autodiscover.co.uk", "autodiscover.example.co.uk",
                                        "sub.example.co.uk", "example.co.uk"))
    assert world.dns.queries == [("_autodiscover._tcp.mail.sub.example.co.uk", "SRV")]


def test_failure_lists_every_step_and_why(world):
    world.serve("autodiscover.example.com", tls=False, port=80)  # answers the GET with 401
    runner = world.run("john@example.com")
    text = str(runner.error)
    assert text.startswith("Autodiscover failed for john@example.com")
    for expected in ("POST https://example.com/autodiscover/autodiscover.svc",
                     "POST https://example.com/autodiscover/autodiscover.xml",
                     "POST https://autodiscover.example.com/autodiscover/autodiscover.svc",
                     "POST https://autodiscover.example.com/autodiscover/autodiscover.xml",
                     "GET http://autodiscover.example.com/autodiscover/autodiscover.xml (unauthenticated): HTTP 401, not a redirect",
                     "DNS SRV _autodiscover._tcp.example.com: failed: NXDOMAIN"):
        assert expected in text
    assert len(runner.error.steps) == 6
    assert "Exchange-john-1" not in text


def test_bad_certificate_gets_no_credentials(world):
    bad = world.serve("example.com", rogue=True)
    good = world.serve("autodiscover.example.com")
    runner = world.run("john@example.com")
    assert runner.result.autodiscover_url.startswith("https://autodiscover.example.com/")
    assert bad.requests == []  # the TLS handshake failed before any HTTP request was sent
    assert "TLS certificate or handshake failed" in runner.steps[0]
    assert good.requests


def test_basic_only_server_is_not_used_unless_asked(world, pki):
    with EWSServer(default_users(), strict=False, auth=("basic",)) as basic_only:
        fe = world.serve("example.com", server=basic_only)
        runner = world.run("john@example.com", srv=False)
        assert runner.result is None
        assert "offers only Basic auth" in str(runner.error)
        assert all(r.authorization is None for r in fe.requests)

        runner = world.run("john@example.com", srv=False, auth_type=BASIC)
        assert runner.result.auth_type == BASIC
        assert any(r.authorization == "Basic" for r in fe.requests)


def test_wrong_password_is_reported(world):
    world.serve("example.com")
    runner = world.run("john@example.com", Credentials("EXAMPLE\\john", "wrong"), srv=False)
    assert "rejected the credentials of EXAMPLE\\john" in str(runner.error)
    assert "wrong" not in str(runner.error).replace("wrong password", "")


def test_plain_http_ews_url_is_refused_unless_loopback(world):
    world.settings.ews_url = "http://mail.example.com/EWS/Exchange.asmx"
    world.serve("example.com")
    runner = world.run("john@example.com", srv=False)
    assert "plain http" in str(runner.error)
    world.settings.ews_url = None  # the local server's own http://127.0.0.1 URL is fine
    assert world.run("john@example.com", srv=False).result.ews_url == world.ews.url


# --- cache ------------------------------------------------------------------------------------------------

def test_cache_hit_in_process_makes_no_requests(world):
    fe = world.serve("example.com")
    first = world.discover("j.doe@example.com")
    count = len(fe.requests)
    again = world.discover("j.doe@example.com")
    assert not first.from_cache and again.from_cache
    assert len(fe.requests) == count
    assert again.ews_url == first.ews_url and again.primary_smtp_address == "john@example.com"
    assert again.version == first.version and again.auth_type == NTLM
    # the primary address was cached too
    assert world.discover("john@example.com").from_cache


def test_cache_is_per_credentials_identity(world):
    fe = world.serve("example.com")
    world.discover("mary@example.com")
    count = len(fe.requests)
    other = world.discover("mary@example.com", Credentials("EXAMPLE\\mary", "Exchange-mary-1"))
    assert not other.from_cache and len(fe.requests) > count


_CHILD = textwrap.dedent("""
    import json, sys
    from exchangelib.autodiscover import HostMap, discover
    from exchangelib.credentials import Credentials
    args = json.loads(sys.argv[1])
    hosts = HostMap(args["hosts"], strict=True)
    r = discover(args["email"], Credentials("EXAMPLE\\\\john", "Exchange-john-1"), host_map=hosts,
                 verify=args["ca"], srv=False, timeout=5)
    print(json.dumps({"from_cache": r.from_cache, "ews_url": r.ews_url, "primary": r.primary_smtp_address,
                      "attempts": len(hosts.attempts)}))
""")


def _child(world: World, cache_dir: Path, email: str) -> Dict:
    hosts = {f"{h}:{p}" if p else h: f"{ip}:{tp}" if tp else ip
             for (h, p), (ip, tp) in world.hosts._entries.items()}
    env = dict(os.environ, EXCHANGELIB_CACHE_DIR=str(cache_dir), PYTHONPATH=str(REPO))
    out = subprocess.run([sys.executable, "-c", _CHILD, json.dumps({"hosts": hosts, "ca": world.pki["ca"],
                                                                     "email": email})],
                         env=env, capture_output=True, text=True, timeout=60, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_cache_shared_across_processes(world, tmp_path):
    fe = world.serve("example.com")
    first = _child(world, tmp_path / "shared", "j.doe@example.com")
    assert first["from_cache"] is False and first["primary"] == "john@example.com"
    count = len(fe.requests)
    second = _child(world, tmp_path / "shared", "j.doe@example.com")
    assert second == {"from_cache": True, "ews_url": EWS_URL, "primary": "john@example.com", "attempts": 0}
    assert len(fe.requests) == count
    # this process, pointed at the same directory, hits too
    assert AutodiscoverCache(tmp_path / "shared").get("j.doe@example.com", JOHN).ews_url == EWS_URL
    data = (tmp_path / "shared" / "autodiscover.json").read_text()
    assert "Exchange-john-1" not in data
    assert oct((tmp_path / "shared" / "autodiscover.json").stat().st_mode & 0o777) == "0o600"


def test_dead_cached_endpoint_is_dropped_and_discovery_rerun_once(world):
    world.serve("example.com")
    old = world.discover("john@example.com")
    world.settings.ews_url = "https://mail2.example.com/EWS/Exchange.asmx"
    calls: List[str] = []

    def validate(result):
        calls.append(result.ews_url)
        if result.ews_url == EWS_URL:
            raise TransportError("connection refused")

    fresh = world.discover("john@example.com", validate=validate)
    assert not fresh.from_cache and fresh.ews_url == "https://mail2.example.com/EWS/Exchange.asmx"
    assert calls == [old.ews_url]  # only the cached result is validated; discovery ran once
    assert world.cache.get("john@example.com", JOHN).ews_url == fresh.ews_url
    # a cached result that still works is returned as is
    assert world.discover("john@example.com", validate=validate).from_cache


def test_check_endpoint_against_live_and_dead_ews(ews):
    check_endpoint(AutodiscoverResult("john@example.com", ews.url, "john@example.com"))
    dead = AutodiscoverResult("john@example.com", "http://127.0.0.1:9/EWS/Exchange.asmx", "john@example.com")
    with pytest.raises(TransportError, match="unreachable"):
        check_endpoint(dead, timeout=2)


def test_expired_entries_are_not_used(world, tmp_path):
    world.serve("example.com")
    cache = AutodiscoverCache(tmp_path / "ttl", ttl=0.001)
    world.discover("john@example.com", cache=cache)
    assert not world.discover("john@example.com", cache=cache).from_cache


def test_default_cache_uses_the_environment_directory(world, tmp_path):
    world.serve("example.com")
    discover("john@example.com", JOHN, host_map=world.hosts, verify=world.pki["ca"], srv=False)
    assert (tmp_path / "default-cache" / "autodiscover.json").is_file()
    assert discover("john@example.com", JOHN, host_map=world.hosts, verify=world.pki["ca"], srv=False).from_cache


def test_main_server_settings_used_by_default(world, ews):
    # Front ends without their own settings answer with the server's settings_for() values.
    fe = AutodiscoverFrontend(ews, host="127.0.0.9", ssl_context=world.pki["ctx"]).start()
    world.frontends.append(fe)
    world.hosts.add("example.com", fe.address)
    assert world.run("j.doe@example.com", srv=False).result.ews_url == ews.url
    settings_for(ews).ews_url = "https://outside.example.com/EWS/Exchange.asmx"
    try:
        assert world.run("j.doe@example.com", srv=False).result.ews_url == settings_for(ews).ews_url
    finally:
        settings_for(ews).ews_url = None


def test_discovered_settings_open_the_mailbox(world):
    """The seed's flow: discover, then use the EWS URL, auth type, version and primary address."""
    with EWSServer(default_users(), strict=None) as strict_server:
        world.serve("example.com", server=strict_server, settings=AutodiscoverSettings())
        result = world.discover("j.doe@example.com")
        config = Configuration(service_endpoint=result.ews_url, credentials=JOHN, auth_type=result.auth_type,
                               version=result.version)
        account = Account(result.primary_smtp_address, config=config, access_type=DELEGATE)
        assert account.primary_smtp_address == "john@example.com"
        assert account.protocol.service_endpoint == strict_server.url
        assert account.inbox.name == "Inbox"
        account.protocol.close()
        strict_server.assert_clean()


def test_oauth_bearer_token(world, ews):
    world.serve("example.com")
    token = AccessTokenCredentials(ews.issue_token(user="john@example.com"), identity="john@example.com")
    runner = world.run("john@example.com", token, srv=False)
    assert runner.result.auth_type == OAUTH2
    assert any(r.authorization == "Bearer" for r in world.all_requests())


def test_srv_target_already_tried_is_not_retried(world):
    world.dns.add_srv("_autodiscover._tcp.example.com", "example.com", port=443)
    runner = world.run("john@example.com")
    assert world.hosts.attempts.count(("example.com", 443)) == 2  # .svc and .xml, once each
    assert runner.error is not None


def test_bad_redirect_address_is_ignored_not_a_crash(world):
    world.settings.redirect_addresses["john@example.com"] = "john@bad_domain!"
    world.serve("example.com")
    runner = world.run("john@example.com", srv=False)
    assert isinstance(runner.error, AutoDiscoverFailed)
    assert "is not an email address" in str(runner.error)


def test_global_adapter_hook_applies_to_autodiscover_and_ews(world, monkeypatch):
    """BaseProtocol.HTTP_ADAPTER_CLS = host_map.adapter_class() routes autodiscover (and EWS) traffic."""
    world.serve("example.com")
    monkeypatch.setattr(BaseProtocol, "HTTP_ADAPTER_CLS", world.hosts.adapter_class())
    # requests lets this variable override a session-level verify=; ours must still win.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", requests.certs.where())
    result = discover("john@example.com", JOHN, verify=world.pki["ca"], cache=False, srv=False)
    assert result.ews_url == EWS_URL
    assert world.hosts.hosts_tried() == ["example.com"]
