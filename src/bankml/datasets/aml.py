"""A seeded synthetic AML world: accounts, their normal behaviour, injected laundering.

No real labelled AML transaction data is public (bank transactions and suspicious-activity
reports are confidential), so bankml makes its own, designed after AMLSim, AMLworld and
SAML-D. One integer seed gives the same frames:

- `accounts`: customers' accounts (individuals and businesses) with KYC attributes, the
  protected `age_band` and `residency` (for fairness testing only), and `is_sar_account`.
- `transactions`: normal behaviour of every account (card payments to merchants, transfers
  to regular contacts, bills, cash, salaries and rent) with legitimate look-alikes of every
  typology (merchants' fan-in, payroll fan-out, cash-intensive businesses' deposits just
  under the reporting threshold, intra-group transfers, single large payments); then
  laundering schemes injected among accounts that keep their normal behaviour:
  structuring, fan-in, fan-out, cycles, rapid movement and mule accounts. Each row has
  `is_laundering`, a `typology` tag (`normal_*` or the laundering type) and a `pattern_id`.

A scheme is run by the same accounts in 3-6 rounds some 5-10 days apart, as launderers
run a business rather than a single payment, and every member plays its part in each
round: fan-in senders are smurfs who pay in cash what they pass on, fan-out beneficiaries
cash it out, mule feeders pass on money from abroad. (A pattern made once, with the
feeders and beneficiaries making one payment among many normal ones, is invisible to any
account-level review: the example's AUC was 0.62.) Laundering accounts are drawn spread
over the age band x residency cells in proportion to their size, so laundering is
independent of the protected attributes.

Laundering amounts are drawn to overlap the normal ones, so the amount alone does not give
the label away (the AMLSim sample's shortcut). `laundering_share` sets the share of
accounts taking part in laundering, `mix` the share of patterns per typology. See
docs/datasets.md; the account-level review rows a model trains on are in `aml_reviews`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from bankml.core.errors import InvalidInputError

GENERATOR_VERSION = "2"
START = pd.Timestamp("2024-01-01", tz="UTC")
DAY_S = 86_400
HISTORY_DAYS = 60  # normal behaviour only at first: the baseline that reviews compare with
REPORTING_THRESHOLD = 10_000.0  # cash deposits from this amount are reported (CTR)
TYPOLOGIES = ("structuring", "fan_in", "fan_out", "cycle", "rapid_movement", "mule")
DEFAULT_MIX = dict.fromkeys(TYPOLOGIES, 1 / len(TYPOLOGIES))
CASH = "CASH"  # the counterparty of cash deposits and withdrawals
TRANSACTION_COLUMNS = [
    "tx_id", "timestamp", "from_account", "to_account", "from_bank", "to_bank", "amount",
    "currency", "payment_type", "channel", "is_laundering", "typology", "pattern_id"]
ACCOUNT_COLUMNS = [
    "account_id", "customer_id", "customer_type", "bank_id", "country", "open_date",
    "kyc_risk_rating", "industry", "age_band", "residency", "is_sar_account"]
OUR_BANK, OTHER_BANKS = "B01", ("B02", "B03")
INDUSTRIES = ("retail", "restaurant", "construction", "wholesale", "services", "transport")
AGE_BANDS = (("18-25", 0.14), ("26-40", 0.32), ("41-60", 0.34), ("61+", 0.20))


@dataclass(frozen=True, slots=True)
class AmlWorld:
    """The generated frames and the manifest that names how they were made."""

    accounts: pd.DataFrame
    transactions: pd.DataFrame
    manifest: dict[str, Any] = field(default_factory=dict)


def synthesize_aml(accounts: int = 3_000, *, days: int = 180, laundering_share: float = 0.03,
                   mix: Mapping[str, float] | None = None, seed: int = 7) -> AmlWorld:
    """Accounts and their transactions over `days` from 2024-01-01, with laundering
    patterns injected until `laundering_share` of the accounts take part in one. The first
    `HISTORY_DAYS` are normal behaviour only, the history that reviews compare with.

    `mix` weighs the typologies when each pattern is drawn (default: equal weights).
    The same arguments give the same frames, row for row.
    """
    weights = _checked(accounts, days, laundering_share, mix)
    rng = np.random.default_rng(seed)
    book = _open_accounts(accounts, days, rng)
    ledger = _Ledger()
    _normal_behaviour(book, days, rng, ledger)
    patterns = _inject(book, days, laundering_share, weights, rng=rng, ledger=ledger)
    transactions = ledger.frame(rng, end_s=days * DAY_S)
    members = set(transactions.loc[transactions["is_laundering"] == 1,
                                   ["from_account", "to_account"]].to_numpy().ravel())
    book["is_sar_account"] = book["account_id"].isin(members).astype(np.int64)
    manifest = {
        "generator": "bankml.datasets.aml", "version": GENERATOR_VERSION, "seed": seed,
        "parameters": {"accounts": accounts, "days": days,
                       "laundering_share": laundering_share, "mix": weights},
        "patterns": patterns,
        "transactions": len(transactions),
        "laundering_transactions": int(transactions["is_laundering"].sum()),
        "sar_accounts": int(book["is_sar_account"].sum()),
    }
    return AmlWorld(book[ACCOUNT_COLUMNS], transactions, manifest)


def _checked(accounts: int, days: int, share: float,
             mix: Mapping[str, float] | None) -> dict[str, float]:
    if accounts < 200:
        raise InvalidInputError("accounts", f"{accounts} is too few; give at least 200",
                                rule="datasets.parameter")
    if not HISTORY_DAYS + 60 <= days <= 730:
        raise InvalidInputError("days", f"{days} is outside {HISTORY_DAYS + 60}..730",
                                rule="datasets.parameter")
    if not 0 < share <= 0.2:
        raise InvalidInputError("laundering_share", f"{share} is outside (0, 0.2]",
                                rule="datasets.parameter")
    given = dict(DEFAULT_MIX if mix is None else mix)
    unknown = sorted(set(given) - set(TYPOLOGIES))
    if unknown or any(w < 0 for w in given.values()) or sum(given.values()) <= 0:
        raise InvalidInputError("mix", f"weights must be >= 0, not all 0, over "
                                f"{', '.join(TYPOLOGIES)}"
                                + (f"; unknown: {', '.join(unknown)}" if unknown else ""),
                                rule="datasets.parameter")
    total = sum(given.values())
    return {name: given.get(name, 0.0) / total for name in TYPOLOGIES}


def _open_accounts(count: int, days: int, rng: np.random.Generator) -> pd.DataFrame:
    business = rng.random(count) < 0.15
    # a few customers hold two accounts: the second account reuses the previous customer
    second = np.r_[False, rng.random(count - 1) < 0.08] & ~business
    customer = np.cumsum(~second)
    bands = [band for band, _ in AGE_BANDS]
    band_shares = [share for _, share in AGE_BANDS]
    residency = np.where(rng.random(count) < 0.88, "resident", "non_resident")
    rating = np.array(["low", "medium", "high"])[
        rng.choice(3, count, p=[0.70, 0.24, 0.06])]
    opened = START - pd.to_timedelta(rng.integers(-days // 2, 3_650, count), unit="D")
    return pd.DataFrame({
        "account_id": [f"A{i:05d}" for i in range(1, count + 1)],
        "customer_id": [f"C{c:05d}" for c in customer],
        "customer_type": np.where(business, "business", "individual"),
        "bank_id": OUR_BANK,
        "country": np.where(residency == "resident", "DE",
                            rng.choice(["FR", "NL", "PL", "TR", "AE"], count)),
        "open_date": opened.normalize(),
        "kyc_risk_rating": rating,
        "industry": np.where(business, rng.choice(INDUSTRIES, count), "none"),
        # a business's age band is its beneficial owner's, as KYC records it
        "age_band": np.array(bands)[rng.choice(len(bands), count, p=band_shares)],
        "residency": residency,
    })


class _Ledger:
    """Transactions collected column by column, then made one sorted frame."""

    def __init__(self) -> None:
        self.parts: list[dict[str, np.ndarray]] = []

    def add(self, *, seconds: np.ndarray, source: np.ndarray, target: np.ndarray,
            amount: np.ndarray, payment: str | np.ndarray, channel: str | np.ndarray,
            typology: str | np.ndarray, pattern: int = -1) -> None:
        size = len(seconds)
        def full(value: str | np.ndarray) -> np.ndarray:
            return np.asarray(value if isinstance(value, np.ndarray)
                              else np.full(size, value), dtype=object)
        self.parts.append({
            "seconds": np.asarray(seconds, dtype=np.int64), "from_account": full(source),
            "to_account": full(target), "amount": np.round(np.asarray(amount, float), 2),
            "payment_type": full(payment), "channel": full(channel), "typology": full(typology),
            "pattern_id": np.full(size, pattern, dtype=np.int64)})

    def frame(self, rng: np.random.Generator, *, end_s: int) -> pd.DataFrame:
        columns = {name: np.concatenate([part[name] for part in self.parts])
                   for name in self.parts[0]}
        frame = pd.DataFrame(columns)
        frame = frame[frame["seconds"] < end_s]
        # ties in time are broken at random, so the row order says nothing about the label
        frame["tiebreak"] = rng.random(len(frame))
        frame = frame.sort_values(["seconds", "tiebreak"], kind="stable").reset_index(drop=True)
        frame["timestamp"] = START + pd.to_timedelta(frame["seconds"], unit="s")
        frame["tx_id"] = np.arange(1, len(frame) + 1)
        frame["from_bank"] = _bank_of(frame["from_account"])
        frame["to_bank"] = _bank_of(frame["to_account"])
        frame["currency"] = np.where(frame["payment_type"] == "cross_border", "USD", "EUR")
        frame["is_laundering"] = (frame["pattern_id"] >= 0).astype(np.int64)
        for name in ("from_account", "to_account", "payment_type", "channel", "typology"):
            frame[name] = frame[name].astype(str)
        return frame[TRANSACTION_COLUMNS]


def _bank_of(accounts: pd.Series) -> np.ndarray:
    text = accounts.astype(str)
    external = text.str.startswith("X")
    return np.where(text == CASH, "", np.where(
        external, np.where(text.str[-1].isin(list("02468")), OTHER_BANKS[0], OTHER_BANKS[1]),
        OUR_BANK))


def _moments(rng: np.random.Generator, size: int, days: int) -> np.ndarray:
    """Seconds since START: fewer at weekends, mostly in the day (8:00-20:00)."""
    day = rng.integers(0, days, size)
    weekend = (START.day_of_week + day) % 7 >= 5
    day = np.where(weekend & (rng.random(size) < 0.4), np.maximum(day - 2, 0), day)
    hour = np.where(rng.random(size) < 0.9, rng.uniform(8, 20, size), rng.uniform(0, 24, size))
    return np.asarray(day * DAY_S + hour * 3_600, dtype=np.int64)


def _lognormal(rng: np.random.Generator, median: float, sigma: float, size: int, *,
               low: float = 1.0, high: float = 500_000.0) -> np.ndarray:
    return np.asarray(np.clip(np.exp(rng.normal(np.log(median), sigma, size)), low, high))


def _normal_behaviour(book: pd.DataFrame, days: int, rng: np.random.Generator,
                      ledger: _Ledger) -> None:
    ids = book["account_id"].to_numpy(dtype=object)
    business = (book["customer_type"] == "business").to_numpy()
    people, firms = ids[~business], ids[business]
    cash_intensive = firms[rng.random(len(firms)) < 0.35]
    merchants = firms[: max(len(firms) // 2, 1)]
    externals = np.array([f"X{i:05d}" for i in range(1, 2_001)], dtype=object)
    contacts = rng.choice(ids, size=(len(ids), 6))  # everyone's regular counterparties
    favourite_merchants = rng.choice(merchants, size=(len(ids), 6))
    payees = rng.choice(externals, size=(len(ids), 6))

    # everyday spending and transfers, with each account's own activity level
    rate = np.where(business, _lognormal(rng, 0.6, 0.5, len(ids), low=0.01),
                    _lognormal(rng, 0.2, 0.5, len(ids), low=0.01))
    counts = rng.poisson(rate * days)
    owner = np.repeat(np.arange(len(ids)), counts)
    kind = rng.choice(5, len(owner), p=[0.34, 0.24, 0.14, 0.14, 0.14])
    is_firm = business[owner]
    source = ids[owner]
    # people deal mostly with their usual merchants, contacts and payees, now and then
    # with someone new
    usual = rng.integers(0, 6, len(owner))
    target = np.where(kind == 0, favourite_merchants[owner, usual], contacts[owner, usual])
    target = np.where(kind == 3, CASH, target)
    target = np.where(kind == 4, payees[owner, usual], target)
    stranger = (rng.random(len(owner)) < 0.08) & (kind != 3)
    target = np.where(stranger, rng.choice(ids, len(owner)), target)
    medians = np.where(is_firm, np.array([300, 2_500, 900, 800, 4_000])[kind],
                       np.array([45, 180, 120, 150, 900])[kind])
    amount = np.exp(rng.normal(np.log(medians), 1.1))
    ledger.add(seconds=_moments(rng, len(owner), days), source=source, target=target,
               amount=np.clip(amount, 1, 250_000),
               payment=np.array(["card", "ach", "ach", "cash_withdrawal", "wire"])[kind],
               channel=np.array(["pos", "online", "online", "atm", "online"])[kind],
               typology=np.array(["normal_fan_in", "normal_payment", "normal_payment",
                                  "normal_cash_withdrawal", "normal_payment"])[kind])

    # salaries (payroll fan-out from an employer) and rent a few days later
    employer = rng.choice(firms, len(people))
    # each employer has its own payday: one payday for all would line up with some
    # fortnightly reviews' 7-day windows and not others, a calendar artefact
    payday = rng.integers(0, 30, len(firms))[np.searchsorted(firms, employer)]
    salary = _lognormal(rng, 2_600, 0.4, len(people), low=800, high=15_000)
    landlords = rng.choice(ids, len(people))
    for month in range(days // 30 + 1):
        paid = payday + 30 * month
        inside = paid < days
        seconds = (paid[inside] * DAY_S + 9 * 3_600).astype(np.int64)
        ledger.add(seconds=seconds, source=employer[inside], target=people[inside],
                   amount=salary[inside], payment="ach", channel="online",
                   typology="normal_fan_out")
        rent_day = paid[inside] + rng.integers(2, 6, inside.sum())
        kept = rent_day < days
        ledger.add(seconds=(rent_day[kept] * DAY_S + 10 * 3_600).astype(np.int64),
                   source=people[inside][kept], target=landlords[inside][kept],
                   amount=0.35 * salary[inside][kept], payment="ach", channel="online",
                   typology="normal_periodical")

    # cash-intensive businesses deposit their takings, often just under the threshold
    deposits = rng.poisson(3.0 * days / 7, len(cash_intensive))
    depositor = np.repeat(cash_intensive, deposits)
    ledger.add(seconds=_moments(rng, len(depositor), days), source=np.full(len(depositor), CASH),
               target=depositor,
               amount=_lognormal(rng, 4_500, 0.6, len(depositor), low=300, high=9_950),
               payment="cash_deposit", channel="branch", typology="normal_cash_deposits")

    # intra-group transfers between a customer's businesses, back and forth
    pairs = rng.choice(firms, size=(max(len(firms) // 10, 1), 2))
    for month in range(days // 30):
        size = len(pairs)
        back = rng.random(size) < 0.5
        ledger.add(seconds=_moments(rng, size, 30) + month * 30 * DAY_S,
                   source=np.where(back, pairs[:, 1], pairs[:, 0]),
                   target=np.where(back, pairs[:, 0], pairs[:, 1]),
                   amount=_lognormal(rng, 15_000, 0.8, size), payment="wire",
                   channel="online", typology="normal_mutual")

    # once-in-a-lifetime payments: a house, a car, an inheritance passed on
    large = people[rng.random(len(people)) < 0.02]
    ledger.add(seconds=_moments(rng, len(large), days), source=large,
               target=rng.choice(externals, len(large)),
               amount=_lognormal(rng, 60_000, 0.7, len(large), low=10_000), payment="wire",
               channel="branch", typology="normal_single_large")


# typology -> (fewest, most) member accounts of one pattern
SIZES = {"structuring": (2, 2), "fan_in": (5, 10), "fan_out": (5, 10), "cycle": (3, 6),
         "rapid_movement": (3, 5), "mule": (3, 6)}
ROUNDS = (3, 6)  # rounds of one scheme, each the typology's pattern once
ROUND_GAP_DAYS = (5, 10)  # days from one round to the next


def _inject(book: pd.DataFrame, days: int, share: float, weights: dict[str, float], *,
            rng: np.random.Generator, ledger: _Ledger) -> dict[str, dict[str, int]]:
    ids = book["account_id"].to_numpy(dtype=object)
    free = _stratified_order(book, rng)
    target = max(round(share * len(ids)), SIZES["structuring"][0])
    names = [name for name in TYPOLOGIES if weights[name] > 0]
    odds = np.array([weights[name] for name in names])
    summary = {name: {"patterns": 0, "accounts": 0} for name in TYPOLOGIES}
    taken, pattern = 0, 0
    while taken < target:
        name = names[rng.choice(len(names), p=odds / odds.sum())]
        low, high = SIZES[name]
        size = int(rng.integers(low, high + 1))
        if size > len(free):
            break
        members = ids[[free.pop() for _ in range(size)]]
        # a scheme is run in rounds by the same accounts for weeks, not once: laundering
        # is a business. It may run past the end of the period: what happens later is not
        # seen.
        first = int(rng.integers(HISTORY_DAYS, days - 7))
        rounds = int(rng.integers(ROUNDS[0], ROUNDS[1] + 1))
        gaps = rng.integers(ROUND_GAP_DAYS[0], ROUND_GAP_DAYS[1] + 1, rounds)
        for day in first + np.cumsum(gaps) - gaps[0]:
            start = int(day) * DAY_S + int(rng.integers(8, 18)) * 3_600
            TYPOLOGY_MAKERS[name](members, start, rng, ledger, pattern)
        summary[name]["patterns"] += 1
        summary[name]["accounts"] += size
        taken, pattern = taken + size, pattern + 1
    return summary


def _stratified_order(book: pd.DataFrame, rng: np.random.Generator) -> list[int]:
    """Account positions in the order patterns take them (from the end): each age band x
    residency cell in turn by its size, so laundering accounts are spread over the
    protected groups in proportion, and a disparity in alert rates is the model's doing,
    not the luck of the draw."""
    cells = book.groupby(["age_band", "residency"]).ngroup().to_numpy()
    rank = np.empty(len(book))
    for cell in np.unique(cells):
        inside = np.flatnonzero(cells == cell)
        rank[inside] = (rng.permutation(len(inside)) + rng.random()) / len(inside)
    return [int(i) for i in np.argsort(-rank, kind="stable")]


def _hours(rng: np.random.Generator, low: float, high: float, size: int) -> np.ndarray:
    return (rng.uniform(low, high, size) * 3_600).astype(np.int64)


def _structuring(members: np.ndarray, start: int, rng: np.random.Generator,
                 ledger: _Ledger, pattern: int) -> None:
    """Cash deposits just under the threshold on several days of one week, then wired on."""
    depositor, beneficiary = members
    count = int(rng.integers(3, 8))
    moments = start + np.sort(_hours(rng, 0, 7 * 24, count))
    amounts = rng.uniform(0.80, 0.99, count) * REPORTING_THRESHOLD
    ledger.add(seconds=moments, source=np.full(count, CASH), target=np.full(count, depositor),
               amount=amounts, payment="cash_deposit",
               channel=rng.choice(["branch", "atm"], count), typology="structuring",
               pattern=pattern)
    ledger.add(seconds=moments[-1:] + _hours(rng, 12, 72, 1), source=np.array([depositor]),
               target=np.array([beneficiary]), amount=np.array([0.95 * amounts.sum()]),
               payment="wire", channel="online", typology="structuring", pattern=pattern)


def _fan_in(members: np.ndarray, start: int, rng: np.random.Generator,
            ledger: _Ledger, pattern: int) -> None:
    """Many senders pay one collector within a few days; it forwards the total later."""
    collector, senders = members[0], members[1:]
    amounts = _lognormal(rng, 400, 0.9, len(senders), low=50, high=9_000)
    moments = start + _hours(rng, 0, 96, len(senders))
    # the senders are smurfs: each pays in cash what it passes on a few hours later
    ledger.add(seconds=moments - _hours(rng, 1, 8, len(senders)),
               source=np.full(len(senders), CASH), target=senders,
               amount=amounts * rng.uniform(1.0, 1.04, len(senders)), payment="cash_deposit",
               channel=rng.choice(["branch", "atm"], len(senders)), typology="fan_in",
               pattern=pattern)
    ledger.add(seconds=moments, source=senders, target=np.full(len(senders), collector),
               amount=amounts, payment="ach", channel=rng.choice(["online", "mobile"],
                                                                 len(senders)),
               typology="fan_in", pattern=pattern)
    ledger.add(seconds=np.array([moments.max()]) + _hours(rng, 24, 120, 1),
               source=np.array([collector]), target=np.array([f"X{rng.integers(1, 2_000):05d}"]),
               amount=np.array([0.97 * amounts.sum()]), payment="cross_border",
               channel="online", typology="fan_in", pattern=pattern)


def _fan_out(members: np.ndarray, start: int, rng: np.random.Generator,
             ledger: _Ledger, pattern: int) -> None:
    """One account, credited once, pays many beneficiaries within a few days."""
    source, beneficiaries = members[0], members[1:]
    amounts = _lognormal(rng, 500, 0.9, len(beneficiaries), low=50, high=9_000)
    ledger.add(seconds=np.array([start]), source=np.array([f"X{rng.integers(1, 2_000):05d}"]),
               target=np.array([source]), amount=np.array([1.03 * amounts.sum()]),
               payment="cross_border", channel="online", typology="fan_out", pattern=pattern)
    paid = start + _hours(rng, 2, 72, len(beneficiaries))
    ledger.add(seconds=paid, source=np.full(len(beneficiaries), source), target=beneficiaries,
               amount=amounts, payment="ach", channel="online", typology="fan_out",
               pattern=pattern)
    # the beneficiaries are the scheme's own accounts: they cash the money out within a day
    ledger.add(seconds=paid + _hours(rng, 1, 24, len(beneficiaries)), source=beneficiaries,
               target=np.full(len(beneficiaries), CASH),
               amount=amounts * rng.uniform(0.90, 0.98, len(beneficiaries)),
               payment="cash_withdrawal", channel="atm", typology="fan_out", pattern=pattern)


def _cycle(members: np.ndarray, start: int, rng: np.random.Generator,
           ledger: _Ledger, pattern: int) -> None:
    """Money goes round a ring back to where it started, losing a margin at each hop."""
    hops = len(members)
    margins = rng.uniform(0.01, 0.05, hops)
    first = _lognormal(rng, 1_500, 1.0, 1, low=100, high=60_000)[0]
    amounts = first * np.cumprod(1 - margins)
    moments = start + np.cumsum(_hours(rng, 6, 72, hops))
    ledger.add(seconds=moments, source=members, target=np.roll(members, -1), amount=amounts,
               payment=rng.choice(["wire", "ach", "cross_border"], hops), channel="online",
               typology="cycle", pattern=pattern)


def _rapid_movement(members: np.ndarray, start: int, rng: np.random.Generator,
                    ledger: _Ledger, pattern: int) -> None:
    """A pass-through account forwards each inflow within hours, keeping a little."""
    through, others = members[0], members[1:]
    count = int(rng.integers(2, 5))
    amounts = _lognormal(rng, 500, 0.9, count, low=50, high=20_000)
    arrivals = start + np.sort(_hours(rng, 0, 14 * 24, count))
    ledger.add(seconds=arrivals, source=rng.choice(others, count),
               target=np.full(count, through), amount=amounts, payment="wire",
               channel="online", typology="rapid_movement", pattern=pattern)
    ledger.add(seconds=arrivals + _hours(rng, 0.5, 12, count), source=np.full(count, through),
               target=rng.choice(others, count), amount=amounts * rng.uniform(0.95, 0.99, count),
               payment="wire", channel="online", typology="rapid_movement", pattern=pattern)


def _mule(members: np.ndarray, start: int, rng: np.random.Generator,
          ledger: _Ledger, pattern: int) -> None:
    """A mule receives from several feeder accounts over weeks and cashes most out."""
    mule, feeders = members[0], members[1:]
    count = int(rng.integers(4, 11))
    amounts = _lognormal(rng, 350, 0.9, count, low=30, high=5_000)
    arrivals = start + np.sort(_hours(rng, 0, 28 * 24, count))
    senders = rng.choice(feeders, count)
    # the feeders pass on what a stranger abroad paid them hours before
    ledger.add(seconds=arrivals - _hours(rng, 1, 12, count),
               source=np.array([f"X{i:05d}" for i in rng.integers(1, 2_000, count)]),
               target=senders, amount=amounts * rng.uniform(1.0, 1.05, count),
               payment="cross_border", channel="online", typology="mule", pattern=pattern)
    ledger.add(seconds=arrivals, source=senders,
               target=np.full(count, mule), amount=amounts,
               payment=rng.choice(["ach", "wire"], count), channel="mobile",
               typology="mule", pattern=pattern)
    # each inflow leaves within a day, in one to three cash withdrawals
    pieces = rng.integers(1, 4, count)
    inflow = np.repeat(np.arange(count), pieces)
    share = rng.dirichlet(np.ones(3), count)
    parts = np.concatenate([share[i, :pieces[i]] / share[i, :pieces[i]].sum()
                            for i in range(count)])
    ledger.add(seconds=arrivals[inflow] + _hours(rng, 1, 24, len(inflow)),
               source=np.full(len(inflow), mule), target=np.full(len(inflow), CASH),
               amount=0.92 * amounts[inflow] * parts, payment="cash_withdrawal", channel="atm",
               typology="mule", pattern=pattern)


TYPOLOGY_MAKERS = {"structuring": _structuring, "fan_in": _fan_in, "fan_out": _fan_out,
                   "cycle": _cycle, "rapid_movement": _rapid_movement, "mule": _mule}
