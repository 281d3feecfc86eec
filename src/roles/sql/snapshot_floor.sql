-- The oldest transaction still running for this statement's snapshot (as a
-- 32-bit transaction id, text): every transaction before it had ended.
SELECT (pg_snapshot_xmin(pg_current_snapshot())::text::bigint % 4294967296)::text
