"""What a schema's choice of features is measured to cost: the advice ``linkage encode`` prints.

A provider may encode with any clkhash v3 schema, and the engine links whatever it is given.
Some choices cost recall exactly where the origin gap is measured, or leave the encodings
open to attacks, and the benchmarks have measured how much (docs/encoding.md,
docs/matching.md). The encoder names those choices before it starts, so that a provider who
writes a schema from clkhash's documentation learns it before the statistics do. Advice
never stops an encoding: the schema may be what all providers agreed on.
"""

from __future__ import annotations

from linkage.encoding.features import GIVEN_NAMES, Feature, plan_features
from linkage.encoding.keys import name_features_agree
from linkage.encoding.schema import LinkageSchema

SEX_COLUMNS = frozenset({"sex", "gender", "geslacht"})

SEPARATE_NAMES = (
    "the name features cut or hash a name differently (comparison, hash or text encoding): they "
    "share one key, but a given name and surname swapped between them (4 % of the integration "
    "agency's records in the held-out population) still set other bits than their partner's. Give "
    "them the same comparison and hash, or hash them as one feature, 'given_names.first+surname', as "
    "belgian-v4 does (a plain schema linked ksz-integration at F1 0.984 on two development seeds "
    "with a key per name feature, 0.991-0.993 with one key for both)")
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
    if not name_features_agree(features):
        advice.append(SEPARATE_NAMES)
    advice += [ALL_GIVEN_NAMES.format(feature=feature.identifier) for feature in features
               if any(source.kind == GIVEN_NAMES and source.part is None for source in feature.sources)]
    advice += [SEX_FEATURE.format(feature=feature.identifier) for feature in features if _reads_sex(feature)]
    if schema.diffusion_inputs == 0:
        advice.append(NOT_HARDENED)
    return advice


def _reads_sex(feature: Feature) -> bool:
    return any(source.column.lower() in SEX_COLUMNS for source in feature.sources)
