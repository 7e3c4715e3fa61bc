"""gunicorn's settings for the web container: `gunicorn --config python:ccadmin.gunicorn_conf`
(docker-compose.yml and the Dockerfile pass it; command-line flags still win).

The access log leaves out query strings and the Referer header. Constant
Contact's OAuth redirect carries the authorization code and state in the query
(GET /oauth/constantcontact/callback/?code=...&state=...), and our own pages put
searches for people's names and addresses there; a Referer repeats such URLs.
gunicorn's default format logs both through %(r)s and %(f)s.
"""

# Written to standard output, as the container's other logs.
accesslog = "-"
# The default format, with the request line rebuilt from method, path and protocol
# (%(U)s is the path alone) and without the Referer.
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s "%(a)s"'
