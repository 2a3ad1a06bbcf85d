"""What a schema's choice of features is measured to cost: the advice ``linkage encode`` prints.

A provider may encode with any clkhash v3 schema, and the engine links whatever it is given.
Some choices cost recall exactly where the origin gap is measured, or leave the encodings
open to attacks, and the benchmarks have measured how much (docs/encoding.md,
docs/matching.md). The encoder names those choices before it starts, so that a provider who
writes a schema from clkhash's documentation learns it before the statistics do. Advice
never stops an encoding: the schema may be what all providers agreed on.
"""

from __future__ import annotations

from linkage.encoding.features import GIVEN_NAMES, SURNAME, Feature, plan_features
from linkage.encoding.schema import LinkageSchema

SEX_COLUMNS = frozenset({"sex", "gender", "geslacht"})

SEPARATE_NAMES = (
    "given names and surname are separate features, each with its own key: a record whose given "
    "name and surname were swapped (4 % of the integration agency's records in the held-out "
    "population) shares no name bit with its partner. Hash them as one feature, "
    "'given_names.first+surname', as belgian-v4 does (a schema like this one linked ksz-integration "
    "at F1 0.978-0.987 there, with a 2-3 pt recall gap between origin groups; half its misses were "
    "swapped names)")
ALL_GIVEN_NAMES = (
    "feature {feature!r} hashes all given names: the national register holds every given name, "
    "most other sources only the first (40-85 % of their records in the held-out population), so "
    "the pair disagrees on the rest; 'given_names.first' hashes the first only")
SEX_FEATURE = (
    "feature {feature!r} encodes sex: it can be read off the CLKs without the key (AUC 1.00 for a "
    "plain clkhash schema in bench_privacy); belgian-v4 leaves it out")
NOT_HARDENED = (
    "the CLKs have no diffusion layer: whoever holds them and knows 25 of the persons re-identified "
    "every record by graph matching in bench_privacy with belgian-v1 or a plain clkhash schema, and "
    "76 % with belgian-v2 (folded, bits flipped); belgian-v4 folds and diffuses them")


def schema_advice(schema: LinkageSchema) -> list[str]:
    """The measured costs of ``schema``'s choices, one sentence each (none for belgian-v3 and -v4)."""
    features = [feature for feature in plan_features(schema.clkhash_schema().fields) if feature is not None]
    advice = []
    kinds = [{source.kind for source in feature.sources} for feature in features]
    if any(GIVEN_NAMES in k for k in kinds) and any(SURNAME in k for k in kinds) \
            and not any({GIVEN_NAMES, SURNAME} <= k for k in kinds):
        advice.append(SEPARATE_NAMES)
    advice += [ALL_GIVEN_NAMES.format(feature=feature.identifier) for feature in features
               if any(source.kind == GIVEN_NAMES and source.part is None for source in feature.sources)]
    advice += [SEX_FEATURE.format(feature=feature.identifier) for feature in features if _reads_sex(feature)]
    if schema.diffusion_inputs == 0:
        advice.append(NOT_HARDENED)
    return advice


def _reads_sex(feature: Feature) -> bool:
    return any(source.column.lower() in SEX_COLUMNS for source in feature.sources)
