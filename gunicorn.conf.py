"""gunicorn settings read from the working directory by every gunicorn started here.

The access log never writes a query string or a referrer: some pages take identifiers (a
licence number is a resident ID number, share codes, search terms), and a log line is kept
and read far more widely than the database. `%(U)s` is the path alone.
"""

access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(L)s "%(a)s"'
