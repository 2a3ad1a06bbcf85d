"""Provider-side encoding: CSV rows to clkhash CLKs, keyed national-number tokens and the
declared payload, written as an extract (see ``docs/encoding.md``)."""

from linkage.encoding.encode import DuplicateRecordIds, RejectedRows, encode_csv
from linkage.encoding.schema import LinkageSchema, SchemaError, load_schema, schema_from_dict
from linkage.encoding.secret import SecretError, key_check, read_secret
from linkage.encoding.summary import Problem, Summary

__all__ = [
    "encode_csv", "RejectedRows", "DuplicateRecordIds",
    "LinkageSchema", "SchemaError", "load_schema", "schema_from_dict",
    "read_secret", "key_check", "SecretError", "Summary", "Problem",
]
