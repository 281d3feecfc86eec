-- How role r's password is stored (a row of pg_authid): none, scram or md5.
CASE WHEN r.rolpassword IS NULL THEN 'none'
     WHEN r.rolpassword LIKE 'SCRAM-SHA-256$%' THEN 'scram'
     WHEN r.rolpassword LIKE 'md5%' THEN 'md5' END
