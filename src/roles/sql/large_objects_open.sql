-- Whether PUBLIC may run all, and any, of functions $1 (text[] of
-- regprocedure names).
SELECT bool_and(has_function_privilege('public', f, 'EXECUTE')),
       bool_or(has_function_privilege('public', f, 'EXECUTE'))
  FROM unnest($1::text[]) f
