"""The demo's seeded recorder: draws every ID from one :class:`random.Random`, builds records
with :mod:`trailtui.core.demo.records` and keeps those the trail would have logged.

Deterministic: the same seed and the same sequence of calls give the same records. The order in
which each method draws its random values is part of that contract (changing it changes every
later ID of the demo), so keep it when editing.
"""

from __future__ import annotations

import base64
import random
import uuid

from trailtui.core.demo import records
from trailtui.core.demo.records.calls import client_host
from trailtui.core.demo.setting import ACCOUNT_ID, HOME_REGION, WINDOW, event_time, logging_stopped, sts_time

_KEY_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_HEX = "0123456789abcdef"


def random_hex(rng: random.Random, length: int) -> str:
    """``length`` lowercase hex digits drawn from ``rng`` (hashes, fingerprints, signatures)."""
    return "".join(rng.choice(_HEX) for _ in range(length))


class Recorder:
    """Collects the demo's records as ``(second, sequence, awsRegion, record)``.

    ``second`` is seconds after midnight of the demo day; ``sequence`` keeps creation order
    among records of the same second. A record falling outside :data:`~.setting.WINDOW` or while
    logging is stopped is not kept (its random values are still drawn, as the trail's clock does
    not depend on what is logged).
    """

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.events: list[tuple[int, int, str, dict]] = []

    # ---- random values ------------------------------------------------------------------------

    def uuid4(self) -> str:
        """A version-4 UUID (``eventID``, ``requestID``, ``sharedEventID``, object names)."""
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def s3_request_id(self) -> str:
        """S3's ``requestID``: 16 uppercase hex digits."""
        return f"{self.rng.getrandbits(64):016X}"

    def amz_id_2(self) -> str:
        """S3's ``x-amz-id-2`` (base64 of 57 bytes)."""
        return base64.b64encode(self.rng.randbytes(57)).decode("ascii")

    def key_id(self, prefix: str = "ASIAQ3EG") -> str:
        """A 20-character access key ID starting with ``prefix`` (base-32 letters and digits)."""
        return prefix + "".join(self.rng.choice(_KEY_CHARS) for _ in range(20 - len(prefix)))

    def session_token(self) -> str:
        """An STS ``sessionToken`` (base64, as long as real ones)."""
        return "IQoJb3JpZ2luX2VjE" + base64.b64encode(self.rng.randbytes(180)).decode("ascii")

    def hexstr(self, length: int) -> str:
        """``length`` lowercase hex digits."""
        return random_hex(self.rng, length)

    def times(self, start: int, end: int, mean_gap: float) -> list[int]:
        """Seconds in ``[start, end)`` of a Poisson process with ``mean_gap`` seconds between events."""
        found, now = [], float(start)
        while True:
            now += self.rng.expovariate(1.0 / mean_gap)
            if now >= end:
                return found
            found.append(int(now))

    # ---- records --------------------------------------------------------------------------------

    def logged(self, second: int) -> bool:
        """True when a call at ``second`` is logged: inside the window and the trail running."""
        return WINDOW[0] <= second < WINDOW[1] and not logging_stopped(second)

    def keep(self, second: int, record: dict) -> dict:
        """Add ``record`` (made at ``second``) to :attr:`events` and return it."""
        self.events.append((second, len(self.events), record["awsRegion"], record))
        return record

    def add(
        self,
        second: int,
        identity: dict,
        source: str,
        name: str,
        *,
        ip: str,
        agent: str,
        read_only: bool,
        region: str = HOME_REGION,
        params: dict | None = None,
        response: dict | None = None,
        error: tuple[str, str] | None = None,
        console: bool = False,
    ) -> dict | None:
        """Record one management API call (:func:`~.records.api_call`); None, adding nothing, when
        not logged. ``ip`` is ``sourceIPAddress``, ``agent`` ``userAgent``, ``params``
        ``requestParameters``, ``response`` ``responseElements``, ``error`` ``(errorCode,
        errorMessage)``, ``console`` a call made in the console.
        """
        if not self.logged(second):
            return None
        request_id, event_id = self.uuid4(), self.uuid4()
        code, message = error if error is not None else (None, None)
        return self.keep(second, records.api_call(
            name, source, user_identity=identity, event_time=event_time(second), event_id=event_id,
            source_ip_address=ip, user_agent=agent, read_only=read_only, aws_region=region,
            request_parameters=params, response_elements=response, error_code=code, error_message=message,
            request_id=request_id,
            recipient_account_id=ACCOUNT_ID, session_credential_from_console=console,
            client_provided_host_header=client_host(ip, records.endpoint_host(source, region)),
        ))  # fmt: skip

    def s3(
        self,
        second: int,
        identity: dict,
        name: str,
        bucket: str | None,
        key: str | None = None,
        *,
        ip: str,
        agent: str,
        read_only: bool,
        data: bool,
        params: dict | None = None,
        response: dict | None = None,
        bytes_in: int = 0,
        bytes_out: int = 0,
        error: str | None = None,
        console: bool = False,
        shared: bool = False,
        vpce: str | None = None,
    ) -> dict | None:
        """Record an S3 call (:func:`~.records.s3_call`); ``error`` is an AccessDenied message,
        ``shared`` adds a ``sharedEventID`` (cross-account), ``vpce`` a ``vpcEndpointId``."""
        amz_id_2, request_id = self.amz_id_2(), self.s3_request_id()
        if not self.logged(second):
            return None
        event_id = self.uuid4()
        shared_event_id = self.uuid4() if shared else None
        return self.keep(second, records.s3_call(
            name, bucket, key, user_identity=identity, event_time=event_time(second), event_id=event_id,
            source_ip_address=ip, user_agent=agent, read_only=read_only, management_event=not data,
            request_parameters=params, response_elements=response, bytes_transferred_in=bytes_in,
            bytes_transferred_out=bytes_out, access_denied=error, request_id=request_id, amz_id_2=amz_id_2,
            recipient_account_id=ACCOUNT_ID, session_credential_from_console=console,
            shared_event_id=shared_event_id, vpc_endpoint_id=vpce,
        ))  # fmt: skip

    def kms_for_s3(self, second: int, identity: dict, name: str, key_arn: str, bucket: str) -> dict | None:
        """Record the KMS call S3 makes for an SSE-KMS object (:func:`~.records.kms_call_for_s3`)."""
        if not self.logged(second):
            return None
        request_id, event_id = self.uuid4(), self.uuid4()
        return self.keep(second, records.kms_call_for_s3(
            name, user_identity=identity, key_arn=key_arn, bucket_name=bucket, event_time=event_time(second),
            event_id=event_id, request_id=request_id, recipient_account_id=ACCOUNT_ID,
        ))  # fmt: skip

    def assume_role(
        self,
        second: int,
        identity: dict,
        role: str,
        role_id: str,
        session: str,
        key: str,
        *,
        ip: str,
        agent: str,
        duration: int = 3600,
        duration_param: bool = False,
    ) -> dict | None:
        """Record an AssumeRole of ``role`` handing out ``key`` for ``duration`` seconds
        (``duration_param``: the caller asked for it in ``durationSeconds``)."""
        token = self.session_token()
        if not self.logged(second):
            return None
        request_id, event_id = self.uuid4(), self.uuid4()
        return self.keep(second, records.assume_role_call(
            role, session, user_identity=identity, role_id=role_id, issued_access_key_id=key,
            expiration=sts_time(second + duration), event_time=event_time(second), event_id=event_id,
            source_ip_address=ip, user_agent=agent, session_token=token,
            duration_seconds=duration if duration_param else None, role_account_id=ACCOUNT_ID,
            request_id=request_id, recipient_account_id=ACCOUNT_ID,
        ))  # fmt: skip

    def create_access_key(
        self, second: int, identity: dict, user: str, key: str, *, ip: str, agent: str
    ) -> dict | None:
        """Record an IAM CreateAccessKey giving ``user`` the long-term ``key``."""
        if not self.logged(second):
            return None
        request_id, event_id = self.uuid4(), self.uuid4()
        return self.keep(second, records.create_access_key_call(
            user, user_identity=identity, access_key_id=key, event_time=event_time(second), event_id=event_id,
            source_ip_address=ip, user_agent=agent, create_date=sts_time(second), request_id=request_id,
            recipient_account_id=ACCOUNT_ID,
        ))  # fmt: skip

    def console_login(
        self, second: int, identity: dict, *, mfa: bool, ip: str, agent: str, mfa_arn: str | None = None
    ) -> dict | None:
        """Record a successful ConsoleLogin (:func:`~.records.console_login`)."""
        if not self.logged(second):
            return None
        return self.keep(second, records.console_login(
            identity, event_time=event_time(second), event_id=self.uuid4(), source_ip_address=ip,
            user_agent=agent, mfa_used=mfa, mfa_identifier=mfa_arn, recipient_account_id=ACCOUNT_ID,
        ))  # fmt: skip
