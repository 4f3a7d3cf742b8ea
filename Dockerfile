# The cluster operator's image: `kurator operator run` (the chart in src/kurator/components/charts/
# cluster-operator runs it as user 10001 with a read-only root filesystem; its Deployment passes the flags).
#
#   docker build -t <registry>/kurator/cluster-operator:0.1.0 .
#
# NOT BUILT on this project's machines: they have no container engine, and no registry publishes the image
# yet. What is checked here instead (tests/unit/test_operator_image.py, scripts/check-operator-image.sh):
# every file it copies exists and passes .dockerignore, the user and entrypoint match the chart, and a
# fresh virtualenv that installs exactly the copied files runs `kurator operator run --help`.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install --no-cache-dir --no-compile --prefix=/install .

FROM python:3.11-slim
COPY --from=build /install /usr/local
# Byte-compiled once here: the root filesystem is read-only at run time.
RUN python -m compileall -q /usr/local/lib/python3.11/site-packages \
    && groupadd --gid 10001 kurator \
    && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /tmp --shell /usr/sbin/nologin kurator
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 HOME=/tmp
USER 10001:10001
EXPOSE 9440
ENTRYPOINT ["kurator", "operator", "run"]
