#!/usr/bin/env bash
# Everything a fresh machine needs: system tools, a virtualenv with kurator, and the local fleet's binaries
# (built from the Go module proxy into ~/.cache/kurator, never into the repository). Safe to re-run.
set -euo pipefail
cd "$(dirname "$0")/.."
setup_began=$SECONDS

step() { printf '\n==> %s\n' "$*"; }
timed() { local t0=$SECONDS; "$@"; printf '    (%ss)\n' "$((SECONDS - t0))"; }

need_apt=()
command -v ip >/dev/null || need_apt+=(iproute2)
command -v nsenter >/dev/null || need_apt+=(util-linux)
# The SSH preflight's tests run their own sshd servers in network namespaces (tests/integration/sshhosts.py);
# installing openssh-server must not start a system ssh service, so a policy-rc.d forbids that meanwhile
# (container images usually ship one; a temporary one is removed again).
[ -x /usr/sbin/sshd ] || need_apt+=(openssh-server)
# ansible-playbook (the worker wrapper's tests) connects with the OpenSSH client.
command -v ssh >/dev/null || need_apt+=(openssh-client)
if [ ${#need_apt[@]} -gt 0 ]; then
  step "apt-get install ${need_apt[*]}"
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  timed bash -c "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${need_apt[*]} >/dev/null"
fi

# Each API server, Karmada component and Prometheus watches its files with inotify; a fleet of ten
# members with monitoring needs more instances than the kernel's default 128 per user.
if [ "$(cat /proc/sys/fs/inotify/max_user_instances 2>/dev/null || echo 0)" -lt 1024 ] && [ "$(id -u)" = 0 ]; then
  step "raise fs.inotify.max_user_instances to 1024"
  sysctl -q -w fs.inotify.max_user_instances=1024 || echo "    (could not: a large local fleet may run out of inotify instances)"
fi

if [ ! -x .venv/bin/python ]; then
  step "python virtualenv"
  timed python3 -m venv .venv
fi
# Installed again only when pyproject.toml changed since the last set-up (the install is editable: code
# changes need none).
deps=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ "$(cat .venv/.kurator-deps 2>/dev/null)" != "$deps" ]; then
  step "pip install kurator and its development tools"
  timed .venv/bin/pip install -q --disable-pip-version-check -e '.[dev]'
  echo "$deps" >.venv/.kurator-deps
fi

if ! command -v go >/dev/null; then
  echo "go is not installed: the local fleet's binaries are built with Go >= 1.25 (or use --source download)" >&2
  exit 1
fi
step "local fleet binaries (cache: ${KURATOR_CACHE:-~/.cache/kurator})"
timed .venv/bin/kurator local fetch --source "${KURATOR_BINARY_SOURCE:-build}"
# The fleet's own kubectl beside kurator: `export PATH="$PWD/.venv/bin:$PATH"` gives both by name.
kubectl_bin=$(.venv/bin/python -c 'from kurator.binaries import kubectl_path; print(kubectl_path())')
ln -sfn "$kubectl_bin" .venv/bin/kubectl
took=$((SECONDS - setup_began))
printf '\nset-up took %dm %02ds\n' $((took / 60)) $((took % 60))
