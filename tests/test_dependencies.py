"""The dependency decision: clkhash 0.18.3 runs on a current cryptography, unchanged.

clkhash pins cryptography<41 (releases with published CVEs). The Makefile installs a
current cryptography over that pin; these tests prove the override is in place and that
clkhash's CLKs are bit-for-bit those it makes on its own pinned version.
"""

import base64
import io
import json
from pathlib import Path

import cryptography
from clkhash import clk, schema

GOLDEN = json.loads((Path(__file__).parent / "data" / "clkhash_golden.json").read_text())


def test_clkhash_encodes_identically_on_the_installed_cryptography():
    linkage_schema = schema.from_json_dict(GOLDEN["schema"])
    filters = clk.generate_clk_from_csv(
        io.StringIO(GOLDEN["csv"]), GOLDEN["secret"], linkage_schema,
        validate=True, header=True, progress_bar=False,
    )
    encoded = [base64.b64encode(bits.tobytes()).decode() for bits in filters]
    assert encoded == GOLDEN["clks"]


def test_cryptography_is_not_the_pinned_vulnerable_release():
    major = int(cryptography.__version__.split(".")[0])
    assert major >= 46, (
        f"cryptography {cryptography.__version__} is installed; run `make setup` "
        "(it overrides clkhash's pin, see README 'Dependency decision')"
    )
