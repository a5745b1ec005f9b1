"""The synthetic AML world: seeded, at the asked prevalence, labelled consistently, and
without an amount shortcut."""

from __future__ import annotations

import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from bankml.core.errors import InvalidInputError
from bankml.datasets import aml_reviews, synthesize_aml
from bankml.datasets.aml import TYPOLOGIES, AmlWorld


@pytest.fixture(scope="module")
def world() -> AmlWorld:
    return synthesize_aml()


@pytest.fixture(scope="module")
def reviews(world: AmlWorld) -> pd.DataFrame:
    return aml_reviews(world)


@pytest.fixture(scope="module")
def large() -> AmlWorld:
    """Many patterns, so that shares are measured with little sampling error."""
    return synthesize_aml(12_000, days=120, laundering_share=0.2, seed=11)


def test_same_seed_gives_the_same_frames(world: AmlWorld) -> None:
    """One seed gives equal accounts, transactions and manifest; another seed differs."""
    again = synthesize_aml()

    pd.testing.assert_frame_equal(world.accounts, again.accounts)
    pd.testing.assert_frame_equal(world.transactions, again.transactions)
    assert world.manifest == again.manifest
    assert not world.transactions.equals(synthesize_aml(seed=8).transactions)


def test_account_prevalence_is_the_asked_share(world: AmlWorld) -> None:
    """3 % of accounts take part in laundering, give or take one pattern's members."""
    share = world.accounts["is_sar_account"].mean()

    assert share == pytest.approx(0.03, abs=10 / len(world.accounts))


def test_patterns_follow_the_typology_mix(large: AmlWorld) -> None:
    """Each typology's share of patterns is its weight in the mix (1/6), within 4 points."""
    patterns = {name: counts["patterns"] for name, counts in large.manifest["patterns"].items()}
    total = sum(patterns.values())

    assert total > 300
    for name in TYPOLOGIES:
        assert patterns[name] / total == pytest.approx(1 / 6, abs=0.04), name


def test_a_typology_left_out_of_the_mix_never_appears() -> None:
    """A mix of cycles alone injects cycles and nothing else."""
    world = synthesize_aml(laundering_share=0.05, mix={"cycle": 1.0})
    laundering = world.transactions[world.transactions["is_laundering"] == 1]

    assert set(laundering["typology"]) == {"cycle"}
    assert world.manifest["patterns"]["cycle"]["patterns"] > 0


def test_laundering_accounts_are_spread_over_the_protected_groups(world: AmlWorld) -> None:
    """Each age band x residency cell holds its share of the laundering accounts, within
    one account: laundering is independent of the protected attributes."""
    accounts = world.accounts
    cells = accounts.groupby(["age_band", "residency"])["is_sar_account"].agg(["sum", "size"])
    expected = cells["size"] * accounts["is_sar_account"].mean()

    assert ((cells["sum"] - expected).abs() < 1.5).all()


def test_transaction_labels_agree_with_the_tags(world: AmlWorld) -> None:
    """A transaction is laundering exactly when its tag is a typology and it has a pattern."""
    tx = world.transactions
    tagged = tx["typology"].isin(TYPOLOGIES)

    assert (tagged == (tx["is_laundering"] == 1)).all()
    assert (tx["typology"][~tagged].str.startswith("normal_")).all()
    assert ((tx["pattern_id"] >= 0) == (tx["is_laundering"] == 1)).all()
    assert tx["is_laundering"].sum() == world.manifest["laundering_transactions"]


def test_sar_accounts_are_those_in_laundering(world: AmlWorld) -> None:
    """An account is a SAR account exactly when it sends or receives a laundering payment,
    and such accounts keep their normal behaviour too."""
    tx = world.transactions
    laundering = tx[tx["is_laundering"] == 1]
    involved = set(laundering["from_account"]) | set(laundering["to_account"])
    sar = set(world.accounts.loc[world.accounts["is_sar_account"] == 1, "account_id"])

    assert sar == involved & set(world.accounts["account_id"])
    normal = tx[tx["is_laundering"] == 0]
    assert sar <= set(normal["from_account"]) | set(normal["to_account"])


def test_amount_alone_does_not_separate_the_classes(large: AmlWorld) -> None:
    """The amount of a payment ranks laundering no better than AUC 0.65 either way."""
    tx = large.transactions
    auc = roc_auc_score(tx["is_laundering"], tx["amount"])

    assert 0.35 < auc < 0.65


def test_every_typology_has_a_normal_look_alike(world: AmlWorld) -> None:
    """Fan-in, fan-out, cash deposits under the threshold and mutual transfers also occur
    among normal accounts."""
    normal = set(world.transactions["typology"])

    assert {"normal_fan_in", "normal_fan_out", "normal_cash_deposits", "normal_mutual",
            "normal_periodical", "normal_single_large"} <= normal
    deposits = world.transactions[world.transactions["typology"] == "normal_cash_deposits"]
    assert (deposits["amount"].between(8_000, 10_000)).sum() > 100


def test_review_labels_agree_with_their_tags(world: AmlWorld, reviews: pd.DataFrame) -> None:
    """A review is suspicious exactly when it names typologies, and each name is one."""
    named = reviews["typologies"] != ""

    assert ((reviews["is_suspicious"] == 1) == named).all()
    tags = {tag for text in reviews.loc[named, "typologies"] for tag in text.split(",")}
    assert tags <= set(TYPOLOGIES)
    suspicious = set(reviews.loc[named, "account_id"])
    assert suspicious <= set(world.accounts.loc[world.accounts["is_sar_account"] == 1,
                                                "account_id"])


def test_reviews_see_only_the_past(world: AmlWorld, reviews: pd.DataFrame) -> None:
    """Dropping every transaction from a review date on leaves that review's row as it was."""
    moment = pd.Timestamp("2024-04-28", tz="UTC")  # the fifth review
    before = world.transactions[world.transactions["timestamp"] < moment]
    cut = AmlWorld(world.accounts, before, world.manifest)
    again = aml_reviews(cut)

    pd.testing.assert_frame_equal(
        reviews[reviews["review_date"] == moment].reset_index(drop=True),
        again[again["review_date"] == moment].reset_index(drop=True))


def test_windowed_counts_match_a_direct_count(world: AmlWorld, reviews: pd.DataFrame
                                              ) -> None:
    """One account's 30-day counts, sums and senders are those of its transactions."""
    row = reviews[reviews["in_count_30d"] > 5].iloc[0]
    moment = row["review_date"]
    tx = world.transactions
    window = tx[(tx["timestamp"] < moment) & (tx["timestamp"] >= moment - pd.Timedelta(days=30))]
    incoming = window[window["to_account"] == row["account_id"]]

    assert row["in_count_30d"] == len(incoming)
    assert row["in_sum_30d"] == pytest.approx(incoming["amount"].sum())
    assert row["distinct_senders_30d"] == incoming.loc[incoming["from_account"] != "CASH",
                                                       "from_account"].nunique()


@pytest.mark.parametrize(("arguments", "field"), [
    ({"accounts": 10}, "accounts"), ({"days": 10}, "days"),
    ({"laundering_share": 0.5}, "laundering_share"), ({"mix": {"smurfing": 1.0}}, "mix"),
    ({"mix": {"cycle": 0.0}}, "mix")])
def test_bad_parameters_are_named(arguments: dict[str, object], field: str) -> None:
    """A parameter out of its range is an error naming it."""
    with pytest.raises(InvalidInputError, match=rf"^{field}: ") as refused:
        synthesize_aml(**arguments)  # type: ignore[arg-type]
    assert refused.value.rule == "datasets.parameter"

