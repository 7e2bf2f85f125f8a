"""The registry of published versions: numbered, dated, immutable, hash-chained.

One DuckDB file (by default ``registry/jiuzhu-registry.duckdb`` beside the tables
folder, never inside it) holds one row per published version::

    seq             1, 2, 3 ... over the whole registry, in publishing order
    county_code     330106
    number          1, 2, 3 ... per county
    effective_from  the first day the version decides
    author, note, published_at (ISO 8601 with the local offset)
    kind            publish | withdraw (withdraws = the number withdrawn)
    canonical       the county's rulebook as canonical YAML (compiler.canonical)
    sql             the DuckDB program compiled from that YAML
    validation      JSON list of the diagnostics the tables had (warnings, notes)
    impact          JSON impact report on a population, when published with one
    prev_hash       the hash of the county's previous version (64 zeros for the first)
    chain_prev      the hash of the registry's previous version (seq - 1)
    hash            sha256 of every field above, as canonical JSON

The version in force for a county on a date is the one with the latest
``effective_from`` on or before it, ties going to the higher number. A version never
changes; withdrawing one publishes a new version that restores the content in force
before it. ``verify`` re-hashes both chains and reports edited, deleted or reordered
versions. Reading one version's content for use (``Version.rulebook``, which as-of
evaluation, export, diff, the console and the service all go through) first re-hashes
that version alone and refuses an edited one (E703), so a change made to the file
behind the registry's back never decides a case. Every read of versions
(``Registry._select``) also checks the links of each county it returns: numbers 1, 2,
3 ... without a gap and each ``prev_hash`` the hash of the version before. A county
whose chain breaks (a version deleted, or rewritten with its own hash recomputed)
gets the break on each of its versions (``Version.chain_break``), and ``checked()``
refuses them all (E703), so no version of a broken chain decides; other counties do.

A registry named explicitly (``Registry(path, must_exist=True)``, what ``--registry``
gives) that does not exist is refused when read (E705) rather than read as empty, so
a mistyped path is not taken for a registry without versions; writing still creates it.

Publishing is one DuckDB transaction: the county's latest number is read, compared with
the base the working copy was loaded from (refusing with E702 when it moved), and the
new row inserted. DuckDB lets one process at a time open the file for writing; another
publisher waits for the lock (up to ``wait`` seconds), then sees the new version and is
refused as stale. Inside one process, two transactions racing for the same number are
stopped by the (county_code, number) key.

This module holds the file, its versions and the versions in force on a date
(``published_project``); beside it, ``registry_publish`` prepares, publishes and
withdraws versions, ``registry_marker`` keeps the base marker beside a working copy,
and ``registry_refs`` turns what a user writes (``330106@3``) into a side of a diff.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path

import duckdb

from compiler import logger
from compiler.bind import BindCache, bind
from compiler.canonical import CanonicalError, load_rulebook
from compiler.diagnostics import Diagnostic, Location, Report, make
from compiler.engine import Project
from compiler.errors import RegistryError
from compiler.model import RuleBook
from compiler.resolve import Tables, load_tables, rulebook_for
from compiler.validate import report_unverified, validate

DEFAULT_LOCATION = Path("registry") / "jiuzhu-registry.duckdb"
REGISTRY_ENV = "JIUZHU_REGISTRY"
FAULT_ENV = "JIUZHU_REGISTRY_FAULT"
WORKING_COPY = "工作副本"
GENESIS = "0" * 64
TABLE = "jz_registry_versions"

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
  seq BIGINT PRIMARY KEY,
  county_code VARCHAR NOT NULL,
  number INTEGER NOT NULL,
  county_name VARCHAR NOT NULL,
  effective_from DATE NOT NULL,
  author VARCHAR NOT NULL,
  note VARCHAR NOT NULL,
  published_at VARCHAR NOT NULL,
  kind VARCHAR NOT NULL,
  withdraws INTEGER,
  canonical VARCHAR NOT NULL,
  sql VARCHAR NOT NULL,
  validation VARCHAR NOT NULL,
  impact VARCHAR,
  prev_hash VARCHAR NOT NULL,
  chain_prev VARCHAR NOT NULL,
  hash VARCHAR NOT NULL,
  UNIQUE (county_code, number)
)
"""
COLUMNS = (
    "seq",
    "county_code",
    "number",
    "county_name",
    "effective_from",
    "author",
    "note",
    "published_at",
    "kind",
    "withdraws",
    "canonical",
    "sql",
    "validation",
    "impact",
    "prev_hash",
    "chain_prev",
    "hash",
)


@dataclass(frozen=True)
class Version:
    """One published version of one county's tables (a row of the registry)."""

    seq: int
    county_code: str
    number: int
    county_name: str
    effective_from: date
    author: str
    note: str
    published_at: str
    kind: str  # "publish" or "withdraw"
    withdraws: int | None
    canonical: str
    sql: str
    validation: str
    impact: str | None
    prev_hash: str
    chain_prev: str
    hash: str = ""
    # E703 when the county's chain breaks (Registry._select): not a stored field
    chain_break: Diagnostic | None = field(default=None, compare=False, repr=False)

    @property
    def label(self) -> str:
        """``330106@3``: how decisions, diffs and exports name this version."""
        return f"{self.county_code}@{self.number}"

    def rulebook(self) -> RuleBook:
        """The county's rulebook as published (shared; do not modify it).

        Raises RegistryError (E703) when the stored content no longer matches its hash.
        """
        return _rulebook(self.checked().hash, self.canonical, self.label)

    def computed_hash(self) -> str:
        return content_hash(self)

    def problem(self) -> Diagnostic | None:
        """Why this version may not be used (E703), or None: what ``history`` and the
        service's list of versions show beside it."""
        if self.chain_break is not None:
            return self.chain_break
        return None if self.computed_hash() == self.hash else tampered(self)

    def checked(self) -> Version:
        """This version, once its content is re-hashed and found as published.

        Only this version is hashed, not the chains (``Registry.verify`` does those),
        so it is cheap enough to run before every use of the content. Raises
        RegistryError (E703) when the content was changed after publishing, or when
        the county's chain of versions breaks (a version deleted or rewritten).
        """
        if self.chain_break is not None:
            raise RegistryError(self.chain_break)
        if self.computed_hash() != self.hash:
            raise RegistryError(tampered(self))
        return self


def content_hash(version: Version) -> str:
    """sha256 over every field but the hash itself, as sorted, compact JSON."""
    fields = {name: getattr(version, name) for name in COLUMNS if name != "hash"}
    fields["effective_from"] = version.effective_from.isoformat()
    text = json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@lru_cache(maxsize=256)
def _rulebook(digest: str, canonical: str, label: str | None = None) -> RuleBook:
    """The rulebook of a version, marked with its label: a check added after the
    version was published warns on it instead of refusing it (docs/versions.md)."""
    book = load_rulebook(canonical)
    book.published = label
    return book


def default_path(tables_root: str | Path = "tables") -> Path:
    """$JIUZHU_REGISTRY, else ``registry/jiuzhu-registry.duckdb`` beside the tables."""
    configured = os.environ.get(REGISTRY_ENV)
    if configured:
        return Path(configured)
    return Path(tables_root).resolve().parent / DEFAULT_LOCATION


# ---------------------------------------------------------------- fault injection


def _fault(point: str) -> None:
    """A test hook: $JIUZHU_REGISTRY_FAULT=point:action[:arg] kills, exits or sleeps
    the process at a named point of publishing (the crash test uses it)."""
    spec = os.environ.get(FAULT_ENV)
    if not spec:
        return
    for item in spec.split(","):
        where, _, rest = item.partition(":")
        if where != point:
            continue
        action, _, arg = rest.partition(":")
        if action == "sleep":
            time.sleep(float(arg or 1))
        elif action == "exit":
            os._exit(int(arg or 70))
        elif action == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        elif action == "raise":
            raise RuntimeError(f"fault injected at {point}")


# ---------------------------------------------------------------- the registry


# one append at a time in this process (see Registry.append)
_APPENDING = threading.Lock()

class Registry:
    """A registry file; every call opens it, does its work and closes it again.

    ``must_exist``: the path was named by the user (``--registry``), so reading a file
    that is not there is refused (E705) instead of being read as "no versions yet";
    ``named_by`` says how it was named (``--registry`` or ``JIUZHU_REGISTRY``).
    """

    def __init__(
        self,
        path: str | Path,
        wait: float = 30.0,
        must_exist: bool = False,
        named_by: str | None = None,
    ) -> None:
        self.path = Path(path)
        self.wait = wait
        self.must_exist = must_exist
        self.named_by = named_by

    # ------------------------------------------------------------ connections

    @contextmanager
    def _connect(self, write: bool) -> Iterator[duckdb.DuckDBPyConnection | None]:
        """A connection, waiting while another process holds the file; None when
        reading a registry that does not exist yet."""
        if not write and not self.path.exists():
            if self.must_exist:
                raise RegistryError(missing(self.path, self.named_by))
            yield None
            return
        if write:
            self._make_folder()
        con = self._open(write)
        try:
            if write:
                con.execute(SCHEMA)
            elif not _has_table(con):
                if self.must_exist:  # a registry the user named, or one the service uses
                    raise RegistryError(not_a_registry(self.path, NO_TABLE))
                yield None
                return
            yield con
        except duckdb.Error as error:
            # a file cut short or overwritten in part opens, and fails when read; a
            # block whose checksum fails is a plain duckdb.Error (helper-139)
            text = str(error).splitlines()[0] if str(error) else ""
            if _locked(text) or not _damaged(error, text.lower()):
                raise
            logger.warning("无法读取版本登记簿 %s：%s", self.path, text)
            raise RegistryError(damaged(self.path, error, _damage(text.lower()))) from None
        finally:
            con.close()

    def _make_folder(self) -> None:
        """Make the registry's folder; a file standing where it should be is E706."""
        folder = self.path.parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise RegistryError(
                make(
                    "E706",
                    f"无法创建版本登记簿「{self.path}」所在的文件夹「{folder}」",
                    Location(str(self.path)),
                    found=_folder_problem(error),
                    expected="可以写入的文件夹中的登记簿路径，如 registry/jiuzhu-registry.duckdb",
                    hint="路径中的某一级是已有的文件而不是文件夹，或没有写入权限；"
                    "请检查 --registry 的路径",
                )
            ) from None

    def _open(self, write: bool) -> duckdb.DuckDBPyConnection:
        other = _not_a_registry(self.path)
        if other:
            raise RegistryError(not_a_registry(self.path, other))
        deadline = time.monotonic() + self.wait
        read_only = not write
        while True:
            try:
                return duckdb.connect(str(self.path), read_only=read_only)
            except duckdb.ConnectionException as error:
                if "different configuration" not in str(error):
                    raise self._unopenable(error) from None
                if read_only:
                    read_only = False  # this process already has it open for writing
                    continue
                # a writer while this process reads it (another console session):
                # wait for the read to end, as for another process's lock (helper-61)
                if time.monotonic() > deadline:
                    raise self._busy() from None
                time.sleep(0.05)
            except duckdb.IOException as error:
                if not _locked(str(error)):
                    raise self._unopenable(error) from None
                if time.monotonic() > deadline:
                    raise self._busy() from None
                time.sleep(0.05)
            except duckdb.Error as error:
                raise self._unopenable(error) from None

    def _busy(self) -> RegistryError:
        return RegistryError(
            make(
                "E702",
                f"版本登记簿正被其他进程或控制台会话占用（等待 {self.wait:.0f} 秒后仍未释放），本次操作未执行",
                Location(str(self.path)),
                hint="可能有人正在发布；稍后重试，并用 jiuzhu history 查看最新版本",
            )
        )

    def _unopenable(self, error: Exception) -> RegistryError:
        """E703 in Chinese for a file DuckDB refuses to open; DuckDB's English text
        goes to the operator's log only (helper-82)."""
        text = str(error).splitlines()[0] if str(error) else type(error).__name__
        logger.warning("无法打开版本登记簿 %s：%s", self.path, text)
        lowered = text.lower()
        if "permission denied" in lowered:
            return RegistryError(
                make(
                    "E703",
                    f"没有权限读取版本登记簿「{self.path}」，本次操作未执行",
                    Location(str(self.path)),
                    found="没有读取权限",
                    expected="运行 jiuzhu 的用户可以读取的登记簿文件",
                    hint="请系统管理员检查该文件的权限",
                )
            )
        if "version number" in lowered:  # written by another DuckDB version
            return RegistryError(
                make(
                    "E703",
                    f"版本登记簿「{self.path}」由另一版本的 DuckDB 写入，本程序无法读取，"
                    "本次操作未执行",
                    Location(str(self.path)),
                    found=f"本程序使用 DuckDB {duckdb.__version__}",
                    expected="由本程序所用 DuckDB 版本写入的登记簿文件",
                    hint="请系统管理员让写入和读取登记簿的 jiuzhu 使用同一 DuckDB 版本",
                )
            )
        return RegistryError(damaged(self.path, error, _damage(lowered)))

    # ------------------------------------------------------------ reading

    def versions(self, county: str | None = None) -> list[Version]:
        """Every version (of one county, when given), in publishing order."""
        if county is None:
            return self._select("TRUE")
        return self._select("county_code = $county", {"county": county})

    def _select(
        self, condition: str, params: dict[str, object] | None = None
    ) -> list[Version]:
        """The versions meeting a condition (SQL written here, values as parameters)."""
        with self._connect(write=False) as con:
            if con is None:
                return []
            rows = con.execute(
                f"SELECT {', '.join(COLUMNS)} FROM {TABLE} WHERE {condition} ORDER BY seq",
                params or {},
            ).fetchall()
            breaks = self._breaks(con, sorted({row[1] for row in rows}))
        return [Version(*row, chain_break=breaks.get(row[1])) for row in rows]

    def _breaks(
        self, con: duckdb.DuckDBPyConnection, counties: list[str]
    ) -> dict[str, Diagnostic]:
        """The first break of each of these counties' chains, reading only numbers and
        hashes (no content), so every read can afford it."""
        if not counties:
            return {}
        rows = con.execute(
            f"SELECT county_code, number, prev_hash, hash FROM {TABLE}"
            " WHERE list_contains($codes, county_code) ORDER BY county_code, number",
            {"codes": counties},
        ).fetchall()
        return chain_breaks(rows, self.path)

    def history(self, county: str) -> list[Version]:
        return sorted(self.versions(county), key=lambda v: v.number)

    def counties(self) -> list[str]:
        with self._connect(write=False) as con:
            if con is None:
                return []
            rows = con.execute(
                f"SELECT DISTINCT county_code FROM {TABLE} ORDER BY 1"
            ).fetchall()
        return [row[0] for row in rows]

    def heads(self) -> dict[str, tuple[int, str]]:
        """Each county's latest version as (number, hash), reading no content: cheap
        enough for the service to run before every load (service_projects)."""
        with self._connect(write=False) as con:
            if con is None:
                return {}
            rows = con.execute(
                f"SELECT county_code, number, hash FROM {TABLE} WHERE seq IN"
                f" (SELECT max(seq) FROM {TABLE} GROUP BY county_code)"
            ).fetchall()
        return {code: (number, digest) for code, number, digest in rows}

    def hashes(self) -> dict[tuple[str, int], str]:
        """Every version's hash by (county, number), reading no content: what the
        service checks that the versions it read are still there unchanged
        (service_projects), since a registry only ever grows."""
        with self._connect(write=False) as con:
            if con is None:
                return {}
            rows = con.execute(f"SELECT county_code, number, hash FROM {TABLE}").fetchall()
        return {(code, number): digest for code, number, digest in rows}

    def latest(self, county: str) -> Version | None:
        found = self._select(
            f"seq = (SELECT max(seq) FROM {TABLE} WHERE county_code = $county)",
            {"county": county},
        )
        return found[0] if found else None

    def get(self, county: str, number: int) -> Version:
        """Raises RegistryError (E704) when the county has no such version."""
        found = self._select(
            "county_code = $county AND number = $n", {"county": county, "n": number}
        )
        if not found:
            raise RegistryError(not_found(county, number, self.latest(county)))
        return found[0]

    def version_in_force(self, county: str, as_of: date) -> Version | None:
        return self.in_force_all(as_of, county).get(county)

    def in_force_all(
        self, as_of: date, county: str | None = None
    ) -> dict[str, Version]:
        """The version in force on ``as_of`` for every county that has one (or one county):
        the latest effective_from on or before the date, ties to the higher number."""
        chosen = (
            f"seq IN (SELECT seq FROM {TABLE} WHERE effective_from <= $as_of"
            " AND ($county IS NULL OR county_code = $county)"
            " QUALIFY row_number() OVER (PARTITION BY county_code"
            " ORDER BY effective_from DESC, number DESC) = 1)"
        )
        found = self._select(chosen, {"as_of": as_of, "county": county})
        return {v.county_code: v for v in found}

    # ------------------------------------------------------------ writing

    def append(self, draft: Version, base: int) -> Version:
        """Store ``draft`` as the county's next version, if its latest is ``base``.

        Numbers, links, ``published_at`` and the hash are filled in here, inside the
        transaction. Raises RegistryError (E702) when the latest version is not
        ``base`` or another publisher won the race.

        Appends within one process (the console's sessions) take turns: connections
        of one process share one DuckDB database, where two transactions adding to the
        registry-wide chain at once conflict, even for different counties. Other
        processes wait for the file's lock.
        """
        with _APPENDING, self._connect(write=True) as con:
            assert con is not None
            _fault("opened")
            con.execute("BEGIN TRANSACTION")
            try:
                version = self._next(con, draft, base)
                _fault("checked")
                con.execute(
                    f"INSERT INTO {TABLE} ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
                    [getattr(version, c) for c in COLUMNS],
                )
                _fault("inserted")
                con.execute("COMMIT")
            except duckdb.Error as error:
                _rollback(con)
                if isinstance(
                    error, duckdb.ConstraintException | duckdb.TransactionException
                ):
                    raise RegistryError(_raced(draft.county_code, base)) from None
                raise
            except BaseException:
                _rollback(con)
                raise
            _fault("committed")
        logger.info("已发布 %s（%s）", version.label, version.hash[:12])
        return version

    def _next(
        self, con: duckdb.DuckDBPyConnection, draft: Version, base: int
    ) -> Version:
        latest = con.execute(
            f"SELECT number, hash FROM {TABLE} WHERE county_code = ? ORDER BY number DESC LIMIT 1",
            [draft.county_code],
        ).fetchone()
        head = con.execute(
            f"SELECT seq, hash FROM {TABLE} ORDER BY seq DESC LIMIT 1"
        ).fetchone()
        current = latest[0] if latest else 0
        if base != current:
            raise RegistryError(stale(draft.county_code, base, current))
        self._refuse_broken(con, draft.county_code)
        version = dataclasses.replace(
            draft,
            seq=(head[0] if head else 0) + 1,
            number=current + 1,
            published_at=draft.published_at or now(),
            prev_hash=latest[1] if latest else GENESIS,
            chain_prev=head[1] if head else GENESIS,
        )
        return dataclasses.replace(version, hash=content_hash(version))

    def _refuse_broken(self, con: duckdb.DuckDBPyConnection, county: str) -> None:
        """E703 before a version is added to a broken chain, the county's or the
        registry's (links only, not content): appended, it would carry the break on
        and read as the latest sound version."""
        broken = self._breaks(con, [county]).get(county)
        if broken is None:
            rows = con.execute(f"SELECT seq, chain_prev, hash FROM {TABLE} ORDER BY seq")
            broken = _registry_break(rows.fetchall(), self.path)
        if broken is not None:
            raise RegistryError(_not_published(broken))

    # ------------------------------------------------------------ checking

    def verify(self) -> list[Diagnostic]:
        """Re-hash every version and both chains; returns the problems found (E703)."""
        return self.check(self.versions())

    def check(self, versions: list[Version]) -> list[Diagnostic]:
        """``verify`` on versions already read (in publishing order)."""
        problems: list[Diagnostic] = []
        chain, expected_seq = GENESIS, 1
        last: dict[str, Version] = {}
        for version in versions:
            problems += self._check(
                version, expected_seq, chain, last.get(version.county_code)
            )
            chain, expected_seq = version.hash, version.seq + 1
            last[version.county_code] = version
        return problems

    def head(self) -> str | None:
        """The hash of the registry's last version: record it elsewhere to detect a
        later truncation (``jiuzhu verify --head``)."""
        versions = self.versions()
        return versions[-1].hash if versions else None

    def _check(
        self, version: Version, seq: int, chain: str, previous: Version | None
    ) -> list[Diagnostic]:
        where = Location(str(self.path), None, version.label)
        found: list[str] = []
        if version.seq != seq:
            found.append(
                f"登记顺序号应为 {seq}，实为 {version.seq}：有版本被删除或顺序被改动"
            )
        if version.chain_prev != chain:
            found.append(
                "与登记簿中前一条记录的链接断开：前一条记录被删除、改动或顺序被改动"
            )
        number = previous.number + 1 if previous else 1
        if version.number != number:
            found.append(
                f"版本号应为 {number}，实为 {version.number}：有版本被删除或重新编号"
            )
        if version.prev_hash != (previous.hash if previous else GENESIS):
            found.append("与本县上一版本的链接断开：上一版本被删除或改动")
        if version.computed_hash() != version.hash:
            found.append("内容与登记时的哈希不符：该版本在发布后被改动")
        try:
            _rulebook(version.hash, version.canonical)  # unchecked: reported above
        except CanonicalError as error:
            found.append(f"决策表内容无法读取（{error}）")
        return [
            make(
                "E703",
                f"版本 {version.label} 校验失败：{text}",
                where,
                hint="版本发布后不得修改；请从备份恢复登记簿，并查明改动来源",
            )
            for text in found
        ]


def chain_breaks(
    rows: list[tuple[str, int, str, str]], path: str | Path
) -> dict[str, Diagnostic]:
    """E703 for each county whose (county, number, prev_hash, hash) rows, in order,
    do not run 1, 2, 3 ... each linked to the hash of the one before."""
    breaks: dict[str, Diagnostic] = {}
    expected: dict[str, tuple[int, str]] = {}
    for county, number, prev_hash, digest in rows:
        if county in breaks:
            continue
        want, link = expected.get(county, (1, GENESIS))
        if number != want:
            breaks[county] = broken_chain(county, want, path, _gap(want, number))
        elif prev_hash != link:
            breaks[county] = broken_chain(county, number, path, _unlinked(number))
        expected[county] = (number + 1, digest)
    return breaks


def _gap(want: int, number: int) -> str:
    if number > want:
        return f"第 {want} 版缺失，登记簿中紧接着的是第 {number} 版：该版本被删除"
    return f"第 {number} 版出现了两次或顺序被改动"


def _unlinked(number: int) -> str:
    if number == 1:
        return "第 1 版记录的上一版哈希不是起始值：它之前有记录被删除，或它被改写过"
    return (
        f"第 {number} 版记录的上一版哈希与第 {number - 1} 版的哈希不符："
        f"第 {number - 1} 版发布后被改写（连同其哈希），或第 {number} 版的链接被改动"
    )


def _registry_break(
    rows: list[tuple[int, str, str]], path: str | Path
) -> Diagnostic | None:
    """E703 for the first row of the registry-wide chain (seq, chain_prev, hash)
    that does not follow the one before."""
    seq, link = 1, GENESIS
    for number, chain_prev, digest in rows:
        if number != seq or chain_prev != link:
            return make(
                "E703",
                f"版本登记簿的总链在第 {seq} 条记录处断开：有记录被删除或改写",
                Location(str(path)),
                found=f"第 {number} 条记录",
                expected=f"第 {seq} 条记录，链接到前一条记录的哈希",
                hint="运行 jiuzhu verify 查看详情，从备份恢复登记簿",
            )
        seq, link = number + 1, digest
    return None


def _not_published(broken: Diagnostic) -> Diagnostic:
    return dataclasses.replace(
        broken,
        message=f"{broken.message}。版本链断开的登记簿上不能发布，本次发布未写入任何内容",
    )


def broken_chain(county: str, number: int, path: str | Path, why: str) -> Diagnostic:
    """E703 for a county's chain that breaks at version ``number``."""
    return make(
        "E703",
        f"{county} 的版本链在第 {number} 版处断开：{why}；该县的已发布版本一律拒绝使用",
        Location(str(path), None, f"{county}@{number}"),
        found=f"{county}@{number} 处断开",
        expected="版本号从 1 起连续，每一版记录的上一版哈希等于前一版的哈希",
        hint="运行 jiuzhu verify 查看详情，从备份恢复登记簿并查明改动来源",
    )


def _has_table(con: duckdb.DuckDBPyConnection) -> bool:
    row = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [TABLE]
    ).fetchone()
    return bool(row and row[0])


def _rollback(con: duckdb.DuckDBPyConnection) -> None:
    try:
        con.execute("ROLLBACK")
    except duckdb.Error:
        pass  # the transaction was already aborted by DuckDB


def in_force(versions: list[Version], as_of: date) -> Version | None:
    """The latest effective_from on or before ``as_of``, ties to the higher number."""
    candidates = [v for v in versions if v.effective_from <= as_of]
    return max(candidates, key=lambda v: (v.effective_from, v.number), default=None)


def now() -> str:
    return datetime.now(UTC).astimezone().isoformat(timespec="microseconds")


# ---------------------------------------------------------------- messages


def stale(county: str, base: int, current: int) -> Diagnostic:
    """E702 inside the transaction: ``publish`` and ``withdraw`` found ``base`` the
    latest before they stored (registry_base.py says a base that was not), so another
    publish completed in between."""
    from compiler.registry_base import command

    based = f"基于第 {base} 版" if base else "开始时还没有已发布的版本"
    return make(
        "E702",
        f"{county} 的工作副本{based}，但在本次操作检查之后、写入之前，另一次发布已完成，"
        f"登记簿中最新已是第 {current} 版，本次操作被拒绝",
        found=f"基线 {base}",
        expected=f"基线 {current}",
        hint=f"运行 {command('history', '--county', county)} 查看第 {current} 版，再用 "
        f"{command('diff', f'{county}@{current}', county)} 查看它与工作副本的差异，"
        f"保留需要的改动后用 --base {current} 重新发布",
    )


def _raced(county: str, base: int) -> Diagnostic:
    from compiler.registry_base import command

    return make(
        "E702",
        f"{county} 同时有另一次发布完成，本次发布被拒绝（基线第 {base} 版已不是最新）",
        hint=f"运行 {command('history', '--county', county)} 查看最新版本，合入改动后重新发布",
    )


def tampered(version: Version) -> Diagnostic:
    return make(
        "E703",
        f"已发布版本 {version.county_code}{version.county_name} 第 {version.number} 版"
        f"（{version.label}）的内容与发布时登记的哈希不符：发布后被改动过，拒绝使用",
        found=f"哈希 {version.computed_hash()[:16]}",
        expected=f"哈希 {version.hash[:16]}",
        hint="运行 jiuzhu verify 查看登记簿中所有被改动的版本，并从备份恢复登记簿",
    )


def missing(path: str | Path, named_by: str | None = None) -> Diagnostic:
    """E705 for a registry the user named that is not there; ``named_by`` says where
    the path came from (``--registry`` or ``$JIUZHU_REGISTRY``), for the hint."""
    where = {
        "--registry": " --registry 的路径",
        REGISTRY_ENV: f"环境变量 {REGISTRY_ENV} 中的路径（未给 --registry 时使用它）",
    }.get(named_by or "", "登记簿的路径")
    return make(
        "E705",
        f"版本登记簿「{path}」不存在",
        Location(str(path)),
        found=str(path),
        expected="由 jiuzhu publish 创建的登记簿文件，如 registry/jiuzhu-registry.duckdb",
        hint=f"检查{where}是否写错；第一次发布（jiuzhu publish）时才会创建登记簿",
    )


def _not_a_registry(path: Path) -> str | None:
    """What ``path`` is when it cannot be a registry (a folder, a Parquet file...);
    None for a DuckDB file, a path not there yet, or a file that cannot be read (the
    connection then says why)."""
    if path.is_dir():
        return "一个文件夹"
    try:
        with path.open("rb") as handle:
            head = handle.read(16)
    except OSError:
        return None
    if head[8:12] == b"DUCK":  # DuckDB's magic bytes, after the header checksum
        return None
    return next(
        (kind for magic, kind in _OTHER_FILES if head.startswith(magic)),
        "一个空文件" if not head else "其他格式的文件",
    )


def damaged(path: Path, error: Exception, found: str | None = None) -> Diagnostic:
    """E703 for a registry file DuckDB cannot open or cannot read to the end."""
    return make(
        "E703",
        "版本登记簿文件已损坏（文件不完整或部分内容被改写），无法读取，本次操作未执行",
        Location(str(path)),
        found=found or f"读取失败：{type(error).__name__}",
        expected="完整的登记簿文件",
        hint="从备份恢复登记簿文件（不要手工编辑或截断它）；恢复后运行 jiuzhu verify 检查版本链",
    )


def _locked(text: str) -> bool:
    """Whether DuckDB refused for another process's lock on the file: "Could not set
    lock on file ... Conflicting lock is held". Not any text with "lock" in it: a
    damaged file's "checksum ... in block at location N" is no lock (helper-139)."""
    lowered = text.lower()
    return "lock on file" in lowered or "conflicting lock" in lowered


def _damaged(error: duckdb.Error, text: str) -> bool:
    """Whether a read failed because the file is damaged, not for another reason
    (a constraint, a conflict, a mistake in this module's SQL)."""
    kinds = (duckdb.IOException, duckdb.SerializationException, duckdb.InternalException)
    return isinstance(error, kinds) or "corrupt database file" in text or "checksum" in text


def _damage(text: str) -> str:
    """What DuckDB's (lower-cased) refusal to open a registry file says, in Chinese."""
    if "could not read enough bytes" in text:
        return "文件比其内容应有的长度短：被截断，或没有复制、写完"
    if "corrupt database file" in text or "checksum" in text:
        return "文件内容的校验和不符：部分内容被改写"
    return "DuckDB 无法读取该文件"


def _folder_problem(error: OSError) -> str:
    if isinstance(error, FileExistsError | NotADirectoryError):
        return "路径中有一级是文件，不是文件夹"
    if isinstance(error, PermissionError):
        return "没有写入权限"
    return error.strerror or type(error).__name__


NO_TABLE = "一个没有版本记录表的 DuckDB 数据库"
_OTHER_FILES = [
    (b"PAR1", "一个 Parquet 文件"),
    (b"SQLite format 3", "一个 SQLite 数据库"),
    (b"PK\x03\x04", "一个压缩包或 Excel 工作簿"),
]


def not_a_registry(path: str | Path, kind: str) -> Diagnostic:
    return make(
        "E706",
        f"「{path}」是{kind}，不是版本登记簿文件",
        Location(str(path)),
        found=kind,
        expected="由 jiuzhu publish 创建的 DuckDB 登记簿文件，如 registry/jiuzhu-registry.duckdb",
        hint="用 --registry（或环境变量 JIUZHU_REGISTRY）指定登记簿文件本身，"
        "不要指定它所在的文件夹或其他数据文件",
    )


def inside_tables(path: str | Path, tables: str | Path) -> Diagnostic:
    return make(
        "E707",
        f"版本登记簿不能放在 tables 文件夹内：「{path}」在「{tables}」中",
        Location(str(path)),
        found=str(path),
        expected="tables 文件夹以外的路径，如 registry/jiuzhu-registry.duckdb",
        hint="tables 文件夹是工作副本，其中的文件都会被当作决策表读取和复制；"
        "请把登记簿放在别处，或不写 --registry 使用默认位置",
    )


def open_registry(
    where: Registry | str | Path | None, tables_root: str | Path
) -> Registry:
    """``where`` as a Registry: itself, a path, or (None) the default beside the tables."""
    if isinstance(where, Registry):
        return where
    return Registry(where or default_path(tables_root))


def not_found(county: str, number: int | str, latest: Version | None) -> Diagnostic:
    have = f"现有第 1 至第 {latest.number} 版" if latest else "该县还没有已发布的版本"
    return make(
        "E704",
        f"版本 {county}@{number} 不存在（{have}）",
        found=f"{county}@{number}",
        expected="jiuzhu history 列出的版本号，例如 330106@1",
    )


# ---------------------------------------------------------------- as-of evaluation


def published_project(
    tables_root: str | Path,
    registry_path: Registry | str | Path | None,
    as_of: date,
    counties: list[str] | None = None,
) -> tuple[Project, dict[str, str]]:
    """Every county's plan as in force on ``as_of``: its published version, or the
    working tables when it has none in force; with each county's version label
    (``330106@3`` or ``工作副本``) for ``install_standards(..., versions=...)``.

    Raises RegistryError: E703 when a version in force was changed after publishing,
    E705 when ``registry_path`` is a Registry that must exist and does not.
    """
    report, working = Report(), Report()
    tables = load_tables(tables_root, working)
    store = open_registry(registry_path, tables_root)
    published = store.in_force_all(as_of)
    codes = counties or sorted(set(tables.county_codes()) | set(published))
    plans, labels, unverified = {}, {}, {}  # type: ignore[var-annotated]
    # published rulebooks share the tables they have in common (canonical.load_rulebook),
    # so, as for the working copy, a table common to many counties is bound once
    cache = BindCache()
    for code in codes:
        version = published.get(code)
        if version is not None:
            book, labels[code] = version.rulebook(), version.label
        elif code in tables.counties:
            book, labels[code] = rulebook_for(tables, code, working), WORKING_COPY
        else:
            report.error(
                "E606",
                f"未知的县（市、区）代码「{code}」",
                found=code,
                expected="tables/counties/ 中已有工作簿或登记簿中已发布版本的六位代码",
            )
            continue
        plans[code] = bind(book, report, cache)
        validate(plans[code], report, as_of, unverified)
    if WORKING_COPY in labels.values():
        # the working copy's file errors first, as jiuzhu check lists them: an
        # unclosed quote in a CSV comes before the names it leaves undefined
        working.extend(report.items)
        report = working
    report_unverified(unverified, report)
    project = Project(_with_fields(tables, plans), report, as_of, plans)
    return project, labels


def _with_fields(tables: Tables, plans: dict) -> Tables:  # type: ignore[type-arg]
    """The tables with the province's fields widened by any field a published version
    declares that the working copy no longer does (the input loader reads them)."""
    fields = {f.id: f for f in tables.province.fields}
    for plan in plans.values():
        for ident, spec in plan.rulebook.fields.items():
            fields.setdefault(ident, spec)
    province = dataclasses.replace(tables.province, fields=list(fields.values()))
    return dataclasses.replace(tables, province=province)


__all__ = [
    "DEFAULT_LOCATION",
    "WORKING_COPY",
    "Registry",
    "Version",
    "content_hash",
    "default_path",
    "in_force",
    "missing",
    "not_found",
    "open_registry",
    "published_project",
    "stale",
    "tampered",
]
