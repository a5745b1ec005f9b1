"""Example data per domain: the real public sets when given, else seeded synthetic twins."""

from bankml.datasets.aml import AmlWorld, synthesize_aml
from bankml.datasets.aml_reviews import aml_reviews, load_aml
from bankml.datasets.bank_marketing import load_bank_marketing, synthesize_bank_marketing
from bankml.datasets.card_fraud import synthesize_card_fraud
from bankml.datasets.card_fraud_ulb import load_card_fraud_ulb, synthesize_card_fraud_ulb
from bankml.datasets.card_transactions import synthesize_card_transactions
from bankml.datasets.examples import EXAMPLE_LOADERS, load_example
from bankml.datasets.german_credit import ExampleData, load_german_credit, synthesize_german_credit

__all__ = ["EXAMPLE_LOADERS", "AmlWorld", "ExampleData", "aml_reviews", "load_aml",
           "load_bank_marketing", "load_card_fraud_ulb", "load_example", "load_german_credit",
           "synthesize_aml", "synthesize_bank_marketing", "synthesize_card_fraud",
           "synthesize_card_fraud_ulb", "synthesize_card_transactions",
           "synthesize_german_credit"]
