# crm-pulse server image: `pulse serve` (Slack HTTP mode, add-on API, scheduler) on port 3000.
# Dependencies come only from uv.lock (`uv sync --frozen`); the process runs as an unprivileged user.
# See docs/deploy.md. Build: docker build -t crm-pulse .
FROM python:3.11-slim

COPY --from=ghcr.io/astral-sh/uv:0.13.9 /uv /uvx /bin/

ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv \
    PYTHONUNBUFFERED=1

WORKDIR /app
RUN groupadd --system --gid 10001 pulse \
 && useradd --system --uid 10001 --gid pulse --home-dir /app --no-create-home --shell /usr/sbin/nologin pulse \
 && mkdir -p /var/lib/pulse \
 && chown pulse:pulse /var/lib/pulse

# Third-party dependencies first (a cached layer while only our code changes), exactly as locked.
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project

# Our packages (the ones [tool.hatch.build.targets.wheel] lists), then the project itself.
COPY bot/ bot/
COPY metrics/ metrics/
COPY sheets/ sheets/
COPY config/ config/
RUN uv sync --frozen --no-dev --no-editable

ENV PATH="/app/.venv/bin:${PATH}" \
    PULSE_STATE_DIR=/var/lib/pulse \
    MPLCONFIGDIR=/tmp/matplotlib
VOLUME ["/var/lib/pulse"]
USER pulse:pulse
EXPOSE 3000

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:3000/healthz', timeout=4)"]

ENTRYPOINT ["pulse"]
CMD ["serve", "--host", "0.0.0.0", "--port", "3000"]
