import logging

logger = logging.getLogger(__name__)


def sync(client):
    try:
        client.sync()
    except Exception:
        pass


def fetch(client):
    try:
        return client.fetch()
    except BaseException:
        return None


def push(client):
    try:
        client.push()
    except Exception:  # backendlint: ignore[BL401]
        pass


def logged(client):
    try:
        client.push()
    except Exception:
        logger.exception("push failed")
