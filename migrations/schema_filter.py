"""Which database objects belong to Peuplade's schema (used by env.py and the migration tests).

SpatiaLite and PostGIS keep their own system tables next to ours; autogenerate and
compare_metadata must neither drop nor re-create them.
"""

from geoalchemy2 import alembic_helpers

# Tables InitSpatialMetaData / CREATE EXTENSION postgis create that GeoAlchemy2's filter misses.
SPATIAL_SYSTEM_TABLES = frozenset(
    {
        "ElementaryGeometries",
        "KNN",
        "KNN2",
        "SpatialIndex",
        "data_licenses",
        "sql_statements_log",
        "spatial_ref_sys",
    }
)


# Indexes made by hand in migrations on PostgreSQL only (full-text search, see
# peuplade/search.py): the models cannot declare them for both backends.
POSTGRES_ONLY_INDEXES = frozenset({"ix_exchanges_search", "ix_items_search"})


def include_object(obj, name, obj_type, reflected, compare_to):
    """GeoAlchemy2's filter, plus the SpatiaLite system tables it does not know."""
    if obj_type == "table" and name in SPATIAL_SYSTEM_TABLES and compare_to is None:
        return False
    if obj_type == "index" and name in POSTGRES_ONLY_INDEXES:
        return False
    return alembic_helpers.include_object(obj, name, obj_type, reflected, compare_to)
