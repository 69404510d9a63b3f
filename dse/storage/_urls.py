"""Storage URLs: which backend a URL names, the driver it needs, and the secret it may hold.

`storage.url` is written as the user wrote it (`${NAME}` references unexpanded) everywhere dse
keeps or shows it; the password is read from the environment only when a connection is made,
and a password written literally is shown as `***` (`redact_url`).
"""

from __future__ import annotations

import importlib.util
import os
import re
from dataclasses import dataclass
from pathlib import Path

from dse._errors import StudyRunError

BACKENDS = ("sqlite", "postgresql", "mysql", "journal")
"""What `storage.url` may name: `sqlite:///file.db`, `postgresql://user@host/db`,
`mysql://user@host/db` (an SQLAlchemy URL, optionally with `+driver`) or
`journal:///shared/path/study.log` (Optuna's journal file, for shared file systems)."""

_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_PASSWORD = re.compile(r"^(?P<head>[A-Za-z][\w+.-]*://[^:/@?#]*:)(?P<secret>[^@/?#]*)(?P<at>@)")
_QUERY_PASSWORD = re.compile(r"(?P<head>[?&]password=)(?P<secret>[^&#]*)", re.IGNORECASE)

_DRIVERS = {
    # SQLAlchemy dialect+driver -> (module to import, package to install)
    "postgresql+psycopg": ("psycopg", "psycopg[binary] (pip install 'dse[cluster]')"),
    "postgresql+psycopg2": ("psycopg2", "psycopg2-binary"),
    "postgresql+pg8000": ("pg8000", "pg8000"),
    "mysql+mysqldb": ("MySQLdb", "mysqlclient"),
    "mysql+pymysql": ("pymysql", "pymysql"),
    "mysql+mysqlconnector": ("mysql.connector", "mysql-connector-python"),
}
_DEFAULT_DRIVERS = {
    "postgresql": ("postgresql+psycopg", "postgresql+psycopg2"),
    "mysql": ("mysql+mysqldb", "mysql+pymysql"),
}


@dataclass(frozen=True)
class StorageUrl:
    """A parsed `storage.url`.

    Attributes:
        text: the URL as written (`${NAME}` references unexpanded): safe to keep and show once
            redacted (`display`).
        backend: one of `BACKENDS`.
    """

    text: str
    backend: str

    @classmethod
    def parse(cls, text: str) -> StorageUrl:
        """Recognise the backend of `text`.

        Raises:
            StudyRunError: the scheme is none of `BACKENDS`; the message lists them.
        """
        scheme = text.split(":", 1)[0].lower() if "://" in text else ""
        dialect = scheme.split("+", 1)[0]
        if dialect == "postgres":
            dialect = "postgresql"
        if dialect not in BACKENDS:
            raise StudyRunError(
                f"storage.url: expected a URL of one of {', '.join(BACKENDS)} "
                f"(sqlite:///study.db, postgresql://user@host/db, journal:///path/study.log), "
                f"got {redact_url(text)!r}"
            )
        return cls(text, dialect)

    @property
    def display(self) -> str:
        """The URL with any literal password replaced by `***`."""
        return redact_url(self.text)

    @property
    def journal_path(self) -> Path:
        """The journal file of a `journal://` URL (`journal:///abs/path` or `journal://rel`)."""
        return Path(os.path.expanduser(expand_variables(self.text.split("://", 1)[1])))

    def sqlalchemy_url(self) -> str:
        """The URL to connect with: variables expanded, a default driver that is installed.

        `postgresql://` uses psycopg (version 3) when installed, else psycopg2; `mysql://`
        mysqlclient, else PyMySQL.

        Raises:
            StudyRunError: a variable is not set, or the driver is not installed (the
                message names the package to install).
        """
        url = expand_variables(self.text)
        scheme, rest = url.split("://", 1)
        scheme = scheme.lower().replace("postgres+", "postgresql+")
        if scheme == "postgres":
            scheme = "postgresql"
        if scheme in _DEFAULT_DRIVERS:
            candidates = _DEFAULT_DRIVERS[scheme]
            installed = [c for c in candidates if _importable(_DRIVERS[c][0])]
            if not installed:
                raise StudyRunError(_missing_driver(candidates[0], self.backend))
            scheme = installed[0]
        elif scheme in _DRIVERS and not _importable(_DRIVERS[scheme][0]):
            raise StudyRunError(_missing_driver(scheme, self.backend))
        return f"{scheme}://{rest}"


def _missing_driver(driver: str, backend: str) -> str:
    module, package = _DRIVERS[driver]
    name = {"postgresql": "PostgreSQL", "mysql": "MySQL"}.get(backend, backend)
    return (
        f"storage.url: {name} needs the {module} package, which is not installed: "
        f"pip install {package}"
    )


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def expand_variables(text: str) -> str:
    """Replace each `${NAME}` by the environment variable NAME.

    Raises:
        StudyRunError: a variable is not set (named in the message, its value never shown).
    """

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in os.environ:
            raise StudyRunError(
                f"storage.url: environment variable {name} is not set (the URL reads ${{{name}}})"
            )
        return os.environ[name]

    return _VARIABLE.sub(value, text)


def redact_url(text: str) -> str:
    """`text` with a password written in it replaced by `***`; `${NAME}` references are kept
    (they name a variable, not its value).

    Example:
        >>> redact_url("postgresql://dse:s3cret@db.example.org/studies")
        'postgresql://dse:***@db.example.org/studies'
        >>> redact_url("postgresql://dse:${DSE_DB_PASSWORD}@db/studies")
        'postgresql://dse:${DSE_DB_PASSWORD}@db/studies'
    """

    def hide(match: re.Match[str]) -> str:
        secret = match.group("secret")
        if not secret or _VARIABLE.fullmatch(secret):
            return match.group(0)
        return match.group("head") + "***" + match.groupdict().get("at", "")

    return _QUERY_PASSWORD.sub(hide, _PASSWORD.sub(hide, text, count=1))
