"""Sending with Amazon SES v2: ``CreateEmailTemplate`` once, ``SendBulkEmail`` per 50.

The requests are exactly those ``newsletter export --to ses`` writes (``newsletter.export.ses``).
boto3 is an optional extra (``pip install 'newsletter[ses]'``); credentials and region come
from the usual AWS sources (environment, ``~/.aws``), the region also from
``[providers] ses_region``. botocore's own retries are switched off: retrying a request whose
answer was lost could send it twice, so only refusals that prove nothing was sent
(throttling, no connection) are retried here, and a lost answer marks the batch uncertain.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from newsletter.deliver.export.ses import MAX_ENTRIES, SesIssue
from newsletter.deliver.send import Outgoing
from newsletter.errors import SendError
from newsletter.store.sendlog import Outcome

if TYPE_CHECKING:
    from newsletter.deliver.audience import Recipient
    from newsletter.deliver.export import Prepared
    from newsletter.deliver.merge import Personal

THROTTLED = {"TooManyRequestsException", "LimitExceededException", "ThrottlingException",
             "Throttling", "ServiceUnavailable", "InternalFailure"}  # fmt: skip
TEMPORARY_STATUSES = {"TRANSIENT_FAILURE", "ACCOUNT_THROTTLED", "ACCOUNT_DAILY_QUOTA_EXCEEDED"}
MAX_BACKOFF = 300.0


def _client(region: str | None) -> Any:
    try:
        import boto3
        from botocore.config import Config
    except ImportError:
        raise SendError(
            "--via ses needs boto3, which is not installed",
            hint="pip install 'newsletter[ses]'",
        ) from None
    config = Config(retries={"total_max_attempts": 1}, connect_timeout=10, read_timeout=60)
    try:
        return boto3.client("sesv2", region_name=region, config=config)
    except Exception as exc:  # botocore raises NoRegionError and friends
        raise SendError(
            f"cannot set up the SES client: {exc}",
            hint="set AWS_REGION (or [providers] ses_region) and AWS credentials",
        ) from exc


class SesTransport:
    name = "ses"
    batch_size = MAX_ENTRIES

    def __init__(
        self,
        prepared: Prepared,
        *,
        client: Any = None,
        max_attempts: int = 4,
        retry_delay: float = 2.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.ses = SesIssue(prepared)
        self.region = prepared.config.providers.ses_region
        self.client = client
        self.max_attempts = max_attempts
        self.retry_delay = retry_delay
        self.sleep = sleep
        self.template_ready = False

    def describe(self) -> str:
        return f"Amazon SES ({self.region or 'default region'})"

    def build(self, recipient: Recipient, personal: Personal) -> Outgoing:
        return Outgoing(recipient, personal)

    def __enter__(self) -> SesTransport:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def _call(self, operation: str, payload: dict[str, Any]) -> Any:
        """One API call. SES refusing it raises SendError; throttling and connection failures,
        which prove nothing was sent, are retried with backoff."""
        from botocore.exceptions import (
            ClientError,
            ConnectTimeoutError,
            EndpointConnectionError,
            NoCredentialsError,
        )

        if self.client is None:
            self.client = _client(self.region)
        detail = ""
        for attempt in range(1, self.max_attempts + 1):
            try:
                return getattr(self.client, operation)(**payload)
            except ClientError as exc:
                error = exc.response.get("Error", {})
                code, message = error.get("Code", "?"), error.get("Message", "")
                if code == "AlreadyExistsException" and operation == "create_email_template":
                    return None
                if code not in THROTTLED:
                    raise SendError(
                        f"SES refused {operation}: {code}: {message}",
                        hint="check the sender identity is verified in this region and the "
                        "account may send",
                    ) from exc
                detail = f"{code}: {message}"
            except (EndpointConnectionError, ConnectTimeoutError) as exc:
                detail = str(exc)
            except NoCredentialsError as exc:
                raise SendError(
                    "no AWS credentials found for SES",
                    hint="set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE",
                ) from exc
            if attempt < self.max_attempts:
                self.sleep(min(self.retry_delay * 2 ** (attempt - 1), MAX_BACKOFF))
        raise _Exhausted(detail)

    def deliver(self, batch: Sequence[Outgoing]) -> list[Outcome]:
        from botocore.exceptions import ConnectionClosedError, ReadTimeoutError

        if not self.template_ready:
            try:
                self._call("create_email_template", self.ses.create_template())
            except _Exhausted as exc:
                raise SendError(f"SES: cannot create the template: {exc}") from exc
            self.template_ready = True
        payload = self.ses.bulk_email([(o.recipient, o.personal) for o in batch])
        keys = [o.recipient.key for o in batch]
        try:
            response = self._call("send_bulk_email", payload)
        except _Exhausted as exc:
            return [Outcome(k, "deferred", f"SES: {exc}") for k in keys]
        except (ReadTimeoutError, ConnectionClosedError) as exc:
            return [Outcome(k, "uncertain", f"SES answer lost: {exc}") for k in keys]
        results = response.get("BulkEmailEntryResults", [])
        if len(results) != len(batch):
            return [
                Outcome(k, "uncertain", f"SES returned {len(results)} results for {len(keys)}")
                for k in keys
            ]
        outcomes = []
        for key, result in zip(keys, results, strict=True):
            status = result.get("Status", "")
            detail = f"{status} {result.get('Error', '')}".strip()
            if status == "SUCCESS":
                outcomes.append(Outcome(key, "sent", detail, result.get("MessageId")))
            elif status in TEMPORARY_STATUSES:
                outcomes.append(Outcome(key, "deferred", detail))
            else:
                outcomes.append(Outcome(key, "failed", detail))
        return outcomes


class _Exhausted(Exception):
    """Retries ran out on refusals that prove nothing was sent."""
