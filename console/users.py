"""Console users: a YAML file of names, roles, counties and bcrypt password hashes.

The file looks like this (``jiuzhu user add`` writes it; nobody needs to edit it)::

    users:
      xihu-admin:
        role: county_admin
        county: "330106"
        password: $2b$12$...          # bcrypt: salted, slow on purpose
      reviewer:
        role: reviewer
        password: $2b$12$...

Roles: ``county_admin`` edits and publishes its own county only; ``reviewer`` reads
every county and compares versions, never edits; ``province_maintainer`` edits the
province workbook. A password is never stored or logged in clear.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import bcrypt
import yaml

COUNTY_ADMIN = "county_admin"
REVIEWER = "reviewer"
PROVINCE_MAINTAINER = "province_maintainer"
ROLES = {
    COUNTY_ADMIN: "县级管理员",
    REVIEWER: "审核人",
    PROVINCE_MAINTAINER: "省级维护人员",
}
NAME_PATTERN = re.compile(r"[A-Za-z0-9_.\-\u4e00-\u9fff]{2,40}")
MIN_PASSWORD = 8
MAX_PASSWORD_BYTES = 72  # bcrypt hashes at most this many bytes


class UserError(ValueError):
    """A user entry or a users file that cannot be used; the message is for people."""


@dataclass(frozen=True)
class User:
    name: str
    role: str
    county: str | None = None

    @property
    def role_cn(self) -> str:
        return ROLES[self.role]

    @property
    def can_edit_county(self) -> bool:
        return self.role == COUNTY_ADMIN

    @property
    def reads_every_county(self) -> bool:
        return self.role in (REVIEWER, PROVINCE_MAINTAINER)


def hash_password(password: str) -> str:
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt()).decode("ascii")


def _read(path: Path) -> dict[str, dict[str, object]]:
    if not path.exists():
        return {}
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        raise UserError(f"用户文件 {path} 无法读取：{error}") from None
    users = document.get("users") if isinstance(document, dict) else None
    if not isinstance(users, dict):
        raise UserError(f"用户文件 {path} 应有一个 users: 段")
    return {str(name): dict(entry or {}) for name, entry in users.items()}


def load_users(path: str | Path) -> dict[str, User]:
    """Every user of the file (without the hashes); a missing file has none."""
    return {name: _user(name, entry) for name, entry in _read(Path(path)).items()}


def _user(name: str, entry: dict[str, object]) -> User:
    role = str(entry.get("role", ""))
    if role not in ROLES:
        raise UserError(f"用户「{name}」的角色「{role}」无法识别，应为 {'、'.join(ROLES)} 之一")
    county = entry.get("county")
    return User(name, role, str(county) if county is not None else None)


def current(path: str | Path, name: str) -> tuple[User, str] | None:
    """The user as the file has them now and a fingerprint of their password hash
    (it changes when the password is reset); None when the name is gone."""
    entry = _read(Path(path)).get(name)
    if entry is None:
        return None
    digest = hashlib.sha256(str(entry.get("password", "")).encode("utf-8")).hexdigest()
    return _user(name, entry), digest


def authenticate(path: str | Path, name: str, password: str) -> User | None:
    """The user when the name exists and the password matches its hash, else None."""
    entry = _read(Path(path)).get(name.strip())
    if entry is None:
        bcrypt.checkpw(b"x", _dummy())  # same cost whether or not the name exists
        return None
    stored = str(entry.get("password", "")).encode("ascii", "replace")
    try:
        matched = bcrypt.checkpw(password.encode("utf-8"), stored)
    except ValueError:  # not a bcrypt hash
        return None
    return _user(name.strip(), entry) if matched else None


@functools.cache
def _dummy() -> bytes:
    """A hash made as ``hash_password`` makes them (same rounds), checked for unknown
    names so that the time of a failed sign-in does not tell whether a name exists."""
    return hash_password("dummy-password").encode("ascii")


def add_user(
    path: str | Path, name: str, role: str, password: str, county: str | None = None
) -> User:
    """Add a user, or replace one with the same name; writes the file atomically.

    Raises UserError for a bad name, role, county or a password under 8 characters.
    """
    path = Path(path)
    if not NAME_PATTERN.fullmatch(name):
        raise UserError(f"用户名「{name}」不合适：2 至 40 个字母、数字、汉字或 _ . -")
    if role not in ROLES:
        raise UserError(f"角色「{role}」无法识别，应为 {'、'.join(ROLES)} 之一")
    if role == COUNTY_ADMIN and not re.fullmatch(r"[0-9]{6}", county or ""):
        raise UserError("县级管理员须用 --county 指定六位县（市、区）代码，例如 330106")
    if role != COUNTY_ADMIN and county:
        raise UserError("只有县级管理员属于某个县；审核人和省级维护人员不指定 --county")
    if len(password) < MIN_PASSWORD:
        raise UserError(f"密码至少 {MIN_PASSWORD} 个字符")
    if len(password.encode("utf-8")) > MAX_PASSWORD_BYTES:  # bcrypt reads no more
        raise UserError(
            f"密码过长：最多 {MAX_PASSWORD_BYTES} 个字节（UTF-8），即 72 个字母或数字、24 个汉字；"
            f"这个密码有 {len(password.encode('utf-8'))} 个字节"
        )
    users = _read(path)
    entry: dict[str, object] = {"role": role, "password": hash_password(password)}
    if county:
        entry["county"] = county
    users[name] = entry
    _write(path, users)
    return _user(name, entry)


def _write(path: Path, users: dict[str, dict[str, object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "# Jiuzhu 控制台用户（jiuzhu user add 维护；密码只存加盐哈希）\n"
    text += yaml.safe_dump({"users": users}, allow_unicode=True, sort_keys=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".users-", suffix=".yaml")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(text)
    os.chmod(temporary, 0o600)
    os.replace(temporary, path)
