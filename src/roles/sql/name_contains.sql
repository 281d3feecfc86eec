-- Whether role r's name contains the search, whatever the case, both sides
-- folded by the database's collation. A plain substring, never a pattern.
strpos(lower(r.rolname::text COLLATE "default"), lower($2)) > 0
