-- The CTE since(everything, age), for a look that reads only the catalog
-- rows written since an earlier look: the CTE given(floor) holds a 64-bit
-- transaction id (text) below which every transaction had ended when that
-- look began (snapshot_floor.sql), or NULL. A grant, a revoke, a
-- membership, an ownership and a default privilege each write a new row
-- version (never in place), whose xmin is no older than the floor: such a
-- row is one whose age(xmin) is at most `age`. Rows carry 32-bit ids,
-- compared by age, which wraps after 2^31 transactions: without a floor,
-- or when it is not within a billion transactions before this statement's
-- snapshot (compared in 64 bits: another server's, a restore), `everything`
-- is true and every row is read.
since AS (SELECT g.floor IS NULL
                 OR pg_snapshot_xmin(pg_current_snapshot())::text::numeric
                    - g.floor::numeric NOT BETWEEN 0 AND 1000000000 AS everything,
                 age(((g.floor::numeric % 4294967296 + 4294967296) % 4294967296)::text::xid)
                   AS age
            FROM given g)
