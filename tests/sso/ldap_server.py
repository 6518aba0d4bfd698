"""A real OpenLDAP ``slapd`` on 127.0.0.1 for the directory sign-in tests: its own temporary
configuration (slapd.conf, an MDB database, the memberOf overlay), seeded over LDAP."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

SLAPD = shutil.which("slapd") or next(
    (p for p in ("/usr/sbin/slapd", "/usr/local/libexec/slapd") if Path(p).exists()), None)
SCHEMA_DIRS = (Path("/etc/ldap/schema"), Path("/etc/openldap/schema"))
MODULE_DIRS = (Path("/usr/lib/ldap"), Path("/usr/lib64/openldap"), Path("/usr/lib/openldap"))
BASE = "dc=acme,dc=example"
ROOT_DN = f"cn=admin,{BASE}"
ROOT_PASSWORD = "root-secret"
SERVICE_DN = f"cn=zhiku,ou=services,{BASE}"
SERVICE_PASSWORD = "service-secret"


@dataclass(frozen=True)
class Slapd:
    """A running server: its URL and where its users and groups are."""

    url: str
    base: str = BASE
    users: str = f"ou=people,{BASE}"
    groups: str = f"ou=groups,{BASE}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _config(folder: Path) -> str:
    schema = next(d for d in SCHEMA_DIRS if (d / "core.schema").exists())
    modules = next((d for d in MODULE_DIRS if any(d.glob("back_mdb*"))), None)
    lines = [f"include {schema / name}.schema" for name in ("core", "cosine", "inetorgperson")]
    if modules is not None:
        lines += [f"modulepath {modules}", "moduleload back_mdb", "moduleload memberof"]
    lines += [
        f"pidfile {folder / 'slapd.pid'}",
        "database mdb", f"suffix \"{BASE}\"", f"rootdn \"{ROOT_DN}\"",
        f"rootpw {ROOT_PASSWORD}", f"directory {folder / 'data'}", "maxsize 16777216",
        "overlay memberof",
        "access to attrs=userPassword by anonymous auth by self write by * none",
        "access to * by users read by * none",
    ]
    return "\n".join(lines) + "\n"


@contextmanager
def running_slapd(folder: Path) -> Iterator[Slapd]:
    """Start slapd with a fresh configuration under ``folder``; stop it afterwards."""
    assert SLAPD is not None
    (folder / "data").mkdir(parents=True)
    conf = folder / "slapd.conf"
    conf.write_text(_config(folder))
    port = _free_port()
    url = f"ldap://127.0.0.1:{port}"
    log = (folder / "slapd.log").open("w")
    proc = subprocess.Popen([SLAPD, "-f", str(conf), "-h", f"{url}/", "-d", "256"],
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("slapd did not start:\n" + (folder / "slapd.log")
                                       .read_text()[-3000:]) from None
                time.sleep(0.1)
        server = Slapd(url)
        seed(server)
        yield server
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()


def seed(server: Slapd) -> None:
    """The directory of the tests: a service account, three people, two groups."""
    import ldap3

    conn = ldap3.Connection(ldap3.Server(server.url), ROOT_DN, ROOT_PASSWORD, auto_bind=True)
    add = [
        (server.base, ["dcObject", "organization"], {"o": "Acme", "dc": "acme"}),
        (f"ou=people,{server.base}", ["organizationalUnit"], {"ou": "people"}),
        (f"ou=groups,{server.base}", ["organizationalUnit"], {"ou": "groups"}),
        (f"ou=services,{server.base}", ["organizationalUnit"], {"ou": "services"}),
        (SERVICE_DN, ["person"], {"sn": "zhiku", "userPassword": SERVICE_PASSWORD}),
    ]
    people = {
        "lihua": ("Li Hua", "lihua@acme.example", "li-secret-1"),
        "wangfang": ("Wang Fang", "wangfang@acme.example", "wang-secret-1"),
        "nobody": ("No Body", "nobody@acme.example", "nobody-secret-1"),
    }
    for uid, (cn, mail, password) in people.items():
        add.append((f"uid={uid},{server.users}", ["inetOrgPerson"],
                    {"cn": cn, "sn": cn.split()[-1], "mail": mail, "userPassword": password}))
    add += [
        (f"cn=zhiku-admins,{server.groups}", ["groupOfNames"],
         {"member": [f"uid=lihua,{server.users}"]}),
        (f"cn=staff,{server.groups}", ["groupOfNames"],
         {"member": [f"uid=lihua,{server.users}", f"uid=wangfang,{server.users}"]}),
    ]
    for dn, classes, attributes in add:
        if not conn.add(dn, classes, attributes):
            raise RuntimeError(f"seeding {dn} failed: {conn.result}")
    conn.unbind()


PEOPLE_PASSWORDS = {"lihua": "li-secret-1", "wangfang": "wang-secret-1",
                    "nobody": "nobody-secret-1"}
