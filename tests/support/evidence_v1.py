# ruff: noqa: E501 - literal stored JSON: its text values are not ours to wrap
"""Evidence as bankml stored it before records had a schema version (version 1).

Literal examples of the JSON: a manifest `bankml train` wrote and a validation run's
result, trimmed to a few tests and groups. Machine paths are replaced by neutral ones.
"""

from __future__ import annotations

import json
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



# A credit run's result as `bankml validate` stored it: four of its tests, the AUC and
# PD-07 details, a ROC curve cut to three points, one attribute and one intersection of
# its fairness tables (nulls where a rate could not be computed), the previous run.
RESULT_V1_TEXT = """{
 "against": null,
 "created_at": "2026-12-02T05:46:50.377531Z",
 "created_by": "vera",
 "details": {
  "out_of_time": {
   "auc": {
    "auc": 0.7231081926203877,
    "ci_high": 0.7894408226185226,
    "ci_low": 0.6567755626222529,
    "confidence": 0.95,
    "gini": 0.44621638524077545,
    "n_events": 82,
    "n_non_events": 156,
    "std_error": 0.03384380045825237,
    "variance": 0.001145402829458003
   },
   "auc_vs_initial": {
    "auc_current": 0.7231081926203877,
    "auc_initial": 0.7231081926203877,
    "p_value": 0.5,
    "source": "initial validation run a4ed1e541d13159f",
    "statistic": 0.0,
    "variance": 0.001145402829458003
   },
   "fairness": [
    {
     "attribute": "sex",
     "calibration": [
      {
       "default_rate": 0.32857142857142857,
       "difference": 0.06102412479535457,
       "group": "sex=female",
       "is_small": false,
       "jeffreys_p_value": 0.12549468336783368,
       "mean_pd": 0.267547303776074,
       "n": 70
      }
     ],
     "groups": [
      {
       "average_odds_difference": 0.0,
       "average_odds_difference_high": 0.0,
       "average_odds_difference_low": 0.0,
       "equal_opportunity_difference": 0.0,
       "equal_opportunity_difference_high": 0.0,
       "equal_opportunity_difference_low": 0.0,
       "false_positive_rate": 0.6086956521739131,
       "four_fifths_flag": false,
       "group": "sex=female",
       "impact_ratio": 1.0,
       "impact_ratio_high": 1.0,
       "impact_ratio_low": 1.0,
       "is_small": false,
       "n": 70,
       "p_value": 1.0,
       "selection_rate": 0.8,
       "shortfall": 0.0,
       "statistical_parity_difference": 0.0,
       "statistical_parity_difference_high": 0.0,
       "statistical_parity_difference_low": 0.0,
       "true_positive_rate": 0.8936170212765957,
       "z": 0.0
      },
      {
       "average_odds_difference": -0.112297683327649,
       "average_odds_difference_high": 0.021951879657155355,
       "average_odds_difference_low": -0.23145220525388704,
       "equal_opportunity_difference": -0.14132344329494428,
       "equal_opportunity_difference_high": -0.030141318643142442,
       "equal_opportunity_difference_low": -0.2559885311434633,
       "false_positive_rate": 0.5254237288135594,
       "four_fifths_flag": false,
       "group": "sex=male",
       "impact_ratio": 0.8407738095238095,
       "impact_ratio_high": 0.9837030915544476,
       "impact_ratio_low": 0.7241046581972173,
       "is_small": false,
       "n": 168,
       "p_value": 0.04844296791800946,
       "selection_rate": 0.6726190476190477,
       "shortfall": 21.4,
       "statistical_parity_difference": -0.12738095238095237,
       "statistical_parity_difference_high": -0.011763664055484683,
       "statistical_parity_difference_low": -0.23929395117964858,
       "true_positive_rate": 0.7522935779816514,
       "z": -1.9734618413761371
      }
     ],
     "min_max_ratio": 0.8407738095238095,
     "proxies": [
      {
       "auc": null,
       "cramers_v": 0.21520818493305943,
       "feature": "purpose"
      }
     ],
     "reference": "sex=female",
     "reference_rule": "highest selection rate"
    },
    {
     "attribute": "age_years & sex",
     "groups": [
      {
       "average_odds_difference": null,
       "average_odds_difference_high": null,
       "average_odds_difference_low": null,
       "equal_opportunity_difference": 0.2093023255813954,
       "equal_opportunity_difference_high": 0.33333333333333337,
       "equal_opportunity_difference_low": 0.09342296511627911,
       "false_positive_rate": null,
       "four_fifths_flag": false,
       "group": "age_years=50-65 & sex=female",
       "impact_ratio": 1.375,
       "impact_ratio_high": 1.626432748538011,
       "impact_ratio_low": 1.2037037037037037,
       "is_small": true,
       "n": 4,
       "p_value": 0.2255775378741387,
       "selection_rate": 1.0,
       "shortfall": -1.0909090909090908,
       "statistical_parity_difference": 0.2727272727272727,
       "statistical_parity_difference_high": 0.38515245249668556,
       "statistical_parity_difference_low": 0.16923076923076918,
       "true_positive_rate": 1.0,
       "z": 1.211829801800347
      }
     ],
     "min_max_ratio": 0.8369565217391305,
     "reference": "age_years=35-50 & sex=male",
     "reference_rule": "highest selection rate"
    }
   ],
   "ks": {
    "p_value": 7.84614613733748e-08,
    "statistic": 0.38805503439649786,
    "threshold": 0.31023244856341536
   },
   "roc": {
    "fpr": [
     0.0,
     0.0,
     0.00641025641025641
    ],
    "tpr": [
     0.0,
     0.012195121951219513,
     0.012195121951219513
    ]
   }
  }
 },
 "domain": "credit",
 "fairness_passed": true,
 "model": "german-credit-pd@1",
 "model_card": {
  "developer": "credit-modelling-team",
  "domain": "credit",
  "intended_use": "Probability that a consumer loan applicant defaults, used to approve, refer or decline applications for instalment loans.",
  "limitations": "Trained on 1,000 historical applications; the application dates are synthetic, so the out-of-time test checks the mechanics rather than drift. Not for business lending.",
  "owner": "retail-credit-risk",
  "protected_attributes": [
   "age_years",
   "sex",
   "personal_status_sex",
   "foreign_worker"
  ],
  "risk_tier": 2
 },
 "opinion": {
  "label": "adequate, minor deficiencies",
  "level": 2
 },
 "policy": {
  "effective": "2026-01-01",
  "id": "bankml-credit-default",
  "opinion_rule": {
   "source": "ECB instructions 2.4.2 give the four-level scale; its mapping from test verdicts is bank policy",
   "tag": "bank_policy"
  },
  "sha256": "f4db3961c3fa48e0c5046a0fbb1c824d799b8021db0a4e74139568e1995de864",
  "version": "2026.1+f4db3961c3fa"
 },
 "previous": {
  "created_at": "2026-12-02T05:46:47.340633Z",
  "deltas": [
   {
    "before": 0.7231081926203877,
    "now": 0.7231081926203877,
    "population": "out_of_time",
    "test": "discrimination.auc",
    "verdict_before": "green",
    "verdict_now": "green"
   },
   {
    "before": -1.5886699515529483,
    "now": 0.0,
    "population": "out_of_time",
    "test": "discrimination.auc_vs_initial",
    "verdict_before": "green",
    "verdict_now": "green"
   }
  ],
  "model": "german-credit-pd@1",
  "opinion": {
   "label": "adequate, minor deficiencies",
   "level": 2
  },
  "run_id": "a4ed1e541d13159f"
 },
 "reproduce": {
  "against_artifact_sha256": null,
  "artifact_sha256": "0e890c76a024d3e098ce177b9ff5eab11bbd467cad5c9bfa8d692a178a080228",
  "code": {
   "bankml": "0.1.0",
   "git_commit": "bd4b5e60f946dcf92be546c10afff4a1acfd535e"
  },
  "command": "bankml validate german-credit-pd@1",
  "dataset_sha256": "fa7d73b5c8aefc21378c3655fde76ba4281bb489bbba7ed57e49a32eaabcb658",
  "policy_sha256": "f4db3961c3fa48e0c5046a0fbb1c824d799b8021db0a4e74139568e1995de864",
  "seed": 0,
  "snapshot_sha256": "c59e7517806ef6999f083f076f3d7540542c883d1522bf1975a4fdb82a3cb607",
  "spec_sha256": "adc5c2bff1aa2114fbe500c7bbaa90569623ac53ca6e3a0f52af2701e408c1f8"
 },
 "run_id": "d965a916504d2791",
 "scope": {
  "dataset_sha256": "fa7d73b5c8aefc21378c3655fde76ba4281bb489bbba7ed57e49a32eaabcb658",
  "decision_cutoffs": {
   "approve_below": 0.15,
   "decline_from": 0.45
  },
  "out_of_time": {
   "event_rate": 0.3445378151260504,
   "events": 82,
   "period": [
    "2024-07-01",
    "2024-12-31"
   ],
   "rows": 238
  },
  "protected_attributes": [
   "age_years",
   "sex",
   "personal_status_sex",
   "foreign_worker"
  ],
  "snapshot_sha256": "c59e7517806ef6999f083f076f3d7540542c883d1522bf1975a4fdb82a3cb607",
  "test_from": "2024-07-01",
  "train": {
   "event_rate": 0.2922824302134647,
   "events": 178,
   "period": [
    "2023-01-01",
    "2024-06-30"
   ],
   "rows": 609
  }
 },
 "tests": [
  {
   "detail": "Gini 0.4462, 95% CI [0.6568, 0.7894] (DeLong)",
   "p_value": null,
   "population": "out_of_time",
   "test": "discrimination.auc",
   "threshold": {
    "amber": 0.6,
    "better": "higher",
    "green": 0.7,
    "material": true,
    "source": "No regulatory level (regulatory.md PD-31); bank default",
    "statistic": "value",
    "tag": "bank_policy",
    "text": ">= 0.7 green, >= 0.6 amber"
   },
   "value": 0.7231081926203877,
   "verdict": "green"
  },
  {
   "detail": "initial AUC 0.7231 (initial validation run a4ed1e541d13159f), current 0.7231",
   "p_value": 0.5,
   "population": "out_of_time",
   "test": "discrimination.auc_vs_initial",
   "threshold": {
    "amber": 0.01,
    "better": "higher",
    "green": 0.05,
    "material": false,
    "source": "ECB instructions 2.5.4 (PD-07) give the test, not a level; bank default",
    "statistic": "p_value",
    "tag": "bank_policy",
    "text": ">= 0.05 green, >= 0.01 amber"
   },
   "value": 0.0,
   "verdict": "green"
  },
  {
   "detail": "PD 0.3117, defaults 82/238",
   "p_value": 0.13726789362311062,
   "population": "out_of_time",
   "test": "calibration.jeffreys_portfolio",
   "threshold": {
    "amber": 0.01,
    "better": "higher",
    "green": 0.05,
    "material": true,
    "source": "ECB instructions 2.5.3.1 (PD-05) publish no rejection threshold; bank default",
    "statistic": "p_value",
    "tag": "bank_policy",
    "text": ">= 0.05 green, >= 0.01 amber"
   },
   "value": 0.3445378151260504,
   "verdict": "green"
  },
  {
   "detail": "reference sex=female; ",
   "p_value": null,
   "population": "out_of_time",
   "test": "fairness.impact_ratio[sex]",
   "threshold": {
    "amber": 0.7,
    "better": "higher",
    "green": 0.8,
    "material": false,
    "source": "Four-fifths rule, 29 CFR 1607.4(D) (regulation in employment, industry in credit; FL-11)",
    "statistic": "value",
    "tag": "industry",
    "text": ">= 0.8 green, >= 0.7 amber"
   },
   "value": 0.8407738095238095,
   "verdict": "green"
  }
 ]
}"""
RESULT_V1: dict[str, Any] = json.loads(RESULT_V1_TEXT)

# A fraud run's fairness table: alert parity by group.
ALERT_FAIRNESS_V1: dict[str, Any] = json.loads("""{
 "attribute": "age_years",
 "groups": [
  {
   "alert_rate": 0.024752475247524754,
   "alert_rate_ratio": 2.0643564356435644,
   "false_positive_rate": 0.025,
   "false_positive_rate_ratio": 3.375,
   "group": "age_years=25-35",
   "is_small": false,
   "n": 202,
   "precision": 0.0,
   "precision_ratio": 0.0
  },
  {
   "alert_rate": 0.022653721682847898,
   "alert_rate_ratio": 1.8893203883495147,
   "false_positive_rate": 0.011705685618729096,
   "false_positive_rate_ratio": 1.5802675585284278,
   "group": "age_years=35-50",
   "is_small": false,
   "n": 618,
   "precision": 0.5,
   "precision_ratio": 1.25
  }
 ]
}""")
