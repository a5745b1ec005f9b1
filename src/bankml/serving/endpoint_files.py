"""Reading endpoint definitions from YAML: validated, every error naming its field.

```yaml
name: credit-pd                 # the endpoint: POST /v1/endpoints/credit-pd/decisions
model: german-credit-pd         # decides with this model's champion (a version in prod)
entity: [customer_id]           # request fields naming the customer (pseudonymised)
policy: {kind: approve_refer_decline, approve_below: 0.15, decline_from: 0.45}
reasons: {catalogue: reasons.yaml, top: 4}   # adverse decisions get the top reasons
mode: automatic                 # or human_review, or stopped
missing_entity: refuse          # or defaults (then `defaults:` gives each feature's value)
```

A catalogue path is read relative to the file; `builtin:german-credit` names the example
shipped with bankml. Its text becomes part of the endpoint version.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bankml.core.decisions import PolicyKind
from bankml.core.endpoints import MAX_REASONS, Endpoint, MissingEntity, Mode, Reasons
from bankml.core.errors import BankmlError, SpecError
from bankml.documents import load_yaml
from bankml.explain import example_catalogue_text

BUILTIN_CATALOGUES = {"builtin:german-credit": example_catalogue_text}


class _Block(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Reasons(_Block):
    catalogue: str = Field(min_length=1)
    top: int = Field(MAX_REASONS, ge=1, le=MAX_REASONS)


class _Monitoring(_Block):
    attributes: list[str] = []


class _EndpointFile(_Block):
    name: str
    model: str
    entity: list[str] = Field(min_length=1)
    policy: dict[str, Any]
    reasons: _Reasons | None = None
    mode: Mode = Mode.AUTOMATIC
    missing_entity: MissingEntity = MissingEntity.REFUSE
    defaults: dict[str, Any] = {}
    monitoring: _Monitoring = _Monitoring()
    description: str = ""
    owner: str = ""


def load_endpoint(path: Path) -> Endpoint:
    """The endpoint `path` defines; a SpecError lists each problem with its field."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SpecError(str(path), [f"cannot be read: {exc.strerror}"],
                        kind="an endpoint definition", rule="endpoint.file") from exc
    return parse_endpoint(text, source=str(path), folder=path.parent)


def parse_endpoint(text: str, *, source: str, folder: Path) -> Endpoint:
    try:
        data = load_yaml(text, source=source)
    except yaml.YAMLError as exc:
        raise _error(source, [f"not valid YAML ({exc})"]) from exc
    try:
        parsed = _EndpointFile.model_validate(data)
    except ValidationError as exc:
        raise _error(source, [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
                              for e in exc.errors()]) from None
    policy = dict(parsed.policy)
    try:
        kind = PolicyKind(policy.pop("kind", None))
    except ValueError:
        kinds = ", ".join(k.value for k in PolicyKind)
        raise _error(source, [f"policy.kind: give one of {kinds}"]) from None
    try:
        return Endpoint(
            name=parsed.name, model=parsed.model, entity=tuple(parsed.entity),
            policy_kind=kind, cutoffs=policy, mode=parsed.mode,
            missing_entity=parsed.missing_entity, defaults=parsed.defaults,
            monitoring_attributes=tuple(parsed.monitoring.attributes),
            description=parsed.description.strip(), owner=parsed.owner,
            reasons=None if parsed.reasons is None else Reasons(
                catalogue=_catalogue_text(parsed.reasons.catalogue, folder, source),
                top=parsed.reasons.top))
    except SpecError:
        raise
    except BankmlError as exc:
        raise _error(source, [str(exc)], rule=exc.rule) from None


def _catalogue_text(reference: str, folder: Path, source: str) -> str:
    if reference in BUILTIN_CATALOGUES:
        return BUILTIN_CATALOGUES[reference]()
    path = Path(reference) if Path(reference).is_absolute() else folder / reference
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise _error(source, [f"reasons.catalogue: {path} cannot be read ({exc.strerror})"]
                     ) from exc


def _error(source: str, problems: list[str], *, rule: str = "endpoint.file") -> SpecError:
    return SpecError(source, problems, kind="an endpoint definition", rule=rule)
