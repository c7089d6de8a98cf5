"""hub/store/pg against a real throwaway PostgreSQL server (tests/pg.py)."""
