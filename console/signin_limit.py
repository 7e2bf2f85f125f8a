"""A limit on failed sign-ins: after ``MAX_FAILURES`` failures for one user name within
``WINDOW`` seconds, that name is refused for ``PAUSE`` seconds, whatever the password.

The failures are kept in the console's state folder (``$JIUZHU_STATE/signin-failures.json``,
beside ``users.yaml`` and the drafts), so every Streamlit session and every console
process on the same state folder counts them together, and a restart does not reset
them. A name is counted whether or not the users file has it, and the refusal reads the
same either way, so the limit does not tell which names exist. Names are stored as their
SHA-256 digest, not as typed (a password typed into the name field should not sit in a
file in clear). Deleting the file lifts every pause at once.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import math
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

MAX_FAILURES = 5
WINDOW = 15 * 60  # seconds in which MAX_FAILURES failures pause the name
PAUSE = 15 * 60  # seconds the name is refused, from its last failure
FILE = "signin-failures.json"


def _key(name: str) -> str:
    return hashlib.sha256(name.strip().encode("utf-8")).hexdigest()


@contextmanager
def _locked(state: Path) -> Iterator[dict[str, list[float]]]:
    """The failures by name digest, read and (on leaving) written back under a lock
    that other sessions and processes wait for."""
    state.mkdir(parents=True, exist_ok=True)
    with (state / f".{FILE}.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            failures = _read(state / FILE)
            before = json.dumps(failures, sort_keys=True)
            yield failures
            if json.dumps(failures, sort_keys=True) != before:
                _write(state / FILE, failures)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _read(path: Path) -> dict[str, list[float]]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # no file yet, or a damaged one: start counting afresh
    if not isinstance(document, dict):
        return {}
    return {str(k): [float(t) for t in v if isinstance(t, int | float)]
            for k, v in document.items() if isinstance(v, list)}


def _write(path: Path, failures: dict[str, list[float]]) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".signin-", suffix=".json")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        json.dump(failures, out)
    os.chmod(temporary, 0o600)
    os.replace(temporary, path)


def _paused_until(times: list[float], now: float) -> float | None:
    """The end of the pause that the latest failure began, if it began one and it
    has not ended."""
    if not times:
        return None
    last = max(times)
    counted = sum(1 for t in times if last - WINDOW < t <= last)
    return last + PAUSE if counted >= MAX_FAILURES and now < last + PAUSE else None


def paused_until(state: Path, name: str, now: float | None = None) -> float | None:
    """When the name may try again (epoch seconds), or None when it may now."""
    with _locked(state) as failures:
        return _paused_until(failures.get(_key(name), []), time.time() if now is None else now)


def failed(state: Path, name: str, now: float | None = None) -> float | None:
    """Count a failed sign-in of the name; when the name is paused by it, until when."""
    now = time.time() if now is None else now
    with _locked(state) as failures:
        for key in [k for k, times in failures.items() if max(times, default=0) < now - WINDOW - PAUSE]:
            del failures[key]  # nothing older than the window and the pause is needed
        times = [t for t in failures.get(_key(name), []) if t > now - WINDOW - PAUSE]
        times.append(now)
        failures[_key(name)] = times
        return _paused_until(times, now)


def succeeded(state: Path, name: str) -> None:
    """Forget the name's failures after it signed in."""
    with _locked(state) as failures:
        failures.pop(_key(name), None)


def refusal(until: float) -> str:
    """The sign-in page's message while the name is paused (the same for any name)."""
    moment = datetime.fromtimestamp(math.ceil(until / 60) * 60).astimezone()  # the next whole minute
    shown = moment.strftime("%H:%M") if moment.date() == datetime.now().astimezone().date() \
        else moment.strftime("%Y-%m-%d %H:%M")
    return (f"该用户名在 {WINDOW // 60} 分钟内登录失败已达 {MAX_FAILURES} 次，为保护账号暂停登录 "
            f"{PAUSE // 60} 分钟：请于 {shown} 之后再试。忘记密码请联系管理人员用 jiuzhu user add 重设。")
