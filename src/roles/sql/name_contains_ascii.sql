-- Whether role r's name contains the search, an ASCII text, whatever the
-- case: folding in "C" (a name's collation, ASCII only) finds the same names,
-- at a fraction of the cost of a UTF-8 locale's folding over ten thousand
-- names. A plain substring, never a pattern.
strpos(lower(r.rolname::text), lower($2 COLLATE "C")) > 0
