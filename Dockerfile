# tenantctl as a container image: `tenantctl controller` as a StatefulSet
# (examples/kubernetes/controller.yaml), or any other command as a Job (cronjob.yaml).
#
#   docker build -t registry.example.com/northwind/tenantctl:0.1.0 .
#
# It runs as a non-root user with a read-only root file system: everything tenantctl writes
# goes to two volumes the pod mounts,
#   /var/lib/tenantctl   $TENANTCTL_HOME: the journal (.tenantctl/journal.sqlite) and the
#                        controller's git checkout (.tenantctl/checkout)
#   /home/tenantctl      $HOME: the secret sink (~/.tenantctl/secrets, generated passwords)
# and a writable /tmp. Credentials come from the environment (a Kubernetes Secret), never
# from the image.
FROM python:3.11-slim

# git: controller --git-url, plan --changed-since. ca-certificates: https to the services.
RUN apt-get update \
    && apt-get install --yes --no-install-recommends git ca-certificates \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /opt/tenantctl
COPY pyproject.toml constraints.txt README.md ./
COPY controller ./controller
# The same pins as CI (constraints.txt), and byte-code compiled now: the root file system is
# read-only at run time.
RUN pip install --no-cache-dir --constraint constraints.txt . \
    && python -m compileall -q /usr/local/lib/python3.11/site-packages

RUN groupadd --gid 10001 tenantctl \
    && useradd --uid 10001 --gid 10001 --home-dir /home/tenantctl --no-create-home \
        --shell /usr/sbin/nologin tenantctl \
    && install -d -m 0700 -o 10001 -g 10001 /var/lib/tenantctl /home/tenantctl

ENV HOME=/home/tenantctl \
    TENANTCTL_HOME=/var/lib/tenantctl \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
VOLUME ["/var/lib/tenantctl", "/home/tenantctl"]
WORKDIR /var/lib/tenantctl
USER 10001:10001
# --listen :9090 serves /healthz, /readyz and /metrics here.
EXPOSE 9090
ENTRYPOINT ["tenantctl"]
CMD ["--help"]
