FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY hub ./hub
COPY identity ./identity
COPY ledger ./ledger
COPY sync ./sync
COPY bus ./bus
RUN pip install . && useradd --system --uid 10001 memberhub
USER memberhub
EXPOSE 8000
CMD ["memberhub", "serve", "--host", "0.0.0.0", "--port", "8000"]
