"""Sending with Amazon SES v2: ``CreateEmailTemplate`` once, ``SendBulkEmail`` per 50.

The requests are exactly those ``newsletter export --to ses`` writes
(``newsletter.deliver.export.ses``).
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
from newsletter.deliver.send.transport import Handover, Outgoing, TransportOptions
from newsletter.errors import SendError
from newsletter.store.sendlog import Outcome

if TYPE_CHECKING:
    from newsletter.deliver.export.prepared import Prepared
    from newsletter.deliver.merge import Personal
    from newsletter.deliver.recipient import Recipient

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

    def open(self) -> None:
        """The client and the issue's template (once), before anything is claimed."""
        if not self.template_ready:
            try:
                self._call("create_email_template", self.ses.create_template())
            except _Exhausted as exc:
                raise SendError(f"SES: cannot create the template: {exc}") from exc
            self.template_ready = True

    def _once(self, operation: str, payload: dict[str, Any]) -> Any:
        """One API call. SES refusing it raises SendError; throttling and connection failures,
        which prove nothing was sent, raise _Retry."""
        from botocore.exceptions import (
            ClientError,
            ConnectTimeoutError,
            EndpointConnectionError,
            NoCredentialsError,
        )

        if self.client is None:
            self.client = _client(self.region)
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
            raise _Retry(f"{code}: {message}") from exc
        except (EndpointConnectionError, ConnectTimeoutError) as exc:
            raise _Retry(str(exc)) from exc
        except NoCredentialsError as exc:
            raise SendError(
                "no AWS credentials found for SES",
                hint="set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE",
            ) from exc

    def _backoff(self, attempt: int) -> None:
        if attempt < self.max_attempts:
            self.sleep(min(self.retry_delay * 2 ** (attempt - 1), MAX_BACKOFF))

    def _call(self, operation: str, payload: dict[str, Any]) -> Any:
        detail = ""
        for attempt in range(1, self.max_attempts + 1):
            try:
                return self._once(operation, payload)
            except _Retry as exc:
                detail = exc.detail
            self._backoff(attempt)
        raise _Exhausted(detail)

    def deliver(self, batch: Sequence[Outgoing], handover: Handover) -> list[Outcome]:
        """One SendBulkEmail for the batch, marked as handed over for exactly the time of
        each request: a refusal that proves nothing was sent takes the mark back."""
        from botocore.exceptions import ConnectionClosedError, ReadTimeoutError

        outcomes: dict[str, Outcome] = {}
        pending = list(batch)
        detail = ""
        for attempt in range(1, self.max_attempts + 1):
            ours = handover.begin(pending)
            for item in pending:
                if item not in ours:
                    key = item.recipient.key
                    outcomes[key] = Outcome(key, "skipped", "taken over by another run")
            pending = ours
            if not pending:
                break
            payload = self.ses.bulk_email([(o.recipient, o.personal) for o in pending])
            try:
                response = self._once("send_bulk_email", payload)
            except _Retry as exc:
                handover.undo(pending)
                detail = exc.detail
                self._backoff(attempt)
                continue
            except SendError:
                handover.undo(pending)
                raise
            except (ReadTimeoutError, ConnectionClosedError) as exc:
                for item in pending:
                    key = item.recipient.key
                    outcomes[key] = Outcome(key, "uncertain", f"SES answer lost: {exc}")
                pending = []
                break
            outcomes.update(_results([o.recipient.key for o in pending], response))
            pending = []
            break
        for item in pending:  # throttled every time
            key = item.recipient.key
            outcomes[key] = Outcome(key, "deferred", f"SES: {detail}")
        return [outcomes[o.recipient.key] for o in batch]


def _results(keys: list[str], response: Any) -> dict[str, Outcome]:
    results = response.get("BulkEmailEntryResults", [])
    if len(results) != len(keys):
        detail = f"SES returned {len(results)} results for {len(keys)}"
        return {k: Outcome(k, "uncertain", detail) for k in keys}
    outcomes = {}
    for key, result in zip(keys, results, strict=True):
        status = result.get("Status", "")
        detail = f"{status} {result.get('Error', '')}".strip()
        if status == "SUCCESS":
            outcomes[key] = Outcome(key, "sent", detail, result.get("MessageId"))
        elif status in TEMPORARY_STATUSES:
            outcomes[key] = Outcome(key, "deferred", detail)
        else:
            outcomes[key] = Outcome(key, "failed", detail)
    return outcomes


class _Retry(Exception):
    """A refusal that proves nothing was sent (throttling, no connection)."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class _Exhausted(Exception):
    """Retries ran out on refusals that prove nothing was sent."""


def open_transport(prepared: Prepared, options: TransportOptions) -> SesTransport:
    """``--via ses``: Amazon SES v2 through boto3."""
    return SesTransport(
        prepared, max_attempts=options.max_attempts, retry_delay=options.retry_delay
    )
