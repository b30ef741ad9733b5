"""Log in to the local EWS server with exchangelib 5.6.0's own authentication classes (run in its virtualenv).

Run by ``tools/compat_exchangelib56.py --auth`` with the virtualenv's interpreter in isolated mode
(``python -I``), like ``check_exchangelib56.py``. Only 5.6.0's public API is used, as its users do:

- ``OAuth2Credentials`` (client credentials; a subclass only points ``token_url`` at the local server
  instead of login.microsoftonline.com) with ``access_type=IMPERSONATION``: open the inbox, create and
  find a message; a wrong client secret must be refused.
- ``OAuth2AuthorizationCodeCredentials`` with an authorization code from the local server's authorize
  endpoint (delegated): open the inbox.
- ``auth_type=GSSAPI`` (requests-gssapi, when it installed) with the Kerberos ticket cache of the
  environment (``KRB5CCNAME``, ``KRB5_CONFIG`` from the local KDC).

Secrets come from the environment (``COMPAT_CLIENT_SECRET``). TLS: ``REQUESTS_CA_BUNDLE`` names the
server's CA. Results go to ``--out`` as JSON in the same format as ``check_exchangelib56.py``.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
import uuid


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--endpoint", required=True)
    p.add_argument("--token-url", required=True)
    p.add_argument("--authorize-url", required=True)
    p.add_argument("--client-id", required=True)
    p.add_argument("--smtp", required=True)
    p.add_argument("--gssapi", action="store_true", help="also log in with GSSAPI (Kerberos ticket cache)")
    p.add_argument("--out", required=True)
    p.add_argument("--expected-version", default="5.6.0")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    out = {"exchangelib": {}, "python": sys.version.split()[0], "steps": []}
    import exchangelib

    version, where = getattr(exchangelib, "__version__", "?"), getattr(exchangelib, "__file__", "?")
    out["exchangelib"] = {"version": version, "file": where}
    if version != args.expected_version or "site-packages" not in str(where):
        out["error"] = f"imported the wrong exchangelib: version {version} from {where}"
        with open(args.out, "w") as f:
            json.dump(out, f, indent=1)
        return 2
    import requests

    from exchangelib import (DELEGATE, GSSAPI, IMPERSONATION, OAUTH2, Account, Configuration, Identity, Message,
                             OAuth2AuthorizationCodeCredentials, OAuth2Credentials)

    token_url = args.token_url

    class LocalOAuth2Credentials(OAuth2Credentials):
        @property
        def token_url(self):
            return token_url

    class LocalAuthorizationCodeCredentials(OAuth2AuthorizationCodeCredentials):
        @property
        def token_url(self):
            return token_url

    secret = os.environ["COMPAT_CLIENT_SECRET"]
    steps = []

    def step(name, fn):
        t0 = time.monotonic()
        try:
            detail, ok = fn(), True
        except Exception as e:  # record and go on
            ok, detail = False, f"{type(e).__name__}: {e}"[:600] + "\n" + traceback.format_exc(limit=5)[-1200:]
        steps.append({"name": name, "ok": ok, "seconds": round(time.monotonic() - t0, 3),
                      "detail": "" if detail is None else str(detail)})

    def app_only():
        # As against Exchange Online: app-only tokens need an impersonation header from the first request on
        # (5.6.0's version probe included), which 5.6.0 builds from the credentials' identity.
        creds = LocalOAuth2Credentials(client_id=args.client_id, client_secret=secret, tenant_id="local",
                                       identity=Identity(primary_smtp_address=args.smtp))
        config = Configuration(service_endpoint=args.endpoint, credentials=creds, auth_type=OAUTH2)
        account = Account(primary_smtp_address=args.smtp, config=config, autodiscover=False,
                          access_type=IMPERSONATION)
        subject = f"compat-oauth-{uuid.uuid4().hex[:8]}"
        Message(account=account, folder=account.drafts, subject=subject).save()
        found = account.drafts.filter(subject=subject).count()
        assert found == 1, f"found {found} drafts"
        return f"inbox {account.inbox.name!r}, draft saved and found by impersonation"

    def wrong_secret():
        creds = LocalOAuth2Credentials(client_id=args.client_id, client_secret="wrong-" + uuid.uuid4().hex,
                                       tenant_id="local")
        config = Configuration(service_endpoint=args.endpoint, credentials=creds, auth_type=OAUTH2)
        try:
            Account(primary_smtp_address=args.smtp, config=config, autodiscover=False,
                    access_type=IMPERSONATION).inbox.all().count()
        except Exception as e:  # 5.6.0 lets oauthlib's error through
            return f"refused: {type(e).__name__}"
        raise AssertionError("a wrong client secret was accepted")

    def delegated():
        r = requests.get(args.authorize_url, params={"client_id": args.client_id, "response_type": "code",
                                                     "login_hint": args.smtp, "state": "s1"},
                         allow_redirects=False, timeout=30)
        assert r.status_code == 200, r.text
        code = r.json()["code"]
        creds = LocalAuthorizationCodeCredentials(authorization_code=code, client_id=args.client_id,
                                                  client_secret=secret)
        config = Configuration(service_endpoint=args.endpoint, credentials=creds, auth_type=OAUTH2)
        account = Account(primary_smtp_address=args.smtp, config=config, autodiscover=False, access_type=DELEGATE)
        return f"inbox {account.inbox.name!r} as the signed-in user, {account.inbox.all().count()} items"

    def gssapi():
        config = Configuration(service_endpoint=args.endpoint, auth_type=GSSAPI)
        account = Account(primary_smtp_address=args.smtp, config=config, autodiscover=False, access_type=DELEGATE)
        return f"inbox {account.inbox.name!r} with a Kerberos ticket ({account.inbox.all().count()} items)"

    step("OAuth2Credentials: client credentials, impersonation", app_only)
    step("OAuth2Credentials: wrong client secret refused", wrong_secret)
    step("OAuth2AuthorizationCodeCredentials: delegated", delegated)
    if args.gssapi:
        step("GSSAPI: Kerberos ticket cache", gssapi)
    out["steps"] = steps
    with open(args.out, "w") as f:
        json.dump(out, f, indent=1)
    return 0 if all(s["ok"] for s in steps) else 1


if __name__ == "__main__":
    sys.exit(main())
