"""Evidence as bankml stored it before records had a schema version (version 1).

Literal examples of the JSON: a manifest `bankml train` wrote and a validation run's
result, trimmed to a few tests and groups. Machine paths are replaced by neutral ones.
"""

from __future__ import annotations

from typing import Any

SPEC_V1: dict[str, Any] = {
    "calibration": None,
    "decision_policy": {"alert_from": None, "approve_below": 0.15, "block_from": None,
                        "decline_from": 0.45, "kind": "approve_refer_decline"},
    "estimator": {"class": None, "kind": "logistic_regression",
                  "params": {"C": 0.5, "max_iter": 1000}},
    "evaluation": {"metrics": None}, "features": [],
    "inputs": ["checking_status", "duration_months", "credit_history", "purpose",
               "credit_amount", "savings_status", "employment_since", "installment_rate_pct",
               "other_debtors", "residence_since", "property", "other_installment_plans",
               "housing", "existing_credits", "job", "num_dependents", "telephone"],
    "model": {"developer": "credit-modelling-team", "domain": "credit",
              "intended_use": "Probability that a consumer loan applicant defaults, used to "
              "approve, refer or decline applications for instalment loans.\n",
              "limitations": "Trained on 1,000 historical applications; the application "
              "dates are synthetic, so the out-of-time test checks the mechanics rather than "
              "drift. Not for business lending.\n",
              "name": "german-credit-pd", "owner": "retail-credit-risk",
              "protected_attributes": ["age_years", "sex", "personal_status_sex",
                                       "foreign_worker"], "risk_tier": 2},
    "preprocessing": {"categorical": {"encode": "one_hot", "impute": "missing"},
                      "numeric": {"impute": "median", "scale": True}, "woe_binning": None},
    "seed": 7,
    "source": {"dataset": "german_credit", "entity": ["row_id"],
               "event_timestamp": "application_date", "label": "default", "path": None},
    "split": {"holdout": {"share": 0.2},
              "out_of_time": {"date_column": None, "test_from": "2024-07-01"}},
    "tags": {"portfolio": "consumer-loans"}, "threads": 1,
}
# A manifest as `bankml train` stored it before manifests had a schema version (version 1).
MANIFEST_V1: dict[str, Any] = {
    "code": {"bankml": "0.1.0", "git_commit": "bd4b5e60f946dcf92be546c10afff4a1acfd535e"},
    "data_source": {"dataset": "german_credit",
                    "description": "synthetic German credit twin (1,000 rows, seed 7)",
                    "origin": "synthetic"},
    "dataset_rows": 1000,
    "dataset_sha256": "fa7d73b5c8aefc21378c3655fde76ba4281bb489bbba7ed57e49a32eaabcb658",
    "dataset_snapshot_sha256": (
        "c59e7517806ef6999f083f076f3d7540542c883d1522bf1975a4fdb82a3cb607"),
    "dependencies": {"lightgbm": "4.7.0", "numpy": "2.4.6", "pandas": "3.1.1",
                     "pyarrow": "26.0.1", "scikit-learn": "1.9.1", "scipy": "1.17.1",
                     "skops": "0.16.0", "threadpoolctl": "3.8.0"},
    "feature_refs": {}, "feature_views": [],
    "platform": {"implementation": "CPython", "machine": "x86_64", "python": "3.11.7",
                 "system": "Linux"},
    "seeds": {"seed": 7},
    "spec": SPEC_V1,
    "spec_folder": "/srv/models/bankml/examples",
    "spec_sha256": "adc5c2bff1aa2114fbe500c7bbaa90569623ac53ca6e3a0f52af2701e408c1f8",
    "splits": {"holdout": 153, "test": 238, "train": 609},
    "threads": {"threads": 1},
}

