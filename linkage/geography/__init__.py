"""Belgian geography for table dimensions: region -> province -> municipality (NIS codes), date-aware."""

from linkage.geography.municipalities import (
    COVERAGE_START,
    FLEMISH_REGION,
    Area,
    GeographyError,
    Hierarchy,
    Municipality,
    areas,
    current_code,
    hierarchy,
    municipalities,
    municipality,
    province_of,
    region_of,
)

__all__ = [
    "COVERAGE_START", "FLEMISH_REGION", "Area", "GeographyError", "Hierarchy", "Municipality", "areas",
    "current_code", "hierarchy", "municipalities", "municipality", "province_of", "region_of",
]
