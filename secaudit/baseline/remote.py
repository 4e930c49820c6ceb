"""``ssh://user@host[:port]``: an agentless target over SSH (paramiko).

Options ride in the target's query string, so the same text works on the command line and in a
profile: ``ssh://audit@10.20.1.5:22?key=keys/audit_ed25519&known_hosts=keys/known_hosts`` or
``...?fingerprint=SHA256:...`` (the host key's OpenSSH fingerprint) and ``timeout=SECONDS``.
Defaults: the first of ``~/.ssh/id_ed25519``, ``id_ecdsa``, ``id_rsa`` and ``~/.ssh/known_hosts``.

Safety: key authentication only; the host key must match the fingerprint or a known_hosts entry,
and an unknown host is refused, never added. Every address is passed through the scope callback
(the profile's guard) before a packet is sent. Files are read over SFTP with the same caps as an
offline root (regular files only, at most ``MAX_FILE_BYTES``); commands run with a fixed argument
list, each word shell-quoted and prefixed by ``env -i`` with a fixed PATH, so nothing in them is
interpreted by the remote shell, and with a deadline.
"""

from __future__ import annotations

import base64
import errno
import hashlib
import ipaddress
import select
import shlex
import socket
import stat as statmod
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from urllib.parse import unquote, urlsplit

import paramiko  # type: ignore[import-untyped]

from secaudit.baseline.target import (
    COMMAND_PATH,
    COMMAND_TIMEOUT,
    MAX_FILE_BYTES,
    MAX_OUTPUT_BYTES,
    MAX_SYMLINKS,
    CommandNotFound,
    CommandResult,
    FileInfo,
    ProbeError,
    Target,
    _argv,
    _output,
    file_info,
)
from secaudit.catalog.profile import SSH_OPTIONS, ssh_target_problem
from secaudit.core.errors import OperationalError, UsageError
from secaudit.core.redact import redact

DEFAULT_KEYS = ("id_ed25519", "id_ecdsa", "id_rsa")
CONNECT_TIMEOUT = 15.0
OPTIONS = SSH_OPTIONS


def fingerprint(key: paramiko.PKey) -> str:
    """The OpenSSH SHA256 fingerprint of a public key: ``SHA256:`` + unpadded base64."""
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def _query(text: str) -> dict[str, list[str]]:
    """``a=1&b=2`` with %-escapes; unlike form decoding, ``+`` stays ``+`` (fingerprints use it)."""
    out: dict[str, list[str]] = {}
    for part in text.split("&"):
        if part:
            name, _, value = part.partition("=")
            out.setdefault(unquote(name), []).append(unquote(value))
    return out


def _option(query: dict[str, list[str]], name: str) -> str:
    values = query.get(name, [])
    return values[-1] if values else ""


def open_ssh(spec: str, *, base: Path | None = None, scope: Callable[[str], None] | None = None) -> SshTarget:
    """Parse ``ssh://user@host[:port][?options]``, connect and authenticate."""
    hint = "write ssh://user@host[:port], e.g. ssh://audit@10.20.1.5:22?key=keys/audit_ed25519"
    shown = redact(spec)  # never echo a password the user put in the target
    problem = ssh_target_problem(spec)
    if problem:
        raise UsageError(f"{problem}: {shown}", hint=f"{hint}; a password is never read from a target")
    try:
        url = urlsplit(spec)
        port = url.port or 22
    except ValueError as e:
        raise UsageError(f"ssh target {shown!r}: {redact(str(e))}", hint=hint) from e
    if not url.username or not url.hostname or url.password or url.path not in {"", "/"}:
        raise UsageError(f"ssh target {shown!r} needs a user and a host and nothing else", hint=hint)
    query = _query(url.query)

    def path(name: str) -> Path | None:
        text = _option(query, name)
        if not text:
            return None
        p = Path(text).expanduser()
        return base / p if base is not None and not p.is_absolute() else p

    key = path("key") or next(
        (p for n in DEFAULT_KEYS if (p := Path.home() / ".ssh" / n).is_file()),
        Path.home() / ".ssh" / "id_ed25519",
    )
    try:
        timeout = float(_option(query, "timeout") or CONNECT_TIMEOUT)
    except ValueError as e:
        raise UsageError(f"ssh target {shown!r}: timeout must be a number of seconds", hint=hint) from e
    return SshTarget(
        user=url.username,
        host=url.hostname,
        port=port,
        key=key,
        known_hosts=path("known_hosts") or Path.home() / ".ssh" / "known_hosts",
        host_fingerprint=_option(query, "fingerprint"),
        timeout=timeout,
        scope=scope,
    )


def _load_key(path: Path) -> paramiko.PKey:
    try:
        return paramiko.PKey.from_path(path)
    except paramiko.PasswordRequiredException as e:
        raise UsageError(
            f"ssh key {path} is protected by a passphrase",
            hint="use a passphrase-less key kept for auditing (readable by the audit account only)",
        ) from e
    except FileNotFoundError as e:
        raise UsageError(f"ssh key {path} does not exist", hint="give the private key: ?key=PATH") from e
    except (OSError, paramiko.SSHException, ValueError) as e:
        raise UsageError(
            f"ssh key {path} cannot be used: {e}", hint="give an OpenSSH private key file"
        ) from e


def _addresses(host: str, port: int) -> list[str]:
    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as e:
        raise OperationalError(f"ssh host {host} does not resolve: {e}", hint="check the name") from e
    return list(dict.fromkeys(str(i[4][0]).split("%", 1)[0] for i in infos))


def _abort(transport: paramiko.Transport, sock: socket.socket) -> None:
    """Close the transport and its socket (a transport that never started leaves the socket open)."""
    transport.close()
    sock.close()


class SshTarget(Target):
    """A remote host over SSH: files over SFTP, commands with a fixed argv."""

    kind = "ssh"

    def __init__(
        self,
        *,
        user: str,
        host: str,
        port: int,
        key: Path,
        known_hosts: Path,
        host_fingerprint: str = "",
        timeout: float = CONNECT_TIMEOUT,
        scope: Callable[[str], None] | None = None,
    ) -> None:
        super().__init__()
        self.user, self.host, self.port = user, host, port
        self.timeout = timeout
        self.label = f"ssh://{user}@{host}" + (f":{port}" if port != 22 else "")
        pkey = _load_key(key)
        addresses = _addresses(host, port)
        if scope is not None:
            for address in addresses:
                scope(address)  # raises ScopeError before any packet
        self.transport = self._connect(addresses[0], known_hosts, host_fingerprint)
        try:
            self.transport.auth_publickey(user, pkey)
        except paramiko.SSHException as e:
            _abort(self.transport, self.transport.sock)
            raise OperationalError(
                f"{self.label}: the server refused the key {key} for user {user}: {e}",
                hint="add the public key to the audit account's authorized_keys",
            ) from e
        try:
            self.sftp = paramiko.SFTPClient.from_transport(self.transport)
        except (paramiko.SSHException, OSError) as e:
            _abort(self.transport, self.transport.sock)
            raise OperationalError(
                f"{self.label}: SFTP is not available: {e}",
                hint="enable the sftp subsystem in the server's sshd_config",
            ) from e
        if self.sftp is None:
            _abort(self.transport, self.transport.sock)
            raise OperationalError(f"{self.label}: SFTP is not available", hint="enable the sftp subsystem")
        self.sftp.get_channel().settimeout(timeout)

    def _connect(self, address: str, known_hosts: Path, wanted: str) -> paramiko.Transport:
        try:
            sock = socket.create_connection((address, self.port), timeout=self.timeout)
        except OSError as e:
            raise OperationalError(
                f"{self.label}: cannot connect to {address} port {self.port}: {e.strerror or e}",
                hint="check that sshd runs there and that the path is open",
            ) from e
        transport = paramiko.Transport(sock)
        transport.banner_timeout = transport.auth_timeout = self.timeout
        known: dict[str, paramiko.PKey] = {}
        name = self.host if self.port == 22 else f"[{self.host}]:{self.port}"
        if not wanted:
            try:
                entry = paramiko.HostKeys(str(known_hosts)).lookup(name)
            except (OSError, paramiko.SSHException) as e:
                _abort(transport, sock)
                raise UsageError(
                    f"{self.label}: known_hosts file {known_hosts} cannot be read: {e}",
                    hint="give ?known_hosts=PATH or the host key as ?fingerprint=SHA256:...",
                ) from e
            if entry is None:
                _abort(transport, sock)
                raise OperationalError(
                    f"{self.label}: host {name} is not in {known_hosts}; refusing an unknown host key",
                    hint="verify the host key out of band, then add it to known_hosts or give "
                    "?fingerprint=SHA256:...",
                )
            known = dict(entry)
            transport.get_security_options().key_types = [
                t for t in transport.get_security_options().key_types if t in known
            ] or list(known)
        try:
            transport.start_client(timeout=self.timeout)
        except (paramiko.SSHException, OSError, EOFError) as e:
            _abort(transport, sock)
            raise OperationalError(
                f"{self.label}: SSH handshake failed: {e}", hint="is it an SSH server?"
            ) from e
        key = transport.get_remote_server_key()
        seen = fingerprint(key)
        ok = seen == wanted.strip() if wanted else known.get(key.get_name()) == key
        if not ok:
            _abort(transport, sock)
            expected = wanted or ", ".join(fingerprint(k) for k in known.values())
            raise OperationalError(
                f"{self.label}: HOST KEY MISMATCH: the server offered {key.get_name()} {seen}, "
                f"expected {expected}; not connecting",
                hint="someone may be intercepting the connection; if the host was rebuilt, verify "
                "the new key out of band and update known_hosts or the fingerprint",
            )
        return transport

    def close(self) -> None:
        self.sftp.close()
        _abort(self.transport, self.transport.sock)

    # -- files ---------------------------------------------------------------------------------
    def _fail(self, path: str, what: str, e: OSError) -> ProbeError:
        if e.errno == errno.EACCES:
            return ProbeError(f"{path}: permission denied")
        if self._loops(path):
            return ProbeError(f"{path}: too many levels of symbolic links (a loop?)")
        return ProbeError(f"{path}: cannot {what} over SFTP: {e.strerror or e}")

    def _loops(self, path: str) -> bool:
        current = path
        for _ in range(MAX_SYMLINKS + 1):
            try:
                st = self.sftp.lstat(current)
            except OSError:
                return False
            if not statmod.S_ISLNK(st.st_mode or 0):
                return False
            link = self.sftp.readlink(current) or ""
            current = link if link.startswith("/") else f"{current.rsplit('/', 1)[0]}/{link}"
        return True

    def _stat(self, path: str, *, follow: bool) -> paramiko.SFTPAttributes | None:
        try:
            return self.sftp.stat(path) if follow else self.sftp.lstat(path)
        except OSError as e:
            if e.errno != errno.ENOENT:
                raise self._fail(path, "stat", e) from e
            # sftp-server reports a symlink loop as "no such file": tell the two apart
            if follow and self._loops(path):
                raise ProbeError(f"{path}: too many levels of symbolic links (a loop?)") from e
            return None

    def read_bytes(self, path: str) -> bytes | None:
        st = self._stat(path, follow=True)
        if st is None:
            return None
        mode = st.st_mode or 0
        if statmod.S_ISDIR(mode):
            raise ProbeError(f"{path} is a directory, expected a file")
        if not statmod.S_ISREG(mode):
            raise ProbeError(f"{path} is not a regular file")  # a FIFO would block the sftp server
        if (st.st_size or 0) > MAX_FILE_BYTES:
            raise ProbeError(f"{path} is {st.st_size} bytes, over the {MAX_FILE_BYTES} byte limit")
        try:
            with self.sftp.open(path, "rb") as fh:
                raw = fh.read(MAX_FILE_BYTES + 1)
        except OSError as e:
            raise self._fail(path, "read", e) from e
        if len(raw) > MAX_FILE_BYTES:
            raise ProbeError(f"{path} is over the {MAX_FILE_BYTES} byte limit")
        return bytes(raw)

    def info(self, path: str, *, follow: bool = True) -> FileInfo | None:
        st = self._stat(path, follow=follow)
        if st is None:
            return None
        return file_info(path, st.st_mode or 0, st.st_uid or 0, st.st_gid or 0, st.st_size or 0)

    def listdir(self, path: str) -> list[str] | None:
        info = self.info(path)
        if info is None or info.kind != "dir":
            return None
        try:
            return sorted(self.sftp.listdir(path))
        except OSError as e:
            raise self._fail(path, "list", e) from e

    def scan(self, path: str) -> list[FileInfo] | None:
        info = self.info(path)
        if info is None or info.kind != "dir":
            return None
        try:
            entries = self.sftp.listdir_attr(path)  # one round trip; attributes as lstat sees them
        except OSError as e:
            raise self._fail(path, "list", e) from e
        base = path.rstrip("/") or ""
        return sorted(
            (
                file_info(
                    f"{base}/{a.filename}", a.st_mode or 0, a.st_uid or 0, a.st_gid or 0, a.st_size or 0
                )
                for a in entries
            ),
            key=lambda i: i.path,
        )

    def readlink(self, path: str) -> str | None:
        info = self.info(path, follow=False)
        if info is None or info.kind != "link":
            return None
        try:
            link = self.sftp.readlink(path)
        except OSError:
            return None
        return str(link) if link is not None else None

    # -- commands ------------------------------------------------------------------------------
    def run(self, argv: Sequence[str], *, timeout: float = COMMAND_TIMEOUT) -> CommandResult:
        args = _argv(argv)
        command = shlex.join(["env", "-i", f"PATH={COMMAND_PATH}", "LC_ALL=C", "LANG=C", *args])
        deadline = time.monotonic() + timeout
        try:
            channel = self.transport.open_session(timeout=self.timeout)
            channel.exec_command(command)
            out, err = bytearray(), bytearray()
            while True:
                if channel.recv_ready():
                    out += channel.recv(65536)
                elif channel.recv_stderr_ready():
                    err += channel.recv_stderr(65536)
                elif channel.exit_status_ready() or channel.eof_received:
                    if not (channel.recv_ready() or channel.recv_stderr_ready()):
                        break
                else:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        channel.close()
                        raise ProbeError(f"'{' '.join(args)}' did not finish within {timeout:g} s")
                    select.select([channel], [], [], min(left, 1.0))
                if len(out) > MAX_OUTPUT_BYTES or len(err) > MAX_OUTPUT_BYTES:
                    channel.close()
                    raise ProbeError(f"'{' '.join(args)}' printed more than {MAX_OUTPUT_BYTES} bytes")
            status = channel.recv_exit_status()
            channel.close()
        except (paramiko.SSHException, OSError, EOFError) as e:
            raise ProbeError(f"'{' '.join(args)}' over ssh failed: {e}") from e
        if status == 127 and b"No such file" in err:
            raise CommandNotFound(f"{args[0]} is not installed on {self.label}")
        return CommandResult(argv=args, status=status, stdout=_output(bytes(out)), stderr=_output(bytes(err)))
