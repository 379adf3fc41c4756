# Lightbox's local runtime in one image, for docker-compose.yml: the API, every function as
# its worker processes, the schedules, and the embedded bucket and queues unless --s3 names
# others. The same code as ./dev.sh up, without the venv.
FROM python:3.12-slim-bookworm

# Not root: PostgreSQL, embedded or not, refuses to run as root, and nothing here needs it.
RUN useradd --create-home --uid 10001 lightbox && mkdir /data && chown lightbox /data
WORKDIR /lightbox
# The requirements first, so that a change of code does not install them again.
COPY requirements.txt requirements-local.txt ./
COPY web/cli ./web/cli
RUN pip install --no-cache-dir -r requirements-local.txt
COPY --chown=lightbox . .
USER lightbox

# The library's data: the bucket's objects, and the database when DATABASE_URL is not set.
VOLUME /data
ENTRYPOINT ["python", "-m", "infra.local"]
CMD ["up", "--data", "/data"]
