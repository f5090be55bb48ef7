"""Report suites: one measured site or app, with the settings its data is processed by."""

import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import Enum
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from models.currencies import CURRENCIES
from models.fields import EVARS
from models.keys import report_suite_key
from models.problems import Problem, invalid
from models.text import check_name

RSID_PATTERN = re.compile(r"[a-z0-9.-]{1,40}")
VISIT_TIMEOUT_MINUTES = (1, 720)
WINDOW_DAYS = (1, 761)  # at most 25 months
EVAR_DAYS = (1, 761)


class Expiration(str, Enum):
    HIT = "HIT"
    VISIT = "VISIT"
    NEVER = "NEVER"
    DAYS = "DAYS"


class Allocation(str, Enum):
    MOST_RECENT = "MOST_RECENT"
    ORIGINAL = "ORIGINAL"


@dataclass(frozen=True)
class EvarSetting:
    number: int
    expiration: Expiration = Expiration.VISIT
    days: int | None = None
    allocation: Allocation = Allocation.MOST_RECENT

    @property
    def is_default(self) -> bool:
        return self == EvarSetting(self.number)


@dataclass(frozen=True)
class Recording:
    """The Transaction ID recording switch and who last moved it."""

    enabled: bool = False
    changed_at: datetime | None = None
    changed_by: str | None = None


@dataclass(frozen=True)
class ReportSuite:
    rsid: str
    company_id: str
    name: str
    created_at: datetime
    time_zone: str = "UTC"
    currency: str = "USD"
    visit_timeout_minutes: int = 30
    transaction_id_window_days: int = 90
    recording: Recording = Recording()
    evars: dict[int, EvarSetting] = field(default_factory=dict)  # only those set away from the defaults
    # Summary rows stored because their transaction id was not collected yet are linked when
    # it is (resolvers/late_linking.py).
    late_transaction_linking: bool = True
    version: int = 1

    def local_day(self, at: datetime) -> str:
        """The suite's calendar day at `at`, as YYYY-MM-DD."""
        return at.astimezone(ZoneInfo(self.time_zone)).date().isoformat()

    def evar(self, number: int) -> EvarSetting:
        return self.evars.get(number, EvarSetting(number))

    def with_evars(self, settings: list[EvarSetting]) -> "ReportSuite":
        evars = dict(self.evars)
        for setting in settings:
            evars.pop(setting.number, None)
            if not setting.is_default:
                evars[setting.number] = setting
        return replace(self, evars=evars)

    def to_doc(self) -> dict[str, Any]:
        return {
            "_id": report_suite_key(self.company_id, self.rsid),
            "rsid": self.rsid,
            "companyId": self.company_id,
            "name": self.name,
            "createdAt": self.created_at,
            "timeZone": self.time_zone,
            "currency": self.currency,
            "visitTimeoutMinutes": self.visit_timeout_minutes,
            "transactionIdWindowDays": self.transaction_id_window_days,
            "recording": {
                "enabled": self.recording.enabled,
                "changedAt": self.recording.changed_at,
                "changedBy": self.recording.changed_by,
            },
            "evars": {
                str(n): {"expiration": s.expiration.value, "days": s.days, "allocation": s.allocation.value} for n, s in self.evars.items()
            },
            "lateTransactionLinking": self.late_transaction_linking,
            "version": self.version,
        }

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> "ReportSuite":
        recording = doc["recording"]
        return cls(
            rsid=doc["rsid"],
            company_id=doc["companyId"],
            name=doc["name"],
            created_at=doc["createdAt"],
            time_zone=doc["timeZone"],
            currency=doc["currency"],
            visit_timeout_minutes=doc["visitTimeoutMinutes"],
            transaction_id_window_days=doc["transactionIdWindowDays"],
            recording=Recording(recording["enabled"], recording["changedAt"], recording["changedBy"]),
            evars={
                int(n): EvarSetting(int(n), Expiration(s["expiration"]), s["days"], Allocation(s["allocation"]))
                for n, s in doc["evars"].items()
            },
            late_transaction_linking=doc.get("lateTransactionLinking", True),
            version=doc["version"],
        )


@cache
def time_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def check_rsid(rsid: str) -> list[Problem]:
    if RSID_PATTERN.fullmatch(rsid):
        return []
    return [invalid("rsid", "rsid must be 1 to 40 characters of lowercase letters, digits, '.' and '-'.")]


def check_settings(
    name: str | None = None,
    time_zone: str | None = None,
    currency: str | None = None,
    visit_timeout_minutes: int | None = None,
    transaction_id_window_days: int | None = None,
    late_transaction_linking: bool | None = None,  # a switch: any value will do
) -> list[Problem]:
    """Every problem with the settings given (None means not given)."""
    problems = check_name("name", name) if name is not None else []
    if time_zone is not None and time_zone not in time_zones():
        problems.append(invalid("timeZone", f"'{time_zone}' is not an IANA time zone (for example 'America/New_York')."))
    if currency is not None and currency not in CURRENCIES:
        problems.append(invalid("currency", f"'{currency}' is not an ISO 4217 currency code (for example 'USD')."))
    problems += _check_range("visitTimeoutMinutes", visit_timeout_minutes, VISIT_TIMEOUT_MINUTES)
    problems += _check_range("transactionIdWindowDays", transaction_id_window_days, WINDOW_DAYS)
    return problems


def check_evar(index: int, setting: EvarSetting, earlier: set[int]) -> list[Problem]:
    """One eVar's settings; `earlier` holds the numbers set before it in the same change."""
    where = f"evars.{index}"
    if not 1 <= setting.number <= EVARS:
        return [invalid(f"{where}.number", f"eVar number must be 1 to {EVARS}, not {setting.number}.")]
    if setting.number in earlier:
        return [Problem(f"{where}.number", "DUPLICATE", f"evar{setting.number} is set twice in one change.")]
    if setting.expiration is Expiration.DAYS:
        if setting.days is None:
            return [invalid(f"{where}.days", "expiration DAYS needs days.")]
        return _check_range(f"{where}.days", setting.days, EVAR_DAYS)
    if setting.days is not None:
        return [invalid(f"{where}.days", "days goes only with expiration DAYS.")]
    return []


def _check_range(name: str, value: int | None, bounds: tuple[int, int]) -> list[Problem]:
    low, high = bounds
    if value is None or low <= value <= high:
        return []
    return [invalid(name, f"{name} must be {low} to {high}, not {value}.")]
